"""The audience's reasons for a vote ("Waarom eens?"), and what those who changed their mind say.

A phone that voted may say why, once per round, while the statement is on screen. A reason's
side is the option of the phone's vote in that round, read when shown: changing the vote keeps
the reason and moves it to the new side. From the second round on, a reason whose phone chose
differently in the round before is a *mover*'s ("eens → oneens"), found the same way.

Moderation is that of the questions (polling.domain.questions): pre-moderation per event, the
word lists, muted phones. The hall reads and upvotes the reasons only once the moderator shows
them ("Toon redenen"); the projector shows only the ones the moderator picks. Reasons and
upvotes are written inside the vote writer's batches; moderator actions commit here. Upvotes
are always counted from their rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, bindparam, case, delete, false, func, select, text
from sqlalchemy.orm import Session

from polling.database import Reader, connection_of
from polling.domain.models import (
    Event,
    Option,
    Participant,
    Round,
    Statement,
    UTCDateTime,
    Vote,
    utcnow,
)
from polling.domain.question_models import QuestionMute, QuestionSettings
from polling.domain.questions import QuestionError, is_blocked, normalise, settings_for
from polling.domain.reason_models import (
    DISMISSED,
    HIDDEN,
    PENDING,
    VISIBLE,
    Reason,
    ReasonVote,
)
from polling.domain.reason_records import moved_from, upvotes, with_sides
from polling.domain.state import latest_round_number, round_on_screen
from polling.domain.text import storable
from polling.domain.voting import dialect_insert

MIN_LENGTH = 3
MAX_LENGTH = 200
# How many reasons of each side every phone gets.
SIDE_SIZE = 20
# How many of each side the moderator gets, most upvoted and newest (so up to twice this),
# and how many of the queue.
MODERATOR_SIDE_SIZE = 30
MODERATOR_QUEUE_SIZE = 100


class ReasonError(QuestionError):
    """A request the rules of reasons refuse."""


def clean_text(value: Any) -> str:
    """A reason's text with its spaces tidied; raise ReasonError if it is not 3 to 200
    characters of storable text."""
    if not isinstance(value, str):
        raise ReasonError("bad_request", "Send {round: <id>, text: <your reason>}.")
    cleaned = " ".join(value.split())
    if not storable(cleaned):
        raise ReasonError("bad_request", "The reason must be text.")
    if len(cleaned) < MIN_LENGTH:
        raise ReasonError("too_short", f"A reason needs at least {MIN_LENGTH} characters.")
    if len(cleaned) > MAX_LENGTH:
        raise ReasonError("too_long", f"A reason has at most {MAX_LENGTH} characters.")
    return cleaned


# ---------- giving a reason (inside the vote writer's batch) ----------


def give(connection: Connection, participant_id: int, round_id: int, text_: Any) -> dict[str, Any]:
    """Give (or replace) this phone's reason in a round; returns it as its writer sees it.

    Two statements: one reads every rule's facts, one writes (an upsert on the phone's reason
    of the round). Does not commit: the vote writer commits it with its batch and
    acknowledges it after.
    """
    cleaned = clean_text(text_)
    facts = connection.execute(
        _GIVE_FACTS, {"round_id": round_id, "participant_id": participant_id}
    )
    row = facts.first()
    if row is None:
        raise _give_refusal(connection, participant_id)
    if not row.current:
        raise ReasonError("not_current", "This round is no longer on screen.")
    if row.mode != "open":
        raise ReasonError("reasons_closed", "Reasons cannot be given now.")
    if row.choice is None:
        raise ReasonError("not_voted", "Vote first, then say why.")
    if row.existing_text == cleaned:
        return _own(row.existing_id, round_id, cleaned, row.choice, row.existing_state)
    blocked = is_blocked(normalise(cleaned), row.blocklist or [])
    held = "muted" if row.muted else "blocklist" if blocked else None
    state = PENDING if row.premoderation or held is not None else VISIBLE
    now = utcnow()
    values = {
        "event_id": row.event_id,
        "statement_id": row.statement_id,
        "round_id": round_id,
        "participant_id": participant_id,
        "text": cleaned,
        "state": state,
        "held": held,
        "picked": False,  # an edit takes it off the projector: the moderator picked other words
        "written_at": now,
        "approved_at": now if state == VISIBLE else None,
    }
    insert = dialect_insert(connection)(Reason).values(**values)
    # A reason the moderator hid or dismissed stays so when its writer edits it.
    kept = Reason.state.in_((HIDDEN, DISMISSED))
    excluded = insert.excluded
    written = connection.execute(
        insert.on_conflict_do_update(
            index_elements=[Reason.round_id, Reason.participant_id],
            set_={
                "text": excluded.text,
                "written_at": excluded.written_at,
                "picked": False,
                "state": case((kept, Reason.state), else_=excluded.state),
                "held": case((kept, Reason.held), else_=excluded.held),
                "approved_at": case(
                    (kept, Reason.approved_at),
                    else_=func.coalesce(Reason.approved_at, excluded.approved_at),
                ),
            },
        ).returning(Reason.id, Reason.state)
    ).one()
    return _own(written.id, round_id, cleaned, row.choice, written.state)


# What `give` needs to know, in one row (none if the round or the phone is not of one event):
# whether the round is the latest of the statement on screen, the event's settings, the phone's
# vote in the round, whether it is muted, and its reason so far.
_GIVE_FACTS = (
    select(
        Event.id.label("event_id"),
        Statement.id.label("statement_id"),
        (
            (Event.current_position == Statement.position) & (Round.number == latest_round_number())
        ).label("current"),
        # An event made before the settings existed has none stored: the defaults.
        func.coalesce(QuestionSettings.reasons, "open").label("mode"),
        func.coalesce(QuestionSettings.reasons_premoderation, false()).label("premoderation"),
        QuestionSettings.blocklist,
        Option.key.label("choice"),
        (QuestionMute.participant_id.is_not(None)).label("muted"),
        Reason.id.label("existing_id"),
        Reason.text.label("existing_text"),
        Reason.state.label("existing_state"),
    )
    .select_from(Round)
    .join(Statement, Statement.id == Round.statement_id)
    .join(Event, Event.id == Statement.event_id)
    .join(Participant, Participant.event_id == Event.id)
    .outerjoin(QuestionSettings, QuestionSettings.event_id == Event.id)
    .outerjoin(Vote, (Vote.round_id == Round.id) & (Vote.participant_id == Participant.id))
    .outerjoin(Option, Option.id == Vote.option_id)
    .outerjoin(
        QuestionMute,
        (QuestionMute.event_id == Event.id) & (QuestionMute.participant_id == Participant.id),
    )
    .outerjoin(Reason, (Reason.round_id == Round.id) & (Reason.participant_id == Participant.id))
    .where(Round.id == bindparam("round_id"), Participant.id == bindparam("participant_id"))
)


def _give_refusal(connection: Connection, participant_id: int) -> ReasonError:
    """Why `give` found nothing: the phone's event is gone, or the round is not of its event."""
    if _participant_event(connection, participant_id) is None:  # ids are never reused
        return ReasonError("event_gone", "This event has been deleted.")
    return ReasonError("unknown_round", "There is no such round in this event.")


def _own(
    reason_id: int, round_id: int, text_: str, choice: str | None, state: str
) -> dict[str, Any]:
    """A reason as the phone that gave it sees it. A dismissed one stays "pending" for it."""
    return {
        "id": reason_id,
        "round": round_id,
        "text": text_,
        "choice": choice,
        "state": PENDING if state == DISMISSED else state,
    }


# The phone's vote and its reason in a round, in one read: every phone of a hall asks it when
# it comes back. Either may be missing, hence the join from a row of nothing.
_OWN_VOTE = text(
    """
    SELECT (SELECT o.key FROM votes AS v JOIN options AS o ON o.id = v.option_id
            WHERE v.round_id = :round_id AND v.participant_id = :participant_id) AS choice,
           r.id AS reason_id, r.text AS reason_text, r.state AS reason_state
    FROM (SELECT 1 AS here) AS one
    LEFT JOIN reasons AS r ON r.round_id = :round_id AND r.participant_id = :participant_id
    """
)


def own_vote(reader: Reader, participant_id: int, round_id: int | None) -> dict[str, Any]:
    """This phone's vote in a round and its reason, for its state after a (re)connect:
    {"choice": the option key or None, "reason": as the phone sees it, or None}."""
    if round_id is None:
        return {"choice": None, "reason": None}
    found = (
        connection_of(reader)
        .execute(_OWN_VOTE, {"round_id": round_id, "participant_id": participant_id})
        .one()
    )
    reason = None
    if found.reason_id is not None:
        reason = _own(
            found.reason_id, round_id, found.reason_text, found.choice, found.reason_state
        )
    return {"choice": found.choice, "reason": reason}


# ---------- upvotes (written in groups by the vote writer) ----------

# One statement checks every rule and writes the upvote: the reason is visible, the moderator
# showed its statement's reasons, the phone is of the same event and did not write it. The
# unique constraint one_upvote_per_reason makes a second tap change nothing.
_UPVOTE = text(
    """
    INSERT INTO reason_votes (reason_id, participant_id, cast_at)
    SELECT r.id, p.id, :cast_at
    FROM reasons r
    JOIN participants p ON p.event_id = r.event_id
    JOIN statements s ON s.id = r.statement_id
    WHERE r.id = :reason_id AND p.id = :participant_id
      AND r.state = 'visible' AND s.reasons_shown
      AND (r.participant_id IS NULL OR r.participant_id <> p.id)
    ON CONFLICT (reason_id, participant_id) DO NOTHING
    """
).bindparams(bindparam("cast_at", type_=UTCDateTime))


def upvote(connection: Connection, participant_id: int, reason_id: int, up: bool) -> int:
    """Upvote (or withdraw the upvote of) a reason; return its upvotes after. Not committed."""
    parameters = {"reason_id": reason_id, "participant_id": participant_id}
    if up:
        written = connection.execute(_UPVOTE, {**parameters, "cast_at": utcnow()})
        if written.rowcount != 1 and not _has_upvoted(connection, participant_id, reason_id):
            raise _upvote_refusal(connection, participant_id, reason_id)
    else:
        connection.execute(
            delete(ReasonVote).where(
                ReasonVote.reason_id == reason_id, ReasonVote.participant_id == participant_id
            )
        )
        voter_event = _participant_event(connection, participant_id)
        if voter_event is None:  # ids are never reused: its event was deleted
            raise ReasonError("event_gone", "This event has been deleted.")
        if _reason_event(connection, reason_id) != voter_event:
            raise ReasonError("unknown_reason", "There is no such reason in this event.")
    return connection.execute(
        select(func.count()).select_from(ReasonVote).where(ReasonVote.reason_id == reason_id)
    ).scalar_one()


def _has_upvoted(connection: Connection, participant_id: int, reason_id: int) -> bool:
    found = connection.execute(
        select(ReasonVote.id).where(
            ReasonVote.reason_id == reason_id, ReasonVote.participant_id == participant_id
        )
    ).first()
    return found is not None


def _reason_event(connection: Connection, reason_id: int) -> int | None:
    return connection.execute(select(Reason.event_id).where(Reason.id == reason_id)).scalar()


def _participant_event(connection: Connection, participant_id: int) -> int | None:
    return connection.execute(
        select(Participant.event_id).where(Participant.id == participant_id)
    ).scalar()


def _upvote_refusal(connection: Connection, participant_id: int, reason_id: int) -> ReasonError:
    """Why an upvote was not written (the rare path, so more queries are fine)."""
    found = connection.execute(
        select(Reason.event_id, Reason.state, Reason.participant_id, Statement.reasons_shown)
        .join(Statement, Statement.id == Reason.statement_id)
        .where(Reason.id == reason_id)
    ).first()
    voter_event = _participant_event(connection, participant_id)
    if voter_event is None:  # ids are never reused: its event was deleted
        return ReasonError("event_gone", "This event has been deleted.")
    if found is None or found.event_id != voter_event:
        return ReasonError("unknown_reason", "There is no such reason in this event.")
    if found.participant_id == participant_id:
        return ReasonError("own_reason", "You cannot upvote your own reason.")
    if not found.reasons_shown:
        return ReasonError("not_shown", "The reasons are not shown yet.")
    return ReasonError("not_upvotable", "This reason cannot be upvoted.")


# ---------- the moderator ----------

# action -> (states it applies to, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((PENDING, DISMISSED), VISIBLE),
    "dismiss": ((PENDING,), DISMISSED),
    "hide": ((VISIBLE,), HIDDEN),
    "restore": ((HIDDEN, DISMISSED), VISIBLE),
    # On the projector: picking a waiting reason approves it.
    "pick": ((PENDING, VISIBLE), VISIBLE),
}
MODERATOR_ACTIONS = (*TRANSITIONS, "unpick", "edit", "mute", "unmute")


def moderate(
    session: Session, event_id: int, reason_id: Any, action: Any, text_: Any = None
) -> Reason:
    """Apply a moderator action to a reason and commit it.

    `edit` (and `approve`, `pick` with a text) shortens or tidies the words; the writer's own
    are kept for the export. `mute` holds the phone's later reasons and questions.
    """
    if action not in MODERATOR_ACTIONS:
        raise ReasonError("bad_request", f"Send {{action: one of {', '.join(MODERATOR_ACTIONS)}}}.")
    reason = _reason(session, event_id, reason_id)
    if text_ is not None and action in ("approve", "pick", "edit"):
        cleaned = clean_text(text_)
        if cleaned != reason.text:
            reason.original_text = reason.original_text or reason.text
            reason.text = cleaned
    elif action == "edit":
        raise ReasonError("bad_request", "Send the new text.")
    now = utcnow()
    if action in TRANSITIONS:
        sources, target = TRANSITIONS[action]
        if reason.state not in sources:
            raise ReasonError("not_allowed", f"This reason is {reason.state}: cannot {action}.")
        reason.state = target
        reason.held = None if target == VISIBLE else reason.held
        if target == VISIBLE:
            reason.approved_at = reason.approved_at or now
    if action == "pick":
        reason.picked, reason.picked_at = True, now
    elif action in ("unpick", "hide"):
        reason.picked = False
    elif action in ("mute", "unmute"):
        _mute(session, event_id, reason, action == "mute")
    session.commit()
    return reason


def _mute(session: Session, event_id: int, reason: Reason, mute: bool) -> None:
    if reason.participant_id is None:
        raise ReasonError("not_allowed", "The writer of this reason is no longer known.")
    existing = session.get(QuestionMute, (event_id, reason.participant_id))
    if mute and existing is None:
        session.add(QuestionMute(event_id=event_id, participant_id=reason.participant_id))
    elif not mute and existing is not None:
        session.delete(existing)


def show(session: Session, event_id: int, shown: Any) -> Statement:
    """Toon redenen (or hide them again) for the statement on screen; commit."""
    if not isinstance(shown, bool):
        raise ReasonError("bad_request", "Send {shown: true|false}.")
    event = session.get(Event, event_id)
    if event is None:
        raise ReasonError("event_gone", "This event has been deleted.")
    statement = event.current_statement
    if statement is None:
        raise ReasonError("no_statement", "No statement is on screen.")
    statement.reasons_shown = shown
    session.commit()
    return statement


# The moderator actions after which another round (or statement) is on screen.
ROUND_CHANGES = ("next", "previous", "new_round")


def leave_round(session: Session, event_id: int) -> bool:
    """Another round is on screen: a projector showing the reasons (or their words) of the
    round before goes back to the statement, which the hall now votes on; commit. True if
    the view changed."""
    settings = settings_for(session, event_id)
    if settings.view not in ("reasons", "words"):
        return False
    settings.view = "statements"
    session.commit()
    return True


def _reason(session: Session, event_id: int, reason_id: Any) -> Reason:
    if not isinstance(reason_id, int) or isinstance(reason_id, bool) or not 0 < reason_id < 2**63:
        raise ReasonError("bad_request", "Send {reason: <id>}.")
    reason = session.get(Reason, reason_id)
    if reason is None or reason.event_id != event_id:
        if session.get(Event, event_id) is None:
            raise ReasonError("event_gone", "This event has been deleted.")
        raise ReasonError("unknown_reason", "There is no such reason in this event.")
    return reason


# ---------- reading ----------


@dataclass
class ReasonBoard:
    """The reasons of the round on screen, with their sides, movers and upvotes, read once;
    each screen's view is cut from it."""

    event: Event
    settings: QuestionSettings
    statement: Statement
    round_: Round
    reasons: list[Any]  # rows of _BOARD's columns, one per reason
    choices: dict[int, str]  # reason id -> its side now
    previous: dict[int, str]  # reason id -> its side in the round before, for movers only
    counts: dict[int, int]
    muted: set[int] = field(default_factory=set)

    def view(self, reason: Row[Any], *, moderator: bool = False) -> dict[str, Any]:
        """A reason as a screen shows it (texts are text; the pages never parse them)."""
        before = self.previous.get(reason.id)
        view: dict[str, Any] = {
            "id": reason.id,
            "text": reason.text,
            "choice": self.choices.get(reason.id),
            "upvotes": self.counts.get(reason.id, 0),
            "state": reason.state,
            "picked": reason.picked,
            "moved": {"from": before, "to": self.choices.get(reason.id)} if before else None,
            "written_at": reason.written_at.isoformat(),
        }
        if moderator:
            view.update(
                held=reason.held,
                muted=reason.participant_id in self.muted,
                original_text=reason.original_text,
            )
        return view

    def _outline(self) -> dict[str, Any]:
        return {
            "statement": self.statement.id,
            "round": self.round_.number,
            "shown": self.statement.reasons_shown,
            "mode": self.settings.reasons,
            "options": [{"key": o.key, "labels": o.labels} for o in self.statement.options],
        }

    def popular(self, chosen: Iterable[Row[Any]]) -> list[Row[Any]]:
        """Most upvoted first; ties, the older first."""
        return sorted(chosen, key=lambda r: (-self.counts.get(r.id, 0), r.written_at, r.id))

    def audience(self, size: int = SIDE_SIZE) -> dict[str, Any]:
        """What every phone gets (the same for the whole hall): nothing but the outline until
        the moderator shows the reasons; then the most upvoted visible ones per side."""
        payload = {**self._outline(), "sides": {}, "movers": [], "total": 0}
        if not self.statement.reasons_shown:
            return payload
        visible = [r for r in self.reasons if r.state == VISIBLE and r.id in self.choices]
        payload["sides"] = {
            option.key: [
                self.view(r)
                for r in self.popular(r for r in visible if self.choices[r.id] == option.key)
            ][:size]
            for option in self.statement.options
        }
        payload["movers"] = [
            self.view(r) for r in self.popular(r for r in visible if r.id in self.previous)
        ][:size]
        payload["total"] = len(visible)
        return payload

    def moderator(self, size: int = MODERATOR_SIDE_SIZE) -> dict[str, Any]:
        """For the moderator, most upvoted first: the queue (oldest first, at most
        MODERATOR_QUEUE_SIZE), what is on the projector, and per side the `size` most upvoted
        and the `size` newest; with the counts of all. A hall gives thousands of reasons: all of
        them every second would be a megabyte a message, more than a phone can read."""
        pending = [r for r in self.reasons if r.state == PENDING]
        chosen = {r.id: r for r in pending[:MODERATOR_QUEUE_SIZE]}
        chosen.update((r.id, r) for r in self.reasons if r.picked)
        sides: dict[str, int] = {}
        for option in self.statement.options:
            side = [r for r in self.reasons if self.choices.get(r.id) == option.key]
            sides[option.key] = len(side)
            newest = sorted(side, key=lambda r: (r.written_at, r.id), reverse=True)[:size]
            chosen.update((r.id, r) for r in [*self.popular(side)[:size], *newest])
        return {
            **self._outline(),
            "premoderation": self.settings.reasons_premoderation,
            "view": self.settings.view,
            "reasons": [self.view(r, moderator=True) for r in self.popular(chosen.values())],
            "counts": {"total": len(self.reasons), "pending": len(pending), "sides": sides},
        }

    def screen(self) -> dict[str, Any]:
        """For the projector: the picked reasons per side, the movers' in a column of their own."""
        picked = [r for r in self.popular(self.reasons) if r.picked and r.id in self.choices]
        return {
            **self._outline(),
            "view": self.settings.view,
            "sides": {
                option.key: [
                    self.view(r)
                    for r in picked
                    if self.choices[r.id] == option.key and r.id not in self.previous
                ]
                for option in self.statement.options
            },
            "movers": [self.view(r) for r in picked if r.id in self.previous],
        }

    def own(self, participant_id: int) -> dict[str, Any] | None:
        """This phone's reason in the round, as it sees it."""
        for reason in self.reasons:
            if reason.participant_id == participant_id:
                return _own(reason.id, self.round_.id, reason.text, reason.choice, reason.state)
        return None

    def texts_by_side(self) -> dict[str, list[str]]:
        """The visible reasons' texts per side: what the words view counts."""
        sides: dict[str, list[str]] = {option.key: [] for option in self.statement.options}
        for reason in self.reasons:
            side = self.choices.get(reason.id)
            if reason.state == VISIBLE and side in sides:
                sides[side].append(reason.text)
        return sides


# Every reason of a round with its side, its side in the round before and its upvotes, in one
# query of columns: a round of 3,000 reasons is read a few times a second while they come in,
# and loading them as objects with a query per question asked of them cost 50-110 ms.
_BOARD = (
    with_sides(
        select(
            Reason.id,
            Reason.text,
            Reason.state,
            Reason.held,
            Reason.picked,
            Reason.participant_id,
            Reason.original_text,
            Reason.written_at,
            upvotes(),
        )
    )
    .where(Reason.round_id == bindparam("round_id"))
    .order_by(Reason.id)
)


def reason_board(session: Session, event_id: int) -> ReasonBoard | None:
    """Read the reasons of the round on screen, or None if there is none."""
    event = session.get(Event, event_id)
    statement = event.current_statement if event is not None else None
    round_ = statement.latest_round if statement is not None else None
    if event is None or statement is None or round_ is None:
        return None
    reasons = list(session.connection().execute(_BOARD, {"round_id": round_.id}))
    choices = {r.id: r.choice for r in reasons if r.choice is not None}
    previous = {r.id: r.before for r in reasons if moved_from(r.choice, r.before) is not None}
    muted = set(
        session.scalars(
            select(QuestionMute.participant_id).where(QuestionMute.event_id == event_id)
        )
    )
    return ReasonBoard(
        event,
        settings_for(session, event_id),
        statement,
        round_,
        reasons,
        choices,
        previous,
        {r.id: r.upvotes for r in reasons},
        muted,
    )


def round_has_reasons(session: Session, event_id: int) -> bool:
    """Whether the round on screen has any reason (two light queries, no texts loaded)."""
    row = round_on_screen(session, event_id)
    if row is None:
        return False
    return session.scalar(select(Reason.id).where(Reason.round_id == row.id).limit(1)) is not None


def own_upvotes(session: Session, event_id: int, participant_id: int) -> list[int]:
    """The ids of the reasons this phone upvoted."""
    return list(
        session.scalars(
            select(ReasonVote.reason_id)
            .join(Reason, Reason.id == ReasonVote.reason_id)
            .where(Reason.event_id == event_id, ReasonVote.participant_id == participant_id)
        )
    )
