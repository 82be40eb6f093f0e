"""The audience's questions in the results: the report page, CSV, JSON and xlsx, and purge."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from openpyxl import load_workbook

from polling import db
from polling.domain import retention
from polling.domain.models import utcnow
from polling.domain.question_models import Question


def run_questions(clients) -> None:
    """Two questions: one edited, named, for a panel member, upvoted and on screen; one
    dismissed. One is a formula, to prove texts stay texts."""
    moderator, asker, voter = clients.moderator(), clients.phone(), clients.phone()
    first = asker.emit(
        "question_ask", {"text": "wat kost ai??", "name": "Anna", "panel": 1}, callback=True
    )["question"]
    second = voter.emit("question_ask", {"text": '=HYPERLINK("x")'}, callback=True)["question"]
    for payload in (
        {"question": first["id"], "action": "approve", "text": "Wat kost AI?"},
        {"question": first["id"], "action": "on_screen"},
        {"question": second["id"], "action": "approve"},
    ):
        assert moderator.emit("question_moderate", payload, callback=True) == {"ok": True}
    assert voter.emit("question_upvote", {"question": first["id"]}, callback=True)["ok"]


def download(app, event, name: str):
    return app.test_client().get(f"/{event.code}/export/{name}?key={event.moderator_key}")


def test_questions_are_in_every_format(app, clients):
    run_questions(clients)
    csv_text = download(app, clients.event, "questions.csv").get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["number"], r["question"], r["upvotes"], r["state"]) for r in rows] == [
        ("1", "Wat kost AI?", "1", "on_screen"),
        # A formula from the hall is escaped in CSV (OWASP), kept as text in xlsx.
        ("2", '\'=HYPERLINK("x")', "0", "visible"),
    ]
    assert (rows[0]["original_text"], rows[0]["name"], rows[0]["panel_member"]) == (
        "wat kost ai??",
        "Anna",
        "Karin Schoonenberg",
    )
    assert rows[0]["on_screen_at"] and not rows[1]["on_screen_at"]
    document = json.loads(download(app, clients.event, "results.json").text)
    assert [q["number"] for q in document["questions"]] == [1, 2]
    workbook = load_workbook(io.BytesIO(download(app, clients.event, "results.xlsx").data))
    sheet = workbook["questions"]
    assert sheet["B3"].value == '=HYPERLINK("x")' and sheet["B3"].data_type == "s"


def test_the_report_page_lists_the_questions_as_text(app, clients):
    run_questions(clients)
    event = clients.event
    page = app.test_client().get(f"/{event.code}/results?key={event.moderator_key}").text
    assert "Vragen uit de zaal" in page
    assert "Wat kost AI?" in page and "Oorspronkelijke tekst: wat kost ai??" in page
    assert "=HYPERLINK(&#34;x&#34;)" in page


def test_purge_removes_the_askers_and_names_and_keeps_the_questions(app, clients):
    run_questions(clients)
    with db.session() as session:
        retention.purge(session, timedelta(days=0), now=utcnow() + timedelta(days=1))
    with db.session() as session:
        kept = session.query(Question).order_by(Question.number).all()
        assert [q.text for q in kept] == ["Wat kost AI?", '=HYPERLINK("x")']
        assert all(q.name is None and q.participant_id is None for q in kept)
    rows = list(csv.DictReader(io.StringIO(download(app, clients.event, "questions.csv").text)))
    # The upvotes were per phone: they go with the phones, and their count is kept.
    assert [r["upvotes"] for r in rows] == ["1", "0"]


def test_polling_export_writes_the_questions_table(app, clients, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from polling.cli import cli

    run_questions(clients)
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("POLLING_INSTANCE_PATH", app.instance_path)
    result = CliRunner().invoke(
        cli, ["export", clients.event.code, "--format", "csv", "--table", "questions"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert [r["question"] for r in rows] == ["Wat kost AI?", '\'=HYPERLINK("x")']
