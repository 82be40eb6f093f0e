"""The organiser's command line, as an organiser runs it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from polling.cli import cli
from tests.support import PANEL_DECK


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("POLLING_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("POLLING_PUBLIC_URL", "http://venue.example:5000")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_event_create_prints_json_with_the_urls(run):
    result = run("event", "create", "--deck", str(PANEL_DECK), "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)  # warnings about long texts go to stderr
    code = created["code"]
    assert len(code) == 6 and code.isdigit()
    assert created["join_url"] == f"http://venue.example:5000/{code}"
    assert created["presenter_url"].startswith(f"http://venue.example:5000/{code}/presenter?key=")
    assert created["moderator_url"].startswith(f"http://venue.example:5000/{code}/moderator?key=")
    assert created["presenter_url"].split("key=")[1] != created["moderator_url"].split("key=")[1]

    listing = run("event", "list")
    assert f"{code[:3]} {code[3:]}" in listing.output
    assert "ai-in-de-zorg.toml" in listing.output


def test_broken_deck_is_refused_and_creates_nothing(run, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "T"\nlanguage = "en"\n[[statements]]\nstatement = "No key"\n')
    result = run("event", "create", "--deck", str(broken))
    assert result.exit_code == 1
    assert f"{broken}: statements[1].key: is missing" in result.output
    assert json.loads(run("event", "list", "--json").output) == []


def test_export_writes_csv_and_json(run, tmp_path):
    code = json.loads(run("event", "create", "--deck", str(PANEL_DECK), "--json").stdout)["code"]
    summary = run("export", code, "--format", "csv")
    assert summary.exit_code == 0
    assert summary.output.startswith("\ufeff")  # for Excel: the file is UTF-8
    assert next(csv.reader(io.StringIO(summary.output.removeprefix("\ufeff"))))[:3] == [
        "position",
        "statement_key",
        "statement",
    ]
    target = tmp_path / "results.json"
    assert run("export", code, "--format", "json", "-o", str(target)).exit_code == 0
    results = json.loads(target.read_text())
    assert [s["key"] for s in results["statements"]] == ["value", "readiness", "ethics", "scaling"]


def test_export_of_an_unknown_code_fails_clearly(run):
    result = run("export", "999999")
    assert result.exit_code == 1
    assert "no event with code '999999'" in result.output


def test_a_deck_is_found_by_name_in_the_decks_folder(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no statements/ here: the bundled decks
    created = run("event", "create", "--deck", "ai-in-de-zorg.toml", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["deck"] == "ai-in-de-zorg.toml"
    missing = run("event", "create", "--deck", "nope.toml")
    assert missing.exit_code == 1 and "nope.toml" in missing.output


def test_set_password_states_the_minimum_before_asking(run):
    result = CliRunner().invoke(
        cli, ["admin", "set-password"], input="short\nlong-enough-1\nlong-enough-1\n"
    )
    lines = result.output.splitlines()
    assert lines[0].startswith("Choose a password of at least 10 characters")
    assert "at least 10" in result.output.split("New organiser password", 2)[1]  # refused at once
    assert result.exit_code == 0, result.output
    assert "Password set." in result.output


def test_event_create_warns_of_texts_near_their_limit(run, tmp_path):
    from polling.domain.decks import MAX_LENGTHS

    deck = tmp_path / "long.toml"
    statement = "x" * MAX_LENGTHS["statement"]
    deck.write_text(
        f'title = "T"\nlanguage = "nl"\n[[statements]]\nkey = "a"\nstatement = "{statement}"\n',
        encoding="utf-8",
    )
    result = run("event", "create", "--deck", str(deck))
    assert result.exit_code == 0, result.output
    limit = MAX_LENGTHS["statement"]
    assert f"Warning: statements[1].statement.nl: {limit} of {limit} characters" in result.stderr
