"""The organiser's results page in a real browser: reached from the moderator page, accessible,
printable to PDF without the links, and as narrow as the moderator's phone that opens it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from polling.domain.models import Participant, Statement
from polling.domain.reason_models import Reason
from tests.browser.helpers import (
    LONG_WORDS_DECK,
    PHONE,
    Browse,
    axe_check,
    control,
    expect,
    screenshot,
    serving_deck,
    settle,
    vote,
)
from tests.browser.layout import layout_problems
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def first_round(browse: Browse, server: ServerProcess, choice: str) -> tuple[Page, Page]:
    """One phone votes `choice` on the first statement, then voting closes; returns the
    moderator's page and the phone's."""
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    phone = browse.page("phone")
    phone.goto(f"/{server.code}")
    control(moderator, "Volgende →", "ready")
    control(moderator, "Stemming openen", "open")
    vote(phone, choice)
    control(moderator, "Stemming sluiten", "closed")
    return moderator, phone


def two_rounds(browse: Browse, server: ServerProcess) -> Page:
    """One phone votes Eens, then Oneens after a new round; returns the moderator's page."""
    moderator, phone = first_round(browse, server, "Eens")
    control(moderator, "Nieuwe ronde", "open")  # a new round opens voting at once
    vote(phone, "Oneens")
    control(moderator, "Stemming sluiten", "closed")
    return moderator


def test_results_page_from_the_moderator_page(browse: Browse, server: ServerProcess) -> None:
    moderator = two_rounds(browse, server)
    href = moderator.get_by_role("link", name=re.compile("^Uitslagenpagina")).get_attribute("href")
    page = browse.page("results page", DESKTOP)
    page.goto(href)
    expect(page.get_by_role("heading", level=1)).to_have_text("Samen versnellen van AI in de zorg")
    first = page.get_by_role("region", name=re.compile("^We investeren miljoenen"))
    expect(first.get_by_role("heading", name="Ronde 1", exact=True)).to_be_visible()
    chart = first.get_by_role("img", name=re.compile(r"^Stelling 1, ronde 1: Eens 100% \(1\)"))
    expect(chart).to_be_visible()
    shift = first.get_by_role("region", name="Verschuiving van ronde 1 naar ronde 2")
    changed = shift.locator(".shift-numbers div", has_text="Van mening veranderd")
    expect(changed.locator("dd")).to_have_text("1")
    results = axe_check(page, "results page")
    assert not results.violations_count, results.generate_report()


def test_results_page_prints_without_links(browse: Browse, server: ServerProcess) -> None:
    two_rounds(browse, server)
    page = browse.page("results page, print", DESKTOP)
    page.goto(server.urls["moderator"].replace("/moderator?", "/results?"))
    expect(page.locator(".report-nav")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".report-nav")).to_be_hidden()
    expect(page.locator(".report-file").first).to_be_hidden()
    expect(page.get_by_role("img").first).to_be_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")
    # Each of the four statements starts on a page of its own.
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 4


def write_reasons(server: ServerProcess) -> None:
    """The phone's reasons beside its two votes, written into the server's database as the
    phone would have given them: "Waarom eens?" in round 1, "Waarom oneens?" in round 2."""
    engine = create_engine(server.environment["DATABASE_URL"])
    try:
        with Session(engine) as session:
            phone = session.scalars(select(Participant)).one()
            statement = session.scalars(select(Statement).where(Statement.position == 1)).one()
            for round_, text in zip(
                statement.rounds,
                ("Snellere diagnoses, minder wachten", "Toch te duur voor wat het oplevert"),
                strict=True,
            ):
                session.add(
                    Reason(
                        event_id=statement.event_id,
                        statement_id=statement.id,
                        round_id=round_.id,
                        participant_id=phone.id,
                        text=text,
                        state="visible",
                        picked=True,
                    )
                )
            session.commit()
    finally:
        engine.dispose()


def test_results_page_shows_the_reasons_and_their_words(browse: Browse, server: ServerProcess):
    two_rounds(browse, server)
    write_reasons(server)
    page = browse.page("results page, reasons", DESKTOP)
    page.goto(server.urls["moderator"].replace("/moderator?", "/results?"))
    reasons = page.get_by_role("region", name="Waarom? De redenen uit de zaal")
    agree = reasons.get_by_role("region", name=re.compile("^Eens · 1 reden"))
    expect(agree.locator(".reason-text")).to_have_text("Snellere diagnoses, minder wachten")
    movers = reasons.get_by_role("region", name=re.compile("^Van mening veranderd"))
    expect(movers.locator(".reason-moved")).to_have_text("eens → oneens")
    expect(movers.locator(".reason-text")).to_have_text("Toch te duur voor wat het oplevert")
    words = reasons.get_by_role("region", name="Woorden per kant")
    expect(words.get_by_role("region", name="Oneens").locator(".word").first).to_contain_text(
        "duur"
    )
    reasons.scroll_into_view_if_needed()
    screenshot(page, "results-reasons")
    results = axe_check(page, "results page, reasons")
    assert not results.violations_count, results.generate_report()


# The results page's blocks that sit side by side on a wide screen and under each other on
# a phone; none may leave the screen or cover another.
REPORT_BLOCKS = [
    ".report-header h1",
    ".report-statement > h2",
    ".report-round h3",
    ".report-chart",
    ".report-table",
    ".report-round .turnout",
    ".report-times",
    ".shift-numbers",
]


def test_results_page_fits_a_phone(browse: Browse, server: ServerProcess) -> None:
    """The moderator's phone opens the results page from its own page: it must fit."""
    two_rounds(browse, server)
    page = browse.page("results page, phone", PHONE)
    page.goto(server.urls["moderator"].replace("/moderator?", "/results?"))
    expect(page.locator(".report-shift").first).to_be_visible()
    problems = []
    for width, height in ((320, 568), (360, 640), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        settle(page)
        found = layout_problems(page, REPORT_BLOCKS, scrolls=True)
        problems += [f"{width}x{height}: {problem}" for problem in found]
    assert not problems, "\n".join(problems[:40])


def test_results_page_fits_a_phone_with_long_words(browser: Browser, tmp_path: Path) -> None:
    """Words longer than a phone's line (the deck check allows them) break inside it."""
    with serving_deck(browser, tmp_path, "long-words.toml", LONG_WORDS_DECK) as (
        browse,
        server,
    ):
        first_round(browse, server, "Ziektekostenverzekeringspremies")
        page = browse.page("results page, phone", PHONE)
        page.goto(server.urls["moderator"].replace("/moderator?", "/results?"))
        expect(page.locator(".report-round").first).to_be_visible()
        problems = []
        for width, height in ((320, 568), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            settle(page)
            found = layout_problems(page, [*REPORT_BLOCKS, ".report-context li"], scrolls=True)
            problems += [f"{width}x{height}: {problem}" for problem in found]
        assert not problems, "\n".join(problems[:40])
