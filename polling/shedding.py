"""Slow and half-open HTTP connections, and running out of file descriptors.

A connection that sends half a request and waits used to hold a green thread and a file
descriptor for ever: enough of them filled the connection limit (the health check timed out)
or the process's descriptors (`accept()` failed with EMFILE and the server exited). Here:

- a request line or headers that do not arrive within HEADER_SECONDS close the connection;
- the connection pool never holds more connections than the process has descriptors for,
  and when it is full it closes the oldest connection that has no request in progress (a
  half-sent request, an idle keep-alive), so a new request (the health check, a phone) gets in;
- EMFILE or ENFILE in `accept()` sheds the newest connection and serves on.
- while admission control holds new connections back (the event loop runs late), the health
  check and the screens pass the phones: what the kernel has queued is taken and held in the
  order it came, and a request for /healthz or a screen's handshake is served first. Behind
  a hall reconnecting, a health check used to wait in the accept queue for 5 s and more.

eventlet only (the default); see docs/security.md for gevent.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import logging
import os
import re
import resource
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from polling.domain.roles import SCREENS

log = logging.getLogger(__name__)

# A phone on bad Wi-Fi sends its request in well under a second; a slow-loris never does.
HEADER_SECONDS = 10
# Descriptors the process needs besides connections: each pooled database connection holds
# three (SQLite: the file, its WAL and shared memory), plus logs, pipes, Redis.
RESERVED_DESCRIPTORS = 128
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)


def raise_file_limit(max_connections: int) -> int:
    """Raise the soft limit on open files to the hard one; return how many connections the
    process can hold (POLLING_MAX_CONNECTIONS, or fewer with a warning if the limit is low)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, max_connections * 2)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    usable = max(soft - RESERVED_DESCRIPTORS, 16)
    if usable < max_connections:
        log.warning(
            "the open-file limit (%d, ulimit -n) allows %d connections, below "
            "POLLING_MAX_CONNECTIONS=%d: serving at most %d; raise the limit for a full hall",
            soft,
            usable,
            max_connections,
            usable,
        )
        return usable
    return max_connections


# While connections are held back (admission control's pause), these go first: the health
# check (a monitor that times out restarts a busy server) and the projector and moderator
# screens. Read from the request line, which a client sends as soon as it is connected.
_SCREEN_ROLES = "|".join(re.escape(role) for role in SCREENS).encode()
PRIORITY_REQUEST = re.compile(rb"^GET /healthz[ ?]|^GET [^ ]*[?&]role=(%b)[& ]" % _SCREEN_ROLES)
# How much of a held connection's request is looked at, and how many are held at most (the
# rest stay in the kernel's accept queue): about as many as a hall has phones.
PEEK_BYTES = 1024
MAX_HELD = 10000


class SheddingListener:
    """The listening socket, whose accept() survives running out of descriptors, and lets the
    health check and the screens pass the phones while admission control holds them back."""

    def __init__(
        self,
        listener: Any,
        pace: Callable[[Callable[[], Any]], Any] = lambda _look: None,
        room: Callable[[], int] = lambda: MAX_HELD,
    ) -> None:
        """`pace(look)` is called before each accept: admission control's pause while the
        process is busy (polling.realtime.admission), during which it calls `look` between
        its steps and returns what `look` found, a connection to take first, or None.
        `room()`: how many more connections the process has descriptors for (the pool's)."""
        self.listener = listener
        self.pace = pace
        self.room = room
        self.held: deque[tuple[Any, Any]] = deque()
        self.reserve: int | None = os.open(os.devnull, os.O_RDONLY)
        self.last_warning = 0.0

    def accept(self) -> Any:
        first = self.pace(self._look_for_priority)
        if first is not None:
            return first
        while self.held:  # in the order they came
            connection, address = self.held.popleft()
            if not _given_up(connection):
                return connection, address
            connection.close()  # its phone stopped waiting: nothing to parse or answer
        while True:
            try:
                return self.listener.accept()
            except OSError as error:
                if error.errno not in OUT_OF_DESCRIPTORS:
                    raise
                self._shed()

    def _look_for_priority(self) -> Any:
        """Take what the kernel has queued (without waiting), and return the first connection
        whose request goes first (PRIORITY_REQUEST); the others are held, in order."""
        while len(self.held) < min(MAX_HELD, self.room()):
            try:
                taken = self._accept_now()
            except OSError:  # out of descriptors, or anything else: the kernel keeps them
                return None
            if taken is None:
                return None
            if _goes_first(taken[0]):
                return taken
            self.held.append(taken)
        return None

    def _accept_now(self) -> tuple[Any, Any] | None:
        """accept() that returns None instead of waiting; a green socket, as accept() gives
        (a plain one from a plain listening socket)."""
        raw = getattr(self.listener, "fd", None)
        if raw is None:  # not eventlet's
            self.listener.setblocking(False)
            try:
                taken: tuple[Any, Any] = self.listener.accept()
            except BlockingIOError:
                return None
            finally:
                self.listener.setblocking(True)
            return taken
        import eventlet.greenio.base as green

        found = green.socket_accept(raw)
        if found is None:
            return None
        client, address = found
        green.notify_opened(client.fileno())
        green.set_nonblocking(client)
        return type(self.listener)(client), address

    def _shed(self) -> None:
        """Give up the spare descriptor, accept and close one connection, take it back.

        Connections that ended in an error can keep their descriptor in a reference cycle
        until a garbage collection, and the server keeps collections rare (see
        polling.runtime.tune_garbage_collector): out of descriptors, it collects everything,
        at most every 10 s.
        """
        now = time.monotonic()
        if now - self.last_warning > 10:
            self.last_warning = now
            log.warning("out of file descriptors: closing new connections until some end")
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        if self.reserve is not None:
            os.close(self.reserve)
            self.reserve = None
            try:
                connection, _address = self.listener.accept()
                connection.close()
            except OSError:
                pass
            with contextlib.suppress(OSError):
                self.reserve = os.open(os.devnull, os.O_RDONLY)
        time.sleep(0.05)  # green under eventlet: let other connections run and end

    def __getattr__(self, name: str) -> Any:
        return getattr(self.listener, name)


def shedding_pool(size: int) -> Any:
    """An eventlet GreenPool of connections that makes room by closing one that is not in a
    request: a request line or headers still arriving (a slow-loris), or a keep-alive
    connection between requests. WebSockets (the phones) and requests being answered (a
    long poll) are never closed. `guard(app)` must wrap the WSGI app, to tell them apart."""
    import eventlet
    from eventlet import wsgi

    class SheddingPool(eventlet.GreenPool):
        def __init__(self, size: int) -> None:
            super().__init__(size)
            # eventlet.wsgi's [address, socket, state] of each live connection, oldest first.
            self.connections: OrderedDict[int, list[Any]] = OrderedDict()
            self.in_app: set[int] = set()  # sockets whose request reached the app
            self.websockets: set[int] = set()
            self.closed: set[int] = set()  # sockets shut down to make room

        def spawn(self, function: Any, connection: list[Any], *args: Any) -> Any:
            if self.free() == 0:
                self._close_one_without_request()
            thread = super().spawn(function, connection, *args)
            key = id(connection[1])
            self.connections[key] = connection
            thread.link(lambda _thread: self._forget(key))
            return thread

        def guard(self, app: Any) -> Any:
            def guarded(environ: dict[str, Any], start_response: Any) -> Any:
                key = id(getattr(environ.get("eventlet.input"), "_sock", None))
                if key in self.closed:
                    # Its headers ended with the shutdown: run no app code, and write nothing
                    # (eventlet's flag for a socket the app took over). An answer written to
                    # the shut-down socket failed, and on that error eventlet formatted a
                    # traceback (a third of the server's time during a hold) and left the socket's
                    # descriptor open until a garbage collection, so a stream of half-sent
                    # requests ran the process out of descriptors and /healthz was shed.
                    # Without eventlet's callback no cycle (environ, callback, request,
                    # environ) keeps the request's memory until a full collection either.
                    environ.pop("eventlet.set_idle", None)
                    wsgi.WSGI_LOCAL.already_handled = True
                    return []
                self.in_app.add(key)
                if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                    self.websockets.add(key)
                return app(environ, start_response)

            return guarded

        def _forget(self, key: int) -> None:
            self.connections.pop(key, None)
            self.in_app.discard(key)
            self.websockets.discard(key)
            self.closed.discard(key)

        def _close_one_without_request(self) -> None:
            for key, connection in self.connections.items():
                if key in self.websockets:
                    continue
                if key not in self.in_app or connection[2] == wsgi.STATE_IDLE:
                    with contextlib.suppress(OSError):
                        connection[1].shutdown(2)  # its reader sees the end and lets go
                    del self.connections[key]
                    self.closed.add(key)
                    return

    return SheddingPool(size)


def _goes_first(connection: Any) -> bool:
    """Whether a connection's request line (if it has arrived) is one that goes first."""
    try:
        start = _raw(connection).recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:  # nothing arrived yet (it waits like a phone), or it is gone
        return False
    return PRIORITY_REQUEST.match(start.split(b"\r\n", 1)[0]) is not None


def _given_up(connection: Any) -> bool:
    """Whether the client has closed a connection that is still to be served: a phone whose
    connect timed out while it was held closes it and tries again."""
    select = _select_with_poll()
    poller = select.poll()
    # POLLRDHUP (Linux): the peer closed, although its request is still unread.
    closed = getattr(select, "POLLRDHUP", 0) | select.POLLHUP | select.POLLERR
    poller.register(_raw(connection), closed)
    return any(events & ~select.POLLIN for _fd, events in poller.poll(0))


def _raw(connection: Any) -> Any:
    """The operating system's socket under a green one (or the socket itself)."""
    return getattr(connection, "fd", connection)


@functools.cache
def _select_with_poll() -> Any:
    """The select module with poll(): eventlet's green one, once patched in, has none."""
    import select

    if hasattr(select, "poll"):
        return select
    import eventlet.patcher

    return eventlet.patcher.original("select")
