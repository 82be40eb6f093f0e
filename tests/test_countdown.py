"""The countdown closes a round by itself; the screens carry the allowed actions and the
number of joined phones; joins are announced, coalesced, never one message per phone."""

from __future__ import annotations

from datetime import timedelta

from polling import db
from polling.domain import voting
from polling.domain.models import Round, utcnow
from tests.support import control, last_state, received


def test_opening_with_a_countdown_closes_the_round_when_it_runs_out(app, clients):
    moderator, phone = clients.moderator(), clients.phone()
    control(moderator, "next")
    reply = moderator.emit("control", {"action": "open", "seconds": 30}, callback=True)
    assert reply == {"ok": True}
    opened = last_state(phone)
    assert opened["phase"] == "open"
    assert 29_000 < opened["round"]["remaining_ms"] <= 30_000
    assert "extend" in last_state(moderator)["allowed_actions"]

    countdown = app.extensions["polling_countdown"]
    assert countdown.tick() == []  # not yet due
    _move_deadline_to_the_past()
    late = phone.emit("vote", {"round": opened["round"]["id"], "choice": "agree"}, callback=True)
    assert late["error"] == "voting_closed"  # refused at the deadline, before the close
    assert countdown.tick() == [clients.event.id]
    closed = last_state(phone)
    assert closed["phase"] == "closed" and closed["round"]["remaining_ms"] is None
    assert countdown.tick() == []  # closed once, announced once


def test_the_moderator_extends_or_stops_the_countdown(app, clients):
    moderator = clients.moderator()
    control(moderator, "next")
    moderator.emit("control", {"action": "open", "seconds": 20}, callback=True)
    assert moderator.emit("control", {"action": "extend", "seconds": 40}, callback=True)["ok"]
    assert 59_000 < last_state(moderator)["round"]["remaining_ms"] <= 60_000
    control(moderator, "stop_timer")
    stopped = last_state(moderator)
    assert stopped["phase"] == "open" and stopped["round"]["remaining_ms"] is None
    assert "extend" not in stopped["allowed_actions"]
    refused = moderator.emit("control", {"action": "extend"}, callback=True)
    assert refused["error"] == "no_timer"
    for bad in (0, 4, 3601, "30", True):
        reply = moderator.emit("control", {"action": "open", "seconds": bad}, callback=True)
        assert not reply["ok"], bad


def test_the_state_says_what_the_moderator_may_do_next(clients):
    moderator = clients.moderator()
    assert last_state(moderator)["allowed_actions"] == ["next", "results_live"]
    control(moderator, "next")
    assert last_state(moderator)["allowed_actions"] == ["next", "previous", "open", "results_live"]
    control(moderator, "open")
    assert last_state(moderator)["allowed_actions"] == [
        "next",
        "previous",
        "close",
        "reveal",
        "results_live",
    ]
    control(moderator, "close", "reveal")
    assert last_state(moderator)["allowed_actions"] == [
        "next",
        "previous",
        "open",
        "hide",
        "new_round",
        "results_live",
    ]
    assert "allowed_actions" not in last_state(clients.phone())


def test_joins_are_counted_for_the_screens_only(clients):
    presenter, moderator = clients.presenter(), clients.moderator()
    assert last_state(presenter)["joined"] == 0
    phones = [clients.phone() for _ in range(3)]
    assert received(presenter, "presence")[-1] == {"joined": 3}
    assert received(moderator, "presence")[-1] == {"joined": 3}
    assert "joined" not in last_state(phones[0])


def test_joins_within_one_interval_make_one_message(tmp_path):
    from polling import create_app
    from tests.support import app_settings

    app = create_app({**app_settings(tmp_path), "TALLY_INTERVAL": 3600})
    publisher = app.extensions["polling_tallies"]
    publisher.running = True  # no background task: this test publishes by hand
    for event_id in (7, 7, 7, 8):
        publisher.joined(event_id)
    publisher.vote_committed(9)
    assert {key: pending.joined for key, pending in publisher.pending.items()} == {
        7: True,
        8: True,
        9: False,
    }


def _move_deadline_to_the_past() -> None:
    with db.session() as session:
        round_ = session.query(Round).one()
        round_.closes_at = utcnow() - timedelta(seconds=1)
        session.commit()


def test_close_due_rounds_leaves_rounds_without_a_deadline_alone(app, clients):
    control(clients.moderator(), "next", "open")
    with db.session() as session:
        assert voting.close_due_rounds(session, utcnow() + timedelta(days=1)) == []
