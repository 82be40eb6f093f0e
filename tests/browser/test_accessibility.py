"""Accessibility: axe-core (WCAG 2.1 A and AA) on every screen, the keyboard, and 200% zoom."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.browser.helpers import (
    PHONE,
    PROJECTOR,
    axe_check,
    choice,
    control,
    expect,
    expect_phone_results,
    expect_projector_results,
    reveal,
    vote,
)
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import Browse

# A 390 px wide phone at 200% zoom: half the CSS pixels, twice the device pixels per CSS pixel.
ZOOMED_PHONE = {
    "viewport": {"width": 195, "height": 422},
    "device_scale_factor": 4,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def open_first_statement(browse: Browse, server: ServerProcess) -> Page:
    """The moderator's page, with statement 1 on screen and voting open."""
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    expect(moderator.locator("#phase")).to_have_text("Wachten op de eerste stelling")
    control(moderator, "Volgende →", "ready")
    control(moderator, "Stemming openen", "open")
    return moderator


def test_axe_finds_no_wcag_violations_on_any_screen(browse: Browse, server: ServerProcess) -> None:
    found = {}
    join = browse.page("join page")
    join.goto("/")
    expect(join.get_by_role("heading", name="Doe mee met de stemming")).to_be_visible()
    found["join page"] = axe_check(join, "join page")

    phone = browse.page("phone")
    phone.goto(f"/{server.code}")
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
    found["vote page, lobby"] = axe_check(phone, "vote page, lobby")

    moderator = open_first_statement(browse, server)
    expect(phone.get_by_role("button", name="Eens", exact=True)).to_be_visible()
    found["vote page, voting open"] = axe_check(phone, "vote page, voting open")
    vote(phone, "Eens")
    found["vote page, vote recorded"] = axe_check(phone, "vote page, vote recorded")

    control(moderator, "Stemming sluiten", "closed")
    reveal(moderator)
    expect_phone_results(phone, "100% (1)", "0% (0)", own="Eens")
    found["vote page, results revealed"] = axe_check(phone, "vote page, results revealed")

    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    expect_projector_results(presenter, "100% · 1", "0% · 0", "1 van 1 heeft gestemd")
    found["presenter, results revealed"] = axe_check(presenter, "presenter, results revealed")

    expect(moderator.locator(".result-row.option-1 .result-value")).to_have_text("100% (1)")
    found["moderator, results revealed"] = axe_check(moderator, "moderator, results revealed")

    failing = {name: results for name, results in found.items() if results.violations_count}
    assert not failing, "\n\n".join(
        f"{name}:\n{results.generate_report()}" for name, results in failing.items()
    )


def test_the_vote_buttons_work_from_the_keyboard(browse: Browse, server: ServerProcess) -> None:
    phone = browse.page("keyboard", DESKTOP)
    phone.goto(f"/{server.code}")
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
    open_first_statement(browse, server)
    agree = phone.get_by_role("button", name="Eens", exact=True)
    expect(agree).to_be_enabled()

    for _ in range(10):  # the language link comes first, then the options
        phone.keyboard.press("Tab")
        if agree.evaluate("button => button === document.activeElement"):
            break
    expect(agree).to_be_focused()
    phone.keyboard.press("Enter")
    status = phone.locator("#vote-status")
    expect(status).to_have_text("✓ Uw stem is ontvangen: Eens")
    expect(choice(phone, "Eens")).to_have_attribute("aria-pressed", "true")

    # Focus stays on the option, so the next Tab reaches the other one.
    expect(choice(phone, "Eens")).to_be_focused()
    phone.keyboard.press("Tab")
    expect(choice(phone, "Oneens")).to_be_focused()
    phone.keyboard.press(" ")
    expect(status).to_have_text("✓ Uw stem is ontvangen: Oneens")
    expect(choice(phone, "Oneens")).to_have_attribute("aria-pressed", "true")
    expect(choice(phone, "Eens")).to_have_attribute("aria-pressed", "false")
    expect(choice(phone, "Oneens")).to_be_focused()


def assert_no_horizontal_scrolling(page: Page) -> None:
    """Nothing is wider than the screen.

    On a mobile viewport, content wider than the screen widens the layout viewport and with it
    window.innerWidth, so the page's width is compared with the screen's as well.
    """
    widths = page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollWidth,
            inner: window.innerWidth,
            client: document.documentElement.clientWidth,
        })"""
    )
    screen = page.viewport_size["width"]
    assert widths["scroll"] <= widths["inner"], widths
    assert widths["scroll"] <= widths["client"] <= screen, (widths, screen)
    assert widths["inner"] == screen, (widths, screen)


def assert_inside_the_width(page: Page, name: str) -> None:
    """The button lies wholly between the left and right edge of the screen."""
    button = page.get_by_role("button", name=name, exact=True)
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box, width)


def test_the_vote_page_works_at_200_percent_zoom(browse: Browse, server: ServerProcess) -> None:
    phone = browse.page("zoomed phone", ZOOMED_PHONE)
    phone.goto(f"/{server.code}")
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
    assert_no_horizontal_scrolling(phone)

    moderator = open_first_statement(browse, server)
    for name in ("Eens", "Oneens"):
        assert_inside_the_width(phone, name)
    assert_no_horizontal_scrolling(phone)
    vote(phone, "Oneens")
    assert_no_horizontal_scrolling(phone)

    control(moderator, "Stemming sluiten", "closed")
    reveal(moderator)
    expect_phone_results(phone, "0% (0)", "100% (1)", own="Oneens")
    assert_no_horizontal_scrolling(phone)


def test_phone_sized_pages_fit_without_zoom(browse: Browse, server: ServerProcess) -> None:
    """The join and moderator pages too fit a phone's width."""
    for name, url in (("join page", "/"), ("moderator", server.urls["moderator"])):
        page = browse.page(name, PHONE)
        page.goto(url)
        expect(page.locator("main")).to_be_visible()
        assert_no_horizontal_scrolling(page)
