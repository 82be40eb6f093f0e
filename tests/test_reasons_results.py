"""The audience's reasons in the results: the report page, CSV, JSON and xlsx, and purge."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from polling import create_app, db
from polling.cli import cli
from polling.domain.decks import load_deck
from polling.domain.events import create_event
from polling.domain.models import Event, Round, utcnow
from polling.domain.reason_models import Reason, ReasonVote
from polling.domain.retention import purge
from tests.support import (
    PANEL_DECK,
    Clients,
    app_settings,
    control,
    download,
    run_first_statement,
)

FORMULA = '=HYPERLINK("x") te duur'
HIDDEN_TEXT = "Dit zegt niemand hardop"


def give_reasons(clients: Clients) -> None:
    """Statement 1 voted twice by phones A, B and C (round 1: A and B agree, C disagrees;
    round 2: A and B disagree), with their reasons given through the protocol:

    round 1: B agrees; A agrees, picked, upvoted by B and C; C disagrees (with a formula);
    round 2: A moved to disagree, edited, picked, upvoted by C; B moved too, hidden.
    """
    moderator = clients.moderator()
    a, b, c = (clients.phone() for _ in range(3))

    def vote(phone, choice: str) -> int:
        round_id = phone.emit("sync", {}, callback=True)["state"]["round"]["id"]
        assert phone.emit("vote", {"round": round_id, "choice": choice}, callback=True)["ok"]
        return round_id

    def give(phone, round_id: int, text: str) -> int:
        reply = phone.emit("reason_give", {"round": round_id, "text": text}, callback=True)
        assert reply["ok"], reply
        return reply["reason"]["id"]

    def moderate(reason_id: int, action: str, **fields) -> None:
        payload = {"reason": reason_id, "action": action, **fields}
        assert moderator.emit("reason_moderate", payload, callback=True) == {"ok": True}

    def upvote(phone, reason_id: int) -> None:
        payload = {"reason": reason_id, "up": True}
        assert phone.emit("reason_upvote", payload, callback=True)["ok"]

    control(moderator, "next", "open")
    first = [vote(phone, choice) for phone, choice in ((a, "agree"), (b, "agree"), (c, "disagree"))]
    give(b, first[0], "Meer tijd voor de patiënt")
    fast = give(a, first[0], "Snellere diagnoses, minder wachten op zorg")
    give(c, first[0], FORMULA)
    assert moderator.emit("reasons_show", {"shown": True}, callback=True) == {"ok": True}
    upvote(b, fast)
    upvote(c, fast)
    moderate(fast, "pick")
    control(moderator, "close", "new_round")
    second = vote(a, "disagree")
    vote(b, "disagree")
    moved = give(a, second, "kosten hoger dan opbrengst!!")
    moderate(moved, "edit", text="Te duur: de kosten bleken hoger dan de opbrengst")
    moderate(moved, "pick")
    upvote(c, moved)
    moderate(give(b, second, HIDDEN_TEXT), "hide")
    control(moderator, "close", "next")


def csv_rows(app, event, name: str = "reasons.csv") -> list[dict]:
    text = download(app, event, name).get_data().decode("utf-8")
    assert text.startswith("\ufeff")  # for Excel
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_reasons_are_in_every_format(app, clients):
    give_reasons(clients)
    rows = csv_rows(app, clients.event)
    assert [
        (r["statement_key"], r["round"], r["choice"], r["reason"], r["shown"], r["upvotes"])
        for r in rows
    ] == [
        # Per statement and round, most upvoted first; ties: the older first.
        ("value", "1", "agree", "Snellere diagnoses, minder wachten op zorg", "True", "2"),
        ("value", "1", "agree", "Meer tijd voor de patiënt", "False", "0"),
        # A formula from the hall is escaped in CSV (OWASP), kept as text in xlsx.
        ("value", "1", "disagree", "'" + FORMULA, "False", "0"),
        ("value", "2", "disagree", "Te duur: de kosten bleken hoger dan de opbrengst", "True", "1"),
        ("value", "2", "disagree", HIDDEN_TEXT, "False", "0"),
    ]
    # Hidden ones are exported with their state; the movers with their earlier choice.
    assert [r["state"] for r in rows] == ["visible"] * 4 + ["hidden"]
    assert [(r["previous_choice"], r["previous_label"]) for r in rows] == [("", "")] * 3 + [
        ("agree", "Eens")
    ] * 2
    assert rows[3]["original_text"] == "kosten hoger dan opbrengst!!"
    assert rows[3]["choice_label"] == "Oneens" and rows[3]["statement"].startswith("We investeren")
    # The pseudonym is the one of the votes: the same phone in both files.
    votes = csv_rows(app, clients.event, "votes.csv")
    chose = {(v["participant"], v["round"]): v["choice"] for v in votes}
    assert chose[(rows[0]["pseudonym"], "1")] == "agree"
    assert chose[(rows[3]["pseudonym"], "2")] == "disagree"
    assert rows[0]["pseudonym"] == rows[3]["pseudonym"] and len(rows[0]["pseudonym"]) == 10
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", rows[0]["written_at"])

    document = json.loads(download(app, clients.event, "results.json").text)
    first = document["reasons"][0]
    assert {k: first[k] for k in ("statement_key", "round", "choice", "previous_choice")} == {
        "statement_key": "value",
        "round": 1,
        "choice": "agree",
        "previous_choice": None,
    }
    assert (first["text"], first["shown"], first["upvotes"]) == (rows[0]["reason"], True, 2)
    assert document["reasons"][3]["previous_choice"] == "agree"

    workbook = load_workbook(io.BytesIO(download(app, clients.event, "results.xlsx").data))
    sheet = workbook["reasons"]
    headers = [cell.value for cell in sheet[1]]
    # In the event's language; the time names its zone.
    assert headers[:9] == [
        "Deelnemer (pseudoniem)",
        "Stelling (sleutel)",
        "Stelling",
        "Ronde",
        "Keuze (sleutel)",
        "Keuze",
        "Reden",
        "Op het scherm",
        "Steun",
    ]
    assert headers[-1].startswith("Geschreven om (Europe/Amsterdam, UTC+")
    assert sheet["G4"].value == FORMULA and sheet["G4"].data_type == "s"
    assert (sheet["H2"].value, sheet["I2"].value) == (True, 2)


def test_polling_export_writes_the_reasons_table(app, clients, monkeypatch):
    give_reasons(clients)
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("POLLING_INSTANCE_PATH", app.instance_path)
    result = CliRunner().invoke(
        cli, ["export", clients.event.code, "--format", "csv", "--table", "reasons"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert [r["upvotes"] for r in rows] == ["2", "0", "0", "1", "0"]


def report_page(app, event, language: str = "nl") -> str:
    response = app.test_client().get(
        f"/{event.code}/results", query_string={"key": event.moderator_key, "lang": language}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, heading_id: str) -> str:
    """The HTML of the (innermost) section a heading labels."""
    start = page.index(f'aria-labelledby="{heading_id}"')
    return page[start : page.index("</section>", start)]


def test_the_report_page_shows_each_sides_reasons_and_the_movers(app, clients):
    give_reasons(clients)
    page = report_page(app, clients.event)
    assert "Waarom? De redenen uit de zaal</h3>" in page
    agree = section(page, "statement-value-reasons-1-1")
    assert "Eens" in agree and "2 redenen" in agree
    # Most upvoted first, though written later.
    assert agree.index("Snellere diagnoses") < agree.index("Meer tijd voor de patiënt")
    assert "2 steun · op het scherm" in agree
    disagree = section(page, "statement-value-reasons-1-2")
    # Text stays text: the formula is escaped HTML, not markup.
    assert "=HYPERLINK(&#34;x&#34;) te duur" in disagree and "0 steun" in disagree
    # Round 2: nobody kept a side with a reason; the phone that moved is marked so.
    assert "Geen redenen." in section(page, "statement-value-reasons-2-2")
    movers = section(page, "statement-value-reasons-2-movers")
    assert "Van mening veranderd" in movers
    assert "eens → oneens" in movers and "Te duur: de kosten bleken hoger" in movers
    assert "Oorspronkelijke tekst: kosten hoger dan opbrengst!!" in movers
    # Statements whose voting never opened have no reasons section.
    assert "statement-readiness-reasons" not in page
    assert "1 reden</span>" in section(page, "statement-value-reasons-1-2")
    # In English, with the options' English labels.
    english = report_page(app, clients.event, "en")
    assert "Why? The audience&#39;s reasons</h3>" in english
    assert "agree → disagree" in section(english, "statement-value-reasons-2-movers")


def test_an_event_without_reasons_has_no_reasons_on_its_page(app, clients):
    run_first_statement(clients)
    page = report_page(app, clients.event)
    assert 'class="report-reasons"' not in page and 'class="report-words"' not in page


def test_hidden_and_dismissed_reasons_stay_off_the_page_and_pending_ones_say_so(app, clients):
    give_reasons(clients)
    assert HIDDEN_TEXT not in report_page(app, clients.event)
    for state, shown in (("dismissed", False), ("pending", True)):
        with db.session() as session:
            session.execute(update(Reason).where(Reason.text == HIDDEN_TEXT).values(state=state))
            session.commit()
        page = report_page(app, clients.event)
        assert (HIDDEN_TEXT in page) is shown, state
    assert "0 steun · niet goedgekeurd" in section(page, "statement-value-reasons-2-movers")


def words(page: str, heading_id: str) -> list[tuple[str, str, str]]:
    """The words view of one side: (size class, word, count), in the page's order."""
    return re.findall(
        r'<li class="word word-size-(\d)">([^<]+) <span class="word-count">(\d+)×</span>',
        section(page, heading_id),
    )


def test_the_words_view_sizes_each_sides_words_by_frequency(app, clients):
    give_reasons(clients)
    page = report_page(app, clients.event)
    # The words of the statement's reasons on each side, stop words left out; the most used
    # the largest. A mover's reason is on its new side.
    agree = words(page, "statement-value-words-1")
    assert [word for _size, word, _count in agree] == [
        "diagnoses",
        "minder",
        "patiënt",
        "snellere",
        "tijd",
        "wachten",
        "zorg",
    ]
    disagree = words(page, "statement-value-words-2")
    assert disagree[0] == ("5", "duur", "2")
    assert {size for size, _word, count in disagree[1:]} == {"3"}
    assert [word for _size, word, _count in disagree[1:]] == [
        "bleken",
        "hoger",
        "hyperlink",
        "kosten",
        "opbrengst",
    ]
    # A hidden reason's words are not counted ("niemand", "hardop").
    assert "hardop" not in page
    # The whole event: every statement's reasons together, per option.
    assert "Woorden per kant, alle stellingen samen</h2>" in page
    assert words(page, "event-words-1") == agree and words(page, "event-words-2") == disagree


def reasons_on_the_page(page: str) -> str:
    """The page from the first statement's reasons to the questions: the reasons, the
    statements after it (never voted) and the words of the whole event."""
    return page[
        page.index('class="report-reasons"') : page.index(
            'class="report-statement report-questions"'
        )
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_purge_keeps_each_reasons_side_upvotes_and_text(tmp_path, request, backend):
    settings = app_settings(tmp_path)
    if backend == "postgres":
        settings["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    app = create_app(settings)
    with db.session() as session:
        event = create_event(session, load_deck(PANEL_DECK))
    clients = Clients(app, event)
    give_reasons(clients)
    before = json.loads(download(app, event, "results.json").text)["reasons"]
    page_before = reasons_on_the_page(report_page(app, event))

    with db.session() as session:
        (purged,) = purge(session, timedelta(days=30), now=utcnow() + timedelta(days=31))
    assert purged.reasons_anonymised == 5
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReasonVote)) == 0
        assert session.scalars(select(Reason.participant_id)).all() == [None] * 5

    after = json.loads(download(app, event, "results.json").text)["reasons"]
    # The same report, apart from the phones' pseudonyms (the phones are gone).
    assert [r["pseudonym"] for r in after] == [""] * 5
    assert [{**r, "pseudonym": ""} for r in before] == after
    assert reasons_on_the_page(report_page(app, event)) == page_before
    # A second purge changes nothing.
    with db.session() as session:
        purge(session, timedelta(days=30), now=utcnow() + timedelta(days=32))
    assert json.loads(download(app, event, "results.json").text)["reasons"] == after
    db.engine.dispose()


def test_a_reason_written_lately_is_activity_that_keeps_the_event(app, clients):
    give_reasons(clients)
    long_ago = utcnow() - timedelta(days=40)
    with db.session() as session:
        session.execute(update(Event).values(created_at=long_ago))
        session.execute(update(Round).values(opened_at=long_ago, closed_at=long_ago))
        session.execute(update(Reason).values(written_at=long_ago))
        session.commit()
        assert [p.code for p in purge(session, timedelta(days=30), dry_run=True)] == [
            clients.event.code
        ]
        # A reason, given after voting closed, today.
        session.execute(
            update(Reason).where(Reason.text == HIDDEN_TEXT).values(written_at=utcnow())
        )
        session.commit()
        assert purge(session, timedelta(days=30), dry_run=True) == []
