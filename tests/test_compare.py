"""Comparing events that ran the same deck: the pure rows and `polling compare`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from polling import db
from polling.cli import cli
from polling.domain.decks import parse_deck
from polling.domain.events import create_event
from polling.reports.compare import compare_rows
from tests.support import Clients, control, last_state, run_first_statement


def result(code: str, statements: list[dict]) -> dict:
    return {"event": {"code": code}, "statements": statements}


def statement(key: str, *rounds: dict, options=("agree", "disagree")) -> dict:
    return {
        "key": key,
        "texts": {"statement": f"Statement {key}"},
        "options": [{"key": k, "label": k.title()} for k in options],
        "rounds": list(rounds),
    }


def round_(number: int, **counts: int) -> dict:
    total = sum(counts.values())
    return {
        "number": number,
        "counts": counts,
        "percentages": {k: 100 * v // total for k, v in counts.items()},
        "voters": total,
    }


def test_rows_put_each_events_numbers_side_by_side():
    rows = compare_rows(
        [
            result("111 111", [statement("s", round_(1, agree=3, disagree=1))]),
            result("222 222", [statement("s", round_(1, agree=1, disagree=1))]),
        ]
    )
    assert [(r["round"], r["option"]) for r in rows] == [(1, "agree"), (1, "disagree"), (1, None)]
    assert rows[0]["events"] == [{"votes": 3, "percent": 75}, {"votes": 1, "percent": 50}]
    assert rows[0]["label"] == "Agree"
    assert rows[2]["events"] == [{"voters": 4}, {"voters": 2}]


def test_missing_rounds_statements_and_options_leave_gaps():
    rows = compare_rows(
        [
            result(
                "111 111",
                [statement("s", round_(1, agree=1, disagree=0), round_(2, agree=1, disagree=0))],
            ),
            result(
                "222 222",
                [
                    statement(
                        "s",
                        round_(1, agree=0, disagree=1, unsure=1),
                        options=("agree", "disagree", "unsure"),
                    ),
                    statement("t"),
                ],
            ),
        ]
    )
    by = {(r["statement_key"], r["round"], r["option"]): r["events"] for r in rows}
    assert by[("s", 2, "agree")] == [{"votes": 1, "percent": 100}, None]  # no round 2 there
    assert by[("s", 1, "unsure")] == [None, {"votes": 1, "percent": 50}]  # added option
    assert not any(key[0] == "t" for key in by)  # never voted on anywhere


@pytest.fixture
def two_events(app, clients, deck):
    """The panel deck run twice: the first as in test_export, the second with one phone."""
    run_first_statement(clients)
    with db.session() as session:
        second = create_event(session, deck)
    other = Clients(app, second)
    moderator, phone = other.moderator(), other.phone()
    control(moderator, "next", "open")
    assert phone.emit(
        "vote", {"round": last_state(phone)["round"]["id"], "choice": "agree"}, callback=True
    )["ok"]
    return clients.event, second


def run_cli(app, monkeypatch, *args: str):
    monkeypatch.setenv("POLLING_INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_compares_every_event_of_the_deck(app, two_events, monkeypatch):
    first, _second = two_events
    output = run_cli(app, monkeypatch, "compare", first.code).output
    lines = output.splitlines()
    assert lines[0] == "Deck ai-in-de-zorg.toml: 2 event(s)"
    assert f"{first.code[:3]} {first.code[3:]}" in lines[1]
    eens = next(line for line in lines if "round 1" in line)
    assert eens.split()[2:] == ["Eens", "67%", "(2)", "100%", "(1)"]
    round_two = next(line for line in lines if "round 2" in line)
    assert round_two.split()[-1] == "-"  # the second event had no round 2


def test_cli_compare_as_json(app, two_events, monkeypatch):
    first, second = two_events
    document = json.loads(
        run_cli(app, monkeypatch, "compare", second.code, first.code, "--json").output
    )
    assert [e["code"].replace(" ", "") for e in document["events"]] == [second.code, first.code]
    agree = document["rows"][0]
    assert (agree["statement_key"], agree["round"], agree["option"]) == ("value", 1, "agree")
    assert agree["events"] == [{"votes": 1, "percent": 100}, {"votes": 2, "percent": 67}]


def test_cli_refuses_events_of_different_decks(app, event, monkeypatch):
    deck = parse_deck(
        {"title": "Other", "language": "en", "statements": [{"key": "x", "statement": "X"}]},
        source="other.toml",
        name="other.toml",
    )
    with db.session() as session:
        other = create_event(session, deck)
    result = run_cli(app, monkeypatch, "compare", event.code, other.code)
    assert result.exit_code == 1
    assert "different decks: ai-in-de-zorg.toml, other.toml" in result.output
