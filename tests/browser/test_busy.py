"""A phone turned away by a full server waits as told, says so, and gets in by itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import Browse
from tests.server_process import ServerProcess
from tests.support import handshake

CAPACITY = 2  # a new phone gets in while it is the only handshake waiting to join


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, POLLING_ADMISSION_CAPACITY=str(CAPACITY)).start()
    yield process
    process.stop()


def test_a_phone_told_to_wait_shows_it_and_reconnects_by_itself(
    browse: Browse, server: ServerProcess
) -> None:
    held = [handshake(server) for _ in range(CAPACITY - 1)]  # the hall knocking at once
    # While the phone waits, its Engine.IO session has not joined: past 10 s the server's
    # sweep closes it, and the page's next long-poll is answered 400 before it reconnects.
    browse.expect_status("/socket.io/", 400)
    phone = browse.page("phone")
    phone.goto(f"/{server.code}")
    expect(phone.locator("#connection")).to_have_text(re.compile(r"^Even geduld…"))
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_hidden()

    for socket in held:
        socket.close()
    # The server's delay (2 to 6 s here) plus the page's jitter (up to half of it again).
    expect(phone.locator("#connection")).to_be_hidden(timeout=15_000)
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
