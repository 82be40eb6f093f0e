"""Every screen holds for every deck the deck check accepts, on every projector and phone.

For decks of 2, 3, 4 and 6 options whose every text is as long as allowed, each screen (lobby,
ready, open with a countdown, closed, revealed with facts, finished) is rendered at 4:3, 720p,
1080p and 4K on the projector and on two phones, and must keep everything inside the screen,
overlap nothing, keep its type above the floors, and keep a QR code that zbar reads. Words
longer than a phone's line (Dutch compounds, web addresses) must break inside its screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from polling.domain.decks import MAX_FACTS_FOR_OPTIONS
from tests.browser.helpers import (
    LONG_WORDS_DECK,
    PHONE,
    PROJECTOR,
    REPORT,
    Browse,
    control,
    expect,
    reveal,
    screenshot,
    serving_deck,
    settle,
    vote,
)
from tests.browser.layout import (
    FLOORS,
    PHONES,
    PROJECTORS,
    ZBARIMG,
    decode_qr,
    font_sizes,
    layout_problems,
    longest_deck,
    option_label,
    scale,
)
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PRESENTER_BLOCKS = [
    ".presenter-header .event-title",
    "#statement-position",
    "#round-number",
    "#countdown",
    "#phase-badge",
    "#statement-theme",
    "#statement-text",
    "#stage-note",
    "#joined",
    ".panel-members h2",
    ".panel-members li",
    "#facts-title",
    "#facts-list li",
    ".join-box",
    "#results-bars .legend",
    "#results-bars .stacked",
    "#results-bars .result-row",
    "#results-bars .pending",
    "#turnout",
]
PHONE_BLOCKS = [
    ".phone-header .brand",
    ".lang-switch",
    ".screen:not([hidden]) h1",
    ".screen:not([hidden]) .lead",
    ".screen:not([hidden]) .panel-members li",
    "#statement-position",
    "#round-number",
    "#statement-theme",
    "#phase-note",
    "#countdown",
    "#choices .choice",
    "#vote-status",
    "#results-bars .result-label",
    "#results-bars .result-track",
    "#results-bars .result-value",
]
MODERATOR_BLOCKS = [
    ".phone-header .brand",
    ".lang-switch",
    "#statement-text",
    "#joined",
    ".controls .button",
    "#timer-choice",
    "#round-help",
    "#results-bars .result-label",
    "#results-bars .result-track",
    "#results-bars .result-value",
    "#turnout",
]


class Screens:
    """Renders the three pages at every size and collects what is wrong."""

    def __init__(self, presenter: Page, phone: Page, moderator: Page, join_url: str, tmp: Path):
        self.presenter, self.phone, self.moderator = presenter, phone, moderator
        self.join_url = join_url
        self.tmp = tmp
        self.problems: list[str] = []
        self.sizes: dict[str, dict[str, float]] = {}

    def check(self, state: str, *, qr: bool = False) -> None:
        for name, (width, height) in PROJECTORS.items():
            self.presenter.set_viewport_size({"width": width, "height": height})
            settle(self.presenter)
            where = f"{state}, projector {name}"
            self.note(where, layout_problems(self.presenter, PRESENTER_BLOCKS))
            overflow = self.presenter.evaluate(
                "() => { const box = document.getElementById('stage-text');"
                " return box.scrollHeight - box.clientHeight; }"
            )
            if overflow > 1:
                self.problems.append(f"{where}: the text area overflows by {overflow} px")
            self.floors(where, name, width, height, state)
            if qr:
                png = self.tmp / f"{state}-{name}.png"
                self.presenter.screenshot(path=png, animations="disabled")
                # The QR code holds the join URL with its signature (see polling.web.throttle).
                if not any(text.split("?")[0] == self.join_url for text in decode_qr(png)):
                    self.problems.append(f"{where}: zbar cannot read the QR code")
        self.presenter.set_viewport_size(PROJECTOR["viewport"])
        for name, (width, height) in PHONES.items():
            for page, blocks, role in (
                (self.phone, PHONE_BLOCKS, "phone"),
                (self.moderator, MODERATOR_BLOCKS, "moderator"),
            ):
                page.set_viewport_size({"width": width, "height": height})
                settle(page)
                self.note(f"{state}, {role} {name}", layout_problems(page, blocks, scrolls=True))
            if state == "open":
                button = self.phone.locator("#choices .choice").first.bounding_box()
                if button is None or button["y"] > height:
                    self.problems.append(f"open, phone {name}: the first option is below the fold")

    def floors(self, where: str, name: str, width: int, height: int, state: str) -> None:
        sizes = font_sizes(self.presenter)
        factor = scale(width, height)
        for text, (_, floor) in FLOORS.items():
            if text in sizes:
                if sizes[text] < floor * factor - 0.01:
                    self.problems.append(
                        f"{where}: {text} is {sizes[text]:.1f} px, under {floor * factor:.1f}"
                    )
                if state == "revealed" or text not in self.sizes.get(name, {}):
                    self.sizes.setdefault(name, {})[text] = round(sizes[text], 1)

    def note(self, where: str, problems: list[str]) -> None:
        self.problems.extend(f"{where}: {problem}" for problem in problems)


@pytest.mark.parametrize("options", [2, 3, 4, 6], ids=lambda n: f"{n}-options")
def test_every_screen_fits_the_longest_deck(browser: Browser, tmp_path: Path, options: int) -> None:
    if ZBARIMG is None:
        pytest.fail("zbarimg not found: apt-get install zbar-tools")
    with serving_deck(browser, tmp_path, f"longest-{options}.toml", longest_deck(options)) as (
        browse,
        server,
    ):
        run_through_every_screen(browse, server, tmp_path, options)


def run_through_every_screen(
    browse: Browse, server: ServerProcess, tmp: Path, options: int
) -> None:
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    phone = browse.page("phone", PHONE)
    phone.goto(f"/{server.code}")
    expect(presenter.locator("#joined")).to_have_text("1 deelnemer")
    screens = Screens(presenter, phone, moderator, server.urls["join"], tmp)
    screens.check("lobby", qr=True)

    control(moderator, "Volgende →", "ready")
    screens.check("ready")

    moderator.get_by_label("Aftellen").select_option("90")
    control(moderator, "Stemming openen", "open")
    expect(presenter.locator("#countdown")).to_have_text("1:30")
    vote(phone, option_label(1))
    if options == 4:
        screenshot(phone, "vote-4-options")  # for the README
    screens.check("open")

    control(moderator, "Stemming sluiten", "closed")
    screens.check("closed")

    reveal(moderator)
    facts = MAX_FACTS_FOR_OPTIONS[options]
    expect(presenter.locator("#facts-list li")).to_have_count(facts)
    screens.check("revealed", qr=True)
    if options == 4:
        take_readme_screenshots(presenter)

    control(moderator, "Volgende →", "ready")
    control(moderator, "Volgende →", "finished")
    screens.check("finished")

    for viewport, sizes in screens.sizes.items():  # the smallest over every deck
        known = REPORT["fonts"].setdefault(viewport, {})
        for text, size in sizes.items():
            known[text] = min(size, known.get(text, size))
    assert not screens.problems, "\n".join(screens.problems[:40])


def take_readme_screenshots(presenter: Page) -> None:
    """The README shows a 4-option deck, on a 16:9 and on a 4:3 projector."""
    for name, size in (("presenter-4-options", (1920, 1080)), ("presenter-4x3", (1024, 768))):
        presenter.set_viewport_size({"width": size[0], "height": size[1]})
        settle(presenter)
        screenshot(presenter, name)
    presenter.set_viewport_size(PROJECTOR["viewport"])


def test_long_words_stay_on_the_phone_screens(browser: Browser, tmp_path: Path) -> None:
    """A word longer than a phone's line wraps inside the screen: the vote page and the
    moderator's page never get wider than the phone."""
    with serving_deck(browser, tmp_path, "long-words.toml", LONG_WORDS_DECK) as (
        browse,
        server,
    ):
        run_long_words(browse, server)


def run_long_words(browse: Browse, server: ServerProcess) -> None:
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    phone = browse.page("phone", PHONE)
    phone.goto(f"/{server.code}")
    expect(moderator.locator("#joined")).to_have_text("1 deelnemer")
    problems: list[str] = []

    def check(state: str) -> None:
        for name, (width, height) in {"320x568": (320, 568), **PHONES}.items():
            for page, blocks, role in (
                (phone, PHONE_BLOCKS, "phone"),
                (moderator, MODERATOR_BLOCKS, "moderator"),
            ):
                page.set_viewport_size({"width": width, "height": height})
                settle(page)
                found = layout_problems(page, blocks, scrolls=True)
                problems.extend(f"{state}, {role} {name}: {problem}" for problem in found)

    check("lobby")
    control(moderator, "Volgende →", "ready")
    control(moderator, "Stemming openen", "open")
    vote(phone, "Ziektekostenverzekeringspremies")
    check("open")
    control(moderator, "Stemming sluiten", "closed")
    reveal(moderator)
    expect(phone.locator("#results")).to_be_visible()
    check("revealed")
    assert not problems, "\n".join(problems[:40])
