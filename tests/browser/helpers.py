"""What the browser tests share: devices, the phone's and the moderator's actions, axe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the `browser` fixture skips (or fails) with the reason
    Locator = Page = expect = None

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"

# Reconnecting after the network comes back can take a few seconds (backoff with jitter).
WAIT_MS = 15_000

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PROJECTOR: dict[str, Any] = {"viewport": {"width": 1920, "height": 1080}}

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Filled by the tests, printed at the end of the run (see conftest.pytest_terminal_summary).
REPORT: dict[str, Any] = {"axe": {}, "transfer": None, "fonts": {}}

# The moderator's phase line (#phase), in Dutch.
PHASES = {
    "lobby": "Wachten op de eerste stelling",
    "ready": "Stelling op het scherm, stemmen nog dicht",
    "open": "Stemming geopend",
    "closed": "Stemming gesloten",
    "finished": "Afgelopen",
}


def screenshot(page: Page, name: str) -> None:
    """Write docs/screenshots/<name>.png (overwritten on every run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled")


# ---------- the phone ----------


def choice(page: Page, label: str) -> Locator:
    """A vote button, whether or not it carries the ✓ of a recorded vote."""
    return page.locator("#choices").get_by_role("button", name=re.compile(rf"^(✓ )?{label}$"))


def vote(page: Page, label: str) -> None:
    """Tap an option and wait for the server's confirmation on screen."""
    page.get_by_role("button", name=label, exact=True).tap()
    status = page.locator("#vote-status")
    expect(status).to_have_class(re.compile(r"\brecorded\b"))
    expect(status).to_have_text(f"✓ Uw stem is ontvangen: {label}")
    expect(choice(page, label)).to_have_attribute("aria-pressed", "true")


def expect_own_open_vote(page: Page, label: str, other: str) -> None:
    """Voting is open and this phone's vote is `label` (and not `other`)."""
    expect(choice(page, label)).to_have_attribute("aria-pressed", "true")
    expect(choice(page, other)).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#vote-status")).to_have_text(f"✓ Uw stem is ontvangen: {label}")


def expect_statement(page: Page, position: int, text: str, round_number: int = 1) -> None:
    """The phone shows statement `position` (of 4) and, from round 2 on, the round."""
    expect(page.locator("#statement-position")).to_have_text(f"Stelling {position} van 4")
    expect(page.locator("#statement-text")).to_have_text(text)
    expect(page.locator("#round-number")).to_have_text(
        f"· Ronde {round_number}" if round_number > 1 else ""
    )


def expect_phone_results(page: Page, agree: str, disagree: str, own: str | None) -> None:
    """The phone's result rows, e.g. agree="60% (3)"; `own` is the option marked as its vote."""
    results = page.locator("#results")
    expect(results).to_be_visible()
    expect(results.locator(".result-row.option-1 .result-value")).to_have_text(agree)
    expect(results.locator(".result-row.option-2 .result-value")).to_have_text(disagree)
    expect(results.locator(".result-row.own")).to_have_count(0 if own is None else 1)
    if own is not None:
        expect(results.locator(".result-row.own .result-label")).to_have_text(own)


# ---------- the moderator and the projector ----------


def control(moderator: Page, button: str, phase: str | None = None) -> None:
    """Press a moderator button; wait for the phase it leads to, if given."""
    expect(moderator.locator("#control-status")).to_have_text("")
    moderator.get_by_role("button", name=button).tap()
    if phase is not None:
        expect(moderator.locator("#phase")).to_have_text(PHASES[phase])


def reveal(moderator: Page) -> None:
    control(moderator, "Toon uitslag")
    expect(moderator.get_by_role("button", name="Verberg uitslag")).to_be_visible()


def expect_projector_results(presenter: Page, agree: str, disagree: str, turnout: str) -> None:
    """The projector's legend, e.g. agree="60% · 3", and the turnout line."""
    bars = presenter.locator("#results-bars")
    expect(bars.locator(".legend.option-1 .legend-label")).to_have_text("Eens")
    expect(bars.locator(".legend.option-1 .legend-value")).to_have_text(agree)
    expect(bars.locator(".legend.option-2 .legend-label")).to_have_text("Oneens")
    expect(bars.locator(".legend.option-2 .legend-value")).to_have_text(disagree)
    expect(presenter.locator("#turnout")).to_have_text(turnout)


# ---------- accessibility ----------


def axe_check(page: Page, name: str) -> Any:
    """Run axe-core with the WCAG 2.1 A/AA rules; record and print the number of violations."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    REPORT["axe"][name] = results.violations_count
    print(f"axe WCAG 2.1 A/AA violations, {name}: {results.violations_count}")
    if results.violations_count:
        print(results.generate_report())
    return results
