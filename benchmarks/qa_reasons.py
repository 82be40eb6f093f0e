"""The reasons phase of the Q&A benchmark (benchmarks/qa.py): "Waarom eens?" from a full hall.

The moderator opens the first statement before the phones connect; each phone sends
`reasons_sync` as the page does, so it gets the hall's `reasons` updates. Within --window
seconds from the go:

- every phone votes (agree or disagree at random) in the first 15% of the window;
- the first --reasons phones each give a reason at a random moment between 5% and 60% of the
  window (not before their vote is acknowledged: a phone votes first);
- the moderator shows the reasons (`reasons_show`) at 25% and from then on picks one for the
  projector every few seconds, sides in turn, the most upvoted it has not picked (--picks);
- every phone casts its share of --upvotes after 30% of the window, each on a random reason of
  those the hall's lists showed it, never its own or one it supported already.

Afterwards every acknowledged vote, reason and upvote is looked up in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import time
from collections.abc import Coroutine, Iterable
from typing import Any

from benchmarks.harness import BenchError, clients, hall, log, verify
from benchmarks.harness import servers as harness_servers

# Moments as shares of the window.
VOTE_UNTIL = 0.15
REASONS_FROM, REASONS_UNTIL = 0.05, 0.6
SHOW_AT = 0.25
UPVOTES_FROM = 0.3
PICK_EVERY_S = 3.0  # within the moderator's limit (3 requests a second) by far


def reason_text(phone: int, rng: random.Random) -> str:
    """A unique reason of 40 to 120 characters, with no word of the built-in list."""
    return f"Reden {phone}: omdat {hall.words(rng, 5)} zwaarder weegt"


def listed(hall_view: dict[str, Any] | None) -> list[int]:
    """The ids of the reasons the hall's lists show (both sides and the movers): in the reply
    to reasons_sync as whole reasons, in a `reasons` update as ids."""
    if not hall_view:
        return []
    sides = hall_view.get("sides") or {}
    items = [*(item for side in sides.values() for item in side), *(hall_view.get("movers") or [])]
    return [item["id"] if isinstance(item, dict) else item for item in items]


def on_projector(screen: dict[str, Any]) -> list[dict[str, Any]]:
    """The reasons a projector message shows: the picked ones per side and the movers."""
    return [r for side in (screen.get("sides") or {}).values() for r in side] + list(
        screen.get("movers") or []
    )


class ReasonPhones(hall.Phones):
    """Phones that vote, say why, and support the reasons the hall's lists show them."""

    listens = ("reasons", "state")

    async def joined(self, phone: int, client: Any) -> None:
        reply = await client.call("reasons_sync", {}, timeout=30)
        if reply.get("ok"):
            self.seen[phone] = listed(reply["reasons"])

    def heard(self, phone: int, name: str, data: Any) -> None:
        if name == "reasons" and isinstance(data, dict):
            self.seen[phone] = listed(data)

    def plan(self, mine: list[int], began: float) -> Iterable[Coroutine[Any, Any, None]]:
        window = self.config["window"]
        for phone in mine:
            vote_at = began + self.rng.uniform(0, window * VOTE_UNTIL)
            reason_at = (
                began + self.rng.uniform(window * REASONS_FROM, window * REASONS_UNTIL)
                if phone < self.config["reasons"]
                else None
            )
            yield self.vote_and_say_why(phone, vote_at, reason_at)
            for _ in range(self.upvote_share(phone)):
                at = began + self.rng.uniform(window * UPVOTES_FROM, window)
                yield self.upvote(
                    phone, at, began + window + hall.UPVOTE_GRACE_S, "reason_upvote", "reason"
                )

    async def vote_and_say_why(self, phone: int, vote_at: float, reason_at: float | None) -> None:
        await hall.sleep_until(vote_at)
        round_id, choice = self.config["round"], self.rng.choice(clients.CHOICES)
        reply = await self.request(phone, "vote", "vote", {"round": round_id, "choice": choice})
        if not reply.get("ok"):
            return
        # As verify.compare_votes takes them: [phone, cookie, choice, time of the ack].
        self.acked["vote"].append([phone, self.cookies[phone], choice, time.time()])
        if reason_at is None:
            return
        await hall.sleep_until(reason_at)
        text = reason_text(phone, self.rng)
        reply = await self.request(
            phone, "reason", "reason_give", {"round": round_id, "text": text}
        )
        if reply.get("ok"):
            self.own[phone].add(reply["reason"]["id"])
            self.acked["reason"].append((self.tokens[phone], text))
        elif hall.undecided(reply):
            self.unsure["reason"].append((self.tokens[phone], text))


class ReasonModerator(hall.Moderator):
    """Shows the reasons at `show_at`, then picks one for the projector every few seconds:
    the sides in turn, the most upvoted visible one not picked yet, at most `picks`."""

    def __init__(self, client: Any, picks: int) -> None:
        super().__init__(client)
        self.picks = picks
        self.board = hall.Received(client, "reasons_moderator")
        self.picked = 0
        self.shown = False

    def next_pick(self, turn: int) -> int | None:
        board = self.board.last
        if not board or not board.get("options"):
            return None
        side = board["options"][turn % len(board["options"])]["key"]
        for reason in board["reasons"]:  # most upvoted first
            if reason["choice"] == side and reason["state"] == "visible" and not reason["picked"]:
                return int(reason["id"])
        return None

    async def run(self, show_at: float, until: float) -> None:
        await hall.sleep_until(show_at)
        self.shown = bool((await self.call("reasons_show", {"shown": True})).get("ok"))
        turn = 0
        while self.picked < self.picks and time.time() + PICK_EVERY_S < until:
            await asyncio.sleep(PICK_EVERY_S)
            reason = self.next_pick(turn)
            turn += 1
            if reason is not None:
                reply = await self.call("reason_moderate", {"reason": reason, "action": "pick"})
                self.picked += bool(reply.get("ok"))


async def open_statement(moderator: clients.Screen) -> int:
    """Reasons on, no pre-moderation; the first statement on screen and open: its round id."""
    settings = {"reasons": "open", "reasons_premoderation": False}
    reply = await moderator.client.call("question_settings", settings, timeout=30)
    if not reply.get("ok"):
        raise BenchError(f"question_settings: {reply}")
    await clients.control(moderator, "next")
    await clients.control(moderator, "open")
    state = await moderator.client.call("sync", {}, timeout=30)
    current = (state.get("state") or {}).get("round") if isinstance(state, dict) else None
    if not current:
        raise BenchError(f"no open round after next and open: {state}")
    return int(current["id"])


async def coordinate(
    args: argparse.Namespace, servers: harness_servers.Servers, result: dict[str, Any]
) -> dict[str, Any]:
    presenter, moderator = await hall.connect_screens(servers, args.client_watchdog)
    try:
        screens = hall.Received(presenter.client, "reasons_screen", keep=True)
        round_id = await open_statement(moderator)
        result["round_id"] = round_id
        boss = ReasonModerator(moderator.client, args.picks)
        config = {**hall.phone_config(args, servers), "reasons": args.reasons, "round": round_id}
        run = await hall.run_hall(
            args,
            servers,
            ReasonPhones,
            config,
            lambda began: boss.run(began + args.window * SHOW_AT, began + args.window),
            result,
        )
    finally:
        await presenter.close()
        await moderator.close()
    return {**run, "round": round_id, "screens": screens, "moderator": boss}


def summarize(
    run: dict[str, Any], servers: harness_servers.Servers, result: dict[str, Any]
) -> bool:
    """Fill in the figures; False if an acked vote, reason or upvote is not in the database
    (or not as acked), or one is there that was not sent."""
    hall.summarize_phones(run, ("vote", "reason", "upvote"), result)
    boss: ReasonModerator = run["moderator"]
    screens: hall.Received = run["screens"]
    result["moderator_showed"] = boss.shown
    result["moderator_picked"] = boss.picked
    result.update(boss.figures())
    result.update(boss.board.figures("moderator"))
    result.update(screens.figures("projector"))

    url, round_id = servers.database_url, run["round"]
    assert url is not None
    event_id = harness_servers.event_id(url, servers.code)
    votes = verify.compare_votes(
        verify.stored_votes(url, round_id),
        hall.merged_list(run["reports"], "acked", "vote"),
        run["began"],
    )
    result.update(votes.figures())
    for problem in votes.problems[:20]:
        log(problem)
    reasons = harness_servers.query(
        url,
        "SELECT p.token_digest, r.text FROM reasons r"
        " JOIN participants p ON p.id = r.participant_id WHERE r.round_id = ?",
        round_id,
    )
    result.update(hall.check_stored("reasons", run, "reason", event_id, reasons))
    upvotes = harness_servers.query(
        url,
        "SELECT p.token_digest, v.reason_id FROM reason_votes v"
        " JOIN participants p ON p.id = v.participant_id"
        " JOIN reasons r ON r.id = v.reason_id WHERE r.round_id = ?",
        round_id,
    )
    result.update(hall.check_stored("upvotes", run, "upvote", event_id, upvotes))
    counts = collections.Counter(reason for _digest, reason in upvotes)
    result["projector_final_ms"] = hall.projector_final_ms(
        screens.kept or [], dict(counts), on_projector, run["last_ack"]
    )
    lost = [
        result[f"{name}_{verdict}"]
        for name in ("reasons", "upvotes")
        for verdict in ("missing", "duplicated", "unexpected")
    ]
    return votes.matched and not votes.problems and not any(lost)
