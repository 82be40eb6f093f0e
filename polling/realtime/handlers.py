"""Socket.IO handlers: who is connected to which event in which role, and what they may do.

Handlers are thin: check who is asking, validate the payload, call a domain function
(which commits), then broadcast. Rooms per event and role decide who sees what.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from flask import Flask, current_app, request, session
from flask_socketio import ConnectionRefusedError, emit, join_room
from sqlalchemy.orm import Session

from polling import db, socketio
from polling.domain import events, reasons, state, voting
from polling.domain.content import Content
from polling.domain.errors import AccessRefused, Refused
from polling.domain.limits import Limits
from polling.domain.models import Event
from polling.domain.roles import AUDIENCE, MODERATOR, ROLES, SCREENS
from polling.domain.text import storable
from polling.realtime.admission import Admission, Busy
from polling.realtime.broadcast import TallyPublisher, broadcast_state, room
from polling.realtime.flood import FloodGuard
from polling.realtime.vote_writer import VoteWriter
from polling.web.throttle import may_look_up


@dataclass(frozen=True)
class Identity:
    """Who a connection is, decided on connect from the cookie or the key."""

    event_id: int
    # The event's code as well as its id: a connection must never act on another event.
    code: str
    role: str
    can_control: bool
    participant_id: int | None = None


# Where a connection's Identity is kept: in its WSGI environ, which python-socketio keeps for
# the connection, so that the vote handler finds it without Flask's request context.
IDENTITY = "polling.identity"


def error(code: str, message: str) -> dict[str, Any]:
    """The body of every refused request: a stable code and a sentence."""
    return {"ok": False, "error": code, "message": message}


TOO_FAST = error("rate_limited", "Too many requests; wait a moment.")
EVENT_GONE = error("event_gone", "This event has been deleted.")


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Authenticate from `auth` ({code, role, key}) and the participant cookie."""
    try:
        identity = _authenticate(auth)
    except Busy as busy:  # {ok, error: "busy_retry", message, retry_after}
        raise ConnectionRefusedError(
            busy.message, {**error(busy.code, busy.message), "retry_after": busy.retry_after}
        ) from None
    except Refused as refused:
        # The client sees `message`, and `data` as {ok, error, message} like any refusal.
        raise ConnectionRefusedError(
            refused.message, error(refused.code, refused.message)
        ) from None
    request.environ[IDENTITY] = identity
    current_app.extensions["polling_metrics"].connect(identity.role)
    _flood().joined(_sid(), session.get("participant") if identity.role == AUDIENCE else None)
    join_room(room(identity.event_id, identity.role))
    emit("state", _personal_state(identity))
    # After a restart the first connection starts the countdown again (see countdown.py).
    current_app.extensions["polling_countdown"].ensure_running()


@socketio.on("disconnect")
def on_disconnect(*_reason: Any) -> None:
    """Forget the connection's rate-limit buckets."""
    identity = _identity()
    if identity is not None:
        current_app.extensions["polling_metrics"].disconnect(identity.role)
    limits = _limits()
    limits.votes_per_connection.forget(_sid())
    limits.requests_per_connection.forget(_sid())


@socketio.on("sync")
def on_sync(_data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Reply with this connection's full current state (e.g. after the phone wakes up)."""
    identity = _identity()
    if identity is None:
        return error("not_joined", "Connect with a valid event code first.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    try:
        return {"ok": True, "state": _personal_state(identity)}
    except Refused as refused:  # the event was deleted since the connect
        return error(refused.code, refused.message)


def vote_handler(app: Flask) -> Callable[..., dict[str, Any]]:
    """The handler of "vote", to register on the Socket.IO server itself (polling.realtime
    does), not through Flask-SocketIO like the others.

    The vote is the event a whole hall sends within seconds. Flask-SocketIO runs each handler
    in a Flask request context (a request object, its URL matched, the session), and a vote
    needs none of it: who votes is kept on the connection (IDENTITY), and what it uses is
    taken from the app once, here.
    """
    server = socketio.server
    limits: Limits = app.extensions["polling_limits"]
    writer: VoteWriter = app.extensions["polling_writer"]
    tallies: TallyPublisher = app.extensions["polling_tallies"]
    reasons_publisher = app.extensions["polling_reasons"]

    def on_vote(sid: str, data: Any = None, *_extra: Any) -> dict[str, Any]:
        """Record a vote; the ack says ok only after the vote is committed.

        Arguments after the first are ignored, here and in every handler: each is
        acknowledged.
        """
        identity = (server.get_environ(sid) or {}).get(IDENTITY)
        if not isinstance(identity, Identity) or identity.participant_id is None:
            return error("not_audience", "Only the audience can vote.")
        fields = data if isinstance(data, dict) else {}
        round_id, choice = fields.get("round"), fields.get("choice")
        if not _is_id(round_id) or not isinstance(choice, str) or len(choice) > 64:
            return error("bad_request", "Send {round: <id>, choice: <option key>}.")
        if not storable(choice):  # a lone surrogate is no option's key (nor database text)
            return error("unknown_option", f"{choice!r} is not an option of this statement.")
        if not limits.votes_per_connection.allow(sid) or not (
            limits.votes_per_participant.allow(identity.participant_id)
        ):
            return TOO_FAST
        try:
            writer.cast_vote(identity.participant_id, round_id, choice)
        except Refused as refused:
            return error(refused.code, refused.message)
        tallies.vote_committed(identity.event_id)
        # A changed vote moves its reason to the other side.
        reasons_publisher.vote_committed(identity.event_id)
        return {"ok": True, "round": round_id, "choice": choice}

    return on_vote


@socketio.on("control")
def on_control(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Apply a moderator action, then tell every screen of the event."""
    identity = _identity()
    if identity is None or not identity.can_control:
        return error("forbidden", "Only the moderator can control the event.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    action = data.get("action") if isinstance(data, dict) else None
    seconds = data.get("seconds") if isinstance(data, dict) else None
    if action not in voting.ACTIONS or not (seconds is None or _is_id(seconds)):
        return error(
            "bad_request",
            f"Send {{action: one of {', '.join(voting.ACTIONS)}, seconds: optional}}.",
        )
    try:
        with db.session() as db_session:
            _check_event(db_session, identity)
            voting.control(db_session, identity.event_id, action, seconds)
            left = action in reasons.ROUND_CHANGES and reasons.leave_round(
                db_session, identity.event_id
            )
    except Refused as refused:
        return error(refused.code, refused.message)
    screens_only = action in voting.SCREEN_ONLY_ACTIONS
    broadcast_state(identity.event_id, SCREENS if screens_only else ROLES)
    if not screens_only:  # another statement or round: its reasons
        current_app.extensions["polling_reasons"].changed(identity.event_id, screens_now=True)
    if left:  # the projector's view is in the Q&A settings too
        current_app.extensions["polling_questions"].changed(identity.event_id, screens_now=True)
    return {"ok": True}


def _authenticate(auth: Any) -> Identity:
    if not isinstance(auth, dict):
        raise AccessRefused("bad_auth", "Connect with auth {code, role, key}.")
    role = auth.get("role", AUDIENCE)
    code = auth.get("code")
    if role not in ROLES or not isinstance(code, str):
        raise AccessRefused("bad_auth", "Connect with auth {code, role, key}.")
    # One connection for who is connecting (a connection, not a session: see
    # polling.database.Reader); it is closed before a new phone waits for the vote writer.
    with db.connect() as connection:
        event = events.find_content(connection, code)
        if not may_look_up(event, key=auth.get("key")):
            raise AccessRefused("rate_limited", "Too many unknown codes tried; wait a moment.")
        if event is None:
            raise AccessRefused("unknown_event", "There is no event with this code.")
        if role != AUDIENCE:
            return _screen_identity(event, role, auth.get("key"))
        token = _participant_token()
        # A phone coming back (every phone, after a blip) is found by one read here; only a
        # new one waits for the vote writer to add it.
        participant_id = voting.participant_of(connection, event.id, token)
    _admission().admit_phone(known=participant_id is not None)
    if participant_id is None:
        participant_id = _writer().join(event.id, token)
        # The screens' count of joined phones changed; a phone coming back changes nothing,
        # and a hall of them coming back would make the publisher count for each.
        _tallies().joined(event.id)
    return Identity(event.id, event.code, AUDIENCE, False, participant_id=participant_id)


def _participant_token() -> str:
    """The phone's token from its cookie, unless it has none or connects too often."""
    token = session.get("participant")
    if not isinstance(token, str):
        raise AccessRefused(
            "no_participant", "Open the event's vote page first: it sets the cookie."
        )
    if _flood().penalised(token) or not _limits().connects_per_participant.allow(token):
        raise AccessRefused("rate_limited", "Too many connections; wait a moment.")
    return token


def _screen_identity(event: Content, role: str, key: Any) -> Identity:
    """A projector or moderator, by the event's key for it."""
    key_role = events.role_for_key(event, key)
    if key_role is None or (role == MODERATOR and key_role != MODERATOR):
        if not _limits().failed_keys_per_event.allow(event.id):
            raise AccessRefused("too_many_attempts", "Too many wrong keys; try later.")
        raise AccessRefused("bad_key", "This key does not give access to this event.")
    return Identity(event.id, event.code, role, can_control=key_role == MODERATOR)


def _identity() -> Identity | None:
    identity = request.environ.get(IDENTITY)
    return identity if isinstance(identity, Identity) else None


def _check_event(db_session: Session, identity: Identity) -> Event:
    """The connection's event, if it still exists and is the same one; else `event_gone`."""
    event = db_session.get(Event, identity.event_id)
    if event is None or event.code != identity.code:
        raise AccessRefused("event_gone", "This event has been deleted.")
    return event


def _personal_state(identity: Identity) -> dict[str, Any]:
    """The state for one connection; a phone also gets its own vote in the current round."""
    with db.connect() as connection:
        # A phone sees no counts before the reveal: counting them for every reconnecting
        # phone was 40% of a reconnect's cost.
        current = state.snapshot(
            connection, identity.event_id, code=identity.code, audience=identity.role == AUDIENCE
        )
        if current is None:
            raise AccessRefused("event_gone", "This event has been deleted.")
        payload = current.for_role(identity.role)
        payload["can_control"] = identity.can_control
        if identity.participant_id is not None:
            round_id = payload["round"]["id"] if payload["round"] else None
            payload["you"] = reasons.own_vote(connection, identity.participant_id, round_id)
    return payload


def _is_id(value: Any) -> TypeGuard[int]:
    """A database id: a positive integer that fits in 64 bits (a bigger one would make the
    database driver fail the whole batch of votes it is written with)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _limits() -> Limits:
    limits: Limits = current_app.extensions["polling_limits"]
    return limits


def _admission() -> Admission:
    admission: Admission = current_app.extensions["polling_admission"]
    return admission


def _flood() -> FloodGuard:
    guard: FloodGuard = current_app.extensions["polling_flood"]
    return guard


def _tallies() -> TallyPublisher:
    tallies: TallyPublisher = current_app.extensions["polling_tallies"]
    return tallies


def _writer() -> VoteWriter:
    writer: VoteWriter = current_app.extensions["polling_writer"]
    return writer


def _sid() -> str:
    """The connection's Socket.IO id, which Flask-SocketIO sets on the request."""
    sid: str = request.sid  # type: ignore[attr-defined]
    return sid
