"""Starting `polling serve` twice, and restarting it: real processes, as an organiser runs them."""

from __future__ import annotations

import socket
import subprocess

import pytest
import requests

from polling import create_app, db
from polling.domain.decks import load_deck
from polling.domain.events import create_event
from polling.domain.voting import cast_vote, control, join
from tests.server_process import POLLING, ServerProcess
from tests.support import PANEL_DECK

WAIT = 30


def second_start(server: ServerProcess, *arguments: str, **environment: str):
    """Run another `polling serve` with the first one's settings; it must end by itself."""
    return subprocess.run(
        [str(POLLING), "serve", "--host", "127.0.0.1", *arguments],
        env={**server.environment, **environment},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


@pytest.fixture(params=["eventlet", "gevent"])
def server(request, tmp_path):
    process = ServerProcess(tmp_path, POLLING_ASYNC_MODE=request.param).start()
    yield process
    process.stop()


def test_a_second_server_on_the_same_port_is_refused(server, tmp_path):
    # Its own database, so only the port stands in the way.
    second = second_start(
        server,
        "--port",
        str(server.port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}",
    )
    assert second.returncode == 1
    assert f"already running on :{server.port}" in second.stderr
    assert "Listening on" not in second.stderr
    # The first one still has the port to itself and serves.
    assert requests.get(server.urls["join"], timeout=WAIT).status_code == 200


def test_a_second_server_on_the_same_database_is_refused(server):
    second = second_start(server, "--port", "0")
    assert second.returncode == 1
    assert f"process {server.process.pid}" in second.stderr
    assert "already using the database" in second.stderr
    assert "POLLING_MESSAGE_QUEUE" in second.stderr
    assert "Listening on" not in second.stderr
    assert requests.get(server.urls["join"], timeout=WAIT).status_code == 200


def test_the_database_is_free_again_once_the_server_is_killed(server):
    server.kill()
    server.start()  # same port, same database: neither is held by the dead process
    assert requests.get(server.urls["join"], timeout=WAIT).status_code == 200


def test_the_port_stays_free_for_nothing_else_while_serving(server):
    """No port reuse: a plain bind, as any other program would try, fails too."""
    with socket.socket() as other, pytest.raises(OSError):
        other.bind(("127.0.0.1", server.port))


def test_restart_reopens_the_event_in_use_not_the_newest(tmp_path):
    server = ServerProcess(tmp_path)
    create_app(
        {
            "INSTANCE_PATH": server.environment["POLLING_INSTANCE_PATH"],
            "DATABASE_URL": server.environment["DATABASE_URL"],
            "ASYNC_MODE": "threading",
        }
    )
    deck = load_deck(PANEL_DECK)
    with db.session() as session:
        in_use = create_event(session, deck)
        control(session, in_use.id, "next")
        event = control(session, in_use.id, "open")
        round_id = event.current_statement.latest_round.id
        # Created later, for tomorrow's panel (as in the organiser area), and not used yet.
        tomorrow = create_event(session, deck)
    with db.engine.begin() as connection:
        cast_vote(connection, join(connection, in_use.id, "phone"), round_id, "agree")
    db.engine.dispose()

    server.start()
    try:
        assert server.code == in_use.code
        assert "Reopened the event in use: its last activity (vote, " in server.printed
        assert "polling serve --event CODE" in server.printed
    finally:
        server.stop()

    # The organiser picks the other one; and once it is used, it is the one in use.
    server.start("--event", tomorrow.code)
    try:
        assert server.code == tomorrow.code
        assert "chosen with --event" in server.printed
        moderator = requests.get(server.urls["moderator"], timeout=WAIT)
        assert moderator.status_code == 200
    finally:
        server.stop()
    with db.session() as session:
        control(session, tomorrow.id, "next")
        control(session, tomorrow.id, "open")
    db.engine.dispose()
    server.start()
    try:
        assert server.code == tomorrow.code
        assert "(voting opened, " in server.printed
    finally:
        server.stop()
