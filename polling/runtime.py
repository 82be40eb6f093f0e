"""Running the server process: the one module that knows which async library is underneath.

It imports only the standard library at the top, so `patch_first` can run before anything else.
"""

from __future__ import annotations

import gc
import socket
import time
from collections.abc import Callable
from typing import Any

ASYNC_MODES = ("eventlet", "gevent", "threading")


def patch_first(async_mode: str) -> None:
    """Patch the standard library for eventlet or gevent; call it before anything imports
    threading, socket, Flask or SQLAlchemy (`polling serve` and `wsgi.py` do, first thing).

    The deprecation notice silenced here is eventlet's own; we chose it knowingly, see
    docs/deployment.md.
    """
    if async_mode == "eventlet":
        import warnings

        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()
    elif async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()


# Phones arrive in bursts when the QR code goes up: keep room for them in the accept queue.
LISTEN_BACKLOG = 2048


def blocking_runner(async_mode: str) -> Callable[..., Any]:
    """How to call a function that blocks on disk or database without stalling the event loop:
    on an OS thread, with the calling green thread waiting cooperatively."""
    if async_mode == "eventlet":
        from eventlet import tpool

        execute: Callable[..., Any] = tpool.execute
        return execute
    if async_mode == "gevent":
        import gevent

        return lambda function, *args: gevent.get_hub().threadpool.apply(function, args)
    return lambda function, *args: function(*args)  # already on an OS thread


class GreenSignal:
    """A one-shot signal for one green thread to wait on, under eventlet: a bare
    `eventlet.event.Event` costs far less than a monkey-patched `threading.Event` (a condition,
    its locks and a waiter lock each time), and the vote writer makes one for every vote."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        from eventlet.event import Event

        self.event = Event()

    def set(self) -> None:
        if not self.event.ready():
            self.event.send(True)

    def wait(self, timeout: float | None = None) -> bool:
        """True once set; False if `timeout` seconds passed first."""
        return self.event.wait(timeout) is True


def one_shot_signal(async_mode: str) -> Callable[[], Any]:
    """A factory of signals that are set once and waited on once (`set()`, `wait(timeout)`
    returning whether it was set), the cheapest the async mode has."""
    if async_mode == "eventlet":
        return GreenSignal
    import threading  # patched by gevent: its Event is already a green one

    return threading.Event


def listen(async_mode: str, host: str, port: int) -> Any:
    """Bind the listening socket (port 0 picks a free one); returns the socket.

    Raises OSError (EADDRINUSE) if the port is taken: never port reuse, or a second server
    would silently share the port and get half of the phones.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if async_mode == "eventlet":
        import eventlet

        return eventlet.listen(
            (host, port), family=family, backlog=LISTEN_BACKLOG, reuse_port=False
        )
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(LISTEN_BACKLOG)
    return listener


# Every this many seconds, what is new since the last look is collected and then frozen:
# connected phones leave the collector's view, so any collection scans only what is younger.
# Short, so that each of these collections is short while a hall of thousands joins.
YOUNG_SECONDS = 2
# Votes are quiet when none came for this long.
QUIET_SECONDS = 10
# Everything (frozen included) is collected when votes are quiet and this much time has passed,
# and at the latest after the second interval of steady voting, so memory never creeps for long.
FULL_COLLECTION_WHEN_QUIET_SECONDS = 300
FULL_COLLECTION_AT_LEAST_EVERY_SECONDS = 600


def tune_garbage_collector() -> None:
    """Keep full garbage collections out of vote windows.

    With thousands of phones connected a full collection scans millions of objects and stops
    the server for a second or more (1.3 s with 10,000 phones): within a vote window that
    showed as a p95 of seconds. Start-up objects are frozen out of collection, automatic full
    collections become rare (100 younger collections instead of 10), and `collect_young`
    keeps freezing what has lived for a couple of seconds. Closed connections leave cycles
    that only a collection including the frozen objects frees; that runs between votes, and
    at the latest every ten minutes: a panel votes in bursts with minutes of discussion in
    between.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 10, 100)


def collect_young(socketio: Any, last_activity: Callable[[], float]) -> None:
    """A background loop: short collections all the time, full ones between vote bursts
    (see tune_garbage_collector).

    The young collections used to run only when votes were quiet: a hall joining while others
    voted then never left the collector's view, and the automatic full collections grew with
    it (ack p95 up to 3.8 s with 10,000 phones joining in a minute while 1,000 voted).

    They collect the two youngest generations, not the oldest's unfrozen part too: when a hall
    joins or comes back at once, that part is mostly the hall's new connections, which live
    on, and scanning it took 100-200 ms every two seconds (1.8 s of the 18 s of CPU a
    10,000-phone restart cost; the two youngest generations' collections find most of the
    same garbage). What garbage reached the oldest generation by the freeze waits for the
    next full collection, like the cycles that closed connections leave.
    """
    last_full = time.monotonic()
    while True:
        socketio.sleep(YOUNG_SECONDS)
        now = time.monotonic()
        quiet = now - last_activity() >= QUIET_SECONDS
        since_full = now - last_full
        if since_full >= FULL_COLLECTION_AT_LEAST_EVERY_SECONDS or (
            quiet and since_full >= FULL_COLLECTION_WHEN_QUIET_SECONDS
        ):
            gc.unfreeze()
            gc.collect()
            last_full = time.monotonic()
        else:
            gc.collect(1)
        gc.freeze()


def serve(app: Any, listener: Any) -> None:
    """Serve the app on a bound socket until the process is stopped."""
    async_mode = app.config["ASYNC_MODE"]
    tune_garbage_collector()
    socketio = app.extensions["socketio"]
    writer = app.extensions["polling_writer"]
    socketio.start_background_task(collect_young, socketio, lambda: writer.last_vote)
    # Rounds whose countdown ran out while the server was down close now, not at a connect.
    app.extensions["polling_countdown"].ensure_running()
    if async_mode == "eventlet":
        import eventlet.wsgi

        from polling import shedding

        # eventlet's default of 1,024 connections is far below a full hall; no more than the
        # process has file descriptors for, and room made by closing one without a request.
        pool = shedding.shedding_pool(shedding.raise_file_limit(app.config["MAX_CONNECTIONS"]))
        eventlet.wsgi.server(
            shedding.SheddingListener(
                listener, app.extensions["polling_admission"].pace_accept, room=pool.free
            ),
            pool.guard(app),
            custom_pool=pool,
            # A request line or headers that never complete do not hold a connection.
            keepalive=shedding.HEADER_SECONDS,
            socket_timeout=shedding.HEADER_SECONDS,
            # Access logs would hold IP addresses (and moderator keys in URLs): keep none.
            log_output=False,
        )
        return
    if async_mode == "gevent":
        from gevent.pool import Pool
        from gevent.pywsgi import WSGIServer

        # WebSockets go through simple-websocket; log=None keeps no access log.
        pool = Pool(app.config["MAX_CONNECTIONS"])
        WSGIServer(listener, app, spawn=pool, log=None).serve_forever()
        return
    from werkzeug.serving import WSGIRequestHandler, make_server

    class WithoutAccessLog(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """No access log here either: it would hold IP addresses and keys in URLs."""

    host, port = listener.getsockname()[:2]
    server = make_server(
        host, port, app, threaded=True, fd=listener.fileno(), request_handler=WithoutAccessLog
    )
    server.serve_forever()
