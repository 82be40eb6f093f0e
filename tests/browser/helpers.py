"""What the browser tests share: devices, the phone's and the moderator's actions, axe."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tests.server_process import ServerProcess

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the `browser` fixture skips (or fails) with the reason
    Locator = Page = expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Made on every run, into the build folder (not tracked); `make screenshots` copies them to
# docs/screenshots/, which the README shows.
SCREENSHOTS = PROJECT_ROOT / "build" / "screenshots"

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
    """Write build/screenshots/<name>.png (overwritten on every run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled")


def settle(page: Page) -> None:
    """Wait two frames: the resize handler has fitted the text and the page is laid out."""
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )


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


@dataclass(repr=False)
class Browse:
    """Opens pages in separate browser contexts (separate cookies) and watches all of them."""

    browser: Browser
    server: ServerProcess
    contexts: list[BrowserContext] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (page, url)
    errors: list[str] = field(default_factory=list)
    documents: list[tuple[str, str | None]] = field(default_factory=list)  # (url, CSP)
    watched: set[int] = field(default_factory=set)
    expected_statuses: set[tuple[str, int]] = field(default_factory=set)  # (path, status)
    server_down: bool = False  # the test stops the server: refused connections are expected
    websocket_refused: bool = False  # behind a proxy that refuses WebSockets
    proxies: set[str] = field(default_factory=set)  # host:port of the test's own proxies
    handshakes_refused: bool = False  # the server turns phones away at the handshake

    @property
    def origin(self) -> str:
        return self.server.base_url

    def page(self, name: str, device: dict[str, Any] | None = None, **options: Any) -> Page:
        """A new page in its own context: a phone by default."""
        context = self.browser.new_context(
            base_url=self.origin, **{**(PHONE if device is None else device), **options}
        )
        context.set_default_timeout(WAIT_MS)
        context.on("page", lambda page: self.watch(name, page))
        self.contexts.append(context)
        page = context.new_page()
        self.watch(name, page)
        return page

    def watch(self, name: str, page: Page) -> None:
        if id(page) in self.watched:
            return
        self.watched.add(id(page))
        page.on("request", lambda request: self.requests.append((name, request.url)))
        page.on("websocket", lambda socket: self.requests.append((name, socket.url)))
        page.on("console", lambda message: self._console(name, message))
        page.on("pageerror", lambda exc: self.errors.append(f"{name}: uncaught {exc}"))
        page.on("response", self._response)

    def expect_status(self, path: str, status: int) -> None:
        """The page at `path` is meant to answer `status` (a wrong password, a deleted event).

        Chromium logs every such answer as a console error; this one is then not counted.
        """
        self.expected_statuses.add((path, status))

    def expect_server_down(self) -> None:
        """The test stops the server for a while: the pages' refused reconnection attempts
        (which Chromium logs as console errors) are then not counted."""
        self.server_down = True

    def expect_websocket_refused(self, proxy: str) -> None:
        """The test puts the page behind a proxy (host:port) that refuses WebSockets: its
        requests are the server's, and Chromium's line about each refused WebSocket is not
        counted."""
        self.websocket_refused = True
        self.proxies.add(proxy)

    def expect_handshakes_refused(self) -> None:
        """The test's server turns phones away at the handshake (HTTP 401): Chromium's lines
        about each refused WebSocket and long-poll are then not counted."""
        self.handshakes_refused = True

    def _console(self, name: str, message: Any) -> None:
        if self.handshakes_refused and re.search(
            r"(WebSocket connection to .*/socket\.io/.* failed|status of 401)", message.text
        ):
            return
        if self.server_down and "net::ERR_CONNECTION_REFUSED" in message.text:
            return
        if self.websocket_refused and re.match(r"WebSocket connection to .* failed", message.text):
            return
        if message.type == "error" and not self._expected_failure(message):
            self.errors.append(f"{name}: console error: {message.text} ({message.location})")

    def _expected_failure(self, message: Any) -> bool:
        """Chromium's line about a response whose status the test declared with expect_status."""
        failed = re.match(r"Failed to load resource: .* status of (\d+) ", message.text)
        path = urlsplit(message.location.get("url", "")).path
        return failed is not None and (path, int(failed[1])) in self.expected_statuses

    def _response(self, response: Any) -> None:
        if response.request.resource_type == "document":
            self.documents.append((response.url, response.headers.get("content-security-policy")))

    def foreign_requests(self) -> list[tuple[str, str]]:
        """Requests (and WebSockets) that went anywhere but the server under test."""
        own = {urlsplit(self.origin).netloc, *self.proxies}
        return [
            (name, url)
            for name, url in self.requests
            if urlsplit(url).scheme not in ("http", "ws") or urlsplit(url).netloc not in own
        ]

    def weak_policies(self) -> list[tuple[str, str | None]]:
        """Pages whose CSP allows inline script (or does not restrict scripts to 'self')."""
        return [
            (url, policy)
            for url, policy in self.documents
            if policy is None
            or "'unsafe-inline'" in policy
            or not re.search(r"(^|;)\s*script-src 'self'\s*(;|$)", policy)
        ]

    def check(self) -> None:
        assert self.requests, "no request was recorded"
        foreign = self.foreign_requests()
        assert not foreign, f"requests left {self.origin}: {foreign}"
        assert not self.errors, "\n".join(self.errors)
        assert self.documents, "no page was loaded"
        weak = self.weak_policies()
        assert not weak, f"Content-Security-Policy allows inline script: {weak}"

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@contextlib.contextmanager
def serving_deck(
    browser: Browser, tmp_path: Path, name: str, deck_text: str
) -> Iterator[tuple[Browse, ServerProcess]]:
    """A server running a deck written from `deck_text`, and the pages opened on it; when the
    block ends, what the pages did is checked (`Browse.check`), and the pages and the server
    are closed either way."""
    deck = tmp_path / name
    deck.write_text(deck_text, encoding="utf-8")
    server = ServerProcess(tmp_path).start("--deck", str(deck))
    browse = Browse(browser, server)
    try:
        yield browse, server
        browse.check()
    finally:
        browse.close()
        server.stop()


# Words the deck check accepts that no phone line holds: Dutch compounds and web addresses.
ADDRESS = "www.rijksoverheid.nl/onderwerpen/arbeidsongeschiktheidsverzekeringen"
LONG_WORDS_DECK = f"""
title = "Arbeidsongeschiktheidsverzekeringen en zorgverzekeringsmaatschappijen"
language = "nl"

[[panel]]
name = "Prof. Dr. Geert-Jan Geersing"
role = "Hoogleraar Gezondheidszorginnovatiemanagement"

[[statements]]
key = "words"
theme = "Arbeidsongeschiktheidsverzekeringen"
statement = "Zorgverzekeringsmaatschappijen moeten dit vergoeden: {ADDRESS}"
[[statements.options]]
key = "premies"
label = "Ziektekostenverzekeringspremies"
[[statements.options]]
key = "uitkering"
label = "Arbeidsongeschiktheidsuitkering"
[[statements.facts]]
text = "Zie {ADDRESS}/cijfers-2025"
source = "{ADDRESS}/monitor-zorg-en-technologie"

[[statements]]
key = "second"
statement = "Kort."
"""
