"""Defences below the Socket.IO handlers: what a connection may cost before it is dispatched.

Engine.IO hands every frame to Socket.IO, which decodes it and starts a green thread for it;
a refusal by a handler comes too late to bound that cost (one socket's flood of 100,000
frames stalled the server for 13 s). Here, before any of that:

- every connection has a frame budget; one that exceeds it is disconnected, nothing more is
  read from it, and its participant cannot reconnect for a while;
- an Engine.IO session that has not joined the Socket.IO namespace within JOIN_SECONDS is
  closed, and such sessions are capped, as are all sessions (POLLING_MAX_CONNECTIONS);
- a malformed frame is logged once per connection, not once per frame.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from engineio.exceptions import SocketIsClosedError

from polling.domain.limits import RateLimit

log = logging.getLogger(__name__)

# A phone sends a few frames a minute, a moderator a few a second at most; the handlers'
# own limits (docs/security.md) refuse far less than this.
FRAME_BURST = 40
FRAMES_PER_SECOND = 5
# A phone joins the namespace right after the handshake; a session that does not is closed.
JOIN_SECONDS = 10
# Handshakes waiting to join: a hall of 10,000 filling in two minutes needs under a thousand.
MAX_WAITING = 2000
# A flooder's participant may not reconnect for this long.
PENALTY_SECONDS = 60


class FloodGuard:
    """Wraps one Socket.IO server's Engine.IO layer (see the module docstring)."""

    def __init__(self, server: Any, max_connections: int) -> None:
        self.server = server
        self.eio = server.eio
        self.max_connections = max_connections
        self.frames = RateLimit(burst=FRAME_BURST, per_second=FRAMES_PER_SECOND)
        self.waiting: dict[str, float] = {}  # Engine.IO sid -> when it shook hands
        self.cut: set[str] = set()  # Engine.IO sids being disconnected for flooding
        self.logged: set[str] = set()  # Engine.IO sids whose malformed frame was logged
        self.tokens: dict[str, str] = {}  # Engine.IO sid -> participant cookie token
        self.penalty: dict[str, float] = {}  # token -> until when it may not connect
        self.sweeping = False
        # Admission control's say on a handshake, from its query string (see admission.py).
        self.admit: Callable[[str], bool] = lambda _query: True
        self._trigger = self.eio._trigger_event
        self._on_connect = self.eio.handlers["connect"]
        self._on_message = self.eio.handlers["message"]
        self._on_disconnect = self.eio.handlers["disconnect"]
        self.eio._trigger_event = self.trigger_event
        self.eio.handlers.update(
            connect=self.on_connect, message=self.on_message, disconnect=self.on_disconnect
        )

    def trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        """Engine.IO's dispatch: a frame over budget goes no further than this.

        Raising SocketIsClosedError ends Engine.IO's reading of that connection (its WebSocket
        loop, or the rest of a polling POST): a flooder's socket always has more to read, so
        merely ignoring its frames would keep the event loop busy reading them.
        """
        if event == "message":
            sid = args[0]
            if sid in self.cut:
                raise SocketIsClosedError()
            if not self.frames.allow(sid):
                self._cut_off(sid)
                raise SocketIsClosedError()
        return self._trigger(event, *args, **kwargs)

    def on_connect(self, sid: str, environ: dict[str, Any]) -> Any:
        """An Engine.IO handshake: refused (HTTP 401) when the process is full, or busy."""
        if len(self.eio.sockets) > self.max_connections or len(self.waiting) >= MAX_WAITING:
            return False
        if not self.admit(environ.get("QUERY_STRING", "")):
            return False
        self.waiting[sid] = time.monotonic()
        if not self.sweeping:
            self.sweeping = True
            self.eio.start_background_task(self._sweep)
        return self._on_connect(sid, environ)

    def on_message(self, sid: str, data: Any) -> Any:
        try:
            return self._on_message(sid, data)
        except Exception:
            # A malformed frame: the first one's traceback helps, 20,000 fill the disk.
            if sid not in self.logged:
                self.logged.add(sid)
                log.warning(
                    "malformed frame on %s (logged once per connection)", sid, exc_info=True
                )
            return None

    def on_disconnect(self, sid: str, *args: Any) -> Any:
        for forget in (self.waiting, self.tokens):
            forget.pop(sid, None)
        self.cut.discard(sid)
        self.logged.discard(sid)
        self.frames.forget(sid)
        return self._on_disconnect(sid, *args)

    def joined(self, sid: str, token: str | None = None) -> None:
        """A session joined the namespace (by a phone with this cookie token, if any)."""
        eio_sid = self.server.manager.eio_sid_from_sid(sid, "/")
        self.waiting.pop(eio_sid, None)
        if token is not None and eio_sid is not None:
            self.tokens[eio_sid] = token

    def penalised(self, token: str) -> bool:
        """Whether this participant flooded recently and may not connect yet."""
        until = self.penalty.get(token)
        if until is None:
            return False
        if until < time.monotonic():
            del self.penalty[token]
            return False
        return True

    def _cut_off(self, sid: str) -> None:
        self.cut.add(sid)
        token = self.tokens.get(sid)
        if token is not None:
            now = time.monotonic()
            if len(self.penalty) > 100_000:
                self.penalty = {t: u for t, u in self.penalty.items() if u > now}
            self.penalty[token] = now + PENALTY_SECONDS
        log.warning("disconnected %s: more than %d frames at once", sid, FRAME_BURST)
        self._close(sid)

    def _sweep(self) -> None:
        """Close sessions that shook hands but never joined the namespace."""
        while True:
            self.eio.sleep(1)
            deadline = time.monotonic() - JOIN_SECONDS
            for sid in [s for s, at in self.waiting.items() if at < deadline]:
                self.waiting.pop(sid, None)
                self._close(sid)

    def _close(self, sid: str) -> None:
        # Not Engine.IO's disconnect(): it waits until the client has read the close, and a
        # client that never polls again would hold the caller for good.
        socket = self.eio.sockets.pop(sid, None)
        if socket is not None:
            socket.close(wait=False, reason=self.eio.reason.SERVER_DISCONNECT)
