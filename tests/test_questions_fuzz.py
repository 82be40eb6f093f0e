"""Hostile input on every event of the questions and the reasons: random and malformed payloads
get a clear refusal (or do what a valid request does), never a traceback, and the server keeps
serving."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from polling import db
from polling.domain.limits import Limits, RateLimit
from polling.domain.question_models import Question, QuestionVote
from polling.domain.reason_models import Reason, ReasonVote

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=400),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)
payloads = json_values | st.fixed_dictionaries(
    {},
    optional={
        "text": json_values | st.text(min_size=0, max_size=320),
        "name": json_values,
        "panel": json_values | st.integers(min_value=-2, max_value=6),
        "question": json_values | st.integers(min_value=0, max_value=3),
        "into": json_values | st.integers(min_value=0, max_value=3),
        "up": json_values,
        "action": json_values
        | st.sampled_from(["approve", "dismiss", "on_screen", "hide", "restore", "mute", "edit"]),
        "mode": json_values | st.sampled_from(["off", "open", "upvotes", "closed"]),
        "names": json_values | st.sampled_from(["off", "optional", "required"]),
        "premoderation": json_values,
        "view": json_values | st.sampled_from(["statements", "questions", "reasons", "words"]),
        "reason": json_values | st.integers(min_value=0, max_value=3),
        "round": json_values | st.integers(min_value=0, max_value=3),
        "shown": json_values,
        "reasons": json_values | st.sampled_from(["open", "off"]),
        "reasons_premoderation": json_values,
    },
)
PHONE_EVENTS = [
    "questions_sync",
    "question_ask",
    "question_upvote",
    "reasons_sync",
    "reason_give",
    "reason_upvote",
]
MODERATOR_EVENTS = [
    "question_moderate",
    "question_merge",
    "question_next",
    "question_settings",
    "reason_moderate",
    "reasons_show",
]
FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def count(model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def is_refusal(reply) -> bool:
    return (
        isinstance(reply, dict)
        and reply.get("ok") is False
        and isinstance(reply.get("error"), str)
        and isinstance(reply.get("message"), str)
    )


@pytest.fixture
def connected(app, clients):
    """A moderator and a phone, two approved questions, a reason on the statement on screen,
    and limits out of the way."""
    unlimited = RateLimit(burst=10**9, per_second=10**9)
    app.extensions["polling_limits"] = Limits(*(unlimited,) * len(fields(Limits)))
    moderator, phone, asker = clients.moderator(), clients.phone(), clients.phone()
    for text in ("Een eerste vraag", "Een tweede vraag"):
        reply = asker.emit("question_ask", {"text": text}, callback=True)
        moderator.emit(
            "question_moderate",
            {"question": reply["question"]["id"], "action": "approve"},
            callback=True,
        )
    moderator.emit("control", {"action": "next"}, callback=True)
    moderator.emit("control", {"action": "open"}, callback=True)
    round_id = phone.emit("sync", {}, callback=True)["state"]["round"]["id"]
    for voter in (phone, asker):
        voter.emit("vote", {"round": round_id, "choice": "agree"}, callback=True)
    reply = asker.emit("reason_give", {"round": round_id, "text": "Een reden"}, callback=True)
    assert reply["ok"] is True, reply
    return moderator, phone


def rows() -> tuple[int, ...]:
    return tuple(count(model) for model in (Question, QuestionVote, Reason, ReasonVote))


@FUZZ
@given(payload=payloads, event=st.sampled_from(PHONE_EVENTS + MODERATOR_EVENTS))
def test_random_payloads_from_a_phone(connected, payload, event):
    moderator, phone = connected
    before = rows()
    reply = phone.emit(event, payload, callback=True)
    if event in MODERATOR_EVENTS:
        assert reply["error"] == "forbidden"
    assert is_refusal(reply) or reply["ok"] is True, reply
    if not reply["ok"]:
        assert rows() == before
    elif event == "reason_give":
        assert 3 <= len(reply["reason"]["text"]) <= 200
    elif event == "question_ask":
        assert 3 <= len(reply["question"]["text"]) <= 300
        assert count(Question) == before[0] + 1
    assert phone.emit("questions_sync", {}, callback=True)["ok"] is True
    assert phone.emit("reasons_sync", {}, callback=True)["ok"] is True
    phone.get_received()
    moderator.get_received()


@FUZZ
@given(payload=payloads, event=st.sampled_from([*MODERATOR_EVENTS, "questions_sync"]))
def test_random_payloads_from_the_moderator(connected, payload, event):
    moderator, phone = connected
    before = count(Question), count(Reason)
    reply = moderator.emit(event, payload, callback=True)
    assert is_refusal(reply) or reply["ok"] is True, reply
    assert (count(Question), count(Reason)) == before
    board = moderator.emit("questions_sync", {}, callback=True)["questions"]
    # Whatever happened, the rules hold: at most one question on screen, texts 3-300 long.
    assert sum(q["state"] == "on_screen" for q in board["questions"]) <= 1
    assert all(3 <= len(q["text"]) <= 300 for q in board["questions"])
    reasons = moderator.emit("reasons_sync", {}, callback=True)["reasons"]
    assert all(3 <= len(r["text"]) <= 200 for r in reasons["reasons"])
    phone.get_received()
    moderator.get_received()


@pytest.mark.parametrize("name", PHONE_EVENTS + MODERATOR_EVENTS)
def test_an_extra_argument_costs_no_event_its_answer(connected, name):
    """The questions' handlers took one argument: a second raised TypeError, so the request
    was never answered (docs/protocol.md: arguments after the first are ignored)."""
    moderator, phone = connected
    client = moderator if name in MODERATOR_EVENTS else phone
    reply = client.emit(name, {}, "extra", callback=True)
    assert is_refusal(reply) or reply["ok"] is True, reply


def test_a_question_asked_with_an_extra_argument_is_asked(connected):
    _moderator, phone = connected
    before = count(Question)
    reply = phone.emit("question_ask", {"text": "Wie betaalt dat?"}, None, callback=True)
    assert reply["ok"] is True, reply
    assert count(Question) == before + 1


def test_lone_surrogates_in_a_question_are_bad_requests_and_change_nothing(connected):
    """Text no database can store ("\\ud800" in JSON) failed the question's write: the phone
    was told `storage_error`, to try again, which never works; a moderator's edit raised and
    was never answered."""
    moderator, phone = connected
    before = rows()
    for asked in ({"text": "Een vraag \ud800"}, {"text": "Nog een vraag", "name": "\udc00"}):
        reply = phone.emit("question_ask", asked, callback=True)
        assert reply["error"] == "bad_request", reply
    board = moderator.emit("questions_sync", callback=True)["questions"]["questions"]
    for action in ("edit", "approve"):
        reply = moderator.emit(
            "question_moderate",
            {"question": board[0]["id"], "action": action, "text": "Een \ud800 vraag"},
            callback=True,
        )
        assert reply["error"] == "bad_request", reply
    assert rows() == before
    assert moderator.emit("questions_sync", callback=True)["questions"]["questions"] == board
