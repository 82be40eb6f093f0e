"""The countdown: closes rounds whose deadline has passed, then tells every screen and phone.

The deadline lives in the database (`Round.closes_at`), not in a timer of this process: after a
restart the first look closes what ran out meanwhile, and the vote statement refuses votes
after the deadline even before this loop gets to it.
"""

from __future__ import annotations

from flask import Flask

from polling import db, socketio
from polling.domain import voting
from polling.realtime.broadcast import broadcast_state


class Countdown:
    """Looks for rounds that are due a few times a second, in one background task."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval: float = app.config["COUNTDOWN_INTERVAL"]
        self.running = False

    def ensure_running(self) -> None:
        """Start the background task once per process (idempotent)."""
        if self.running or self.interval <= 0:
            return
        self.running = True
        socketio.start_background_task(self._run)

    def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # a failed look must not stop later ones
                self.app.logger.exception("closing rounds at their deadline failed")
            socketio.sleep(self.interval)

    def tick(self) -> list[int]:
        """Close the rounds that are due and broadcast the new states; return the events.

        On the event loop, like the tally publisher's reads: the look finds nothing almost
        always, and the one write per round is a short UPDATE (the main pool must not be used
        from OS threads; see polling.database.make_engine).
        """
        # A Core connection, not an ORM session: the look runs four times a second all day.
        with db.connect() as connection:
            closed = voting.close_due_rounds(connection)
        with self.app.app_context():
            for event_id in closed:
                broadcast_state(event_id)
        return closed
