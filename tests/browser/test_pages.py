"""What the pages load: a strict Content-Security-Policy, and a vote page light enough for a
phone on a crowded venue Wi-Fi."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.browser.helpers import PROJECTOR, REPORT, expect
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from tests.browser.conftest import Browse

BUDGET = 100_000  # bytes on the wire for the vote page's first load


def test_every_page_forbids_inline_script(browse: Browse, server: ServerProcess) -> None:
    pages = {
        "join page": ("/", None),
        "vote page": (f"/{server.code}", None),
        "presenter": (server.urls["presenter"], PROJECTOR),
        "moderator": (server.urls["moderator"], None),
    }
    for name, (url, device) in pages.items():
        page = browse.page(name, device)
        response = page.goto(url)
        assert response is not None and response.status == 200, name
        policy = response.all_headers()["content-security-policy"]
        directives = {part.strip().split()[0]: part.strip() for part in policy.split(";")}
        assert "'unsafe-inline'" not in policy, (name, policy)
        assert "'unsafe-eval'" not in policy, (name, policy)
        assert directives["script-src"] == "script-src 'self'", (name, policy)
        expect(page.locator("main")).to_be_visible()
    # Every page loaded only from the server itself (checked again by `browse` at the end).
    assert not browse.foreign_requests()
    assert len(browse.documents) == len(pages)


def test_the_vote_page_loads_under_100_kb(browse: Browse, server: ServerProcess) -> None:
    phone = browse.page("phone")
    cdp = phone.context.new_cdp_session(phone)
    urls: dict[str, str] = {}
    sizes: dict[str, int] = {}
    sockets: list[int] = []

    def sent(event: dict[str, Any]) -> None:
        urls[event["requestId"]] = event["request"]["url"]

    def finished(event: dict[str, Any]) -> None:
        sizes[event["requestId"]] = int(event["encodedDataLength"])

    def handshake(event: dict[str, Any]) -> None:
        response = event["response"]
        sockets.append(len(response.get("headersText") or str(response.get("headers", ""))))

    def frame(event: dict[str, Any]) -> None:
        sockets.append(len(event["response"]["payloadData"].encode()))

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.webSocketHandshakeResponseReceived", handshake)
    cdp.on("Network.webSocketFrameReceived", frame)
    cdp.on("Network.webSocketFrameSent", frame)
    cdp.send("Network.enable", {"maxTotalBufferSize": 10_000_000})

    phone.goto(f"/{server.code}")
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
    # No request in flight for 500 ms: the Socket.IO handshake and upgrade are done.
    phone.wait_for_load_state("networkidle")
    assert sockets, "the page did not open its WebSocket"

    total = sum(sizes.values()) + sum(sockets)
    REPORT["transfer"] = total
    print(f"\nvote page, first load: {total} bytes")
    for request_id, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"  {size:>7}  {urls.get(request_id, '?')}")
    print(f"  {sum(sockets):>7}  WebSocket handshake and frames")
    loaded = [url.rsplit("/", 1)[-1] for url in urls.values()]
    for name in ("app.css", "vote.js", "common.js", "socket.io.esm.min.js", "favicon.svg"):
        assert name in loaded, name
    assert total < BUDGET, f"{total} bytes, {total - BUDGET} over the budget"
