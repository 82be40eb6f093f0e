"""Retention: raw votes and participants go after N days; the counts stay."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from polling import db
from polling.cli import cli
from polling.domain.models import Participant, RoundArchive, Vote, utcnow
from polling.domain.retention import purge
from tests.support import download, run_first_statement


def count(model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_purge_deletes_votes_and_participants_but_keeps_the_counts(app, clients):
    run_first_statement(clients)
    before = json.loads(download(app, clients.event, "results.json").get_data(True))
    assert count(Vote) == 5 and count(Participant) == 3

    with db.session() as session:
        report = purge(session, timedelta(days=30), now=utcnow() + timedelta(days=31))
    assert [(r.votes_deleted, r.participants_deleted, r.rounds_archived) for r in report] == [
        (5, 3, 2)
    ]
    assert count(Vote) == 0 and count(Participant) == 0 and count(RoundArchive) == 2

    after = json.loads(download(app, clients.event, "results.json").get_data(True))
    assert first_statement_rounds(after) == first_statement_rounds(before)
    assert after["votes"] == []
    summary = csv.DictReader(
        io.StringIO(download(app, clients.event, "results.csv").get_data().decode("utf-8-sig"))
    )
    agree_round_one = next(r for r in summary if r["round"] == "1" and r["option"] == "agree")
    assert agree_round_one["votes"] == "2"


def first_statement_rounds(results: dict) -> list[dict]:
    keep = ("counts", "voters", "participants", "turnout")
    return [{k: r[k] for k in keep} for r in results["statements"][0]["rounds"]]


def test_recent_events_and_dry_runs_keep_everything(app, clients):
    run_first_statement(clients)
    with db.session() as session:
        assert purge(session, timedelta(days=30)) == []
        report = purge(session, timedelta(days=30), now=utcnow() + timedelta(days=31), dry_run=True)
    assert report[0].votes_deleted == 5
    assert count(Vote) == 5 and count(Participant) == 3 and count(RoundArchive) == 0


def test_purge_command_needs_a_period_and_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("POLLING_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    runner = CliRunner()
    refused = runner.invoke(cli, ["purge"])
    assert refused.exit_code == 1 and "retention is off" in refused.output
    done = runner.invoke(cli, ["purge", "--days", "30"])
    assert done.exit_code == 0
    assert "Deleted 0 votes of 0 events inactive for more than 30 days." in done.output
