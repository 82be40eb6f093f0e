"""The organiser's side after the panel: the results page, the shift, and the downloads
(XLSX read back with openpyxl, SVG with an XML parser, JSON with json)."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner
from markupsafe import escape

from polling.cli import cli
from polling.reports import charts
from polling.reports.formats import to_xlsx
from polling.web.i18n import strings
from tests.support import control, download, last_state, run_first_statement

SVG = "{http://www.w3.org/2000/svg}"


def run_with_every_shift(clients) -> None:
    """Statement 1 twice: ann keeps agreeing, bob switches to disagree, cas votes only in
    round 1 and dee only in round 2."""
    moderator = clients.moderator()
    ann, bob, cas, dee = (clients.phone() for _ in range(4))
    control(moderator, "next", "open")
    first = last_state(ann)["round"]["id"]
    for phone, choice in ((ann, "agree"), (bob, "agree"), (cas, "disagree")):
        assert phone.emit("vote", {"round": first, "choice": choice}, callback=True)["ok"]
    control(moderator, "close", "new_round")
    second = last_state(ann)["round"]["id"]
    for phone, choice in ((ann, "agree"), (bob, "disagree"), (dee, "agree")):
        assert phone.emit("vote", {"round": second, "choice": choice}, callback=True)["ok"]
    control(moderator, "close")


class Page(HTMLParser):
    """What a reader of the page sees: its tables (rows of cell texts), definition lists,
    links, inline SVG charts and attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.terms: dict[str, str] = {}
        self.links: list[str] = []
        self.attributes: set[str] = set()
        self._cell: list[str] | None = None
        self._term: str | None = None
        self._text: list[str] = []
        self.feed(html)
        self.svgs = [ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", html, re.S)]

    def handle_starttag(self, tag, attrs):
        self.attributes.update(name for name, _ in attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("th", "td", "dt", "dd"):
            self._text = []
        elif tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        text = " ".join("".join(self._text).split())
        if tag in ("th", "td"):
            self.tables[-1][-1].append(text)
        elif tag == "dt":
            self._term = text
        elif tag == "dd":
            self.terms[self._term] = text

    def handle_data(self, data):
        self._text.append(data)


def results_page(app, event, **query):
    return app.test_client().get(
        f"/{event.code}/results", query_string={"key": event.moderator_key, **query}
    )


def test_results_page_needs_the_moderator_key(app, event):
    client = app.test_client()
    assert client.get(f"/{event.code}/results").status_code == 403
    presenter = {"key": event.presenter_key}
    assert client.get(f"/{event.code}/results", query_string=presenter).status_code == 403
    assert client.get("/123456/results", query_string=presenter).status_code == 404


def test_results_page_shows_each_round_as_chart_and_numbers(app, clients):
    run_first_statement(clients)
    response = results_page(app, clients.event)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    assert "We investeren miljoenen in AI" in html
    round_one, round_two = page.tables[0], page.tables[1]
    assert round_one == [
        ["Keuze", "Stemmen", "Percentage"],
        ["Eens", "2", "67%"],
        ["Oneens", "1", "33%"],
    ]
    assert round_two[1:] == [["Eens", "0", "0%"], ["Oneens", "2", "100%"]]
    assert "3 van 3 deelnemers stemden (100%)" in html
    assert "2 van 3 deelnemers stemden (67%)" in html
    # Two bar charts and one shift chart, each an image with its numbers in its name.
    labels = [svg.get("aria-label") for svg in page.svgs]
    assert labels[0] == "Stelling 1, ronde 1: Eens 67% (2), Oneens 33% (1); 3 stemmen"
    assert labels[1].startswith("Stelling 1, ronde 2: Eens 0% (0), Oneens 100% (2)")
    assert labels[2].startswith("Stelling 1, ronde 1 → 2:")
    assert all(svg.get("role") == "img" for svg in page.svgs)
    # Statements nobody voted on say so instead of showing empty charts.
    assert html.count('<p class="hint">Op deze stelling is niet gestemd.</p>') == 3
    assert html.count("<time datetime=") == 4  # opened and closed, twice


def test_results_page_shows_the_opinion_shift(app, clients):
    run_with_every_shift(clients)
    page = Page(results_page(app, clients.event).get_data(as_text=True))
    assert page.terms == {
        "Zelfde keuze": "1",
        "Van mening veranderd": "1",
        "Nieuw (alleen in ronde 2 gestemd)": "1",
        "Afgehaakt (alleen in ronde 1 gestemd)": "1",
    }
    shift_table = page.tables[2]
    assert shift_table == [
        ["", "Eens", "Oneens", "Niet gestemd"],
        ["Eens", "1", "1", "0"],
        ["Oneens", "0", "0", "1"],
        ["Niet gestemd", "1", "0", "–"],
    ]


def test_results_page_works_under_the_strict_content_security_policy(app, clients):
    run_first_statement(clients)
    response = results_page(app, clients.event)
    html = response.get_data(as_text=True)
    page = Page(html)
    assert "style" not in page.attributes  # blocked by style-src 'self'
    assert "<style" not in html
    assert re.findall(r"<script(?![^>]*application/json)", html) == []  # no script needed
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_results_page_switches_to_english(app, clients):
    run_first_statement(clients)
    html = results_page(app, clients.event, lang="en").get_data(as_text=True)
    assert 'lang="en"' in html
    assert "We invest millions in AI" in html  # the deck's English statement
    assert "3 of 3 participants voted (100%)" in html
    assert "Shift from round 1 to round 2" in html


def test_the_report_names_the_panel_and_gives_each_statements_facts(app, clients, deck):
    html = results_page(app, clients.event, lang="en").get_data(as_text=True)
    assert "Dr. Daniel Vijlbrief (Paediatrician, neonatologist, UMC Utrecht)" in html
    fact = deck.statements[1].facts[0]
    assert escape(fact.text["en"]) in html
    assert escape(f"Source: {fact.source['en']}") in html


def test_every_download_linked_from_the_results_page_works(app, clients):
    run_first_statement(clients)
    page = Page(results_page(app, clients.event).get_data(as_text=True))
    downloads = [link for link in page.links if "/export/" in link]
    names = {link.split("/export/")[1].split("?")[0] for link in downloads}
    expected = {
        "results.xlsx",
        "results.csv",
        "votes.csv",
        "results.json",
        "questions.csv",
        "reasons.csv",
        "chart-value-1.svg",
        "chart-value-2.svg",
        "shift-value-1-2.svg",
    }
    expected |= {"chart-value-1.png", "chart-value-2.png", "shift-value-1-2.png"}
    assert names == expected
    client = app.test_client()
    for link in downloads:
        response = client.get(link)
        assert response.status_code == 200, link
        assert "attachment" in response.headers["Content-Disposition"]


def test_moderator_page_links_to_the_results_page(app, event):
    html = app.test_client().get(
        f"/{event.code}/moderator", query_string={"key": event.moderator_key}
    )
    assert f"/{event.code}/results?key={event.moderator_key}" in html.get_data(as_text=True)


def test_chart_downloads_are_svg_files_with_a_title(app, clients):
    run_first_statement(clients)
    event = clients.event
    response = download(app, event, "chart-value-1.svg")
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{SVG}svg" and root.get("width") == "440"
    assert next(t.text for t in root.iter(f"{SVG}text")) == "Stelling 1, ronde 1 · 3 stemmen"
    shift = ET.fromstring(download(app, event, "shift-value-1-2.svg").get_data())
    titles = [p.find(f"{SVG}title").text for p in shift.iter(f"{SVG}path")]
    assert sorted(titles) == ["Eens → Oneens: 2", "Oneens → Niet gestemd: 1"]
    for missing in ("chart-value-3.svg", "chart-ethics-1.svg", "shift-value-2-3.svg"):
        assert download(app, event, missing).status_code == 404
    assert download(app, event, "chart-value-1.svg", key=event.presenter_key).status_code == 403


def test_charts_come_as_png_slides_with_the_statement_as_title(app, clients):
    from PIL import Image

    run_first_statement(clients)
    for name in ("chart-value-1.png", "shift-value-1-2.png"):
        response = download(app, clients.event, name)
        assert response.status_code == 200 and response.mimetype == "image/png"
        with Image.open(io.BytesIO(response.get_data())) as image:
            assert image.format == "PNG"
            assert image.size == (3840, 2160)  # 16:9, sharp on a 4K projector
            # Opaque: no pixel lets a slide's background through.
            assert image.convert("RGBA").getextrema()[3] == (255, 255)
            # Mostly white, with the chart's colours and the title's ink on it.
            colours = {colour for _count, colour in image.convert("RGB").getcolors(1 << 24)}
        assert (255, 255, 255) in colours and len(colours) > 50
    slide = charts.chart_slide(
        document_of(clients.event), "chart-value-1.png", strings(clients.event.language)
    )
    statement = clients.event.statements[0].texts["nl"]["statement"]
    root = ET.fromstring(slide)
    assert root.get("width") == "1920" and root.get("height") == "1080"
    title = " ".join(t.text for t in root.findall(f"{SVG}text") if t.get("font-size") == "54")
    assert title.rstrip("…") in statement and len(title) > 20
    assert "Stelling 1, ronde 1 · 3 stemmen" in [t.text for t in root.iter(f"{SVG}text")]
    assert download(app, clients.event, "chart-value-3.png").status_code == 404


def document_of(event):
    from polling import db
    from polling.reports import document

    with db.session() as session:
        return document.event_results(session, session.merge(event))


def test_json_has_the_shift_per_statement(app, clients):
    run_with_every_shift(clients)
    results = json.loads(download(app, clients.event, "results.json").get_data(True))
    (shift,) = results["statements"][0]["shifts"]
    assert (shift["from_round"], shift["to_round"]) == (1, 2)
    assert (shift["unchanged"], shift["changed"]) == (1, 1)
    assert (shift["newly_voted"], shift["dropped_out"]) == (1, 1)
    assert {"from": "agree", "to": "disagree", "count": 1} in shift["transitions"]
    assert shift["dropped_out_by_choice"] == {"agree": 0, "disagree": 1}
    assert results["statements"][1]["shifts"] == []


def read_xlsx(data: bytes) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook}


def test_xlsx_has_summary_votes_and_shift_sheets(app, clients):
    run_with_every_shift(clients)
    response = download(app, clients.event, "results.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].endswith('-results.xlsx"')
    sheets = read_xlsx(response.get_data())
    assert list(sheets) == ["summary", "votes", "shift", "questions", "reasons", "event"]

    nl = strings("nl")
    header, *rows = sheets["summary"]
    assert header[:3] == ("Nr.", "Stelling (sleutel)", "Stelling")  # the event's language
    assert header[11].startswith("Geopend (Europe/Amsterdam, UTC+0")  # the zone of the times
    summary = [dict(zip(header, row, strict=True)) for row in rows]
    agree_one = next(
        r for r in summary if (r[nl["col_round"]], r[nl["col_option"]]) == (1, "agree")
    )
    assert (agree_one["Stemmen"], agree_one["Procent"], agree_one["Stemmers"]) == (2, 67, 3)
    assert agree_one["Keuze"] == "Eens"
    opened = agree_one[header[11]]
    assert isinstance(opened, datetime)  # a real date in Excel, not text
    json_opened = json.loads(download(app, clients.event, "results.json").get_data(True))
    first_round = json_opened["statements"][0]["rounds"][0]["opened_at"]
    in_amsterdam = datetime.fromisoformat(first_round).astimezone(ZoneInfo("Europe/Amsterdam"))
    assert opened == in_amsterdam.replace(tzinfo=None, microsecond=opened.microsecond)

    header, *votes = sheets["votes"]
    assert header[:5] == (
        "Deelnemer (pseudoniem)",
        "Stelling (sleutel)",
        "Ronde",
        "Keuze (sleutel)",
        "Keuze",
    )
    assert len(votes) == 6 and {v[2] for v in votes} == {1, 2}
    assert {(v[3], v[4]) for v in votes} <= {("agree", "Eens"), ("disagree", "Oneens")}

    header, *rows = sheets["shift"]
    assert header[4:] == (
        "Van keuze (sleutel)",
        "Van keuze",
        "Naar keuze (sleutel)",
        "Naar keuze",
        "Deelnemers",
    )
    shift = {(row[4], row[6]): row[8] for row in rows if row[1] == "value"}
    labels = {(row[4], row[6]): (row[5], row[7]) for row in rows if row[1] == "value"}
    assert shift[("agree", "agree")] == 1
    assert shift[("agree", "disagree")] == 1
    assert labels[("agree", "disagree")] == ("Eens", "Oneens")
    assert shift[("(no vote)", "agree")] == 1  # dee, newly voted
    assert labels[("(no vote)", "agree")] == ("Niet gestemd", "Eens")
    assert shift[("disagree", "(no vote)")] == 1  # cas, dropped out
    event = dict(sheets["event"][1:])
    assert sheets["event"][0] == ("Veld", "Waarde")
    assert event["Titel"] == "Samen versnellen van AI in de zorg"
    assert event["Tijdzone"] == "Europe/Amsterdam"
    assert isinstance(event["Aangemaakt"], datetime)


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text():
    """A deck is text from whoever wrote it: opening the workbook must not run it."""
    round_ = {
        "number": 1,
        "counts": {"agree": 1},
        "percentages": {"agree": 100},
        "voters": 1,
        "participants": 1,
        "turnout": 100,
        "opened_at": "2026-01-01T10:00:00+00:00",
        "closed_at": None,
    }
    results = {
        "event": {"code": "123 456", "title": '=HYPERLINK("http://x")'},
        "statements": [
            {
                "position": 1,
                "key": "s",
                "texts": {"statement": "=1+1"},
                "options": [{"key": "agree", "label": "=SUM(A1)"}],
                "rounds": [round_],
                "shifts": [],
            }
        ],
        "votes": [],
    }
    workbook = openpyxl.load_workbook(io.BytesIO(to_xlsx(results)))
    cells = {c.value: c for sheet in workbook for row in sheet.iter_rows() for c in row}
    for text in ('=HYPERLINK("http://x")', "=1+1", "=SUM(A1)"):
        assert cells[text].data_type == "s", text
    assert cells[None] is not None  # closed_at: an empty cell, not the text "None"


@pytest.fixture
def cli_on(app, tmp_path, monkeypatch):
    """The command line on the database the `app` fixture votes into."""
    monkeypatch.setenv("POLLING_INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_cli_exports_xlsx_to_a_file_and_to_a_pipe(app, clients, cli_on, tmp_path):
    run_first_statement(clients)
    target = tmp_path / "results.xlsx"
    result = cli_on("export", clients.event.code, "--format", "xlsx", "-o", str(target))
    assert result.exit_code == 0, result.output
    sheets = read_xlsx(target.read_bytes())
    assert len(sheets["votes"]) == 1 + 5
    piped = cli_on("export", clients.event.code, "--format", "xlsx")
    assert read_xlsx(piped.stdout_bytes)["summary"] == sheets["summary"]
