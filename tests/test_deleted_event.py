"""A deleted event's pages can never act on another event (issue: a moderator socket of a
deleted event controlled the next one, and an old phone's vote overwrote a new phone's)."""

from __future__ import annotations

from sqlalchemy import func, select

from polling import db
from polling.domain.events import create_event, delete_event
from polling.domain.models import Vote
from tests.support import Clients, control, last_state


def test_ids_of_a_deleted_event_are_never_given_again(app, deck, clients):
    moderator = clients.moderator()
    phone = clients.phone()
    control(moderator, "next", "open")
    old_round = last_state(phone)["round"]["id"]
    assert phone.emit("vote", {"round": old_round, "choice": "agree"}, callback=True)["ok"]
    with db.session() as session:
        delete_event(session, clients.event.id)
        new = create_event(session, deck)
    assert new.id > clients.event.id
    new_clients = Clients(app, new)
    new_moderator, new_phone = new_clients.moderator(), new_clients.phone()
    control(new_moderator, "next", "open")
    assert last_state(new_phone)["round"]["id"] > old_round


def test_a_connection_of_a_deleted_event_is_refused_everything(app, deck, clients):
    """Deleted behind the connections' back (the command line, or another process whose
    close has not arrived yet): each request gets `event_gone`, and nothing changes."""
    moderator = clients.moderator()
    old_phone = clients.phone()
    with db.session() as session:
        delete_event(session, clients.event.id)
        new = create_event(session, deck)
    new_clients = Clients(app, new)
    new_moderator, new_phone = new_clients.moderator(), new_clients.phone()
    control(new_moderator, "next", "open")
    round_id = last_state(new_phone)["round"]["id"]
    assert new_phone.emit("vote", {"round": round_id, "choice": "agree"}, callback=True)["ok"]

    for client, event, data in (
        (moderator, "sync", None),
        (moderator, "control", {"action": "close"}),
        (old_phone, "sync", None),
        (old_phone, "vote", {"round": round_id, "choice": "disagree"}),
    ):
        reply = client.emit(event, data, callback=True)
        assert reply["ok"] is False and reply["error"] == "event_gone", (event, reply)
    assert new_phone.emit("sync", callback=True)["state"]["phase"] == "open"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 1


def test_the_questions_and_reasons_of_a_deleted_event_are_refused_as_gone(app, deck, clients):
    """The hall's talk-back requests say `event_gone` too, as the protocol promises for any
    request of a connection that outlived its event, and change nothing."""
    moderator, phone = clients.moderator(), clients.phone()
    control(moderator, "next", "open")
    round_id = last_state(phone)["round"]["id"]
    assert phone.emit("vote", {"round": round_id, "choice": "agree"}, callback=True)["ok"]
    asked = phone.emit("question_ask", {"text": "Wat kost dit?"}, callback=True)
    given = phone.emit("reason_give", {"round": round_id, "text": "Omdat het helpt"}, callback=True)
    assert asked["ok"] and given["ok"], (asked, given)
    question_id, reason_id = asked["question"]["id"], given["reason"]["id"]
    with db.session() as session:
        delete_event(session, clients.event.id)

    wrong = []
    for client, event, data in (
        (phone, "questions_sync", {}),
        (moderator, "questions_sync", {}),
        (phone, "question_ask", {"text": "En wat levert het op?"}),
        (phone, "question_upvote", {"question": question_id, "up": True}),
        (moderator, "question_moderate", {"question": question_id, "action": "approve"}),
        (phone, "reasons_sync", {}),
        (moderator, "reasons_sync", {}),
        (phone, "reason_give", {"round": round_id, "text": "Omdat het werkt"}),
        (phone, "reason_upvote", {"reason": reason_id, "up": True}),
        (moderator, "reasons_show", {"shown": True}),
    ):
        reply = client.emit(event, data, callback=True)
        if not (reply["ok"] is False and reply["error"] == "event_gone"):
            wrong.append((event, reply))
    assert wrong == [], "\n".join(map(repr, wrong))
