"""Questions from the audience in real browsers: two phones ask, one supports, the moderator
approves, edits and puts one on screen, the projector shows it, and a reloaded phone still
sees its own pending question and its support. axe checks every new view."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from polling.domain.decks import MAX_LENGTHS
from polling.domain.questions import MAX_LENGTH, MAX_NAME_LENGTH
from tests.browser.helpers import (
    PROJECTOR,
    Browse,
    axe_check,
    control,
    expect,
    screenshot,
    serving_deck,
    settle,
)
from tests.browser.layout import WORDS, layout_problems, longest_deck, text_of
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def open_questions(page: Page) -> None:
    page.get_by_role("button", name="Vragen", exact=True).tap()
    expect(page.get_by_role("heading", name="Vragen aan het panel")).to_be_visible()


def ask(page: Page, text: str, name: str = "", member: str | None = None) -> None:
    page.get_by_label("Uw vraag", exact=True).fill(text)
    if name:
        page.get_by_label("Uw naam (niet verplicht)").fill(name)
    if member:
        page.get_by_label("Voor", exact=True).select_option(label=member)
    page.get_by_role("button", name="Vraag versturen").tap()
    expect(page.locator("#qa-form-status")).to_have_text(
        "Uw vraag is verstuurd en wacht op goedkeuring."
    )


def question(page: Page, number: int):
    return page.locator(".qa-item", has_text=f"Vraag {number}")


def test_ask_support_moderate_and_put_on_screen(browse: Browse, server: ServerProcess) -> None:
    found = {}
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    expect(moderator.get_by_role("heading", name="Vragen uit de zaal")).to_be_visible()
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    first, second = browse.page("phone 1"), browse.page("phone 2")
    for phone in (first, second):
        phone.goto(f"/{server.code}")
        open_questions(phone)

    counter = first.locator("#qa-count")
    first.get_by_label("Uw vraag", exact=True).fill("wat kost ai per patient")
    expect(counter).to_have_text("23 van 300 tekens")
    ask(first, "wat kost ai per patient", name="Anna", member="Karin Schoonenberg")
    mine = first.locator("#qa-mine")
    expect(mine).to_contain_text("wacht op goedkeuring")
    expect(mine).to_contain_text("Vraag 1 · voor Karin Schoonenberg · Anna")
    ask(second, "Wie is aansprakelijk als AI een fout maakt?")
    found["phone, questions tab"] = axe_check(second, "phone, questions tab")
    screenshot(second, "questions-phone")

    # Nobody but the asker sees a pending question.
    expect(second.locator("#qa-list")).not_to_contain_text("wat kost ai")
    queue = moderator.locator("#qm-queue")
    expect(moderator.locator("#qm-queue-title")).to_have_text("Wachtrij (2)")
    found["moderator, queue"] = axe_check(moderator, "moderator, queue")
    moderator.locator("#qm-next").scroll_into_view_if_needed()
    moderator.evaluate("document.getElementById('qm-next').scrollIntoView()")
    screenshot(moderator, "questions-moderator")

    # Edit before approving: the hall sees the edited text.
    question(queue, 1).get_by_role("button", name="Bewerken").tap()
    moderator.get_by_label("Tekst van vraag 1").fill("Wat kost AI per patiënt?")
    moderator.get_by_role("button", name="Opslaan en goedkeuren").tap()
    question(queue, 2).get_by_role("button", name="Goedkeuren").tap()
    expect(moderator.locator("#qm-queue-title")).to_have_text("Wachtrij (0)")
    visible = moderator.locator("#qm-visible")
    expect(visible).to_contain_text("bewerkt; oorspronkelijk: wat kost ai per patient")

    support = second.get_by_role("button", name=re.compile(r"^Steun vraag 1 "))
    expect(support).to_have_attribute("aria-pressed", "false")
    support.tap()
    expect(support).to_have_attribute("aria-pressed", "true")
    expect(support).to_have_text("▲ 1 steun")
    # Populair: the supported question first; Nieuw: the newest first.
    expect(first.locator("#qa-list .qa-item").first).to_contain_text("Wat kost AI per patiënt?")
    first.get_by_role("button", name="Nieuw").tap()
    expect(first.locator("#qa-list .qa-item").first).to_contain_text("Wie is aansprakelijk")

    moderator.get_by_label("Vragen op het scherm (in plaats van de stellingen)").check()
    question(visible, 1).get_by_role("button", name="Op het scherm").tap()
    current = presenter.locator("#qa-current")
    expect(current).to_contain_text("Wat kost AI per patiënt?")
    expect(current).to_contain_text("Vraag 1 · voor Karin Schoonenberg · Anna")
    expect(current).to_contain_text("▲ 1 steun")
    expect(presenter.locator("#qa-next")).to_contain_text("Wie is aansprakelijk")
    expect(presenter.locator("#join-code")).to_be_visible()
    expect(presenter.locator("#statement-text")).to_be_hidden()
    found["presenter, questions"] = axe_check(presenter, "presenter, questions")
    screenshot(presenter, "questions-presenter")
    expect(second.locator("#qa-on-screen")).to_contain_text("Wat kost AI per patiënt?")

    # After a reload: a phone's own pending question and its support are still there.
    ask(second, "Komt er een vervolg op dit panel?")
    for phone in (first, second):
        phone.reload()
        open_questions(phone)
    expect(second.locator("#qa-mine")).to_contain_text("Komt er een vervolg op dit panel?")
    expect(question(second.locator("#qa-mine"), 3)).to_contain_text("wacht op goedkeuring")
    expect(second.get_by_role("button", name=re.compile(r"^Steun vraag 1 "))).to_have_attribute(
        "aria-pressed", "true"
    )

    # Voting opens while a phone is on the Vragen tab: a banner leads back to the vote.
    control(moderator, "Volgende →", "ready")
    control(moderator, "Stemming openen", "open")
    banner = first.get_by_role("button", name="Stemming geopend: ga naar de stemming")
    banner.tap()
    expect(first.get_by_role("button", name="Eens", exact=True)).to_be_visible()

    failing = {name: results for name, results in found.items() if results.violations_count}
    assert not failing, "\n\n".join(
        f"{name}:\n{results.generate_report()}" for name, results in failing.items()
    )


# The projector's question view, as the hall's longest questions leave it: the question on
# screen, and the next ones either shown whole or not at all.
QUESTION_BLOCKS = [
    ".presenter-header .event-title",
    ".qa-screen-title",
    ".qa-current-meta",
    ".qa-current-text",
    ".qa-current-upvotes",
    ".qa-next-title",
    ".qa-next-item",
    ".join-box",
]


def test_the_longest_questions_fit_every_projector(browser: Browser, tmp_path: Path) -> None:
    # Without premoderation every question is in the list at once, as the hall sends it.
    unmoderated = 'language = "nl"\n\n[qa]\npremoderation = false'
    deck = longest_deck(2).replace('language = "nl"', unmoderated, 1)
    with serving_deck(browser, tmp_path, "longest-questions.toml", deck) as (browse, server):
        run_longest_questions(browse, server)


def run_longest_questions(browse: Browse, server: ServerProcess) -> None:
    """Five phones each ask a question as long as allowed, with the longest name, for the panel
    member with the longest name; the first goes on screen, the other four wait as "Hierna"."""
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    member = text_of(MAX_LENGTHS["name"], "Prof. Dr. Geert-Jan Geersing ")
    # Different enough not to be offered to the moderator as one question asked twice.
    questions = [
        text_of(MAX_LENGTH, f"{opening} {WORDS}")
        for opening in (
            "Wie betaalt de scholing van verpleegkundigen die met AI gaan werken?",
            "Hoe houden huisartsen zicht op wat een algoritme met hun dossiers doet?",
            "Mag een patiënt weigeren dat AI meekijkt bij de diagnose in het ziekenhuis?",
            "Welke rol krijgt de Inspectie bij het toetsen van medische software?",
            "Wat gebeurt er met de gegevens van patiënten als een leverancier failliet gaat?",
        )
    ]
    for number, text in enumerate(questions, start=1):
        phone = browse.page(f"phone {number}")
        phone.goto(f"/{server.code}")
        open_questions(phone)
        phone.get_by_label("Uw vraag", exact=True).fill(text)
        phone.get_by_label("Uw naam (niet verplicht)").fill(
            text_of(MAX_NAME_LENGTH, "Anne-Marie van den Broek ")
        )
        phone.get_by_label("Voor", exact=True).select_option(index=1)
        phone.get_by_role("button", name="Vraag versturen").tap()
        expect(phone.locator("#qa-form-status")).to_have_text("Uw vraag staat in de lijst.")
    visible = moderator.locator("#qm-visible")
    expect(visible.locator(".qa-item")).to_have_count(len(questions))
    moderator.get_by_label("Vragen op het scherm (in plaats van de stellingen)").check()
    first = visible.locator(".qa-item", has_text=questions[0])
    first.get_by_role("button", name="Op het scherm").tap()
    expect(presenter.locator("#qa-current .qa-current-text")).to_have_text(questions[0])
    expect(presenter.locator("#qa-current .qa-current-meta")).to_contain_text(member)
    expect(presenter.locator("#qa-next .qa-next-item")).to_have_count(len(questions) - 1)

    problems = []
    for width, height in ((1920, 1080), (1280, 720), (1024, 768), (800, 600)):
        presenter.set_viewport_size({"width": width, "height": height})
        settle(presenter)
        where = f"{width}x{height}"
        problems += [f"{where}: {p}" for p in layout_problems(presenter, QUESTION_BLOCKS)]
    presenter.set_viewport_size(PROJECTOR["viewport"])
    assert not problems, "\n".join(problems)
