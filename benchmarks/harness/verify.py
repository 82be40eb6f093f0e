"""Did every acknowledged vote reach the database as acknowledged? This decides exit status 1.

A vote the server acknowledged (`ok: true`) is committed; if it is not in the `votes` table,
or is there with another choice, a vote was lost. The benchmark looks each one up by the
participant token in the voter's cookie, hashed as the server does.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness.servers import query

# One acknowledged vote as the generators report it: [voter, cookie, choice, time of the ack].
AckedVote = list[Any]
# One stored vote: (event id, participant token digest, option key).
StoredVote = tuple[int, str, str]


def cookie_token(cookie: str) -> str | None:
    """The participant token inside the signed Flask session cookie (signature not checked)."""
    try:
        compressed = cookie.startswith(".")
        payload = cookie.removeprefix(".").split(".", 1)[0]
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        session = json.loads(zlib.decompress(raw) if compressed else raw)
    except (ValueError, zlib.error):
        return None
    token = session.get("participant") if isinstance(session, dict) else None
    return token if isinstance(token, str) else None


def token_digest(event_id: int, token: str) -> str:
    """How the server stores a phone (polling.domain.voting.token_digest), with a fallback copy."""
    try:
        from polling.domain.voting import token_digest as server_digest
    except Exception:
        return hashlib.sha256(f"{event_id}:{token}".encode()).hexdigest()
    return server_digest(event_id, token)


@dataclass
class Verification:
    """The acknowledged votes compared with the stored ones.

    `matched` is False when the two could not be matched at all (nothing found while votes are
    stored: the cookie or digest scheme changed, not every vote lost); then only the count of
    stored votes says anything, and `problems` says why.
    """

    matched: bool = True
    verified: int = 0
    missing: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, int]:
        """verified, missing_votes, wrong_choice for the result line (none if unmatched)."""
        if not self.matched:
            return {}
        return {
            "verified": self.verified,
            "missing_votes": len(self.missing),
            "wrong_choice": len(self.wrong),
        }


def compare_votes(
    stored: Iterable[StoredVote], acked: Iterable[AckedVote], opened: float
) -> Verification:
    """Look up every acknowledged vote among the stored votes of its round."""
    rows = list(stored)
    by_digest = {digest: key for _event, digest, key in rows}
    event_ids = {event for event, _digest, _key in rows}
    if len(event_ids) > 1:
        several = f"the round's votes belong to several events: {sorted(event_ids)}"
        return Verification(matched=False, problems=[several])
    event_id = event_ids.pop() if event_ids else None
    outcome, unreadable = Verification(), 0
    for voter, cookie, choice, at in acked:
        token = cookie_token(cookie)
        if token is None:
            unreadable += 1
            continue
        key = by_digest.get(token_digest(event_id, token)) if event_id is not None else None
        when = f"acked {at - opened:.2f} s after the open"
        if key is None:
            outcome.missing.append(f"voter {voter}: {choice!r} {when}, not in the database")
        elif key != choice:
            outcome.wrong.append(f"voter {voter}: {choice!r} {when}, stored as {key!r}")
        else:
            outcome.verified += 1
    if rows and not outcome.verified and (outcome.missing or unreadable):
        return Verification(
            matched=False,
            problems=[
                f"cannot match acked votes to stored ones ({len(rows)} stored, {unreadable} "
                "unreadable cookies): cookie or token digest scheme changed?"
            ],
        )
    outcome.problems = outcome.missing + outcome.wrong
    return outcome


def stored_votes(database_url: str, round_id: int) -> list[StoredVote]:
    """Every vote of the round in the server's database: (event id, token digest, option)."""
    return query(
        database_url,
        "SELECT p.event_id, p.token_digest, o.key FROM votes v"
        " JOIN participants p ON p.id = v.participant_id"
        " JOIN options o ON o.id = v.option_id WHERE v.round_id = ?",
        round_id,
    )


def check_acked_votes(
    database_url: str, round_id: int, acked: list[AckedVote], opened: float, result: dict
) -> list[str]:
    """Look up every acknowledged vote in the database; returns lines about the ones that are
    missing or stored with another choice (and sets missing_votes, wrong_choice, verified)."""
    outcome = compare_votes(stored_votes(database_url, round_id), acked, opened)
    result.update(outcome.figures())
    return outcome.problems


def compare_acked(
    acked: set[tuple[Any, ...]],
    stored: list[tuple[Any, ...]],
    unsure: set[tuple[Any, ...]] | None = None,
) -> dict[str, int]:
    """Compare acknowledged requests (an upvote: participant digest, item id) with the rows in
    the database: each acked one must be there exactly once, and nothing else but requests
    whose phone was told "busy, try again" or got no answer (`unsure`: they may or may not be
    stored). `missing`, `duplicated` and `unexpected` must be 0."""
    counted = collections.Counter(stored)
    unsure = unsure or set()
    return {
        "missing": sum(1 for row in acked if counted[row] == 0),
        "duplicated": sum(n - 1 for n in counted.values() if n > 1),
        "unexpected": sum(1 for row in counted if row not in acked and row not in unsure),
        "stored_unacked": sum(1 for row in counted if row in unsure and row not in acked),
    }


def storm_wrong_choices(voters: Iterable[list[Any]]) -> list[str]:
    """--restart: the voters given back another choice than the one the server had acked.

    Each voter as the generators report it: [voter, time back or None, choice it was told,
    acked choice or None, round, phase]. A voter not back, or with no acked vote, is not
    checked.
    """
    return [
        f"voter {voter}: acked {expected!r}, state.you.choice {choice!r}"
        for voter, at, choice, expected, _round, _phase in voters
        if at is not None and expected is not None and choice != expected
    ]


def lost_votes(result: dict[str, Any]) -> bool:
    """Fewer votes in the database than acknowledged, or an acked vote missing or changed."""
    committed, acked = result.get("committed"), result.get("acked", 0)
    short = committed is not None and committed < acked
    return short or bool(result.get("missing_votes")) or bool(result.get("wrong_choice"))


def exit_status(result: dict[str, Any], failure: str | None) -> int:
    """1 votes lost (or, with --restart, a voter given back another choice), else 2 if the
    run failed, else 0."""
    if lost_votes(result) or result.get("storm_wrong_choice"):
        return 1
    return 2 if failure else 0
