"""The browser rig: a real `polling serve` process and Debian's Chromium driven by Playwright.

Every page a test opens through `browse` is watched: each request must go to the server under
test, no page may log a console error or throw, and every page's Content-Security-Policy must
forbid inline script. `browse` checks this when the test ends. An error status the test means
to get (`browse.expect_status`) is not a console error.

Without /usr/bin/chromium the browser tests are skipped, unless POLLING_REQUIRE_SERVICES=1
(as in CI): then they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.helpers import PHONE, REPORT, WAIT_MS
from tests.server_process import ServerProcess

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # reported by the `browser` fixture
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
CALL_FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Remember whether the test itself failed, so `browse` does not pile on at teardown."""
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT["axe"] and REPORT["transfer"] is None and not REPORT["fonts"]:
        return
    terminalreporter.section("browser suite")
    for viewport, sizes in REPORT["fonts"].items():
        measured = ", ".join(f"{name} {size} px" for name, size in sizes.items())
        terminalreporter.write_line(f"smallest type on the projector at {viewport}: {measured}")
    for page, count in REPORT["axe"].items():
        terminalreporter.write_line(f"axe WCAG 2.1 A/AA violations, {page}: {count}")
    if REPORT["transfer"] is not None:
        terminalreporter.write_line(f"vote page, first load: {REPORT['transfer']} bytes")


def unavailable(reason: str) -> None:
    """Skip, or fail where the environment promises the browser (CI)."""
    if os.environ.get("POLLING_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (POLLING_REQUIRE_SERVICES=1: not skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        unavailable("Playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        unavailable(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A fresh server with a fresh event, per test."""
    process = ServerProcess(tmp_path).start()
    yield process
    process.stop()


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

    def _console(self, name: str, message: Any) -> None:
        if self.server_down and "net::ERR_CONNECTION_REFUSED" in message.text:
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
        own = urlsplit(self.origin).netloc
        return [
            (name, url)
            for name, url in self.requests
            if urlsplit(url).scheme not in ("http", "ws") or urlsplit(url).netloc != own
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


@pytest.fixture
def browse(
    request: pytest.FixtureRequest, browser: Browser, server: ServerProcess
) -> Iterator[Browse]:
    """Open pages on the test's server; after a passing test, check what every page did."""
    watcher = Browse(browser, server)
    try:
        yield watcher
        if not request.node.stash.get(CALL_FAILED, True):
            watcher.check()
    finally:
        watcher.close()
