"""Socket.IO handlers of the audience's reasons for a vote, and the publisher of their lists.

Handlers are thin: check who is asking, validate the payload's shape, call a domain function
of polling.domain.reasons (which commits, or the vote writer commits), then tell the publisher
what changed. The hall's lists are paced like the questions' (polling.realtime.coalesce).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Flask, current_app
from flask_socketio import join_room
from sqlalchemy.orm import Session

from polling import db, socketio
from polling.domain import reasons
from polling.domain.errors import Refused
from polling.domain.events import MODERATOR, PRESENTER
from polling.domain.models import Event
from polling.domain.roles import ROLES
from polling.domain.words import words_by_side
from polling.realtime.broadcast import broadcast_state, room
from polling.realtime.coalesce import HallPublisher, item_changes
from polling.realtime.handlers import (
    EVENT_GONE,
    TOO_FAST,
    _identity,
    _is_id,
    _limits,
    _sid,
    _writer,
    error,
)
from polling.realtime.questions import as_moderator, as_upvote, refusal

# Noted as a changed item when a vote came in: no reason has this id.
VOTED = 0


def hall_room(event_id: int) -> str:
    """The phones that asked for the reasons (sent reasons_sync): only they get the lists."""
    return f"event-{event_id}-reasons"


@socketio.on("reasons_sync")
def on_reasons_sync(_data: Any = None, *_extra: Any) -> dict[str, Any]:
    """This connection's view of the reasons of the round on screen; a phone also gets its
    own reason and upvotes, and from now on the hall's updates."""
    identity = _identity()
    if identity is None:
        return error("not_joined", "Connect with a valid event code first.")
    if not _limits().requests_per_connection.allow(_sid()):
        return TOO_FAST
    with db.session() as db_session:
        if identity.participant_id is not None:
            # Joined first: a change from now on reaches this phone as an update.
            join_room(hall_room(identity.event_id))
            hall = _publisher().hall(db_session, identity.event_id)
            if hall is None:
                return _no_round(db_session, identity.event_id)
            round_id, view = hall
            payload = {
                **view,
                "mine": reasons.own_vote(db_session, identity.participant_id, round_id)["reason"],
                "upvoted": reasons.own_upvotes(
                    db_session, identity.event_id, identity.participant_id
                ),
            }
        else:
            board = reasons.reason_board(db_session, identity.event_id)
            if board is None:
                return _no_round(db_session, identity.event_id)
            payload = board.moderator() if identity.role == MODERATOR else _screen(board)
        db_session.commit()  # settings_for may have stored an old event's defaults
    return {"ok": True, "reasons": payload}


def _no_round(db_session: Session, event_id: int) -> dict[str, Any]:
    """The reply when no round is on screen, or the event is gone."""
    if db_session.get(Event, event_id) is None:
        return EVENT_GONE
    return {"ok": True, "reasons": None}


@socketio.on("reason_give")
def on_reason_give(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Say why: {round: id, text}. One reason per phone per round; a second replaces it."""
    identity = _identity()
    if identity is None or identity.participant_id is None:
        return error("not_audience", "Only the audience can give reasons.")
    fields = data if isinstance(data, dict) else {}
    round_id, text = fields.get("round"), fields.get("text")
    if not _is_id(round_id) or not isinstance(text, str):
        return error("bad_request", "Send {round: <id>, text: <your reason>}.")
    if len(text) > 4 * reasons.MAX_LENGTH:  # not even worth tidying its spaces
        return error("too_long", f"A reason has at most {reasons.MAX_LENGTH} characters.")
    if not _limits().reasons_per_participant.allow(identity.participant_id):
        return error("rate_limited", "You changed your reason several times just now; wait.")
    try:
        view = _writer().give_reason(identity.participant_id, round_id, text)
    except Refused as refused:
        return refusal(refused)
    _publisher().changed(identity.event_id, view["id"])
    return {"ok": True, "reason": view}


@socketio.on("reason_upvote")
def on_reason_upvote(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Upvote a reason or withdraw it: {reason: id, up: true|false}; acked once committed."""
    done = as_upvote(data, "reason", lambda *upvote: _writer().upvote_reason(*upvote))
    if isinstance(done, dict):
        return done
    event_id, reason_id, up, upvotes = done
    _publisher().changed(event_id, reason_id)
    return {"ok": True, "reason": reason_id, "up": up, "upvotes": upvotes}


@socketio.on("reason_moderate")
def on_reason_moderate(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """A moderator action on one reason: {reason, action, text?}."""
    fields = data if isinstance(data, dict) else {}
    done = as_moderator(
        "Only the moderator can moderate reasons.",
        lambda db_session, event_id: (
            reasons.moderate(
                db_session, event_id, fields.get("reason"), fields.get("action"), fields.get("text")
            ).id
        ),
    )
    if isinstance(done, dict):
        return done
    event_id, reason_id = done
    _publisher().changed(event_id, reason_id, screens_now=True)
    return {"ok": True}


@socketio.on("reasons_show")
def on_reasons_show(data: Any = None, *_extra: Any) -> dict[str, Any]:
    """Toon redenen: {shown: true|false} for the statement on screen."""
    fields = data if isinstance(data, dict) else {}
    done = as_moderator(
        "Only the moderator can show the reasons.",
        lambda db_session, event_id: reasons.show(db_session, event_id, fields.get("shown")).id,
    )
    if isinstance(done, dict):
        return done
    event_id, _statement = done
    broadcast_state(event_id, ROLES)  # every phone's state says whether they are shown
    _publisher().changed(event_id, screens_now=True)
    return {"ok": True}


def _publisher() -> ReasonPublisher:
    publisher: ReasonPublisher = current_app.extensions["polling_reasons"]
    return publisher


def _screen(board: reasons.ReasonBoard) -> dict[str, Any]:
    """The projector's view; the words per side only while the projector shows them."""
    payload = board.screen()
    if board.settings.view == "words":
        sides = tuple((side, tuple(texts)) for side, texts in board.texts_by_side().items())
        payload["words"] = _words(sides, board.event.language, tuple(board.settings.blocklist))
    return payload


@lru_cache(maxsize=32)
def _words(
    sides: tuple[tuple[str, tuple[str, ...]], ...], language: str, blocklist: tuple[str, ...]
) -> dict[str, list[list[Any]]]:
    """The words per side, counted once per set of texts: the projector's view is sent after
    every change of the round's reasons, and counting 3,000 of them takes a while."""
    return words_by_side({side: list(texts) for side, texts in sides}, language, blocklist)


class ReasonPublisher(HallPublisher):
    """Sends the reasons of each event's round on screen: to phones at most once per interval
    and only when they changed, to the moderator and projector after each moderator action."""

    name = "reasons"

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.sent: dict[int, dict[str, Any]] = {}  # event id -> the hall's payload last sent

    def hall(self, db_session: Session, event_id: int) -> tuple[int, dict[str, Any]] | None:
        """The round on screen's id and what every phone of the hall sees of its reasons (do
        not change it: it is shared), or None outside a round; read once for all the phones
        that ask (see HallPublisher.hall_view)."""

        def read() -> tuple[int, dict[str, Any]] | None:
            board = reasons.reason_board(db_session, event_id)
            return None if board is None else (board.round_.id, board.audience())

        return self.hall_view(event_id, read)

    def vote_committed(self, event_id: int) -> None:
        """A vote may have moved a reason to the other side: look at the next tick."""
        self.changed(event_id, VOTED)

    def publish(self, event_id: int, item_ids: set[int], *, audience: bool = True) -> None:
        with self.app.app_context(), db.session() as db_session:
            if item_ids == {VOTED} and not reasons.round_has_reasons(db_session, event_id):
                return  # votes alone, and no reason they could move: nothing to send
            board = reasons.reason_board(db_session, event_id)
            if board is None:
                self.sent.pop(event_id, None)
                return
            moderator, screen = board.moderator(), _screen(board)
            hall = board.audience() if audience else None
        socketio.emit("reasons_moderator", moderator, to=room(event_id, MODERATOR))
        socketio.emit("reasons_screen", screen, to=room(event_id, PRESENTER))
        if hall is None:
            return
        update = hall_update(self.sent.get(event_id), hall)
        if update is not None:
            self.sent[event_id] = hall
            socketio.emit("reasons", update, to=hall_room(event_id))
            self.paced(event_id, hall_room(event_id))


def listed(hall: dict[str, Any]) -> list[dict[str, Any]]:
    """Every reason the hall's lists show, once."""
    found = {r["id"]: r for side in hall["sides"].values() for r in side}
    found.update((r["id"], r) for r in hall["movers"])
    return list(found.values())


def outline(hall: dict[str, Any]) -> dict[str, Any]:
    """The hall's lists as ids, with what the reasons are of."""
    return {
        **{k: v for k, v in hall.items() if k not in ("sides", "movers")},
        "sides": {key: [r["id"] for r in side] for key, side in hall["sides"].items()},
        "movers": [r["id"] for r in hall["movers"]],
    }


def hall_update(before: dict[str, Any] | None, hall: dict[str, Any]) -> dict[str, Any] | None:
    """What the phones need to go from `before` to `hall`: the lists as ids, the reasons they
    had not been sent (or that changed other than in upvotes) in full, and the new upvote
    counts of the others. None if nothing changed. A full hall of reasons sent to 10,000
    phones each time would be megabytes a tick over the venue's Wi-Fi."""
    changed, upvotes = item_changes(listed(before) if before else [], listed(hall))
    if before is not None and not changed and not upvotes and outline(before) == outline(hall):
        return None
    return {**outline(hall), "changed": changed, "upvotes": upvotes}
