"""A real server process and real python-socketio clients, as phones and screens use it."""

from __future__ import annotations

import json
import re

import pytest
import requests
import websocket

from tests.server_process import ServerProcess
from tests.support import WAIT, Client, moderator_client, phone, voting_open


@pytest.fixture(params=["eventlet", "gevent"])
def server(request, tmp_path):
    """A server in each async mode we support: the code must not depend on one."""
    process = ServerProcess(tmp_path, POLLING_ASYNC_MODE=request.param).start()
    yield process
    process.stop()


def test_serve_prints_urls_that_work(server):
    assert server.urls["join"] == f"{server.base_url}/{server.code}"
    for role in ("presenter", "moderator"):
        assert requests.get(server.urls[role], timeout=WAIT).status_code == 200
    qr = requests.get(f"{server.base_url}/{server.code}/qr.svg", timeout=WAIT)
    assert qr.headers["Content-Type"].startswith("image/svg+xml")


def test_serve_prints_one_ready_line_that_agrees_with_the_lines_for_people(server):
    stdout = server.printed.splitlines()
    ready = [line for line in stdout if line.startswith("POLLING_READY ")]
    assert len(ready) == 1
    assert json.loads(ready[0].removeprefix("POLLING_READY ")) == server.ready
    assert set(server.ready) == {
        "url", "port", "code", "join", "presenter", "moderator", "organiser"
    }  # fmt: skip
    assert server.ready["url"] == server.base_url
    assert server.ready["port"] == server.port > 0
    assert server.ready["code"] == server.code
    # The lines for people stay, with the same URLs.
    for role in ("join", "presenter", "moderator", "organiser"):
        shown = re.search(rf"^{role.capitalize()}:\s+(\S+)", server.printed, re.M)
        assert shown and shown[1] == server.ready[role], role
    assert f"Listening on {server.base_url} - press Ctrl+C to stop." in server.printed
    assert requests.get(f"{server.ready['organiser']}login", timeout=WAIT).status_code == 200


def test_vote_through_a_real_server_survives_sigkill(server):
    moderator = moderator_client(server)
    presenter = Client(
        server, {"code": server.code, "role": "presenter", "key": server.key("presenter")}
    )
    voter = phone(server)
    assert voter.next("state")["phase"] == "lobby"

    assert moderator.call("control", {"action": "next"}) == {"ok": True}
    assert moderator.call("control", {"action": "open"}) == {"ok": True}
    round_id = voter.next("state", lambda s: s["phase"] == "open")["round"]["id"]

    ack = voter.call("vote", {"round": round_id, "choice": "agree"})
    assert ack == {"ok": True, "round": round_id, "choice": "agree"}
    tally = presenter.next("tally", lambda t: t["turnout"]["voters"] == 1)
    assert tally["results"] is None  # the projector is blind until the reveal
    moderator_tally = moderator.next("tally", lambda t: t["turnout"]["voters"] == 1)
    assert moderator_tally["results"]["counts"] == {"agree": 1, "disagree": 0}

    server.kill()
    for client in (moderator, presenter, voter):
        client.forget_received()
    server.start()  # same port, same database; the clients reconnect by themselves

    # A state sent on (re)connect carries can_control; broadcasts to a room do not.
    back = voter.next("state", lambda s: "can_control" in s)
    assert back["phase"] == "open"
    assert back["statement"]["key"] == "value"
    assert back["you"] == {"choice": "agree", "reason": None}
    assert moderator.next("state", lambda s: "can_control" in s)["phase"] == "open"
    assert moderator.call("control", {"action": "close"}) == {"ok": True}
    assert moderator.call("control", {"action": "reveal"}) == {"ok": True}
    revealed = voter.next("state", lambda s: s["revealed"])
    assert revealed["results"]["counts"] == {"agree": 1, "disagree": 0}
    for client in (moderator, presenter, voter):
        client.sio.disconnect()


def test_serve_reopens_the_same_event_after_a_restart(server):
    code = server.code
    server.stop()
    assert server.start().code == code
    server.stop()
    assert server.start("--new-event").code != code


def test_another_sites_page_cannot_open_a_socket(server):
    """CORS: a page from another origin, running in a phone's browser, is refused."""
    response = requests.get(
        f"{server.base_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": "http://evil.example"},
        timeout=WAIT,
    )
    assert response.status_code == 400
    same_site = requests.get(
        f"{server.base_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": server.base_url},
        timeout=WAIT,
    )
    assert same_site.status_code == 200


@pytest.mark.parametrize(
    "frame",
    ["400.0", "40[1,2", '40"x', "40" + "9" * 400, '42["vote",{"round":1e999}]', "4x", "9"],
)
def test_malformed_socketio_frames_are_dropped_and_the_server_keeps_serving(server, frame):
    socket = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=WAIT
    )
    try:
        assert socket.recv().startswith("0{")  # Engine.IO open
        socket.send(frame)
        socket.send("40{}")  # a well-formed connect after it: refused, but answered
        answer = socket.recv()
        while answer in ("2", "3"):  # pings
            answer = socket.recv()
        assert answer.startswith("44"), answer  # a connect error, not a traceback
        assert "Traceback" not in answer
    finally:
        socket.close()
    assert requests.get(f"{server.base_url}/healthz", timeout=WAIT).json()["status"] == "ok"


def test_binary_payloads_from_a_phone_are_refused_and_change_nothing(server):
    """The server sends only JSON text (polling.realtime.packets); what a client sends as
    binary attachments still arrives, as bytes, and gets the refusal of a wrong type."""
    _moderator, voter, round_id = voting_open(server)

    assert voter.call("vote", {"round": round_id, "choice": b"agree"})["error"] == "bad_request"
    assert voter.call("vote", b"\x00" * 1000)["error"] == "bad_request"
    asked = voter.call("question_ask", {"text": b"Hoe meten we wat AI oplevert?"})
    assert asked["ok"] is False, asked
    assert voter.call("sync", {})["state"]["you"]["choice"] is None  # nothing was recorded
    ack = voter.call("vote", {"round": round_id, "choice": "agree"})
    assert ack == {"ok": True, "round": round_id, "choice": "agree"}
