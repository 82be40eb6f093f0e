"""A phone turned away by a full server waits as told, says so, and gets in by itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PROJECTOR, Browse
from tests.server_process import ServerProcess
from tests.support import handshake

CAPACITY = 1  # a new phone gets in while it is the only handshake waiting to join


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, POLLING_ADMISSION_CAPACITY=str(CAPACITY)).start()
    yield process
    process.stop()


def test_a_phone_told_to_wait_shows_it_and_reconnects_by_itself(
    browse: Browse, server: ServerProcess
) -> None:
    held = [handshake(server) for _ in range(CAPACITY)]  # the hall knocking at once
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


def test_while_the_server_runs_late_a_phone_waits_and_the_projector_gets_in(
    browse: Browse, tmp_path: Path
) -> None:
    """A limit below any timer's lateness: the server always counts as running late, so
    every phone's handshake is turned away (HTTP 401, retried by the page with its back-off)
    and the phone says so, while the projector's page gets in at once."""
    (tmp_path / "late").mkdir()
    late = ServerProcess(tmp_path / "late", POLLING_ADMISSION_LAG="0.000001").start()
    try:
        browse.server = late
        browse.expect_handshakes_refused()
        presenter = browse.page("presenter", PROJECTOR)
        presenter.goto(late.urls["presenter"])
        expect(presenter.locator("#joined")).to_have_text("0 deelnemers")  # its lobby state
        phone = browse.page("phone")
        phone.goto(f"/{late.code}")
        expect(phone.locator("#connection")).to_have_text(re.compile(r"^Even geduld…"))
        expect(phone.get_by_role("heading", name="Welkom!")).to_be_hidden()
        expect(presenter.locator("#connection")).to_be_hidden()
    finally:
        late.stop()
