"""Two server processes sharing Redis and PostgreSQL: votes on one reach screens on the other."""

from __future__ import annotations

import json
import re
import subprocess
import uuid

import psycopg
import pytest
import requests

from tests.server_process import POLLING, ServerProcess
from tests.support import PANEL_DECK, Client, moderator_client, phone

ORGANISER_PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="(\w+)"')


@pytest.fixture
def two_processes(tmp_path, postgres_url, redis_url):
    environment = {
        "DATABASE_URL": postgres_url,
        "POLLING_MESSAGE_QUEUE": redis_url,
        # A channel of its own, so parallel runs on the same Redis never hear each other.
        "POLLING_MESSAGE_CHANNEL": f"polling-test-{uuid.uuid4().hex[:8]}",
        "POLLING_INSTANCE_PATH": str(tmp_path / "instance"),
        "POLLING_ADMIN_PASSWORD": ORGANISER_PASSWORD,
    }
    created = subprocess.run(
        [str(POLLING), "event", "create", "--deck", str(PANEL_DECK), "--json"],
        env={**ServerProcess(tmp_path).environment, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    code = json.loads(created.stdout)["code"]
    servers = [ServerProcess(tmp_path, **environment) for _ in range(2)]
    try:
        for server in servers:
            server.start("--event", code)
        yield servers, postgres_url
    finally:
        for server in servers:
            server.stop()


def test_votes_on_either_process_reach_a_presenter_on_the_other(two_processes):
    (first, second), database = two_processes
    assert first.code == second.code and first.port != second.port
    moderator = moderator_client(first)
    presenter = Client(
        second, {"code": second.code, "role": "presenter", "key": second.key("presenter")}
    )
    voters = [phone(first), phone(second), phone(first), phone(second), phone(second)]
    for action in ("results_live", "next", "open"):
        assert moderator.call("control", {"action": action}) == {"ok": True}
    # The moderator's action on the first process reaches phones on the second.
    rounds = {v.next("state", lambda s: s["phase"] == "open")["round"]["id"] for v in voters}
    assert len(rounds) == 1
    round_id = rounds.pop()

    choices = ["agree", "disagree", "agree", "agree", "disagree"]
    for voter, choice in zip(voters, choices, strict=True):
        assert voter.call("vote", {"round": round_id, "choice": choice})["ok"]

    expected = {"agree": 3, "disagree": 2}
    on_second = presenter.next(
        "tally", lambda t: t["results"] and t["results"]["counts"] == expected
    )
    assert on_second["turnout"] == {"voters": 5, "participants": 5, "percent": 100}
    on_first = moderator.next("tally", lambda t: t["results"]["counts"] == expected)
    assert on_first["results"]["voters"] == 5

    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as db:
        rows = db.execute(
            "SELECT o.key, count(*) FROM votes v JOIN options o ON o.id = v.option_id "
            "GROUP BY o.key"
        ).fetchall()
    assert dict(rows) == expected
    for client in (moderator, presenter, *voters):
        client.sio.disconnect()


def test_deleting_an_event_on_one_process_cuts_off_its_pages_on_the_other(two_processes):
    (first, second), _database = two_processes
    moderator = moderator_client(second)
    voter = phone(second)
    assert voter.next("state")["phase"] == "lobby"

    organiser = requests.Session()
    login = f"{first.base_url}/organiser/login"
    token = CSRF.search(organiser.get(login, timeout=10).text)[1]
    organiser.post(login, data={"password": ORGANISER_PASSWORD, "csrf": token}, timeout=10)
    confirm = f"{first.base_url}/organiser/events/{first.code}/delete"
    token = CSRF.search(organiser.get(confirm, timeout=10).text)[1]
    assert organiser.post(confirm, data={"csrf": token}, timeout=10).status_code == 200

    for client in (moderator, voter):
        assert client.next("event_deleted") == {}
        assert client.disconnected.wait(10), "still connected to a deleted event"
        assert not client.sio.connected
