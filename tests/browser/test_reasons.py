"""The audience's reasons for a vote in real browsers: phones vote and say why, the moderator
shows the hall the reasons and puts one of each side on the projector, a second round moves a
phone and its reason appears under "Van mening veranderd"; a reloaded phone still has its
reason; a deck of four options with the longest reasons allowed fits the projector at 16:9 and
4:3. axe checks every new view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from polling.domain.reasons import MAX_LENGTH
from tests.browser.helpers import (
    PROJECTOR,
    Browse,
    axe_check,
    control,
    expect,
    expect_projector_results,
    reveal,
    screenshot,
    serving_deck,
    settle,
    vote,
)
from tests.browser.layout import layout_problems, longest_deck, option_label, scale, text_of
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

AGREE = "AI neemt de artsen routinewerk uit handen, zodat er meer tijd voor de patiënt overblijft."
DISAGREE = "Eerst bewijzen dat het werkt: nu gaat het geld naar pilots die nooit de praktijk halen."
SECOND_AGREE = "Zonder AI houden we de zorg in de praktijk met te weinig mensen niet betaalbaar."
SECOND_DISAGREE = "Wie is aansprakelijk als het systeem zich vergist? Dat moet eerst geregeld zijn."
MOVED = "Het voorbeeld van de huisarts overtuigde me: de tijdwinst voor patiënten is gemeten."
# The projector's reasons at 1920x1080 (px; other screens in proportion), as the words are
# read from the back of the hall.
REASON_FLOOR = 28
PROJECTOR_BLOCKS = [
    ".presenter-header .event-title",
    "#statement-position",
    "#phase-badge",
    ".reasons-screen-title",
    ".reason-column-title",
    ".reason-card:not([hidden])",
    ".reason-more:not([hidden])",
    ".join-box",
    "#results-bars .legend",
    "#results-bars .stacked",
    "#results-bars .result-row",
    "#turnout",
]


def give_reason(page: Page, side: str, text: str) -> None:
    """Say why, in the field labelled after the phone's vote, and wait for the ✓."""
    page.get_by_role("textbox", name=f"Waarom {side}?", exact=True).fill(text)
    page.get_by_role("button", name="Reden versturen").tap()
    expect_saved_reason(page, side, text)


def expect_saved_reason(page: Page, side: str, text: str) -> None:
    expect(page.locator("#reason-saved-title")).to_have_text(f"✓ Uw reden bij {side}")
    expect(page.locator("#reason-saved-text")).to_have_text(text)


def moderated(moderator: Page, text: str) -> Locator:
    """The moderator's entry of a reason."""
    return moderator.locator("#rm-sides .rm-item", has_text=text)


def pick(moderator: Page, text: str) -> None:
    moderated(moderator, text).get_by_role("button", name="Op scherm").tap()
    expect(moderated(moderator, text)).to_contain_text("op het scherm")


def show_on_projector(moderator: Page, view: str) -> None:
    """Press Redenen or Woorden (the projector's views) and wait until it holds."""
    button = moderator.locator("#rm-board").get_by_role("button", name=view, exact=True)
    button.tap()
    expect(button).to_have_attribute("aria-pressed", "true")


def test_reasons_from_the_phones_to_the_projector(browse: Browse, server: ServerProcess) -> None:
    found = {}
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    first, second, third = (browse.page(f"phone {n}") for n in (1, 2, 3))
    for phone in (first, second, third):
        phone.goto(f"/{server.code}")
        expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
    control(moderator, "Volgende →", "ready")
    control(moderator, "Stemming openen", "open")

    # No field before the vote: a reason is for a vote the server has.
    expect(first.locator("#reasons")).to_be_hidden()
    vote(first, "Eens")
    field = first.get_by_role("textbox", name="Waarom eens?", exact=True)
    field.fill("ok")
    expect(first.locator("#reason-count")).to_have_text("2 van 200 tekens")
    first.get_by_role("button", name="Reden versturen").tap()
    expect(first.locator("#reason-status")).to_have_text("Een reden heeft minstens 3 tekens.")
    give_reason(first, "eens", AGREE)
    vote(second, "Oneens")
    give_reason(second, "oneens", DISAGREE)
    vote(third, "Eens")
    give_reason(third, "eens", SECOND_AGREE)
    # A changed vote: the reason stays and is now said for the other side.
    vote(third, "Oneens")
    expect_saved_reason(third, "oneens", SECOND_AGREE)
    third.get_by_role("button", name="Reden wijzigen").tap()
    expect(third.get_by_role("textbox", name="Waarom oneens?")).to_have_value(SECOND_AGREE)
    third.get_by_role("button", name="Annuleren").tap()
    found["phone, reason saved"] = axe_check(third, "phone, reason saved")

    # The moderator has them per side, before the hall does.
    agree_side = moderator.get_by_role("region", name="Eens (1)", exact=True)
    expect(agree_side).to_contain_text(AGREE)
    expect(moderator.get_by_role("region", name="Oneens (2)", exact=True)).to_contain_text(
        SECOND_AGREE
    )
    expect(second.locator("#reasons-hall")).to_be_hidden()
    control(moderator, "Stemming sluiten", "closed")
    reveal(moderator)
    moderator.get_by_role("button", name="Toon redenen").tap()
    expect(moderator.get_by_role("button", name="Verberg redenen")).to_be_visible()

    # The hall reads them per side and supports one; a phone's own has no button.
    hall = second.locator("#reasons-hall")
    expect(hall.get_by_role("region", name="Eens", exact=True)).to_contain_text(AGREE)
    expect(hall.locator(".reason-item", has_text=DISAGREE)).to_contain_text("uw reden")
    support = hall.locator(".reason-item", has_text=AGREE).get_by_role("button")
    expect(support).to_have_attribute("aria-pressed", "false")
    support.tap()
    expect(support).to_have_attribute("aria-pressed", "true")
    expect(support).to_have_text("▲ 1 steun")
    expect(moderated(moderator, AGREE)).to_contain_text("▲ 1 steun")
    # The rest of the hall hears of it in the next update.
    elsewhere = third.locator("#reasons-hall .reason-item", has_text=AGREE).get_by_role("button")
    expect(elsewhere).to_have_text("▲ 1 steun")
    expect(elsewhere).to_have_attribute("aria-pressed", "false")
    found["phone, the hall's reasons"] = axe_check(second, "phone, the hall's reasons")
    hall.scroll_into_view_if_needed()
    screenshot(second, "reasons-phone")

    # One of each side on the projector, beside the tally.
    pick(moderator, AGREE)
    pick(moderator, DISAGREE)
    show_on_projector(moderator, "Redenen")
    board = presenter.locator("#reason-board")
    expect(board.get_by_role("region", name="Eens", exact=True)).to_contain_text(AGREE)
    expect(board.get_by_role("region", name="Oneens", exact=True)).to_contain_text(DISAGREE)
    expect(board).not_to_contain_text(SECOND_AGREE)
    expect(presenter.locator("#statement-text")).to_be_hidden()
    expect_projector_results(presenter, "33% · 1", "67% · 2", "3 van 3 hebben gestemd")
    found["presenter, reasons"] = axe_check(presenter, "presenter, reasons")

    # The words of each side, sized by how often they were used.
    show_on_projector(moderator, "Woorden")
    words = presenter.locator("#reason-board .cloud-word")
    expect(words.first).to_be_visible()
    # "praktijk" is in both reasons of the oneens side, "geld" in one.
    # Read in one go, from the board as it is now: two lookups could each find a different
    # drawing of it, the first one's words by then taken off the page.
    sizes = presenter.locator("#reason-board").evaluate(
        """(board) => Object.fromEntries([...board.querySelectorAll(".cloud-word")].map((node) =>
            [node.firstChild.textContent, parseFloat(getComputedStyle(node).fontSize)]))"""
    )
    assert sizes["praktijk"] > 1.5 * sizes["geld"], sizes
    expect(presenter.locator("#reasons-screen-title")).to_have_text("Meest gebruikte woorden")
    found["presenter, words"] = axe_check(presenter, "presenter, words")
    screenshot(presenter, "reasons-words")

    # After a reload the phone has its reason (and its side) again.
    first.reload()
    expect_saved_reason(first, "eens", AGREE)

    # Round 2: the projector is back on the statement; one phone changes its mind.
    control(moderator, "Nieuwe ronde", "open")
    expect(presenter.locator("#statement-text")).to_be_visible()
    expect(first.locator("#reasons")).to_be_hidden()  # a new round, a new vote first
    vote(first, "Eens")
    give_reason(first, "eens", AGREE)
    vote(second, "Eens")
    give_reason(second, "eens", MOVED)
    vote(third, "Oneens")
    give_reason(third, "oneens", SECOND_DISAGREE)
    control(moderator, "Stemming sluiten", "closed")
    reveal(moderator)
    expect(moderated(moderator, MOVED).locator(".moved-mark")).to_have_text("oneens → eens")
    for text in (AGREE, MOVED, SECOND_DISAGREE):
        pick(moderator, text)
    show_on_projector(moderator, "Redenen")
    expect(board.get_by_role("region", name="Eens", exact=True)).to_contain_text(AGREE)
    expect(board.get_by_role("region", name="Eens", exact=True)).not_to_contain_text(MOVED)
    movers = board.get_by_role("region", name="Van mening veranderd", exact=True)
    expect(movers).to_contain_text(MOVED)
    expect(movers.locator(".moved-mark")).to_have_text("oneens → eens")
    found["presenter, movers"] = axe_check(presenter, "presenter, movers")
    screenshot(presenter, "reasons-presenter")
    expect(first.locator("#hall-movers")).to_contain_text(MOVED)
    found["moderator, reasons"] = axe_check(moderator, "moderator, reasons")
    moderator.evaluate("document.getElementById('reasons-moderator').scrollIntoView()")
    screenshot(moderator, "reasons-moderator")

    failing = {name: results for name, results in found.items() if results.violations_count}
    assert not failing, "\n\n".join(
        f"{name}:\n{results.generate_report()}" for name, results in failing.items()
    )


def side(number: int) -> str:
    """Option `number` of the longest deck as a phone's question names it: the deck's label
    starts with a capital ("Optie 1 ..."), which reads in lower case ("Waarom optie 1 ...?")."""
    label = option_label(number)
    return label[0].lower() + label[1:]


@pytest.mark.parametrize("options", [4, 6], ids=lambda n: f"{n}-options")
def test_the_longest_reasons_fit_every_projector(
    browser: Browser, tmp_path: Path, options: int
) -> None:
    with serving_deck(browser, tmp_path, f"longest-{options}.toml", longest_deck(options)) as (
        browse,
        server,
    ):
        run_longest_reasons(browse, server, options)


def run_longest_reasons(browse: Browse, server: ServerProcess, options: int) -> None:
    """A phone per option and one more, each with a reason as long as allowed; in round 2 the
    last phone moves to option 2. Every side's reason and the mover's go on the projector."""
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    phones = [browse.page(f"phone {n}") for n in range(1, options + 2)]
    choices = [*range(1, options + 1), options]  # the last phone votes with the one before
    for phone in phones:
        phone.goto(f"/{server.code}")
    control(moderator, "Volgende →", "ready")
    control(moderator, "Stemming openen", "open")
    longest = [text_of(MAX_LENGTH, f"Reden {n}: zorgverzekeraars vergoeden ") for n in range(9)]
    for phone, number, text in zip(phones, choices, longest, strict=False):
        vote(phone, option_label(number))
        give_reason(phone, side(number), text)
    control(moderator, "Stemming sluiten", "closed")
    moderator.get_by_role("button", name="Toon redenen").tap()

    # The phone shows one side at a time, its own first, the others a button away.
    sides = phones[0].get_by_role("group", name="Kies een kant")
    expect(sides.get_by_role("button")).to_have_count(options)
    hall = phones[0].locator("#reason-columns")
    expect(hall.locator(".reason-item", has_text=longest[0])).to_contain_text("uw reden")
    sides.get_by_role("button", name=side(options)).tap()
    expect(hall).to_contain_text(longest[options - 1])
    expect(hall).to_contain_text(longest[options])
    expect(hall).not_to_contain_text(longest[0])
    assert not layout_problems(phones[0], [".reason-item", ".qa-sort-button"], scrolls=True)

    # Round 2: the last phone moves to option 2; the others say why again.
    control(moderator, "Nieuwe ronde", "open")
    choices[-1] = 2
    for phone, number, text in zip(phones, choices, longest, strict=False):
        vote(phone, option_label(number))
        give_reason(phone, side(number), text)
    control(moderator, "Stemming sluiten", "closed")
    reveal(moderator)  # the bars under the reasons
    for text in longest[: options + 1]:
        pick(moderator, text)
    show_on_projector(moderator, "Redenen")
    board = presenter.locator("#reason-board")
    expect(board.locator(".reason-column")).to_have_count(options + 1)
    movers = board.get_by_role("region", name="Van mening veranderd", exact=True)
    expect(movers).to_contain_text(longest[options][:40])

    problems = []
    for width, height in ((1920, 1080), (1024, 768)):
        presenter.set_viewport_size({"width": width, "height": height})
        settle(presenter)
        where = f"{width}x{height}"
        problems += [f"{where}: {p}" for p in layout_problems(presenter, PROJECTOR_BLOCKS)]
        size = presenter.evaluate(
            "() => Math.min(...[...document.querySelectorAll('.reason-card-text')]"
            ".filter((node) => node.getClientRects().length)"
            ".map((node) => parseFloat(getComputedStyle(node).fontSize)))"
        )
        floor = REASON_FLOOR * scale(width, height)
        if size < floor - 0.01:
            problems.append(f"{where}: reasons at {size:.1f} px, under {floor:.1f}")
        shown = board.locator(".reason-card:not([hidden])").count()
        if shown < options + 1:
            problems.append(f"{where}: {shown} of the {options + 1} picked reasons are shown")
        # Four sides and the movers hold every word; six may end their reasons in "…".
        clamped = board.locator(".reason-card-text[style*='line-clamp']").count()
        if options <= 4 and clamped:
            problems.append(f"{where}: {clamped} reasons are cut short")
        if options == 4:  # for the README
            screenshot(presenter, "reasons-4-options" if width == 1920 else "reasons-4x3")
    presenter.set_viewport_size(PROJECTOR["viewport"])
    assert not problems, "\n".join(problems)
