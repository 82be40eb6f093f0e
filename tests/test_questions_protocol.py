"""The questions' Socket.IO protocol through the Flask-SocketIO test client: who may do
what, acks and errors, and who hears about it."""

from __future__ import annotations

from sqlalchemy import func, select

from polling import db
from polling.domain.question_models import Question, QuestionVote
from tests.support import received, statements_run


def sync(client) -> dict:
    reply = client.emit("questions_sync", {}, callback=True)
    assert reply["ok"] is True, reply
    return reply["questions"]


def ask(phone, text: str, **fields) -> dict:
    return phone.emit("question_ask", {"text": text, **fields}, callback=True)


def moderate(moderator, question_id: int, action: str, **fields) -> dict:
    reply = moderator.emit(
        "question_moderate", {"question": question_id, "action": action, **fields}, callback=True
    )
    assert reply == {"ok": True}, reply
    return reply


def test_ask_approve_upvote_and_everyone_hears_what_they_may(clients):
    moderator, presenter = clients.moderator(), clients.presenter()
    asker, voter = clients.phone(), clients.phone()
    for client in (asker, voter):
        assert sync(client)["mine"] == []
    for client in (moderator, presenter, asker, voter):
        client.get_received()

    reply = ask(asker, "  Wat kost dit?  ", name="Anna", panel=0)
    assert reply["ok"] is True
    question = reply["question"]
    assert (question["text"], question["state"], question["number"]) == (
        "Wat kost dit?",
        "pending",
        1,
    )
    assert question["panel_member"] == "Dr. Daniel Vijlbrief"
    # The moderator sees the queue; the hall sees nothing yet.
    queue = received(moderator, "questions_moderator")[-1]["questions"]
    assert [(q["number"], q["state"]) for q in queue] == [(1, "pending")]
    assert all(q["popular"] == [] for q in received(voter, "questions"))

    moderate(moderator, question["id"], "approve")
    hall = received(voter, "questions")[-1]
    assert hall["popular"] == [question["id"]]
    assert [q["text"] for q in hall["changed"]] == ["Wat kost dit?"]

    reply = voter.emit("question_upvote", {"question": question["id"], "up": True}, callback=True)
    assert reply == {"ok": True, "question": question["id"], "up": True, "upvotes": 1}
    # Only the count changed: the update carries the count, not the question again.
    update = received(voter, "questions")[-1]
    assert (update["changed"], update["upvotes"]) == ([], [[question["id"], 1]])
    assert received(presenter, "questions_screen")[-1]["next"][0]["upvotes"] == 1

    mine = sync(voter)
    assert mine["upvoted"] == [question["id"]]
    assert sync(asker)["mine"][0]["state"] == "visible"

    moderate(moderator, question["id"], "on_screen")
    assert received(presenter, "questions_screen")[-1]["on_screen"]["number"] == 1
    update = received(voter, "questions")[-1]
    assert update["on_screen"] == question["id"]
    assert update["changed"][0]["state"] == "on_screen"


def test_only_the_moderator_moderates_and_only_phones_ask_and_upvote(clients):
    phone, presenter, moderator = clients.phone(), clients.presenter(), clients.moderator()
    question = ask(phone, "Een vraag voor het panel")["question"]
    for client in (phone, presenter):
        for name, payload in (
            ("question_moderate", {"question": question["id"], "action": "approve"}),
            ("question_next", {}),
            ("question_merge", {"question": question["id"], "into": question["id"]}),
            ("question_settings", {"mode": "closed"}),
        ):
            assert client.emit(name, payload, callback=True)["error"] == "forbidden", name
    for name, payload in (
        ("question_ask", {"text": "Een vraag van de moderator"}),
        ("question_upvote", {"question": question["id"]}),
    ):
        assert moderator.emit(name, payload, callback=True)["error"] == "not_audience"
    assert sync(moderator)["questions"][0]["state"] == "pending"


def test_refusals_have_stable_codes_and_change_nothing(clients):
    phone, moderator = clients.phone(), clients.moderator()
    for payload in (None, "x", {}, {"text": 5}, {"text": ["a"]}):
        assert phone.emit("question_ask", payload, callback=True)["error"] == "bad_request"
    assert ask(phone, "ab")["error"] == "too_short"
    assert ask(phone, "x" * 301)["error"] == "too_long"
    assert ask(phone, "Een vraag", panel=9)["error"] == "unknown_panel_member"
    for payload in ({"question": "1"}, {"question": 1, "up": "yes"}, {"question": 2**70}):
        assert phone.emit("question_upvote", payload, callback=True)["error"] == "bad_request"
    assert phone.emit("question_upvote", {"question": 12345}, callback=True)["error"] == (
        "unknown_question"
    )
    for payload in ({}, {"question": 1, "action": "explode"}, {"question": "1", "action": "hide"}):
        reply = moderator.emit("question_moderate", payload, callback=True)
        assert reply["ok"] is False and reply["error"] == "bad_request", payload
    reply = moderator.emit("question_settings", {"mode": "sometimes"}, callback=True)
    assert reply["error"] == "bad_request"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Question)) == 0


def test_a_duplicate_points_to_the_question_to_upvote(clients):
    phone, other, moderator = clients.phone(), clients.phone(), clients.moderator()
    moderator.emit("question_settings", {"premoderation": False}, callback=True)
    first = ask(phone, "Wat kost AI?")["question"]
    reply = ask(other, "wat KOST ai")
    assert (reply["error"], reply["question"], reply["number"]) == ("duplicate", first["id"], 1)


def test_settings_switch_live_and_next_question(clients):
    moderator, presenter, phone, voter = (
        clients.moderator(),
        clients.presenter(),
        clients.phone(),
        clients.phone(),
    )
    assert moderator.emit(
        "question_settings", {"premoderation": False, "view": "questions"}, callback=True
    ) == {"ok": True}
    assert received(presenter, "questions_screen")[-1]["settings"]["view"] == "questions"
    one = ask(phone, "De eerste vraag")["question"]
    two = ask(phone, "De tweede vraag")["question"]
    assert two["state"] == "visible"
    voter.emit("question_upvote", {"question": two["id"]}, callback=True)
    assert moderator.emit("question_next", {}, callback=True) == {"ok": True, "number": 2}
    assert moderator.emit("question_next", {}, callback=True) == {"ok": True, "number": 1}
    assert moderator.emit("question_next", {}, callback=True) == {"ok": True, "number": None}
    states = {q["number"]: q["state"] for q in sync(moderator)["questions"]}
    assert states == {1: "answered", 2: "answered"}
    assert one["id"] != two["id"]
    moderator.emit("question_settings", {"mode": "upvotes"}, callback=True)
    assert ask(phone, "Een derde vraag")["error"] == "questions_closed"


def test_the_asker_hears_when_its_question_changes_beyond_the_lists(clients, monkeypatch):
    from polling.realtime import questions as realtime_questions

    monkeypatch.setattr(realtime_questions, "LIST_SIZE", 0)
    asker, moderator = clients.phone(), clients.moderator()
    sync(asker)
    question = ask(asker, "Een vraag die nergens in de lijst staat")["question"]
    asker.get_received()
    moderate(moderator, question["id"], "approve")
    mine = received(asker, "questions_mine")
    assert mine[-1]["mine"][0]["state"] == "visible"


def test_an_acked_upvote_is_one_row(clients):
    asker, voter, moderator = clients.phone(), clients.phone(), clients.moderator()
    question = ask(asker, "Een vraag om op te stemmen")["question"]
    moderate(moderator, question["id"], "approve")
    for _ in range(3):
        voter.emit("question_upvote", {"question": question["id"], "up": True}, callback=True)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(QuestionVote)) == 1
    reply = voter.emit("question_upvote", {"question": question["id"], "up": False}, callback=True)
    assert reply["upvotes"] == 0


def test_only_phones_that_opened_the_questions_get_the_lists_but_all_hear_the_mode(clients):
    moderator, reader, voter = clients.moderator(), clients.phone(), clients.phone()
    sync(reader)
    moderator.emit("question_settings", {"premoderation": False}, callback=True)
    voter.get_received()
    ask(reader, "Een vraag voor wie meeleest")
    assert received(reader, "questions") and not received(voter, "questions")
    moderator.emit("question_settings", {"mode": "off"}, callback=True)
    assert received(voter, "questions_mode") == [{"mode": "off"}]


def test_a_hall_coming_back_reads_the_questions_once(clients):
    """Every phone with the Vragen tab open asks for the questions after each reconnect: a
    hall coming back after a Wi-Fi blip asks all at once. Read for each, 1,000 questions took
    20-45 ms a phone, minutes of a server for 10,000; the hall's lists are read once, and
    each phone's own questions and upvotes for it alone."""
    moderator, phones = clients.moderator(), [clients.phone() for _ in range(6)]
    ids = []
    for number, phone in enumerate(phones):
        reply = ask(phone, f"Vraag nummer {number}?")
        assert reply["ok"] is True, reply
        ids.append(reply["question"]["id"])
    for question_id in ids[1:]:
        moderate(moderator, question_id, "approve")
    moderate(moderator, ids[0], "dismiss")
    reply = phones[2].emit("question_upvote", {"question": ids[3], "up": True}, callback=True)
    assert reply["ok"] is True
    with statements_run() as statements:
        views = [sync(phone) for phone in phones]
    whole_lists = [
        s
        for s in statements
        if "FROM questions" in s
        and "ORDER BY questions.number" in s
        and "questions.participant_id =" not in s
    ]
    assert len(whole_lists) == 1, statements
    hall = {key: value for key, value in views[0].items() if key not in ("mine", "upvoted")}
    assert hall["total"] == 5
    for number, view in enumerate(views):
        assert {key: value for key, value in view.items() if key in hall} == hall
        [mine] = view["mine"]
        assert mine["text"] == f"Vraag nummer {number}?"
        assert mine["upvotes"] == (1 if number == 3 else 0)
    assert views[0]["mine"][0]["state"] == "pending"  # dismissed: pending for its asker
    assert views[1]["mine"][0]["state"] == "visible"
    assert views[2]["upvoted"] == [ids[3]]

    # A change is seen by the next phone that asks.
    reply = phones[4].emit("question_upvote", {"question": ids[5], "up": True}, callback=True)
    assert reply["ok"] is True
    again = sync(phones[0])
    assert {q["id"]: q["upvotes"] for q in again["popular"]}[ids[5]] == 1
