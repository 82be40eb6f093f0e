"""How a phone's page connects: over WebSocket at once, and by long-polling where a network
lets no WebSocket through (some venue and hospital proxies)."""

from __future__ import annotations

import re
import socket
import threading
from typing import TYPE_CHECKING

from tests.browser.helpers import expect
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from tests.browser.conftest import Browse


def socket_io_requests(page) -> tuple[list[str], list[str]]:
    """The page's Engine.IO long-polling requests and WebSockets, as they happen."""
    polls: list[str] = []
    sockets: list[str] = []
    page.on(
        "request",
        lambda request: polls.append(request.url) if "transport=polling" in request.url else None,
    )
    page.on("websocket", lambda socket: sockets.append(socket.url))
    return polls, sockets


def test_a_phone_joins_over_websocket_without_long_polling(
    browse: Browse, server: ServerProcess
) -> None:
    phone = browse.page("phone")
    polls, sockets = socket_io_requests(phone)
    phone.goto(f"/{server.code}")
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
    assert [url for url in sockets if "/socket.io/" in url and "transport=websocket" in url]
    assert polls == []


class UpgradeRefusingProxy:
    """A proxy in front of the server that answers every WebSocket upgrade 403, as some
    venue and hospital proxies do, and passes everything else through."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed at the end of the test
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            if re.search(rb"(?im)^upgrade:\s*websocket", head):
                self.refused += 1
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:  # the server has stopped at the end of the test
                return
            with upstream:
                upstream.sendall(head)
                back = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
                back.start()
                self._pipe(client, upstream)
                back.join(timeout=5)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()


def test_where_no_websocket_gets_through_the_phone_joins_by_long_polling(
    browse: Browse, server: ServerProcess
) -> None:
    proxy = UpgradeRefusingProxy(server.port)
    try:
        phone = browse.page("phone")
        polls, _sockets = socket_io_requests(phone)
        browse.expect_websocket_refused(f"127.0.0.1:{proxy.port}")
        phone.goto(f"http://127.0.0.1:{proxy.port}/{server.code}")
        expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
        assert proxy.refused >= 1
        assert polls  # it got in by long-polling
    finally:
        proxy.close()
