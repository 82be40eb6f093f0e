"""The questions phase of the Q&A benchmark (benchmarks/qa.py): the first --questions phones
each ask one question and every phone casts its share of --upvotes on questions it was sent,
while a moderator approves the questions held for moderation and moves the one on screen.

Every tenth question contains a word of the built-in list, so it waits for the moderator, who
approves it (within the moderator's rate limit) and presses *Volgende vraag* every
--next-every seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import time
from collections.abc import Coroutine, Iterable
from typing import Any

from benchmarks.harness import BenchError, hall
from benchmarks.harness import servers as harness_servers

ASK_UNTIL = 0.6  # questions come in the first 60% of the window
UPVOTES_FROM = 0.05  # upvotes after the first 5%


def question_text(index: int, rng: random.Random) -> str:
    """A unique question; every tenth holds a word of the built-in list (so it is held)."""
    held = " of is het bullshit" if index % 10 == 0 else ""
    return f"Vraag {index}: hoe zit het met {hall.words(rng, 4)}{held}?"


def on_projector(screen: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions a projector message shows: the one on screen and the next ones."""
    return [q for q in [screen.get("on_screen"), *screen.get("next", [])] if q]


class QuestionPhones(hall.Phones):
    """Phones on the Vragen tab: they ask, and support what the hall's lists show them."""

    listens = ("questions", "questions_mine", "state")

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.answered: set[int] = set()  # question ids, shared by this process's phones

    async def joined(self, phone: int, client: Any) -> None:
        reply = await client.call("questions_sync", {}, timeout=30)
        if reply.get("ok"):
            popular = reply["questions"]["popular"]
            self.seen[phone] = [q["id"] for q in popular if q["state"] == "visible"]

    def heard(self, phone: int, name: str, data: Any) -> None:
        if name != "questions" or not isinstance(data, dict):
            return
        # The hall's update: ids of the lists; answered ones cannot be supported.
        answered = self.answered
        answered.update(q["id"] for q in data.get("changed", []) if q["state"] == "answered")
        listed = [q for q in data.get("popular", []) + data.get("newest", []) if q not in answered]
        if data.get("on_screen"):
            listed.append(data["on_screen"])
        self.seen[phone] = listed

    def plan(self, mine: list[int], began: float) -> Iterable[Coroutine[Any, Any, None]]:
        window = self.config["window"]
        for phone in mine:
            if phone < self.config["questions"]:
                yield self.ask(phone, began + self.rng.uniform(0, window * ASK_UNTIL))
            for _ in range(self.upvote_share(phone)):
                at = began + self.rng.uniform(window * UPVOTES_FROM, window)
                yield self.upvote(
                    phone, at, began + window + hall.UPVOTE_GRACE_S, "question_upvote", "question"
                )

    async def ask(self, phone: int, at: float) -> None:
        await hall.sleep_until(at)
        text = question_text(phone, self.rng)
        reply = await self.request(phone, "ask", "question_ask", {"text": text})
        if reply.get("ok"):
            self.own[phone].add(reply["question"]["id"])


class QuestionModerator(hall.Moderator):
    """Approves every held question it is shown, a few a second (its rate limit), and moves
    to the next question on screen every `next_every` seconds."""

    def __init__(self, client: Any, next_every: float) -> None:
        super().__init__(client)
        self.next_every = next_every
        self.waiting: list[int] = []
        self.handled: set[int] = set()
        self.approved = 0
        self.shown = 0
        client.on("questions_moderator", self.on_board)

    def on_board(self, board: dict[str, Any]) -> None:
        for question in board.get("questions", []):
            if question["state"] == "pending" and question["id"] not in self.handled:
                self.handled.add(question["id"])
                self.waiting.append(question["id"])

    async def run(self, began: float, until: float) -> None:
        await hall.sleep_until(began)
        next_at = began + self.next_every
        while time.time() < until:
            if self.waiting:
                reply = await self.call(
                    "question_moderate", {"question": self.waiting.pop(0), "action": "approve"}
                )
                self.approved += bool(reply.get("ok"))
            if time.time() >= next_at:
                next_at += self.next_every
                reply = await self.call("question_next", {})
                self.shown += reply.get("number") is not None
            await asyncio.sleep(0.4)  # under the moderator's limit of 3 requests a second


async def coordinate(
    args: argparse.Namespace, servers: harness_servers.Servers, result: dict[str, Any]
) -> dict[str, Any]:
    presenter, moderator = await hall.connect_screens(servers, args.client_watchdog)
    try:
        screens = hall.Received(presenter.client, "questions_screen", keep=True)
        reply = await moderator.client.call(
            "question_settings", {"premoderation": False}, timeout=30
        )
        if not reply.get("ok"):
            raise BenchError(f"question_settings: {reply}")
        boss = QuestionModerator(moderator.client, args.next_every)
        config = {**hall.phone_config(args, servers), "questions": args.questions}
        run = await hall.run_hall(
            args,
            servers,
            QuestionPhones,
            config,
            lambda began: boss.run(began, began + args.window),
            result,
        )
    finally:
        await presenter.close()
        await moderator.close()
    return {**run, "screens": screens.kept, "moderator": boss}


def summarize(
    run: dict[str, Any], servers: harness_servers.Servers, result: dict[str, Any]
) -> bool:
    """Fill in the figures; False if an acked upvote is missing or an unacked one is stored."""
    hall.summarize_phones(run, ("ask", "upvote"), result)
    boss: QuestionModerator = run["moderator"]
    result["moderator_approved"] = boss.approved
    result["moderator_put_on_screen"] = boss.shown
    result.update(boss.figures())

    url = servers.database_url
    assert url is not None
    event_id = harness_servers.event_id(url, servers.code)
    stored = harness_servers.query(
        url,
        "SELECT p.token_digest, v.question_id FROM question_votes v "
        "JOIN participants p ON p.id = v.participant_id",
    )
    result.update(hall.check_stored("upvotes", run, "upvote", event_id, stored))
    result["questions_in_database"] = harness_servers.query(
        url, "SELECT count(*) FROM questions WHERE event_id = ?", event_id
    )[0][0]
    counts = collections.Counter(question for _digest, question in stored)
    result["projector_messages"] = len(run["screens"])
    result["projector_final_ms"] = hall.projector_final_ms(
        run["screens"], dict(counts), on_projector, run["last_ack"]
    )
    return not (
        result["upvotes_missing"] or result["upvotes_unexpected"] or result["upvotes_duplicated"]
    )
