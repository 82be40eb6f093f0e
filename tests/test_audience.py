"""The expected audience: screens show when more phones joined, and an optional hard cap.

A script that takes a new cookie per vote is not stopped by any per-cookie limit (it cast
1,500 of 1,500 votes in 22 s); what the organiser can do is say how many phones to expect.
"""

from __future__ import annotations

from polling import db, socketio
from polling.domain.decks import load_deck
from polling.domain.events import create_event
from polling.domain.models import Event
from tests.support import PANEL_DECK, Clients, control, csrf, last_state, received


def event_expecting(app, expected: int, cap: bool) -> Event:
    with db.session() as session:
        return create_event(
            session, load_deck(PANEL_DECK), expected_audience=expected, audience_cap=cap
        )


def test_screens_show_when_more_phones_joined_than_expected(app):
    clients = Clients(app, event_expecting(app, 2, cap=False))
    moderator, presenter = clients.moderator(), clients.presenter()
    phones = [clients.phone() for _ in range(2)]
    control(moderator, "next", "open")
    assert last_state(moderator)["turnout"]["over_expected"] is False
    phones.append(clients.phone())  # a third: no cap, so it gets in
    assert phones[-1].is_connected()
    round_id = last_state(phones[0])["round"]["id"]
    assert phones[0].emit("vote", {"round": round_id, "choice": "agree"}, callback=True)["ok"]
    for screen in (moderator, presenter):
        turnout = received(screen, "tally")[-1]["turnout"]
        assert turnout == {
            "voters": 1,
            "participants": 3,
            "percent": 33,
            "expected": 2,
            "over_expected": True,
        }
    assert phones[0].emit("sync", callback=True)["state"]["turnout"] is None  # phones: not told


def test_a_hard_cap_refuses_new_phones_but_not_returning_ones(app):
    clients = Clients(app, event_expecting(app, 2, cap=True))
    first_browser = app.test_client()
    first = clients.phone(first_browser)
    second = clients.phone()
    assert first.is_connected() and second.is_connected()
    third = clients.phone()
    assert not third.is_connected()  # refused: audience_full
    first.disconnect()
    again = socketio.test_client(
        app, flask_test_client=first_browser, auth={"code": clients.event.code, "role": "audience"}
    )
    assert again.is_connected()


def test_the_organiser_sets_the_expected_audience_and_cap(app):
    from polling.web.organiser import set_password
    from tests.support import PASSWORD, log_in

    with db.session() as session:
        set_password(session, PASSWORD)
    browser = app.test_client()
    log_in(browser, PASSWORD)
    form = {"deck": "ai-in-de-zorg.toml", "results": "hidden", "audience": "120"}
    token = csrf(browser, "/organiser/")
    created = browser.post("/organiser/events", data={**form, "csrf": token, "audience_cap": "on"})
    assert created.status_code == 302
    for bad in ("many", "0", "-3"):
        refused = browser.post("/organiser/events", data={**form, "csrf": token, "audience": bad})
        assert refused.status_code == 400
    refused = browser.post(
        "/organiser/events", data={**form, "csrf": token, "audience": "", "audience_cap": "on"}
    )
    assert refused.status_code == 400
    with db.session() as session:
        (event,) = session.query(Event).all()
    assert (event.expected_audience, event.audience_cap) == (120, True)


def test_a_deck_may_say_how_many_to_expect(tmp_path):
    deck = tmp_path / "deck.toml"
    deck.write_text(
        'title = "T"\nlanguage = "en"\naudience = 80\naudience_cap = true\n'
        '[[statements]]\nkey = "one"\nstatement = "S"\n'
    )
    loaded = load_deck(deck)
    assert (loaded.audience, loaded.audience_cap) == (80, True)
