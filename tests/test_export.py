"""Results downloads, read back with real readers: csv and json."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from polling import db
from polling.domain.decks import load_deck
from polling.domain.events import create_event
from polling.reports.formats import csv_cell
from tests.support import Clients, control, download, run_first_statement


def test_summary_csv_has_counts_per_statement_round_and_option(app, clients):
    run_first_statement(clients)
    response = download(app, clients.event, "results.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    by_round = {(r["round"], r["option"]): r for r in rows if r["statement_key"] == "value"}
    assert by_round[("1", "agree")]["votes"] == "2"
    assert by_round[("1", "agree")]["percent"] == "67"
    assert by_round[("1", "disagree")]["votes"] == "1"
    assert by_round[("1", "disagree")]["voters"] == "3"
    assert by_round[("1", "agree")]["label"] == "Eens"
    assert by_round[("2", "disagree")]["votes"] == "2"
    assert by_round[("2", "disagree")]["turnout_percent"] == "67"
    assert by_round[("2", "agree")]["participants"] == "3"
    assert by_round[("1", "agree")]["opened_at"] and by_round[("1", "agree")]["closed_at"]
    assert {r["statement_key"] for r in rows} == {"value"}  # no round on the others yet


def test_votes_csv_lists_every_anonymous_vote(app, clients):
    run_first_statement(clients)
    rows = csv_rows(download(app, clients.event, "votes.csv"))
    assert len(rows) == 5
    assert {r["round"] for r in rows} == {"1", "2"}
    pseudonyms = {r["participant"] for r in rows}
    assert len(pseudonyms) == 3 and all(len(p) == 10 for p in pseudonyms)
    round_two = sorted((r["choice"], r["choice_label"]) for r in rows if r["round"] == "2")
    assert round_two == [("disagree", "Oneens"), ("disagree", "Oneens")]
    assert list(rows[0]) == [
        "participant",
        "statement_key",
        "round",
        "choice",
        "choice_label",
        "cast_at",
    ]


def csv_rows(response) -> list[dict[str, str]]:
    """A CSV download as Excel reads it: UTF-8 because of its byte order mark."""
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark: Excel would mangle é"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_is_marked_utf8_and_has_times_in_the_events_time_zone(app, clients):
    run_first_statement(clients)
    rows = csv_rows(download(app, clients.event, "results.csv"))
    assert rows[0]["position"] == "1"  # the mark is not part of the first column's name
    statement = clients.event.statements[0].texts["nl"]["statement"]
    assert rows[0]["statement"] == statement
    # A text with é comes back whole: encoded once, as UTF-8.
    assert "écht" in clients.event.statements[0].texts["nl"]["question"]
    opened = datetime.fromisoformat(rows[0]["opened_at"])
    amsterdam = opened.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert opened.utcoffset() == amsterdam.utcoffset() and opened.utcoffset().total_seconds() > 0
    assert rows[0]["opened_at"].endswith(("+01:00", "+02:00"))

    app.config["TIME_ZONE"] = "America/New_York"
    opened_there = datetime.fromisoformat(
        csv_rows(download(app, clients.event, "results.csv"))[0]["opened_at"]
    )
    assert opened_there == opened and opened_there.utcoffset() != opened.utcoffset()


def test_json_holds_the_whole_event(app, clients):
    run_first_statement(clients)
    results = json.loads(download(app, clients.event, "results.json").get_data(True))
    assert results["event"]["title"] == "Samen versnellen van AI in de zorg"
    value = results["statements"][0]
    assert value["key"] == "value"
    assert [r["counts"] for r in value["rounds"]] == [
        {"agree": 2, "disagree": 1},
        {"agree": 0, "disagree": 2},
    ]
    assert len(results["votes"]) == 5
    assert [s["rounds"] for s in results["statements"][1:]] == [[], [], []]


def test_downloads_need_the_moderator_key(app, clients):
    event = clients.event
    assert download(app, event, "results.csv", key=event.presenter_key).status_code == 403
    assert download(app, event, "results.csv", key="wrong").status_code == 403
    assert download(app, event, "secrets.txt").status_code == 404


FORMULA_DECK = """
title = "Formulas"
language = "en"
[[statements]]
key = "one"
statement = "=HYPERLINK(\\"http://evil.example\\",\\"click\\")"
[[statements.options]]
key = "plus"
label = "+1"
[[statements.options]]
key = "at"
label = "@SUM(A1)"
[[statements.options]]
key = "minus"
label = "-2+3"
[[statements.options]]
key = "tab"
label = "\\t=1"
[[statements.options]]
key = "cr"
label = "\\r=1"
"""


def test_no_csv_cell_starts_a_formula(app, tmp_path):
    """A deck's statement or label starting with = + - @ tab or CR came out as a formula."""
    path = tmp_path / "formulas.toml"
    path.write_text(FORMULA_DECK, encoding="utf-8")
    with db.session() as session:
        event = create_event(session, load_deck(path))
    moderator = Clients(app, event).moderator()
    control(moderator, "next", "open")
    for name in ("results.csv", "votes.csv"):
        response = download(app, event, name)
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        for cell in (cell for row in rows for cell in row):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    summary = list(csv.DictReader(io.StringIO(download(app, event, "results.csv").get_data(True))))
    assert summary[0]["statement"] == "'" + '=HYPERLINK("http://evil.example","click")'
    # (The deck reader strips the leading tab and carriage return; what is left is escaped.)
    assert [row["label"] for row in summary] == ["'+1", "'@SUM(A1)", "'-2+3", "'=1", "'=1"]


def test_csv_escaping_keeps_numbers_and_escapes_tab_and_carriage_return():
    assert [csv_cell(v) for v in ("\t=1", "\r=1", "plain", -5, 0.5)] == [
        "'\t=1",
        "'\r=1",
        "plain",
        -5,
        0.5,
    ]


def test_results_json_gives_the_code_as_event_create_json_does(app, clients):
    """results.json said "258 237" where `polling event create --json` said "258237"."""
    document = json.loads(download(app, clients.event, "results.json").get_data(True))
    assert document["event"]["code"] == clients.event.code
    assert document["event"]["code_display"] == f"{clients.event.code[:3]} {clients.event.code[3:]}"
