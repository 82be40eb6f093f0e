"""For whoever runs the server: /healthz, /metrics and the systemd unit that ships with it."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from polling import db
from polling.database import make_engine
from polling.web.organiser import set_password
from tests.support import control, last_state, require_module

UNIT = Path(__file__).resolve().parent.parent / "deploy" / "polling@.service"
PASSWORD = "metrics-password-123"


def basic(password: str) -> dict[str, str]:
    token = base64.b64encode(f"prometheus:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_reports_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "message_queue": "not configured"}


def test_healthz_fails_when_the_database_is_gone(app, monkeypatch):
    require_module("psycopg")
    # The server's database, stopped: nothing listens where it was.
    gone = make_engine(f"postgresql+psycopg://polling:secret@127.0.0.1:{closed_port()}/polling")
    monkeypatch.setattr(db, "_engine", gone)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "failing"
    assert response.json["database"] == "error: OperationalError"
    assert "secret" not in response.get_data(as_text=True)  # no address or password


def test_healthz_checks_the_message_queue(app, redis_url):
    app.config["MESSAGE_QUEUE"] = redis_url
    assert app.test_client().get("/healthz").json["message_queue"] == "ok"
    app.config["MESSAGE_QUEUE"] = f"redis://:secret@127.0.0.1:{closed_port()}/0"
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["message_queue"] == "error: ConnectionError"
    assert "secret" not in response.get_data(as_text=True)


def test_metrics_are_off_until_the_organiser_area_has_a_password(app):
    assert app.test_client().get("/metrics").status_code == 404


def metric_values(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_count_phones_votes_commits_lag_and_refusals(app, clients):
    with db.session() as session:
        set_password(session, PASSWORD)
    http = app.test_client()
    assert http.get("/metrics").status_code == 401
    assert http.get("/metrics").headers["WWW-Authenticate"].startswith("Basic")
    assert http.get("/metrics", headers=basic("wrong-password-x")).status_code == 401

    moderator = clients.moderator()
    phones = [clients.phone() for _ in range(3)]
    control(moderator, "next", "open")
    round_id = last_state(phones[0])["round"]["id"]
    for phone in phones:
        assert phone.emit("vote", {"round": round_id, "choice": "agree"}, callback=True)["ok"]
    # A script hammering its vote: the limit refuses it past its burst.
    refused = [
        phones[0].emit("vote", {"round": round_id, "choice": "disagree"}, callback=True)
        for _ in range(30)
    ]
    assert any(reply.get("error") == "rate_limited" for reply in refused)
    phones[2].disconnect()

    response = http.get("/metrics", headers=basic(PASSWORD))
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "version=0.0.4" in response.headers["Content-Type"]
    values = metric_values(response.get_data(as_text=True))
    assert values['polling_connections{role="audience"}'] == 2
    assert values['polling_connections{role="moderator"}'] == 1
    assert values['polling_connections{role="presenter"}'] == 0
    accepted = 3 + sum(1 for reply in refused if reply.get("ok"))
    assert values["polling_votes_total"] == accepted
    assert values["polling_vote_batch_commit_seconds_count"] >= 1
    assert values["polling_vote_batch_commit_seconds_sum"] > 0
    assert values["polling_tally_publish_lag_seconds_count"] == accepted
    assert values['polling_rate_limit_refusals_total{limit="votes_per_connection"}'] >= 1
    assert "# TYPE polling_votes_total counter" in response.get_data(as_text=True)


def test_the_systemd_unit_is_valid(tmp_path):
    """The unit docs/deployment.md describes, shipped as a file; checked where systemd is."""
    unit = UNIT.read_text()
    assert "ExecStart=/opt/polling/bin/polling serve " in unit
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    # verify also checks that the command exists: point it at this environment's `polling`.
    here = Path(sys.executable).with_name("polling")
    (tmp_path / UNIT.name).write_text(unit.replace("/opt/polling/bin/polling", str(here)))
    result = subprocess.run(
        # A template is checked through an instance of it.
        [analyze, "verify", "--man=no", str(tmp_path / "polling@5001.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Unknown keys and bad values are only warnings: there must be none.
    assert [line for line in result.stderr.splitlines() if UNIT.name in line] == []
