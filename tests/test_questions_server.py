"""Questions against a real server process with real python-socketio clients: upvotes from
many phones reach the hall as coalesced updates, not one message per upvote."""

from __future__ import annotations

import queue
import threading
import time

import pytest
import requests
import socketio

from tests.server_process import ServerProcess

WAIT = 15
PHONES = 8


class Client:
    """A python-socketio client that queues the questions' messages it receives."""

    def __init__(self, server: ServerProcess, auth: dict, cookie: str | None = None) -> None:
        self.events: queue.Queue[tuple[float, str, dict]] = queue.Queue()
        self.sio = socketio.Client()
        for name in ("questions", "questions_mine", "questions_moderator", "questions_screen"):
            self.sio.on(
                name, lambda data, name=name: self.events.put((time.monotonic(), name, data))
            )
        headers = {"Cookie": f"polling={cookie}"} if cookie else {}
        self.sio.connect(server.base_url, auth=auth, headers=headers, wait_timeout=WAIT)

    def call(self, event: str, data: dict) -> dict:
        return self.sio.call(event, data, timeout=WAIT)

    def next(self, name: str, accept=lambda data: True) -> dict:
        while True:
            _at, got, data = self.events.get(timeout=WAIT)
            if got == name and accept(data):
                return data

    def count_until(self, name: str, accept) -> int:
        """How many `name` messages arrived up to and including the first accepted one."""
        count = 0
        while True:
            _at, got, data = self.events.get(timeout=WAIT)
            count += got == name
            if got == name and accept(data):
                return count

    def drain(self) -> list[tuple[float, str, dict]]:
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        return found


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path, POLLING_QUESTION_INTERVAL="0.5").start()
    yield process
    process.stop()


def phone(server: ServerProcess) -> Client:
    response = requests.get(server.urls["join"], timeout=WAIT)
    response.raise_for_status()
    client = Client(server, {"code": server.code, "role": "audience"}, response.cookies["polling"])
    assert client.call("questions_sync", {})["ok"] is True
    return client


def test_upvotes_reach_phones_coalesced_and_are_counted_once(server):
    moderator = Client(
        server, {"code": server.code, "role": "moderator", "key": server.key("moderator")}
    )
    presenter = Client(
        server, {"code": server.code, "role": "presenter", "key": server.key("presenter")}
    )
    assert moderator.call("question_settings", {"premoderation": False}) == {"ok": True}
    asker, *voters = [phone(server) for _ in range(PHONES + 1)]
    asked = asker.call("question_ask", {"text": "Hoe meten we wat AI oplevert?"})
    assert asked["question"]["state"] == "visible"
    question_id = asked["question"]["id"]
    for client in voters:
        client.next("questions", lambda data: data["popular"])
        client.drain()

    acks: list[dict] = []
    threads = [
        threading.Thread(
            target=lambda c=c: acks.append(c.call("question_upvote", {"question": question_id}))
        )
        for c in voters
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(ack["ok"] for ack in acks) and len(acks) == PHONES
    assert sorted(ack["upvotes"] for ack in acks)[-1] == PHONES

    # Every phone ends up with the right count, in fewer messages than there were upvotes.
    messages = [
        client.count_until("questions", lambda data: [question_id, PHONES] in data["upvotes"])
        for client in voters
    ]
    assert max(messages) < PHONES, messages
    screen = presenter.next(
        "questions_screen", lambda data: data["next"] and data["next"][0]["upvotes"] == PHONES
    )
    assert screen["next"][0]["id"] == question_id
    reply = moderator.call("questions_sync", {})
    assert reply["questions"]["questions"][0]["upvotes"] == PHONES
    for client in (moderator, presenter, asker, *voters):
        client.sio.disconnect()
