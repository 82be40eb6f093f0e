"""What the server sends unasked: states and tallies to the rooms of an event's roles.

Rooms per event and role decide who sees what; the counts always come from the database.
"""

from __future__ import annotations

from flask import Flask

from polling import db, socketio
from polling.domain import state
from polling.domain.events import MODERATOR, PRESENTER
from polling.domain.models import Event
from polling.domain.state import AUDIENCE

ROLES = (AUDIENCE, PRESENTER, MODERATOR)
SCREENS = (PRESENTER, MODERATOR)


def room(event_id: int, role: str) -> str:
    """The room of one role in one event."""
    return f"event-{event_id}-{role}"


def broadcast_state(event_id: int, roles: tuple[str, ...] = ROLES) -> None:
    """Send the new state once to each role's room of the event."""
    with db.session() as db_session:
        event = db_session.get(Event, event_id)
        if event is None:
            return
        current = state.snapshot(db_session, event)
    for role in roles:
        socketio.emit("state", current.for_role(role), to=room(event_id, role))


def event_deleted(event_id: int) -> None:
    """Tell an event's open pages that it is gone (they reload to a "not found"), then
    disconnect them on every server process (see polling.realtime.closing)."""
    for role in ROLES:
        socketio.emit("event_deleted", {}, to=room(event_id, role))
        socketio.close_room(room(event_id, role))


class TallyPublisher:
    """Sends tallies to the presenter and moderator rooms, a few times a second at most.

    It remembers only *which* events have new votes; the counts always come from the
    database, so every process sends the same numbers.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval: float = app.config["TALLY_INTERVAL"]
        self.pending: set[int] = set()
        self.running = False

    def vote_committed(self, event_id: int) -> None:
        """Note that an event has a new vote; publish now or at the next tick."""
        if self.interval <= 0:
            self.publish(event_id)
            return
        self.pending.add(event_id)
        if not self.running:
            self.running = True
            socketio.start_background_task(self._run)

    def _run(self) -> None:
        while True:
            socketio.sleep(self.interval)
            due, self.pending = self.pending, set()
            for event_id in due:
                try:
                    self.publish(event_id)
                except Exception:  # a failed tick must not stop later ones
                    self.app.logger.exception("publishing the tally of event %s failed", event_id)

    def publish(self, event_id: int) -> None:
        """Send the current round's tally to the presenter and moderator rooms."""
        with self.app.app_context(), db.session() as db_session:
            event = db_session.get(Event, event_id)
            tally = state.current_tally(db_session, event_id)
            if event is None or tally is None:
                return
            revealed, mode = event.results_revealed, event.results_mode
            expected = event.expected_audience
        for role in (PRESENTER, MODERATOR):
            message = state.tally_message(tally, role, revealed, mode, expected)
            socketio.emit("tally", message, to=room(event_id, role))
