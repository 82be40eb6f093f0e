"""The browser rig: a real `polling serve` process and Debian's Chromium driven by Playwright.

Every page a test opens through `browse` is watched: each request must go to the server under
test, no page may log a console error or throw, and every page's Content-Security-Policy must
forbid inline script. `browse` checks this when the test ends. An error status the test means
to get (`browse.expect_status`) is not a console error.

Without /usr/bin/chromium the browser tests are skipped, unless POLLING_REQUIRE_SERVICES=1
(as in CI): then they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import REPORT, WAIT_MS, Browse
from tests.server_process import ServerProcess
from tests.support import unavailable

try:
    from playwright.sync_api import Browser, expect, sync_playwright
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
