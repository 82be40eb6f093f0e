"""The projector driven by keyboard or clicker alone, the countdown across a server restart,
a tap while offline, and axe on the screens this brought (countdown, presence, rounds)."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import socketio

from tests.browser.helpers import (
    PHONE,
    PROJECTOR,
    Browse,
    axe_check,
    choice,
    control,
    expect,
    reveal,
    vote,
)
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Page


def keyboard_presenter(browse: Browse, server: ServerProcess) -> Page:
    """The projector opened with the moderator key: the keyboard controls the event."""
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(f"/{server.code}/presenter?key={server.key('moderator')}")
    expect(presenter.locator("#statement-position")).to_have_text("")
    return presenter


def press(presenter: Page, key: str, badge: str, position: str = "") -> None:
    """Press a key and wait for the screen it leads to."""
    presenter.keyboard.press(key)
    expect(presenter.locator("#phase-badge")).to_have_text(badge)
    if position:
        expect(presenter.locator("#statement-position")).to_have_text(position)


def test_a_whole_panel_from_the_keyboard_alone(browse: Browse, server: ServerProcess) -> None:
    presenter = keyboard_presenter(browse, server)
    shortcuts = presenter.locator("#shortcuts")
    expect(shortcuts).to_be_visible()  # for a few seconds after it opens, then gone
    expect(shortcuts).to_be_hidden()
    phone = browse.page("phone", PHONE)
    phone.goto(f"/{server.code}")
    expect(presenter.locator("#joined")).to_have_text("1 deelnemer")

    # Every statement: next, open, a vote, close, reveal; each key works every time.
    for position in range(1, 5):
        key = "PageDown" if position % 2 else "ArrowRight"
        press(presenter, key, "", f"Stelling {position} van 4")
        press(presenter, "o", "Stemming geopend")
        vote(phone, "Eens" if position % 2 else "Oneens")
        press(presenter, "o", "Stemming gesloten")
        presenter.keyboard.press("u")
        expect(presenter.locator("#results-bars .legend-value").first).to_have_text(
            re.compile(r"^(100% · 1|0% · 0)$")
        )
        if position == 2:
            # A re-vote: N opens round 2, shown on the projector and the phone.
            press(presenter, "n", "Stemming geopend")
            expect(presenter.locator("#round-number")).to_have_text("· Ronde 2")
            expect(phone.locator("#round-number")).to_have_text("· Ronde 2")
            press(presenter, "o", "Stemming gesloten")
            # A reload reconnects; the keys still work.
            presenter.reload()
            expect(presenter.locator("#statement-position")).to_have_text("Stelling 2 van 4")
    press(presenter, "PageUp", "Stemming gesloten", "Stelling 3 van 4")
    press(presenter, "ArrowRight", "Stemming gesloten", "Stelling 4 van 4")

    # B blacks the screen out and back; ? shows the keys until pressed again.
    blackout = presenter.locator("#blackout")
    presenter.keyboard.press("b")
    expect(blackout).to_be_visible()
    presenter.keyboard.press("B")
    expect(blackout).to_be_hidden()
    expect(shortcuts).to_be_hidden()  # shown for a few seconds after the reload
    presenter.keyboard.press("?")
    expect(shortcuts).to_be_visible()
    presenter.keyboard.press("?")
    expect(shortcuts).to_be_hidden()

    press(presenter, "ArrowRight", "")
    expect(presenter.locator("#statement-text")).to_have_text("Bedankt!")
    expect(phone.get_by_role("heading", name="Bedankt!")).to_be_visible()


def test_the_countdown_closes_voting_across_a_restart(
    browse: Browse, server: ServerProcess
) -> None:
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    phone = browse.page("phone", PHONE)
    phone.goto(f"/{server.code}")
    expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()

    seconds = 6
    with socketio.SimpleClient() as moderator:
        auth = {"code": server.code, "role": "moderator", "key": server.key("moderator")}
        moderator.connect(server.base_url, auth=auth)
        assert moderator.call("control", {"action": "next"}) == {"ok": True}
        assert moderator.call("control", {"action": "open", "seconds": seconds}) == {"ok": True}
        deadline = time.monotonic() + seconds
    for page in (presenter, phone):
        expect(page.locator("#countdown")).to_have_text(re.compile(r"^0:0[1-6]$"))
    vote(phone, "Eens")

    # The server dies before the deadline and comes back after it.
    browse.expect_server_down()
    server.kill()
    expect(phone.locator("#connection")).to_be_visible()
    time.sleep(max(0.0, deadline - time.monotonic()) + 0.5)  # let the deadline pass while down
    server.start()

    expect(phone.locator("#connection")).to_be_hidden()
    expect(phone.locator("#phase-note")).to_have_text("Het stemmen is gesloten.")
    expect(phone.locator("#vote-status")).to_have_text("Uw stem: Eens")
    expect(phone.locator("#countdown")).to_be_hidden()
    expect(presenter.locator("#phase-badge")).to_have_text("Stemming gesloten")
    expect(presenter.locator("#turnout")).to_have_text("1 van 1 heeft gestemd")


def test_a_tap_while_offline_is_sent_when_back_and_new_screens_pass_axe(
    browse: Browse, server: ServerProcess
) -> None:
    found = {}
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    phone = browse.page("phone", PHONE)
    phone.goto(f"/{server.code}")
    expect(presenter.locator("#joined")).to_have_text("1 deelnemer")
    found["presenter, lobby with joined"] = axe_check(presenter, "presenter, lobby with joined")

    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    expect(moderator.locator("#joined")).to_have_text("1 deelnemer")
    control(moderator, "Volgende →", "ready")
    moderator.get_by_label("Aftellen").select_option("90")
    control(moderator, "Stemming openen", "open")
    expect(moderator.get_by_role("button", name="+30 seconden")).to_be_visible()
    expect(phone.locator("#countdown")).to_be_visible()
    found["moderator, countdown"] = axe_check(moderator, "moderator, countdown")
    found["phone, countdown"] = axe_check(phone, "phone, countdown")
    found["presenter, countdown"] = axe_check(presenter, "presenter, countdown")

    # Offline, the tap is kept and shown as waiting, then sent once the phone is back.
    phone.context.set_offline(True)
    expect(phone.locator("#connection")).to_be_visible()
    phone.get_by_role("button", name="Oneens", exact=True).tap()
    status = phone.locator("#vote-status")
    expect(status).to_have_text(
        "Geen verbinding: uw stem (Oneens) wordt verstuurd zodra die terug is."
    )
    found["phone, tap waiting offline"] = axe_check(phone, "phone, tap waiting offline")
    phone.context.set_offline(False)
    # The reconnection backoff grew while offline: the next try may take its full 15 s.
    expect(phone.locator("#connection")).to_be_hidden(timeout=30_000)
    expect(status).to_have_text("✓ Uw stem is ontvangen: Oneens")
    expect(choice(phone, "Oneens")).to_have_attribute("aria-pressed", "true")

    control(moderator, "Stop aftellen")
    expect(moderator.locator("#countdown")).to_be_hidden()
    control(moderator, "Stemming sluiten", "closed")
    expect(moderator.locator("#round-help")).to_be_visible()
    expect(moderator.get_by_role("button", name="Stemming heropenen")).to_be_visible()
    found["moderator, reopen or new round"] = axe_check(moderator, "moderator, reopen or new round")
    control(moderator, "Nieuwe ronde", "open")
    expect(phone.locator("#round-number")).to_have_text("· Ronde 2")
    expect(presenter.locator("#round-number")).to_have_text("· Ronde 2")
    found["phone, round 2"] = axe_check(phone, "phone, round 2")
    control(moderator, "Stemming sluiten", "closed")
    reveal(moderator)
    expect(presenter.locator("#results-bars .results-empty")).to_have_text("Nog geen stemmen")
    found["presenter, empty round revealed"] = axe_check(
        presenter, "presenter, empty round revealed"
    )

    failing = {name: results for name, results in found.items() if results.violations_count}
    assert not failing, "\n\n".join(
        f"{name}:\n{results.generate_report()}" for name, results in failing.items()
    )
