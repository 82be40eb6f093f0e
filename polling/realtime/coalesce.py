"""The pacing shared by the publishers of the hall's lists (questions, reasons).

Phones never get a message per upvote: a publisher remembers only *which* events (and items)
changed, and sends the hall's list at most once per interval per event, and only when it
changed; the moderator and the projector get theirs at once after a moderator action. The
lists always come from the database, so every process sends the same. A phone that asks for
the lists (its sync, after every reconnect) gets the hall's from one read shared by the phones
that ask within a second (`hall_view`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask

from polling import socketio

# Sending one message to 10,000 phones costs this server about a second of CPU: the hall's
# update goes out no more often than its phones can be sent this many messages a second, so a
# full hall gets one every few seconds and votes and acks keep their share of the CPU.
PHONE_MESSAGES_PER_SECOND = 2500
# How long one read of the hall's list may serve the phones that ask for it (their sync, after
# every reconnect) while this process notes no change: the hall's updates are paced as slowly.
KEEP_SECONDS = 1.0

Read = TypeVar("Read")


class HallPublisher:
    """Coalesces changes per event; subclasses say what to send (`publish`)."""

    name = "lists"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval: float = app.config["QUESTION_INTERVAL"]
        self.pending: dict[int, set[int]] = {}
        self.hall_due: dict[int, float] = {}  # event id -> when its next hall update may go
        self.running = False
        self.change_numbers = itertools.count(1)  # next() is atomic, also between threads
        self.changes: dict[int, int] = {}  # event id -> the number of its last change
        # event id -> (the number of its last change before the read, when, what was read)
        self.kept: dict[int, tuple[int, float, Any]] = {}

    def hall_view(self, event_id: int, read: Callable[[], Read]) -> Read:
        """What `read()` gives for an event's hall (shared: do not change it), read once for
        every phone that asks until this process notes a change, and for KEEP_SECONDS at most:
        another process's changes are not noted here, and reach the phones as updates.

        Every phone asks the moment a list appears, and again after every reconnect: read
        for each, a round of 3,000 reasons (80 ms) or 1,000 questions (20-45 ms) held a hall
        of 10,000 phones' server for minutes.
        """
        last_change = self.changes.get(event_id, 0)
        now = time.monotonic()
        kept = self.kept.get(event_id)
        if kept and kept[0] == last_change and now - kept[1] < KEEP_SECONDS:
            value: Read = kept[2]
            return value
        # Reads that can serve no one any more go: a server running for weeks of events does
        # not keep every event's list in memory.
        for expired in [key for key, (_, at, _) in self.kept.items() if now - at >= KEEP_SECONDS]:
            del self.kept[expired]
        value = read()
        # The last change before the read: one noted during it makes this read stale at once.
        self.kept[event_id] = (last_change, now, value)
        return value

    def changed(self, event_id: int, *item_ids: int, screens_now: bool = False) -> None:
        """Note a change; publish now (no interval, or the screens after a moderator action)
        or at the next tick."""
        self.changes[event_id] = next(self.change_numbers)
        if self.interval <= 0:
            self.publish(event_id, set(item_ids))
            return
        if screens_now:
            self.publish(event_id, set(), audience=False)
        self.pending.setdefault(event_id, set()).update(item_ids)
        if not self.running:
            self.running = True
            socketio.start_background_task(self._run)

    def _run(self) -> None:
        while True:
            socketio.sleep(self.interval)
            due, self.pending = self.pending, {}
            for event_id, item_ids in due.items():
                try:
                    if time.monotonic() < self.hall_due.get(event_id, 0):
                        # The hall's turn comes later: keep what changed for it.
                        self.pending.setdefault(event_id, set()).update(item_ids)
                        self.publish(event_id, set(), audience=False)
                        continue
                    self.publish(event_id, item_ids)
                except Exception:  # a failed tick must not stop later ones
                    self.app.logger.exception("publishing the %s of %s failed", self.name, event_id)

    def publish(self, event_id: int, item_ids: set[int], *, audience: bool = True) -> None:
        raise NotImplementedError

    def paced(self, event_id: int, hall_room: str) -> None:
        """After a hall update: the next waits until this one reached every phone."""
        phones = len(socketio.server.manager.rooms.get("/", {}).get(hall_room, ()))
        pause = max(self.interval, phones / PHONE_MESSAGES_PER_SECOND)
        self.hall_due[event_id] = time.monotonic() + pause


def item_changes(
    before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """What phones need to go from the items `before` to `after` (items with an `id` and
    `upvotes`): the items new or changed other than in upvotes, in full, and the new upvote
    counts of the others as [id, upvotes]. A phone keeps the items it was sent by id."""
    old = {item["id"]: item for item in before}
    changed, upvotes = [], []
    for item in after:
        previous = old.get(item["id"])
        if previous is None or {**previous, "upvotes": 0} != {**item, "upvotes": 0}:
            changed.append(item)
        elif previous["upvotes"] != item["upvotes"]:
            upvotes.append([item["id"], item["upvotes"]])
    return changed, upvotes
