"""Socket.IO handlers of the audience's questions, and the publisher that coalesces updates.

Handlers are thin: check who is asking, validate the payload's shape, call a domain function
of polling.domain.questions (which commits), then tell the publisher what changed. Phones never
get a message per upvote: the publisher sends the hall's list at most once per interval per
event, and only when it changed; the moderator and the projector get their own streams.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_socketio import join_room
from sqlalchemy.orm import Session

from polling import db, socketio
from polling.domain import questions
from polling.domain.errors import Refused
from polling.domain.events import MODERATOR, PRESENTER
from polling.domain.roles import ROLES
from polling.domain.state import AUDIENCE
from polling.realtime.broadcast import broadcast_state, room
from polling.realtime.coalesce import HallPublisher, item_changes
from polling.realtime.handlers import (
    EVENT_GONE,
    TOO_FAST,
    Identity,
    _identity,
    _is_id,
    _limits,
    _sid,
    _writer,
    error,
)

Done = TypeVar("Done")

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
def on_questions_sync(_data: Any = None, *_extra: Any) -> dict[str, Any]:
    """This connection's view of the questions; a phone also gets its own questions and
    upvotes, and from now on hears when one of its questions changes."""
    identity = _identity()
    if identity is None:
        return error("not_joined", "Connect with a valid event code first.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    with db.session() as db_session:
        if identity.participant_id is not None:
            # Joined first: a change from now on reaches this phone as an update.
            join_room(participant_room(identity.event_id, identity.participant_id))
            join_room(hall_room(identity.event_id))
            hall = _publisher().hall(db_session, identity.event_id)
            if hall is None:
                return EVENT_GONE
            payload = {
                **hall,
                "mine": questions.own_questions(
                    db_session, identity.event_id, identity.participant_id
                ),
                "upvoted": questions.own_upvotes(
                    db_session, identity.event_id, identity.participant_id
                ),
            }
        else:
            board = questions.board(db_session, identity.event_id)
            if board is None:
                return EVENT_GONE
            payload = board.moderator() if identity.role == MODERATOR else board.screen()
        db_session.commit()  # settings_for may have stored an old event's defaults
    return {"ok": True, "questions": payload}


@socketio.on("question_ask")
def on_question_ask(data: Any = None, *_extra: Any) -> dict[str, Any]:
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
def on_question_upvote(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Upvote a question or withdraw it: {question: id, up: true|false}; acked once committed."""
    done = as_upvote(data, "question", lambda *upvote: _writer().upvote(*upvote))
    if isinstance(done, dict):
        return done
    event_id, question_id, up, upvotes = done
    _publisher().changed(event_id, question_id)
    return {"ok": True, "question": question_id, "up": up, "upvotes": upvotes}


@socketio.on("question_moderate")
def on_question_moderate(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """A moderator action on one question: {question, action, text?}."""
    fields = data if isinstance(data, dict) else {}
    done = as_moderator(
        "Only the moderator can moderate questions.",
        lambda db_session, event_id: (
            questions.moderate(
                db_session,
                event_id,
                fields.get("question"),
                fields.get("action"),
                fields.get("text"),
            ).id
        ),
    )
    if isinstance(done, dict):
        return done
    event_id, question_id = done
    _publisher().changed(event_id, question_id, screens_now=True)
    return {"ok": True}


@socketio.on("question_merge")
def on_question_merge(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Merge a question into another: {question, into}; the kept one gets both's voters."""
    fields = data if isinstance(data, dict) else {}
    done = as_moderator(
        "Only the moderator can merge questions.",
        lambda db_session, event_id: (
            questions.merge(db_session, event_id, fields.get("question"), fields.get("into")).id
        ),
    )
    if isinstance(done, dict):
        return done
    event_id, kept = done
    _publisher().changed(event_id, kept, fields["question"], screens_now=True)
    return {"ok": True}


@socketio.on("question_next")
def on_question_next(_data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Volgende vraag: the one on screen is answered, the most upvoted goes up."""
    done = as_moderator(
        "Only the moderator can choose the question on screen.",
        lambda db_session, event_id: questions.next_question(db_session, event_id),
    )
    if isinstance(done, dict):
        return done
    event_id, shown = done
    _publisher().changed(event_id, screens_now=True)
    return {"ok": True, "number": shown.number if shown else None}


@socketio.on("question_settings")
def on_question_settings(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Switch Q&A settings live: {mode?, names?, premoderation?, view?, reasons?, ...}."""
    done = as_moderator(
        "Only the moderator can change the Q&A settings.",
        lambda db_session, event_id: questions.change_settings(db_session, event_id, data).mode,
    )
    if isinstance(done, dict):
        return done
    event_id, mode = done
    # Every phone shows the Vragen tab or not, also those that never opened it.
    socketio.emit("questions_mode", {"mode": mode}, to=room(event_id, AUDIENCE))
    _publisher().changed(event_id, screens_now=True)
    if "reasons" in data:  # every phone's state says whether it may give a reason
        broadcast_state(event_id, ROLES)
    current_app.extensions["polling_reasons"].changed(event_id, screens_now=True)
    return {"ok": True}


def _controller() -> Identity | None:
    identity = _identity()
    return identity if identity is not None and identity.can_control else None


def as_upvote(
    data: Any, field: str, write: Callable[[int, int, bool], int]
) -> tuple[int, int, bool, int] | dict[str, Any]:
    """A phone's upvote of a question or a reason ({<field>: id, up: true|false}): only phones
    may, within their upvote limit; `write` commits it (participant, id, up) and returns the
    upvotes. Returns the event's id, the item's id, `up` and its upvotes, or the refusal."""
    identity = _identity()
    if identity is None or identity.participant_id is None:
        return error("not_audience", "Only the audience can upvote.")
    fields = data if isinstance(data, dict) else {}
    item_id, up = fields.get(field), fields.get("up", True)
    if not _is_id(item_id) or not isinstance(up, bool):
        return error("bad_request", f"Send {{{field}: <id>, up: true|false}}.")
    if not _limits().upvotes_per_participant.allow(identity.participant_id):
        return TOO_FAST
    try:
        upvotes = write(identity.participant_id, item_id, up)
    except Refused as refused:
        return refusal(refused)
    return identity.event_id, item_id, up, upvotes


def as_moderator(
    forbidden: str, act: Callable[[Session, int], Done]
) -> tuple[int, Done] | dict[str, Any]:
    """A moderator's request: only the moderator may, within the connection's rate limit; the
    domain function (which commits) runs in a session of its own. Returns the event's id and
    what it returned, or the refusal to answer with."""
    identity = _controller()
    if identity is None:
        return error("forbidden", forbidden)
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    try:
        with db.session() as db_session:
            return identity.event_id, act(db_session, identity.event_id)
    except Refused as refused:
        return refusal(refused)


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

    def hall(self, db_session: Session, event_id: int) -> dict[str, Any] | None:
        """What every phone of the hall sees of the questions (do not change it: it is
        shared), or None if the event is gone; read once for all the phones that ask (see
        HallPublisher.hall_view)."""

        def read() -> dict[str, Any] | None:
            board = questions.board(db_session, event_id)
            return None if board is None else board.audience(LIST_SIZE)

        return self.hall_view(event_id, read)

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
