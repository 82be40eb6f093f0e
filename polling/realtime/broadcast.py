"""What the server sends unasked: states and tallies to the rooms of an event's roles.

Rooms per event and role decide who sees what; the counts always come from the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask

from polling import db, socketio
from polling.domain import state
from polling.domain.counts import participants
from polling.domain.roles import ROLES, SCREENS


def room(event_id: int, role: str) -> str:
    """The room of one role in one event."""
    return f"event-{event_id}-{role}"


def broadcast_state(event_id: int, roles: tuple[str, ...] = ROLES) -> None:
    """Send the new state once to each role's room of the event."""
    with db.session() as db_session:
        current = state.snapshot(db_session, event_id)
        if current is None:
            return
    for role in roles:
        socketio.emit("state", current.for_role(role), to=room(event_id, role))


def event_deleted(event_id: int) -> None:
    """Tell an event's open pages that it is gone (they reload to a "not found"), then
    disconnect them on every server process (see polling.realtime.closing)."""
    for role in ROLES:
        socketio.emit("event_deleted", {}, to=room(event_id, role))
        socketio.close_room(room(event_id, role))


class TallyPublisher:
    """Sends tallies and the number of joined phones to the presenter and moderator rooms, a
    few times a second at most.

    It remembers only *which* events have new votes or joins; the counts always come from
    the database, so every process sends the same numbers. A hall joining at once gives one
    message per interval, never one per phone.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval: float = app.config["TALLY_INTERVAL"]
        self.pending: dict[int, Pending] = {}
        self.running = False
        self.metrics = app.extensions["polling_metrics"]

    def joined(self, event_id: int) -> None:
        """Note that a new phone joined; publish the count now or at the next tick."""
        self._note(event_id, joined=True)

    def vote_committed(self, event_id: int) -> None:
        """Note that an event has a new vote; publish now or at the next tick."""
        self._note(event_id, voted_at=time.monotonic())

    def _note(self, event_id: int, *, joined: bool = False, voted_at: float | None = None) -> None:
        if self.interval <= 0:
            self.publish(event_id, since=voted_at, joined=joined)
            return
        earlier = self.pending.get(event_id, Pending())
        self.pending[event_id] = Pending(
            since=earlier.since if earlier.since is not None else voted_at,
            joined=earlier.joined or joined,
        )
        if not self.running:
            self.running = True
            socketio.start_background_task(self._run)

    def _run(self) -> None:
        while True:
            socketio.sleep(self.interval)
            due, self.pending = self.pending, {}
            for event_id, pending in due.items():
                try:
                    self.publish(event_id, since=pending.since, joined=pending.joined)
                except Exception:  # a failed tick must not stop later ones
                    self.app.logger.exception("publishing the tally of event %s failed", event_id)

    def publish(self, event_id: int, *, since: float | None = None, joined: bool = False) -> None:
        """Send the current round's tally (if any) to the presenter and moderator rooms, and
        after a join the number of phones that joined. `since` is when the oldest vote it
        brings was committed (for the lag in /metrics)."""
        # A Core connection, not an ORM session: this runs a few times a second all vote long.
        with db.connect() as connection:
            current = state.current_tally(connection, event_id)
            count = participants(connection, event_id) if joined else None
        for role in SCREENS:
            if count is not None:
                socketio.emit("presence", {"joined": count}, to=room(event_id, role))
            if current is not None:
                tally, settings = current
                message = state.tally_message(
                    tally,
                    role,
                    settings.revealed,
                    settings.results_mode,
                    settings.expected_audience,
                )
                socketio.emit("tally", message, to=room(event_id, role))
        if since is not None and current is not None:
            self.metrics.tally_lag.observe(time.monotonic() - since)


@dataclass(frozen=True)
class Pending:
    """What an event has waiting for the next tick: the commit time of its oldest unpublished
    vote (None if only phones joined) and whether a phone joined."""

    since: float | None = None
    joined: bool = False
