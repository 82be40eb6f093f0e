"""Socket.IO handlers of the audience's questions, and the publisher that coalesces updates.

Handlers are thin: check who is asking, validate the payload's shape, call a domain function
of polling.domain.questions (which commits), then tell the publisher what changed. Phones never
get a message per upvote: the publisher sends the hall's list at most once per interval per
event, and only when it changed; the moderator and the projector get their own streams.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, current_app
from flask_socketio import join_room

from polling import db, socketio
from polling.domain import questions
from polling.domain.errors import Refused
from polling.domain.events import MODERATOR, PRESENTER
from polling.domain.roles import ROLES
from polling.domain.state import AUDIENCE
from polling.realtime.broadcast import broadcast_state, room
from polling.realtime.coalesce import HallPublisher, item_changes
from polling.realtime.handlers import (
    TOO_FAST,
    Identity,
    _identity,
    _is_id,
    _limits,
    _sid,
    _writer,
    error,
)

# How many questions of each list ("Populair", "Nieuw") every phone gets.
LIST_SIZE = 20


def participant_room(event_id: int, participant_id: int) -> str:
    """The room of one phone (all its tabs): where its own questions' changes go."""
    return f"event-{event_id}-participant-{participant_id}"


def hall_room(event_id: int) -> str:
    """The phones that opened the Vragen tab (sent questions_sync): only they get the lists."""
    return f"event-{event_id}-questions"


def refusal(refused: Refused) -> dict[str, Any]:
    """A refused request, with the details a client can act on (e.g. the duplicate)."""
    body = error(refused.code, refused.message)
    body.update(getattr(refused, "details", {}))
    return body


@socketio.on("questions_sync")
def on_questions_sync(_data: Any = None) -> dict[str, Any]:
    """This connection's view of the questions; a phone also gets its own questions and
    upvotes, and from now on hears when one of its questions changes."""
    identity = _identity()
    if identity is None:
        return error("not_joined", "Connect with a valid event code first.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    with db.session() as db_session:
        board = questions.board(db_session, identity.event_id)
        if board is None:
            return error("unknown_event", "This event no longer exists.")
        if identity.participant_id is not None:
            join_room(participant_room(identity.event_id, identity.participant_id))
            join_room(hall_room(identity.event_id))
            payload = board.audience(LIST_SIZE)
            payload["mine"] = board.own(identity.participant_id)
            payload["upvoted"] = questions.own_upvotes(
                db_session, identity.event_id, identity.participant_id
            )
        elif identity.role == MODERATOR:
            payload = board.moderator()
        else:
            payload = board.screen()
        db_session.commit()  # settings_for may have stored an old event's defaults
    return {"ok": True, "questions": payload}


@socketio.on("question_ask")
def on_question_ask(data: Any = None) -> dict[str, Any]:
    """Ask a question: {text, name?, panel?}. The ack carries it as its asker sees it."""
    identity = _identity()
    if identity is None or identity.participant_id is None:
        return error("not_audience", "Only the audience can ask questions.")
    fields = data if isinstance(data, dict) else None
    if fields is None or not isinstance(fields.get("text"), str):
        return error("bad_request", "Send {text, name, panel}.")
    if not _limits().questions_per_participant.allow(identity.participant_id):
        return error("rate_limited", "You asked several questions just now; wait a moment.")
    try:
        view = _writer().ask(identity.event_id, identity.participant_id, fields)
    except Refused as refused:
        return refusal(refused)
    _publisher().changed(identity.event_id)
    return {"ok": True, "question": view}


@socketio.on("question_upvote")
def on_question_upvote(data: Any = None) -> dict[str, Any]:
    """Upvote a question or withdraw it: {question: id, up: true|false}; acked once committed."""
    identity = _identity()
    if identity is None or identity.participant_id is None:
        return error("not_audience", "Only the audience can upvote.")
    fields = data if isinstance(data, dict) else {}
    question_id, up = fields.get("question"), fields.get("up", True)
    if not _is_id(question_id) or not isinstance(up, bool):
        return error("bad_request", "Send {question: <id>, up: true|false}.")
    if not _limits().upvotes_per_participant.allow(identity.participant_id):
        return TOO_FAST
    try:
        upvotes = _writer().upvote(identity.participant_id, question_id, up)
    except Refused as refused:
        return refusal(refused)
    _publisher().changed(identity.event_id, question_id)
    return {"ok": True, "question": question_id, "up": up, "upvotes": upvotes}


@socketio.on("question_moderate")
def on_question_moderate(data: Any = None) -> dict[str, Any]:
    """A moderator action on one question: {question, action, text?}."""
    identity = _controller()
    if identity is None:
        return error("forbidden", "Only the moderator can moderate questions.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    fields = data if isinstance(data, dict) else {}
    try:
        with db.session() as db_session:
            question = questions.moderate(
                db_session,
                identity.event_id,
                fields.get("question"),
                fields.get("action"),
                fields.get("text"),
            )
            question_id = question.id
    except Refused as refused:
        return refusal(refused)
    _publisher().changed(identity.event_id, question_id, screens_now=True)
    return {"ok": True}


@socketio.on("question_merge")
def on_question_merge(data: Any = None) -> dict[str, Any]:
    """Merge a question into another: {question, into}; the kept one gets both's voters."""
    identity = _controller()
    if identity is None:
        return error("forbidden", "Only the moderator can merge questions.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    fields = data if isinstance(data, dict) else {}
    try:
        with db.session() as db_session:
            kept = questions.merge(
                db_session, identity.event_id, fields.get("question"), fields.get("into")
            )
            changed = [kept.id, fields["question"]]
    except Refused as refused:
        return refusal(refused)
    _publisher().changed(identity.event_id, *changed, screens_now=True)
    return {"ok": True}


@socketio.on("question_next")
def on_question_next(_data: Any = None) -> dict[str, Any]:
    """Volgende vraag: the one on screen is answered, the most upvoted goes up."""
    identity = _controller()
    if identity is None:
        return error("forbidden", "Only the moderator can choose the question on screen.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    try:
        with db.session() as db_session:
            shown = questions.next_question(db_session, identity.event_id)
            number = shown.number if shown else None
    except Refused as refused:
        return refusal(refused)
    _publisher().changed(identity.event_id, screens_now=True)
    return {"ok": True, "number": number}


@socketio.on("question_settings")
def on_question_settings(data: Any = None) -> dict[str, Any]:
    """Switch Q&A settings live: {mode?, names?, premoderation?, view?}."""
    identity = _controller()
    if identity is None:
        return error("forbidden", "Only the moderator can change the Q&A settings.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    try:
        with db.session() as db_session:
            mode = questions.change_settings(db_session, identity.event_id, data).mode
    except Refused as refused:
        return refusal(refused)
    # Every phone shows the Vragen tab or not, also those that never opened it.
    socketio.emit("questions_mode", {"mode": mode}, to=room(identity.event_id, AUDIENCE))
    _publisher().changed(identity.event_id, screens_now=True)
    if "reasons" in data:  # every phone's state says whether it may give a reason
        broadcast_state(identity.event_id, ROLES)
    current_app.extensions["polling_reasons"].changed(identity.event_id, screens_now=True)
    return {"ok": True}


def _controller() -> Identity | None:
    identity = _identity()
    return identity if identity is not None and identity.can_control else None


def _publisher() -> QuestionPublisher:
    publisher: QuestionPublisher = current_app.extensions["polling_questions"]
    return publisher


class QuestionPublisher(HallPublisher):
    """Sends each event's question lists: to phones at most once per interval and only when
    the list changed, to the moderator and projector after each moderator action too."""

    name = "questions"

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.sent: dict[int, dict[str, Any]] = {}  # event id -> the hall's lists last sent

    def publish(self, event_id: int, question_ids: set[int], *, audience: bool = True) -> None:
        """Send the moderator's and projector's lists, and (if it changed) the hall's; each
        asker of a changed question hears of it unless the hall's list already says it."""
        with self.app.app_context(), db.session() as db_session:
            board = questions.board(db_session, event_id)
            if board is None:
                self.sent.pop(event_id, None)
                return
            moderator, screen = board.moderator(), board.screen()
            hall = board.audience(LIST_SIZE) if audience else None
            askers = {
                q.participant_id
                for q in board.questions
                if q.id in question_ids and q.participant_id is not None
            }
            own = {participant: board.own(participant) for participant in askers}
        socketio.emit("questions_moderator", moderator, to=room(event_id, MODERATOR))
        socketio.emit("questions_screen", screen, to=room(event_id, PRESENTER))
        if hall is None:
            return
        update = hall_update(self.sent.get(event_id), hall)
        if update is not None:
            self.sent[event_id] = hall
            socketio.emit("questions", update, to=hall_room(event_id))
            self.paced(event_id, hall_room(event_id))
        shown = {json.dumps(q, sort_keys=True) for q in listed(hall)}
        for participant, mine in own.items():
            if any(json.dumps(q, sort_keys=True) not in shown for q in mine):
                socketio.emit(
                    "questions_mine", {"mine": mine}, to=participant_room(event_id, participant)
                )


def listed(hall: dict[str, Any]) -> list[dict[str, Any]]:
    """Every question the hall's lists show, once."""
    found = {q["id"]: q for q in hall["popular"] + hall["newest"]}
    if hall["on_screen"]:
        found[hall["on_screen"]["id"]] = hall["on_screen"]
    return list(found.values())


def hall_update(before: dict[str, Any] | None, hall: dict[str, Any]) -> dict[str, Any] | None:
    """What the phones need to go from the lists `before` to `hall`: the lists as ids, the
    questions they had not been sent (or that changed other than in upvotes) in full, and the
    new upvote counts of the others. None if nothing changed."""
    changed, upvotes = item_changes(listed(before) if before else [], listed(hall))
    update = {**_outline(hall), "changed": changed, "upvotes": upvotes}
    if before is not None and not changed and not upvotes and _outline(before) == _outline(hall):
        return None
    return update


def _outline(hall: dict[str, Any]) -> dict[str, Any]:
    """The hall's lists as ids, with the settings and the number of questions."""
    return {
        "settings": hall["settings"],
        "total": hall["total"],
        "on_screen": hall["on_screen"]["id"] if hall["on_screen"] else None,
        "popular": [q["id"] for q in hall["popular"]],
        "newest": [q["id"] for q in hall["newest"]],
    }
