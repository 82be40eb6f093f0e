"""Admission control: beyond a capacity, phones are told when to come back (busy_retry)."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import time

import pytest
import requests
import websocket

from polling.realtime import lag as loop_lag
from polling.realtime.admission import (
    JOINS_PER_SECOND,
    MAX_DELAY,
    MIN_DELAY,
    PACE_LONGEST,
    PACE_STEP,
    Admission,
    Busy,
)
from polling.realtime.lag import UNREAD_SECONDS, WINDOW, LoopLag
from polling.shedding import SheddingListener
from tests.server_process import ServerProcess
from tests.support import WAIT, Client, handshake

# ---------- the rule ----------


def admission(waiting: int, capacity: int = 100, rng=lambda: 0.5) -> Admission:
    return Admission(capacity, waiting=lambda: waiting, rng=rng)


def refusal(rule: Admission, known: bool) -> Busy:
    with pytest.raises(Busy) as refused:
        rule.admit_phone(known=known)
    assert refused.value.code == "busy_retry"
    return refused.value


def test_a_quiet_process_admits_every_phone():
    admission(100).admit_phone(known=False)  # the capacity, the one asking included
    Admission(0, waiting=lambda: 10**6).admit_phone(known=False)  # capacity 0: off


def test_a_phone_coming_back_is_never_refused():
    """Its handshake is paid for: refused, it would only pay it again (docs/performance.md)."""
    full = admission(10**6)
    full.admit_phone(known=True)  # a participant of the event already
    assert full.refused == 0


def test_a_full_process_refuses_new_phones_for_longer_the_more_wait():
    assert refusal(admission(101), known=False).retry_after == MIN_DELAY + 1  # at least 1 s
    full = admission(400, capacity=200)  # twice the capacity: 2 s of joins waiting
    assert refusal(full, known=False).retry_after == MIN_DELAY + 2 * 400 / JOINS_PER_SECOND * 0.5
    assert refusal(admission(100_000), known=False).retry_after == MAX_DELAY  # never more
    assert full.refused == 1


def test_refused_phones_are_told_different_delays_so_they_do_not_return_together():
    full = admission(1000, capacity=500, rng=random.Random(7).random)
    delays = [refusal(full, known=False).retry_after for _ in range(500)]
    window = 2 * 1000 / JOINS_PER_SECOND  # the new phones' 10 s
    assert all(MIN_DELAY <= d <= MIN_DELAY + window for d in delays)
    assert len(set(delays)) > 50  # spread over the window in steps of 0.1 s
    assert max(delays) - min(delays) > 0.9 * window


def test_screens_always_get_in_when_phones_are_refused(app, clients):
    app.extensions["polling_admission"].waiting = lambda: 10_000
    phone = clients.phone()
    assert not phone.is_connected()
    assert clients.presenter().is_connected()
    assert clients.moderator().is_connected()


# ---------- the handshake while the event loop runs late ----------

PHONE = "EIO=4&transport=websocket&role=audience"


def late_by(seconds: float, max_lag: float = 0.1) -> Admission:
    return Admission(0, waiting=lambda: 0, lag=lambda: seconds, max_lag=max_lag)


def test_while_the_loop_runs_late_only_new_phones_are_turned_away():
    on_time, late, later = late_by(0.1), late_by(0.2), late_by(60)
    assert on_time.admit_handshake(PHONE) and on_time.admit_handshake(PHONE + "&back=1")
    assert not late.admit_handshake(PHONE) and not later.admit_handshake(PHONE)
    assert later.admit_handshake(PHONE + "&back=1")  # a phone coming back always gets in
    assert not later.admit_handshake(PHONE + "&back=0")
    for screen in ("presenter", "moderator"):  # never turned away
        assert later.admit_handshake(f"EIO=4&transport=polling&role={screen}")
    assert (on_time.shed, late.shed, later.shed) == (0, 1, 2)


def test_the_handshake_rule_can_be_turned_off_and_takes_any_query():
    assert late_by(60, max_lag=0).admit_handshake(PHONE)  # POLLING_ADMISSION_LAG=0
    junk = "&".join(f"role=x{n}" for n in range(1_000)) + "&role=presenter"
    assert not late_by(1).admit_handshake(junk)  # too many fields: a phone like any other
    assert not late_by(1).admit_handshake("role=%ff%fe&back=%00")


def pacing(lags: list[float], max_lag: float = 0.1) -> tuple[Admission, list[float]]:
    """A rule whose loop is late by each of `lags` in turn (the last one from then on), and
    the sleeps it asks for before an accept."""
    sleeps: list[float] = []
    late = iter(lags)
    last = [lags[-1]]

    def lag() -> float:
        last[0] = next(late, last[0])
        return last[0]

    return Admission(0, waiting=lambda: 0, lag=lag, max_lag=max_lag, sleep=sleeps.append), sleeps


def test_an_accept_on_time_only_lets_the_loop_take_one_turn():
    rule, sleeps = pacing([0.05])
    rule.pace_accept()
    assert sleeps == [0]  # otherwise a queue of connections is taken in one go


def test_while_the_loop_runs_late_connections_wait_in_the_queue_but_not_for_long():
    rule, sleeps = pacing([0.5])  # late for good
    rule.pace_accept()
    assert sleeps[0] == 0 and set(sleeps[1:]) == {PACE_STEP}
    assert sum(sleeps) == pytest.approx(PACE_LONGEST)  # then it is accepted all the same
    catching_up, sleeps = pacing([0.5, 0.3, 0.08])
    catching_up.pace_accept()
    assert sleeps == [0, PACE_STEP, PACE_STEP]  # taken as soon as the loop is on time


def test_while_the_loop_runs_late_a_connection_that_goes_first_is_taken_at_once():
    rule, sleeps = pacing([0.5])
    found = iter([None, None, "the health check"])
    assert rule.pace_accept(lambda: next(found)) == "the health check"
    assert sleeps == [0, PACE_STEP, PACE_STEP]  # looked between the steps
    on_time, _ = pacing([0.05])
    assert on_time.pace_accept(lambda: "never asked") is None


def test_accepting_is_not_paced_when_the_lag_rule_is_off():
    rule, sleeps = pacing([60.0], max_lag=0)  # POLLING_ADMISSION_LAG=0
    rule.pace_accept()
    assert sleeps == []


def test_the_loop_lag_is_the_mean_of_the_last_window(monkeypatch):
    started = []
    lag = LoopLag(sleep=lambda _s: None, start_task=started.append)
    assert lag.current() == 0.0 and len(started) == 1  # its task starts on first use
    now = [1000.0]
    monkeypatch.setattr(loop_lag.time, "monotonic", lambda: now[0])
    lag.note(0.3)
    now[0] += WINDOW / 2
    lag.note(0.01)
    assert lag.current() == (0.3 + 0.01) / 2
    now[0] += WINDOW * 0.75  # the 0.3 s is older than the window now
    assert lag.current() == 0.01
    now[0] += WINDOW * 2
    assert lag.current() == 0.0
    assert len(started) == 1


def test_the_loop_lag_is_measured_only_while_handshakes_read_it(monkeypatch):
    """A hall that only votes costs no timer twenty times a second; the next knock measures."""
    now = [1000.0]
    monkeypatch.setattr(loop_lag.time, "monotonic", lambda: now[0])

    def sleep(seconds):
        now[0] += seconds + 0.02  # every tick 20 ms late

    started = []
    lag = LoopLag(sleep=sleep, start_task=started.append)
    lag.current()
    started[0]()  # the measuring task: it returns once nobody read it for UNREAD_SECONDS
    assert now[0] >= 1000.0 + UNREAD_SECONDS
    assert lag.current() == 0.0 and len(started) == 2  # forgotten, and measured again
    lag.note(0.02)
    assert lag.current() == 0.02


def test_a_server_whose_loop_runs_late_turns_phones_away_but_not_screens(tmp_path):
    """With a limit below any timer's lateness the server always counts as late: a phone's
    handshake is refused (HTTP 401, which the page's client retries with its back-off), the
    projector's and the moderator's are taken, and nothing else changes."""
    server = ServerProcess(tmp_path, POLLING_ADMISSION_LAG="0.000001").start()
    try:
        url = f"{server.base_url}/socket.io/"

        def handshake_status(query: str) -> int:
            return requests.get(f"{url}?EIO=4&transport=polling&{query}", timeout=WAIT).status_code

        handshake_status("role=audience")  # the first look starts the measuring
        deadline = time.monotonic() + WAIT
        while handshake_status("role=audience") != 401:
            assert time.monotonic() < deadline, "the late loop never turned a phone away"
        assert handshake_status("role=audience&back=1") == 200  # a phone coming back
        assert handshake_status("role=presenter") == 200
        assert handshake_status("role=moderator") == 200
        assert requests.get(f"{server.base_url}/healthz", timeout=WAIT).status_code == 200
    finally:
        server.stop()


def test_the_server_asks_admission_control_before_each_accept():
    """The listening socket of `polling serve` paces its accepts (a loop that takes a queue
    of connections in one go never measures how late it runs)."""
    listener = socket.create_server(("127.0.0.1", 0))
    asked: list[int] = []
    paced = SheddingListener(listener, pace=lambda _look: asked.append(len(asked)))
    clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    try:
        for expected in range(1, 4):
            connection, _address = paced.accept()
            connection.close()
            assert len(asked) == expected  # asked before this connection was taken
    finally:
        for client in clients:
            client.close()
        listener.close()


def always_late(look):
    """Admission control's pause with the loop late all along: it only looks."""
    return look()


@contextlib.contextmanager
def queued(lines: list[str]):
    """A listening socket with a connection queued (not yet accepted) per request line, each
    request sent; yields the listener and the clients' sockets, and closes them all."""
    listener = socket.create_server(("127.0.0.1", 0))
    clients = []
    try:
        for line in lines:
            client = socket.create_connection(listener.getsockname())
            client.sendall(f"{line}\r\nHost: hall\r\n\r\n".encode())
            clients.append(client)
        yield listener, clients
    finally:
        for client in clients:
            client.close()
        listener.close()


def test_while_phones_are_held_back_the_health_check_and_the_screens_go_first():
    """Admission control's pause holds phones in the order they came; a request for /healthz
    (a monitor would restart a busy server) and a screen's handshake pass them."""
    lines = [
        "GET /socket.io/?role=audience&EIO=4&transport=websocket HTTP/1.1",
        "GET /healthz HTTP/1.1",
        "GET /123456 HTTP/1.1",  # a vote page
        "GET /socket.io/?role=presenter&EIO=4&transport=websocket HTTP/1.1",
        "GET /socket.io/?role=moderator&back=1&EIO=4&transport=polling HTTP/1.1",
        "GET /socket.io/?role=audience&x=role=presenter HTTP/1.1",  # not a role
    ]
    with queued(lines) as (listener, _clients):
        paced = SheddingListener(listener, pace=always_late)
        order = []
        for _ in lines:
            connection, _address = paced.accept()
            order.append(lines.index(connection.recv(4096).decode().split("\r\n")[0]))
            connection.close()
    assert order == [1, 3, 4, 0, 2, 5]


def test_a_held_connection_whose_phone_gave_up_is_not_served():
    """A phone whose connect timed out while it was held has closed its connection: the
    server skips it instead of parsing and answering a request nobody waits for."""
    with queued([f"GET /socket.io/?phone={n} HTTP/1.1" for n in range(2)]) as (listener, clients):
        paced = SheddingListener(listener, pace=always_late)  # all are held
        clients[0].close()
        connection, _address = paced.accept()
        assert connection.recv(4096).startswith(b"GET /socket.io/?phone=1 ")
        connection.close()
        assert not paced.held


def test_no_more_connections_are_held_than_the_process_has_descriptors_for():
    with queued(["GET /123456 HTTP/1.1"] * 5) as (listener, clients):
        paced = SheddingListener(listener, pace=always_late, room=lambda: 2)
        for _ in clients:
            paced.accept()[0].close()
            assert len(paced.held) <= 2  # the rest wait in the kernel's queue


# ---------- through a real server ----------

CAPACITY = 4  # new phones get in while at most 4 handshakes wait, phones coming back always


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path, POLLING_ADMISSION_CAPACITY=str(CAPACITY)).start()
    yield process
    process.stop()


def join(server: ServerProcess, cookie: str) -> tuple[websocket.WebSocket, dict | None]:
    """A phone's namespace connect: its socket, and the refusal's data (None: it got in)."""
    socket = handshake(server, cookie)
    socket.send("40" + json.dumps({"code": server.code, "role": "audience"}))
    while True:
        frame = socket.recv()
        if frame.startswith("40"):
            return socket, None
        if frame.startswith("44"):
            socket.close()
            return socket, json.loads(frame[2:])["data"]  # {message, data}: Socket.IO 5


def cookie(server: ServerProcess) -> str:
    return requests.get(server.urls["join"], timeout=WAIT).cookies["polling"]


def test_beyond_capacity_a_new_phone_is_told_to_retry_and_then_gets_in(server):
    returning, new = cookie(server), cookie(server)
    join(server, returning)[0].close()  # it has joined the event before
    held = [handshake(server) for _ in range(CAPACITY)]  # with the next one: beyond it

    socket, refused = join(server, returning)
    assert refused is None, "a phone coming back is never refused"
    socket.close()
    _, refused = join(server, new)
    assert refused is not None and refused["error"] == "busy_retry"
    assert 0 < refused["retry_after"] <= 30

    for role in ("presenter", "moderator"):
        screen = Client(server, {"code": server.code, "role": role, "key": server.key(role)})
        assert screen.next("state")["phase"] == "lobby"

    for socket in held:
        socket.close()
    deadline = time.monotonic() + WAIT
    while refused is not None:  # as the page does: come back after the delay
        assert time.monotonic() < deadline, "the phone never got in"
        time.sleep(refused["retry_after"])
        socket, refused = join(server, new)
    socket.close()
