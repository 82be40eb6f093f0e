"""The organiser area (/organiser) in a real browser: log in, create events, delete one, log out.

The server gets its password the way an organiser gives it: POLLING_ADMIN_PASSWORD in the
environment. The server itself creates one event at start (`polling serve`), so the events
table is never empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from polling.domain.decks import load_deck
from polling.domain.events import display_code
from tests.browser.helpers import (
    PROJECT_ROOT,
    axe_check,
    control,
    expect,
    screenshot,
    vote,
)
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from tests.browser.conftest import Browse

PASSWORD = "organiser-password-for-tests"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PANEL_DECK = "ai-in-de-zorg.toml"
PANEL_TITLE = load_deck(PROJECT_ROOT / "statements" / PANEL_DECK).title["nl"]
LOGIN_URL = re.compile(r"/organiser/login$")
# After creating an event, the page scrolls to its row (#event-<code>).
EVENTS_URL = re.compile(r"/organiser/(#event-\d{6})?$")
CREATED = re.compile(r"^Evenement (\d{3} \d{3}) is aangemaakt\.$")

BROKEN_DECK = """\
title = "A deck without statements"
language = "en"
"""
SMALL_DECK = """\
title = "A small deck"
language = "en"

[[statements]]
key = "small"
statement = "Small decks are fine."
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Like conftest's server, with the organiser password set in the environment."""
    process = ServerProcess(tmp_path, POLLING_ADMIN_PASSWORD=PASSWORD).start()
    yield process
    process.stop()


# ---------- the organiser's actions ----------


def log_in(page: Page, password: str = PASSWORD) -> None:
    """Open the area, which sends a stranger to the login page, and type the password."""
    page.goto("/organiser/")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("heading", name="Inloggen als organisator")).to_be_visible()
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def logged_in(browse: Browse) -> Page:
    """An organiser on a laptop, logged in, looking at the events page."""
    page = browse.page("organiser", DESKTOP)
    log_in(page)
    expect(page).to_have_url(EVENTS_URL)
    expect(page.get_by_role("heading", name="Evenementen")).to_be_visible()
    return page


def event_rows(page: Page) -> Locator:
    """The rows of the events table (not its header)."""
    return page.get_by_role("table").locator("tbody").get_by_role("row")


def event_row(page: Page, code: str) -> Locator:
    """An event's row, found by the code the organiser reads in its first cell."""
    return event_rows(page).filter(has=page.get_by_role("rowheader", name=display_code(code)))


def created_code(page: Page) -> str:
    """The code the notice names after creating an event (digits only, as in the URLs)."""
    notice = page.get_by_role("status")
    expect(notice).to_have_text(CREATED)
    return CREATED.match(notice.inner_text().strip())[1].replace(" ", "")


def create(page: Page) -> None:
    page.get_by_role("button", name="Evenement aanmaken").click()


# ---------- the tests ----------


def test_the_area_needs_the_right_password(browse: Browse, server: ServerProcess) -> None:
    browse.expect_status("/organiser/login", 401)  # the wrong password
    page = browse.page("organiser", DESKTOP)
    log_in(page, "not the password at all")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("alert")).to_have_text("Dat wachtwoord klopt niet.")
    expect(page.get_by_label("Wachtwoord")).to_have_attribute("aria-invalid", "true")
    # Nothing of the events leaks onto the login page.
    expect(page.get_by_role("heading", name="Evenementen")).to_have_count(0)
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_text(display_code(server.code))).to_have_count(0)

    log_in(page)
    expect(page).to_have_url(EVENTS_URL)
    expect(page.get_by_role("heading", name="Evenementen")).to_be_visible()
    expect(event_rows(page)).to_have_count(1)
    expect(event_row(page, server.code)).to_contain_text(PANEL_TITLE)


def test_create_an_event_from_a_deck_and_open_its_pages(
    browse: Browse, server: ServerProcess
) -> None:
    page = logged_in(browse)
    page.get_by_label("Deck uit de map statements/").select_option(PANEL_DECK)
    create(page)
    code = created_code(page)
    assert code != server.code
    expect(event_rows(page)).to_have_count(2)
    row = event_row(page, code)
    expect(row).to_contain_text(PANEL_TITLE)
    expect(row).to_contain_text(PANEL_DECK)
    expect(row).to_contain_text("Nog niet begonnen")
    # The page opens scrolled to the new row; the screenshot shows it from the top.
    page.locator("main > header").scroll_into_view_if_needed()
    screenshot(page, "organiser")

    row.get_by_role("link", name="Moderator").click()
    expect(page).to_have_url(re.compile(rf"/{code}/moderator\?key="))
    expect(page.locator("#phase")).to_have_text("Wachten op de eerste stelling")

    page.go_back()
    expect(page).to_have_url(EVENTS_URL)
    event_row(page, code).get_by_role("link", name="Scherm").click()
    expect(page).to_have_url(re.compile(rf"/{code}/presenter\?key="))
    expect(page.locator("#statement-text")).to_have_text(PANEL_TITLE)
    expect(page.locator("#join-code")).to_have_text(display_code(code))


def test_on_a_phone_every_link_of_an_event_is_in_reach(
    browse: Browse, server: ServerProcess
) -> None:
    """A phone shows each event as a card: no link hidden beyond the right edge."""
    page = logged_in(browse)
    page.set_viewport_size({"width": 360, "height": 640})
    row = event_row(page, server.code)
    for name in ("Scherm", "Moderator", "Resultaten", "Verwijderen"):
        link = row.get_by_role("link", name=name)
        link.scroll_into_view_if_needed()
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, name
    # What sticks out, if anything: named in the failure.
    widest = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > 361)
            .map((e) => `${e.tagName}#${e.id} ${e.getBoundingClientRect().right}`)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, widest


def test_a_broken_deck_is_refused_and_a_good_one_is_used(
    browse: Browse, server: ServerProcess, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(BROKEN_DECK, encoding="utf-8")
    small = tmp_path / "small.toml"
    small.write_text(SMALL_DECK, encoding="utf-8")
    page = logged_in(browse)
    upload = page.get_by_label("of upload een deckbestand (.toml)")
    browse.expect_status("/organiser/events", 400)  # the refused deck

    upload.set_input_files(broken)
    create(page)
    # The refusal names the field the organiser has to fix; nothing was created.
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Dit deck bevat een fout")
    expect(refusal).to_contain_text("statements")
    # The refused file stays chosen, to be fixed and sent again without looking for it.
    assert upload.evaluate("input => input.files[0]?.name") == "broken.toml"
    expect(page.get_by_role("status")).to_have_count(0)
    expect(event_rows(page)).to_have_count(1)

    upload.set_input_files(small)
    create(page)
    code = created_code(page)
    expect(event_rows(page)).to_have_count(2)
    row = event_row(page, code)
    expect(row).to_contain_text("A small deck")
    expect(row).to_contain_text("small.toml")


def test_deleting_an_event_sends_its_open_pages_to_not_found(
    browse: Browse, server: ServerProcess
) -> None:
    # A phone on the event's page, connected (the lobby comes over the socket) and voting.
    phone = browse.page("phone")
    phone.goto(f"/{server.code}")
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    expect(moderator.locator("#phase")).to_have_text("Wachten op de eerste stelling")
    control(moderator, "Volgende →", "ready")
    control(moderator, "Stemming openen", "open")
    vote(phone, "Eens")

    browse.expect_status(f"/{server.code}", 404)
    browse.expect_status(f"/{server.code}/moderator", 404)

    page = logged_in(browse)
    row = event_row(page, server.code)
    expect(row).to_contain_text("1 / 1")  # participants / votes
    row.get_by_role("link", name="Verwijderen").click()

    # The confirmation says what will be lost before anything is.
    title = f"Evenement {display_code(server.code)} verwijderen?"
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text(PANEL_TITLE)).to_be_visible()
    expect(page.locator("main")).to_contain_text("deelnemers: 1, stemmen: 1")
    page.get_by_role("button", name="Definitief verwijderen").click()

    expect(page).to_have_url(EVENTS_URL)
    deleted = f"Evenement {display_code(server.code)} is verwijderd, met al zijn stemmen."
    expect(page.get_by_role("status")).to_have_text(deleted)
    expect(event_row(page, server.code)).to_have_count(0)
    expect(page.get_by_text("Nog geen evenementen.")).to_be_visible()

    # The open pages were told over Socket.IO and reloaded by themselves, to a 404.
    for opened in (phone, moderator):
        expect(opened.get_by_role("heading", name="Niet gevonden")).to_be_visible()


def test_logging_out_closes_the_area(browse: Browse, server: ServerProcess) -> None:
    page = logged_in(browse)
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("heading", name="Inloggen als organisator")).to_be_visible()
    # The session no longer opens the area.
    page.goto("/organiser/")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("table")).to_have_count(0)


def test_axe_finds_no_wcag_violations_in_the_organiser_area(
    browse: Browse, server: ServerProcess
) -> None:
    found = {}
    page = browse.page("organiser", DESKTOP)
    page.goto("/organiser/login")
    expect(page.get_by_role("heading", name="Inloggen als organisator")).to_be_visible()
    found["organiser, login"] = axe_check(page, "organiser, login")

    log_in(page)
    expect(event_row(page, server.code)).to_be_visible()
    found["organiser, events"] = axe_check(page, "organiser, events")

    # A second event of the deck makes the comparison page worth a link.
    create(page)
    created_code(page)
    page.get_by_role("link", name="ai-in-de-zorg.toml").click()
    expect(page.get_by_role("heading", name="Vergelijking: ai-in-de-zorg.toml")).to_be_visible()
    found["organiser, compare"] = axe_check(page, "organiser, compare")
    page.get_by_role("link", name="← Evenementen").click()

    event_row(page, server.code).get_by_role("link", name="Verwijderen").click()
    expect(page.get_by_role("button", name="Definitief verwijderen")).to_be_visible()
    found["organiser, confirm delete"] = axe_check(page, "organiser, confirm delete")

    failing = {name: results for name, results in found.items() if results.violations_count}
    assert not failing, "\n\n".join(
        f"{name}:\n{results.generate_report()}" for name, results in failing.items()
    )
