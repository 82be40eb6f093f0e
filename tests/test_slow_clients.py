"""Half-sent requests and too few file descriptors, against a real `polling serve`."""

from __future__ import annotations

import socket
import threading
import time

import requests

from benchmarks.flood import hold_half_sent
from polling.shedding import HEADER_SECONDS
from tests.server_process import ServerProcess
from tests.support import WAIT, moderator_client, phone

HELD = 300


def half_sent_requests(port: int, count: int) -> list[socket.socket]:
    """Connections that send the start of a GET and never finish it (a slow-loris)."""
    held = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        held.append(connection)
    return held


def test_half_sent_requests_neither_starve_the_health_check_nor_end_the_server(tmp_path):
    """Under `ulimit -n 256`, 300 half-sent requests made the server exit with EMFILE, and
    fewer than the connection limit made /healthz time out for as long as they were held."""
    server = ServerProcess(tmp_path, open_files=256, POLLING_MAX_CONNECTIONS="1000").start()
    held: list[socket.socket] = []
    try:
        held = half_sent_requests(server.port, HELD)
        for _ in range(3):
            started = time.monotonic()
            health = requests.get(f"{server.base_url}/healthz", timeout=5)
            assert health.json()["status"] == "ok"
            assert time.monotonic() - started < 1
        assert server.process.poll() is None
        # A half-sent request is closed once its headers are overdue.
        deadline = time.monotonic() + HEADER_SECONDS + 10
        held[HELD // 2].settimeout(HEADER_SECONDS + 10)
        assert held[HELD // 2].recv(1) == b""
        assert time.monotonic() < deadline
        assert "open-file limit (256" in server.output
    finally:
        for connection in held:
            connection.close()
        server.stop()


def test_half_sent_requests_reopened_beyond_the_descriptors_starve_neither_health_nor_phones(
    tmp_path,
):
    """1,100 half-sent requests, each re-opened as soon as the server closed it, under
    `ulimit -n 1024` made /healthz time out for the whole hold: every connection closed to
    make room kept its descriptor until a garbage collection, so the process ran out of them
    and shed new connections (the health check, phones) instead. Here at a quarter of the scale."""
    open_files = 256
    held_at_once = open_files + 50  # more than the process has descriptors
    server = ServerProcess(tmp_path, open_files=open_files, POLLING_MAX_CONNECTIONS="100").start()
    stop = threading.Event()
    held = [0, 0]  # the most held at once, closed by the server
    holder = threading.Thread(
        target=hold_half_sent, args=(server.port, held_at_once, stop, held), daemon=True
    )
    holder.start()
    try:
        # Under way: all held at once, and the server has closed more than it can hold.
        deadline = time.monotonic() + WAIT
        while held[0] < held_at_once or held[1] < open_files:
            assert time.monotonic() < deadline, f"the hold never got going: {held}"
            time.sleep(0.05)
        closed_before = held[1]
        for _ in range(5):
            started = time.monotonic()
            health = requests.get(f"{server.base_url}/healthz", timeout=5)
            assert health.json()["status"] == "ok"
            assert time.monotonic() - started < 1
        moderator = moderator_client(server)
        started = time.monotonic()
        page = requests.get(server.urls["join"], timeout=5)  # a fresh phone's vote page
        assert page.status_code == 200 and time.monotonic() - started < 1
        voter = phone(server)
        for action in ("next", "open"):
            assert moderator.call("control", {"action": action}) == {"ok": True}
        round_id = voter.next("state", lambda s: s["phase"] == "open")["round"]["id"]
        assert voter.call("vote", {"round": round_id, "choice": "agree"})["ok"] is True
        assert held[1] > closed_before, "the hold stopped: nothing was tested"
        assert server.process.poll() is None
    finally:
        stop.set()
        holder.join(timeout=WAIT)
        server.stop()
