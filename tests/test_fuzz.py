"""Hostile input: random and malformed payloads on every socket event and HTTP route.

The server must answer each with a clear error (or a plain error page), write nothing, never
show a traceback, and keep serving.
"""

from __future__ import annotations

import io
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from polling import db, socketio
from polling.domain.limits import Limits, RateLimit
from polling.domain.models import Event, Participant, Vote
from polling.web.organiser import set_password
from tests.support import control, last_state

# Strings JSON can carry but no database can store: "\ud800" decodes to a lone surrogate.
unencodable_text = st.text(
    alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(),
    min_size=1,
    max_size=20,
).filter(lambda text: any(0xD800 <= ord(c) <= 0xDFFF for c in text))
# JSON as a client can send it: nested junk, huge numbers, long and odd strings.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=300)
    | unencodable_text,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)
payloads = json_values | st.fixed_dictionaries(
    {},
    optional={
        "round": json_values,
        "choice": json_values,
        "action": json_values | st.sampled_from(["next", "open", "close", "explode"]),
        "code": json_values,
        "role": json_values | st.sampled_from(["audience", "presenter", "moderator"]),
        "key": json_values,
    },
)
# Arguments after the first, which a handler must ignore and still answer.
extra_arguments = st.lists(json_values, max_size=2)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def count(model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def open_round(app, clients):
    """Voting open on statement 1, and limits out of the way so every example is judged on
    its payload alone."""
    unlimited = RateLimit(burst=10**9, per_second=10**9)
    app.extensions["polling_limits"] = Limits(*(unlimited,) * len(fields(Limits)))
    moderator = clients.moderator()
    control(moderator, "next", "open")
    phone = clients.phone()
    return moderator, phone, last_state(phone)["round"]["id"]


def is_refusal(reply) -> bool:
    return (
        isinstance(reply, dict)
        and reply.get("ok") is False
        and isinstance(reply.get("error"), str)
        and isinstance(reply.get("message"), str)
    )


@FUZZ
@given(payload=payloads, extra=extra_arguments)
def test_random_votes_are_refused_and_write_nothing(open_round, payload, extra):
    _moderator, phone, round_id = open_round
    valid = (
        isinstance(payload, dict)
        and payload.get("round") == round_id
        and type(payload.get("round")) is int
        and payload.get("choice") in ("agree", "disagree")
    )
    before = count(Vote)
    reply = phone.emit("vote", payload, *extra, callback=True)
    if valid:
        assert reply["ok"] is True
    else:
        assert is_refusal(reply), reply
        assert count(Vote) == before


@FUZZ
@given(
    payload=payloads,
    event=st.sampled_from(["control", "sync", "vote"]) | st.text(max_size=30),
    extra=extra_arguments,
)
def test_random_events_from_a_phone_change_nothing(open_round, payload, event, extra):
    _moderator, phone, _round_id = open_round
    if event == "vote":
        return  # covered above
    before = phone.emit("sync", callback=True)["state"]
    reply = phone.emit(event, payload, *extra, callback=True)
    assert reply is None or is_refusal(reply) or (event == "sync" and reply["ok"])
    state = phone.emit("sync", callback=True)["state"]
    assert (state["phase"], state["position"]) == (before["phase"], before["position"])
    phone.get_received()


@FUZZ
@given(payload=payloads, extra=extra_arguments)
def test_random_control_payloads_are_refused_or_valid(open_round, payload, extra):
    moderator, _phone, _round_id = open_round
    reply = moderator.emit("control", payload, *extra, callback=True)
    assert reply == {"ok": True} or is_refusal(reply), reply
    moderator.get_received()


@FUZZ
@given(auth=payloads)
def test_random_connect_auth_never_gets_in_without_a_key(app, event, auth):
    # A bare number cannot be framed as connect data in Socket.IO (it would read as a packet
    # id); such raw frames are covered by the real-server test of malformed frames.
    assume(not isinstance(auth, (int, float)) or isinstance(auth, bool))
    participants = count(Participant)
    client = socketio.test_client(app, auth=auth)
    if client.is_connected():
        # Only a presenter or moderator with the right key gets in without the vote page.
        assert auth.get("key") in (event.presenter_key, event.moderator_key)
        client.disconnect()
    assert count(Participant) == participants


@FUZZ
@given(
    path=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="?#"),
        max_size=60,
    ),
    query=st.dictionaries(st.text(max_size=10), st.text(max_size=100), max_size=3),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]),
)
def test_random_http_requests_get_a_plain_answer(app, event, path, query, method):
    client = app.test_client()
    path = path.lstrip("/")  # "//x" would be a URL with host x, not a path
    for target in (f"/{path}", f"/{event.code}/{path}"):
        with client.open(target, method=method, query_string=query) as response:
            assert response.status_code < 500, (method, target, query)
            body = response.get_data(as_text=True)
            assert "Traceback" not in body


@pytest.fixture
def organiser_browser(app):
    """A logged-in organiser's browser and the CSRF token of its forms."""
    with db.session() as session:
        set_password(session, "correct horse battery")
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["csrf"] = "token"
    assert (
        browser.post(
            "/organiser/login", data={"csrf": "token", "password": "correct horse battery"}
        ).status_code
        == 302
    )
    with browser.session_transaction() as session:
        return browser, session["csrf"]


@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(["deck", "results", "other"]), st.text(max_size=200), max_size=3
    ),
    deck_file=st.binary(max_size=2000),
)
def test_random_organiser_forms_create_only_valid_events(organiser_browser, form, deck_file):
    browser, token = organiser_browser
    with db.session() as session:
        before = session.scalar(select(func.count()).select_from(Event))
    response = browser.post(
        "/organiser/events",
        data={**form, "csrf": token, "deck_file": (io.BytesIO(deck_file), "fuzz.toml")},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code in (302, 400), body
    assert "Traceback" not in body
    with db.session() as session:
        after = session.scalar(select(func.count()).select_from(Event))
    assert after == before + (1 if response.status_code == 302 else 0)


@pytest.mark.parametrize("extra", [("extra",), (1, None), ({"round": 1},)])
def test_extra_arguments_do_not_cost_a_valid_request_its_answer(open_round, extra):
    """A vote with an extra argument raised TypeError: no ack, and the vote was dropped."""
    moderator, phone, round_id = open_round
    vote = phone.emit("vote", {"round": round_id, "choice": "agree"}, *extra, callback=True)
    assert vote == {"ok": True, "round": round_id, "choice": "agree"}
    assert phone.emit("sync", None, *extra, callback=True)["ok"] is True
    assert moderator.emit("control", {"action": "close"}, *extra, callback=True) == {"ok": True}


def test_lone_surrogates_get_their_documented_errors(app, open_round):
    _moderator, phone, round_id = open_round
    reply = phone.emit("vote", {"round": round_id, "choice": "\ud800"}, callback=True)
    assert reply["error"] == "unknown_option"
    with db.session() as session:
        event = session.scalars(select(Event)).one()
    # (The connect error's code on the wire: tests/test_flood.py, on a real server.)
    client = socketio.test_client(
        app, auth={"code": event.code, "role": "moderator", "key": "\ud800"}
    )
    assert not client.is_connected()
