"""Reasons for a vote ("Waarom eens?") through the Flask-SocketIO test client: the rules (one
per phone per round, the side follows the vote, moderation, movers), acks and errors, and who
hears about them."""

from __future__ import annotations

from sqlalchemy import func, select

from polling import create_app, db
from polling.domain import reasons
from polling.domain.decks import load_deck
from polling.domain.events import create_event
from polling.domain.reason_models import Reason
from tests.support import (
    PANEL_DECK,
    Clients,
    app_settings,
    control,
    last_state,
    received,
    statements_run,
)


def sync(client) -> dict:
    reply = client.emit("reasons_sync", {}, callback=True)
    assert reply["ok"] is True, reply
    return reply["reasons"]


def current_state(client) -> dict:
    return client.emit("sync", {}, callback=True)["state"]


def vote(phone, choice: str) -> int:
    round_id = current_state(phone)["round"]["id"]
    assert phone.emit("vote", {"round": round_id, "choice": choice}, callback=True)["ok"]
    return round_id


def give(phone, round_id: int, text: str) -> dict:
    return phone.emit("reason_give", {"round": round_id, "text": text}, callback=True)


def moderate(moderator, reason_id: int, action: str, **fields) -> None:
    reply = moderator.emit(
        "reason_moderate", {"reason": reason_id, "action": action, **fields}, callback=True
    )
    assert reply == {"ok": True}, reply


def reasons_in_database() -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Reason)) or 0


def test_a_phone_gives_one_reason_per_round_and_its_side_follows_the_vote(clients):
    moderator, phone = clients.moderator(), clients.phone()
    control(moderator, "next", "open")
    round_id = current_state(phone)["round"]["id"]
    assert give(phone, round_id, "Omdat het werkt")["error"] == "not_voted"

    vote(phone, "agree")
    reply = give(phone, round_id, "  Omdat   het werkt  ")
    assert reply["ok"] is True, reply
    assert (reply["reason"]["text"], reply["reason"]["choice"]) == ("Omdat het werkt", "agree")
    again = give(phone, round_id, "Omdat het tijd bespaart")
    assert again["reason"]["id"] == reply["reason"]["id"]
    assert reasons_in_database() == 1

    # Changing the vote keeps the reason and moves it to the new side.
    vote(phone, "disagree")
    board = sync(moderator)
    assert [(r["text"], r["choice"]) for r in board["reasons"]] == [
        ("Omdat het tijd bespaart", "disagree")
    ]
    # After a reconnect the phone's state has its reason.
    assert current_state(phone)["you"]["reason"]["text"] == "Omdat het tijd bespaart"


def test_reasons_are_taken_until_the_next_statement_and_only_in_the_current_round(clients):
    moderator, phone = clients.moderator(), clients.phone()
    control(moderator, "next", "open")
    first = vote(phone, "agree")
    control(moderator, "close")
    assert give(phone, first, "Na het sluiten mag het nog")["ok"] is True
    assert current_state(phone)["reasons"] == {"mode": "open", "shown": False}
    control(moderator, "new_round")
    assert give(phone, first, "Dit is een oude ronde")["error"] == "not_current"
    control(moderator, "next")
    assert give(phone, first, "Een andere stelling nu")["error"] == "not_current"


def test_bad_reasons_are_refused_with_a_clear_code_and_change_nothing(clients):
    moderator, phone = clients.moderator(), clients.phone()
    control(moderator, "next", "open")
    round_id = vote(phone, "agree")
    for payload, code in (
        ({"round": round_id, "text": "ja"}, "too_short"),
        ({"round": round_id, "text": "x" * 201}, "too_long"),
        ({"round": round_id, "text": "x" * 100_000}, "too_long"),
        ({"round": round_id, "text": "\ud800 geen tekst"}, "bad_request"),
        ({"round": round_id}, "bad_request"),
        ({"round": "1", "text": "Een reden"}, "bad_request"),
        ({"round": 2**70, "text": "Een reden"}, "bad_request"),
        ({"round": round_id + 1000, "text": "Een reden"}, "unknown_round"),
        ("not a dict", "bad_request"),
    ):
        reply = phone.emit("reason_give", payload, callback=True)
        assert (reply["ok"], reply["error"]) == (False, code), payload
    assert (
        moderator.emit(
            "reason_give", {"round": round_id, "text": "Ik ben geen telefoon"}, callback=True
        )["error"]
        == "not_audience"
    )
    reply = moderator.emit("question_settings", {"reasons": "off"}, callback=True)
    assert reply == {"ok": True}
    assert last_state(phone)["reasons"]["mode"] == "off"
    assert give(phone, round_id, "Nu niet meer")["error"] == "reasons_closed"
    assert reasons_in_database() == 0


def test_the_hall_sees_reasons_only_once_shown_and_upvotes_either_side(clients):
    moderator, presenter = clients.moderator(), clients.presenter()
    writer, other = clients.phone(), clients.phone()
    control(moderator, "next", "open")
    round_id = vote(writer, "agree")
    vote(other, "disagree")
    reason = give(writer, round_id, "Het scheelt tijd")["reason"]
    assert sync(other)["sides"] == {}
    reply = other.emit("reason_upvote", {"reason": reason["id"]}, callback=True)
    assert reply["error"] == "not_shown"

    assert moderator.emit("reasons_show", {"shown": True}, callback=True) == {"ok": True}
    assert last_state(other)["reasons"]["shown"] is True
    hall = sync(other)
    assert [r["text"] for r in hall["sides"]["agree"]] == ["Het scheelt tijd"]
    assert hall["sides"]["disagree"] == []
    other.get_received()

    reply = other.emit("reason_upvote", {"reason": reason["id"], "up": True}, callback=True)
    assert reply == {"ok": True, "reason": reason["id"], "up": True, "upvotes": 1}
    # Only the count changed: the update names the lists by id and carries the new count.
    update = received(other, "reasons")[-1]
    assert update["sides"] == {"agree": [reason["id"]], "disagree": []}
    assert (update["changed"], update["upvotes"]) == ([], [[reason["id"], 1]])
    assert sync(other)["upvoted"] == [reason["id"]]
    own = writer.emit("reason_upvote", {"reason": reason["id"]}, callback=True)
    assert own["error"] == "own_reason"
    # Nothing is on the projector until the moderator picks it.
    assert sync(presenter)["sides"] == {"agree": [], "disagree": []}
    moderate(moderator, reason["id"], "pick")
    screen = received(presenter, "reasons_screen")[-1]
    assert [r["text"] for r in screen["sides"]["agree"]] == ["Het scheelt tijd"]


def test_premoderation_the_blocklist_and_a_muted_phone_hold_reasons_back(clients):
    moderator, writer, reader = clients.moderator(), clients.phone(), clients.phone()
    control(moderator, "next", "open")
    round_id = vote(writer, "agree")
    moderator.emit("reasons_show", {"shown": True}, callback=True)

    rude = give(writer, round_id, "Wat een shit voorstel")["reason"]
    assert rude["state"] == "pending"
    held = sync(moderator)["reasons"][0]
    assert (held["held"], held["state"]) == ("blocklist", "pending")
    assert sync(reader)["sides"]["agree"] == []
    moderate(moderator, rude["id"], "dismiss")
    # The writer is not told it was dismissed.
    assert current_state(writer)["you"]["reason"]["state"] == "pending"

    # A dismissed reason stays dismissed when its writer edits it; a muted phone's wait.
    moderate(moderator, rude["id"], "mute")
    assert give(writer, round_id, "Een nette reden nu")["reason"]["state"] == "pending"
    assert sync(moderator)["reasons"][0]["muted"] is True
    assert sync(reader)["sides"]["agree"] == []

    control(moderator, "close", "new_round")
    round_id = vote(writer, "agree")
    assert give(writer, round_id, "Een nette reden nu")["reason"]["state"] == "pending"
    assert sync(moderator)["reasons"][0]["held"] == "muted"
    moderator.emit("reasons_show", {"shown": True}, callback=True)

    moderator.emit("question_settings", {"reasons_premoderation": True}, callback=True)
    other = clients.phone()
    vote(other, "disagree")
    waiting = give(other, round_id, "Moet eerst langs de moderator")["reason"]
    assert waiting["state"] == "pending"
    moderate(moderator, waiting["id"], "approve")
    assert [r["text"] for r in sync(reader)["sides"]["disagree"]] == [
        "Moet eerst langs de moderator"
    ]


def test_a_phone_that_changed_its_mind_is_a_mover_on_the_projector(clients):
    moderator, presenter = clients.moderator(), clients.presenter()
    mover, stayer = clients.phone(), clients.phone()
    control(moderator, "next", "open")
    vote(mover, "agree")
    vote(stayer, "agree")
    control(moderator, "close", "new_round")
    round_two = vote(mover, "disagree")
    vote(stayer, "agree")
    moved = give(mover, round_two, "Het panel heeft me overtuigd")["reason"]
    stayed = give(stayer, round_two, "Nog steeds een goed idee")["reason"]
    for reason in (moved, stayed):
        moderate(moderator, reason["id"], "pick")
    screen = sync(presenter)
    assert [r["text"] for r in screen["sides"]["agree"]] == ["Nog steeds een goed idee"]
    assert screen["sides"]["disagree"] == []
    assert [(r["text"], r["moved"]) for r in screen["movers"]] == [
        ("Het panel heeft me overtuigd", {"from": "agree", "to": "disagree"})
    ]


def test_only_the_moderator_moderates_and_shows(clients):
    moderator, presenter, phone = clients.moderator(), clients.presenter(), clients.phone()
    control(moderator, "next", "open")
    round_id = vote(phone, "agree")
    reason = give(phone, round_id, "Een reden om te modereren")["reason"]
    for client in (presenter, phone):
        for name, payload in (
            ("reason_moderate", {"reason": reason["id"], "action": "hide"}),
            ("reasons_show", {"shown": True}),
        ):
            assert client.emit(name, payload, callback=True)["error"] == "forbidden"
    for payload, code in (
        ({"reason": reason["id"], "action": "explode"}, "bad_request"),
        ({"reason": reason["id"] + 99, "action": "hide"}, "unknown_reason"),
        ({"reason": reason["id"], "action": "dismiss"}, "not_allowed"),
        ({"reason": reason["id"], "action": "edit"}, "bad_request"),
    ):
        reply = moderator.emit("reason_moderate", payload, callback=True)
        assert reply["error"] == code, payload
    assert moderator.emit("reasons_show", {"shown": "yes"}, callback=True)["error"] == (
        "bad_request"
    )
    moderate(moderator, reason["id"], "edit", text="Een kortere reden")
    assert sync(moderator)["reasons"][0]["original_text"] == "Een reden om te modereren"


def test_the_projector_leaves_the_reasons_when_another_round_comes_up(clients):
    """The reasons on screen were the round's before: the hall votes on the statement next."""
    moderator, presenter = clients.moderator(), clients.presenter()
    control(moderator, "next", "open", "close")
    for view, action in (("reasons", "new_round"), ("words", "next")):
        reply = moderator.emit("question_settings", {"view": view}, callback=True)
        assert reply == {"ok": True}, reply
        assert sync(moderator)["view"] == view
        received(presenter, "questions_screen")
        control(moderator, action)
        assert received(presenter, "questions_screen")[-1]["settings"]["view"] == "statements"
        control(moderator, "open", "close")
        assert sync(presenter)["view"] == "statements"
    # The questions' view is the event's, not a round's: it stays.
    moderator.emit("question_settings", {"view": "questions"}, callback=True)
    control(moderator, "next")
    reply = moderator.emit("questions_sync", {}, callback=True)
    assert reply["questions"]["settings"]["view"] == "questions"


def test_the_whole_round_of_reasons_on_postgres_too(tmp_path, postgres_url):
    """The upsert of a reason and the board's one query, on the other database."""
    app = create_app({**app_settings(tmp_path), "DATABASE_URL": postgres_url})
    with db.session() as session:
        event = create_event(session, load_deck(PANEL_DECK))
    clients = Clients(app, event)
    moderator, presenter, mover, reader = (
        clients.moderator(),
        clients.presenter(),
        clients.phone(),
        clients.phone(),
    )
    control(moderator, "next", "open")
    vote(mover, "agree")
    control(moderator, "close", "new_round")
    round_two = vote(mover, "disagree")
    vote(reader, "agree")
    first = give(mover, round_two, "Eerste versie")["reason"]
    assert give(mover, round_two, "Tweede versie")["reason"]["id"] == first["id"]
    moderate(moderator, first["id"], "pick")
    assert moderator.emit("reasons_show", {"shown": True}, callback=True) == {"ok": True}
    upvote = reader.emit("reason_upvote", {"reason": first["id"]}, callback=True)
    assert upvote["upvotes"] == 1, upvote
    screen = sync(presenter)
    assert [(r["text"], r["moved"], r["upvotes"]) for r in screen["movers"]] == [
        ("Tweede versie", {"from": "agree", "to": "disagree"}, 1)
    ]
    moderate(moderator, first["id"], "hide")
    assert give(mover, round_two, "Derde versie")["reason"]["state"] == "hidden"
    # A phone's state has its own vote and reason, read together in one query.
    you = current_state(mover)["you"]
    assert (you["choice"], you["reason"]["text"]) == ("disagree", "Derde versie")
    assert current_state(reader)["you"] == {"choice": "agree", "reason": None}
    db.engine.dispose()


def test_the_moderator_gets_the_queue_and_each_sides_best_and_newest_not_everything(clients):
    moderator = clients.moderator()
    control(moderator, "next", "open")
    given = []
    for number in range(6):
        phone = clients.phone()
        round_id = vote(phone, "agree" if number < 5 else "disagree")
        given.append(give(phone, round_id, f"Reden nummer {number}")["reason"])
    moderator.emit("question_settings", {"reasons_premoderation": True}, callback=True)
    waiting = clients.phone()
    round_id = vote(waiting, "agree")
    give(waiting, round_id, "Wacht op de moderator")
    with db.session() as session:
        board = reasons.reason_board(session, clients.event.id).moderator(size=1)
    texts = {r["text"] for r in board["reasons"]}
    # The queue, the agree side's most upvoted (a tie: the oldest) and newest, the other side.
    assert texts == {"Wacht op de moderator", "Reden nummer 0", "Reden nummer 5"}
    assert board["counts"] == {"total": 7, "pending": 1, "sides": {"agree": 6, "disagree": 1}}


def test_when_the_reasons_are_shown_the_hall_asks_at_once_and_they_are_read_once(clients):
    """Every phone's page asks for the reasons (reasons_sync) the moment the moderator shows
    them. Each ask read all of the round's reasons: 80 ms for 3,000, so a hall of 10,000
    asking together held the server for minutes, votes and all; and one phone's connections
    asking three times a second each could do the same."""
    moderator, phones = clients.moderator(), [clients.phone() for _ in range(12)]
    control(moderator, "next", "open")
    round_id = current_state(phones[0])["round"]["id"]
    for number, phone in enumerate(phones):
        vote(phone, ("agree", "disagree")[number % 2])
        assert give(phone, round_id, f"Reden nummer {number}")["ok"] is True
    assert moderator.emit("reasons_show", {"shown": True}, callback=True) == {"ok": True}
    with statements_run() as statements:
        views = [sync(phone) for phone in phones]
    assert len([s for s in statements if "reasons.original_text" in s]) == 1, statements
    hall = {key: value for key, value in views[0].items() if key not in ("mine", "upvoted")}
    assert hall["total"] == len(phones)
    for number, view in enumerate(views):
        assert {key: value for key, value in view.items() if key in hall} == hall
        assert view["mine"]["text"] == f"Reden nummer {number}"
        assert view["upvoted"] == []

    # A change is seen by the next phone that asks.
    moderate(moderator, views[0]["mine"]["id"], "hide")
    assert sync(phones[1])["total"] == len(phones) - 1
    assert phones[2].emit("reason_upvote", {"reason": views[1]["mine"]["id"]}, callback=True)["ok"]
    again = sync(phones[2])
    assert again["upvoted"] == [views[1]["mine"]["id"]]
    assert views[1]["mine"]["id"] in [r["id"] for r in again["sides"]["disagree"] if r["upvotes"]]


def test_a_read_of_the_halls_reasons_is_not_kept_once_it_can_serve_no_one(
    app, clients, monkeypatch
):
    """The kept reads are dropped after their second: a server that runs for weeks of events,
    each with a round of reasons, does not keep every one of them in memory."""
    from polling.realtime import coalesce

    moderator, phone = clients.moderator(), clients.phone()
    control(moderator, "next", "open")
    round_id = current_state(phone)["round"]["id"]
    vote(phone, "agree")
    assert give(phone, round_id, "Een reden")["ok"] is True
    assert moderator.emit("reasons_show", {"shown": True}, callback=True) == {"ok": True}
    assert sync(phone)["total"] == 1
    publisher = app.extensions["polling_reasons"]
    assert clients.event.id in publisher.kept

    later = coalesce.time.monotonic() + coalesce.KEEP_SECONDS
    monkeypatch.setattr(coalesce.time, "monotonic", lambda: later)
    with app.app_context(), db.session() as db_session:
        assert publisher.hall(db_session, clients.event.id + 1000) is None  # another event
    assert clients.event.id not in publisher.kept
