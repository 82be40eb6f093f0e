"""One connection's flood, or a flood of handshakes, against a real server process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
import websocket

from polling.realtime.flood import FRAME_BURST, JOIN_SECONDS
from tests.server_process import ServerProcess
from tests.support import WAIT, voting_open


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path, POLLING_MAX_CONNECTIONS="100").start()
    yield process
    process.stop()


def raw_phone(server: ServerProcess) -> tuple[websocket.WebSocket, str]:
    """A phone speaking the wire protocol itself, as a script would; returns it and its cookie."""
    cookie = requests.get(server.urls["join"], timeout=WAIT).cookies["polling"]
    socket = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
        cookie=f"polling={cookie}",
        timeout=WAIT,
    )
    assert socket.recv().startswith("0{")
    socket.send("40" + json.dumps({"code": server.code, "role": "audience"}))
    frames = [socket.recv(), socket.recv()]  # the connect's answer and the state, either order
    assert any(f.startswith("40{") for f in frames), frames
    return socket, cookie


def until_closed(socket: websocket.WebSocket) -> bool:
    """Read until the server closes the connection; False if it is still open at the end."""
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            if socket.recv() in ("", "1"):  # end of stream, or Engine.IO close
                return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return True
    except websocket.WebSocketTimeoutException:
        return False
    return False


def test_a_flooding_phone_is_cut_off_and_the_others_vote_on(server):
    moderator, voter, round_id = voting_open(server)

    flooder, cookie = raw_phone(server)
    frame = '42["vote",{"round":"x"}]'
    try:
        for _ in range(FRAME_BURST * 20):
            flooder.send(frame)
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass  # cut off while still sending
    assert until_closed(flooder), "the flooding connection was not closed"
    flooder.close()

    assert voter.call("vote", {"round": round_id, "choice": "agree"})["ok"] is True
    health = requests.get(f"{server.base_url}/healthz", timeout=1)
    assert health.json()["status"] == "ok"
    # Its participant may not come straight back.
    again = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
        cookie=f"polling={cookie}",
        timeout=WAIT,
    )
    again.recv()
    again.send("40" + json.dumps({"code": server.code, "role": "audience"}))
    refused = again.recv()
    while refused in ("2", "3"):
        refused = again.recv()
    assert refused.startswith("44") and "rate_limited" in refused, refused
    again.close()
    for client in (moderator, voter):
        client.sio.disconnect()


def test_a_malformed_frame_is_logged_once_per_connection(server):
    socket, _cookie = raw_phone(server)
    for _ in range(FRAME_BURST // 2):
        socket.send("42[")
    socket.send('421["sync",{},"extra"]')  # an extra argument: still answered
    answer = socket.recv()
    while answer in ("2", "3"):
        answer = socket.recv()
    assert answer.startswith('431[{"ok":true'), answer
    socket.close()
    assert requests.get(f"{server.base_url}/healthz", timeout=WAIT).ok
    assert server.output.count("Traceback") <= 1, server.output[-3000:]
    assert server.output.count("malformed frame") == 1


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def handshake(server: ServerProcess) -> int:
    url = f"{server.base_url}/socket.io/?EIO=4&transport=polling"
    return requests.get(url, timeout=WAIT).status_code


def test_handshakes_that_never_join_are_capped_and_expire(server):
    """Each handshake left an Engine.IO session for minutes: 3,000 a second took 1.3 GB."""
    before = rss_mb(server.process.pid)
    with requests.Session():
        statuses = [handshake(server) for _ in range(400)]
    assert statuses.count(200) <= 100  # POLLING_MAX_CONNECTIONS
    assert set(statuses) <= {200, 401}
    assert rss_mb(server.process.pid) - before < 40
    # Sessions that never joined expire, and make room again.
    deadline = time.monotonic() + JOIN_SECONDS + WAIT
    while handshake(server) != 200:
        assert time.monotonic() < deadline, "unjoined sessions never expired"
        time.sleep(0.5)
    assert requests.get(f"{server.base_url}/healthz", timeout=WAIT).ok


def test_a_lone_surrogate_in_a_key_is_a_bad_key(server):
    """It made the key check raise: no connect error was sent and the client hung."""
    socket = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=WAIT
    )
    try:
        assert socket.recv().startswith("0{")
        auth = '{"code": "' + server.code + '", "role": "moderator", "key": "\\ud800"}'
        socket.send("40" + auth)
        answer = socket.recv()
        while answer in ("2", "3"):
            answer = socket.recv()
        assert answer.startswith("44") and '"bad_key"' in answer, answer
    finally:
        socket.close()
