"""Half-sent requests and too few file descriptors, against a real `polling serve`."""

from __future__ import annotations

import socket
import time

import requests

from polling.shedding import HEADER_SECONDS
from tests.server_process import ServerProcess

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
