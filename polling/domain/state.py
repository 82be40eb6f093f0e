"""What each screen is told about an event, read from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, ScalarSelect, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from polling.database import Reader, connection_of, orm_session
from polling.domain.content import content_of
from polling.domain.counts import joined_by, participants, round_participants, vote_counts
from polling.domain.events import display_code
from polling.domain.models import (
    STATEMENT,
    Event,
    Option,
    Round,
    RoundArchive,
    Statement,
    Vote,
    stage_at,
    utcnow,
)
from polling.domain.question_models import QuestionSettings
from polling.domain.questions import settings_for
from polling.domain.roles import AUDIENCE, PRESENTER
from polling.domain.tally import Tally, make_tally
from polling.domain.voting import TIMER_CHOICES, allowed_actions


@dataclass(frozen=True)
class Snapshot:
    """An event's state at one moment, from which every role's view is cut."""

    public: dict[str, Any]
    tally: Tally | None
    # For the projector and moderator only: the actions the rules allow now, the countdowns
    # on offer and how many phones have joined.
    screens: dict[str, Any]

    def for_role(self, role: str) -> dict[str, Any]:
        """The state as one role may see it."""
        payload = {**self.public, "results": None, "turnout": None}
        statement = self.public["statement"]
        if role == AUDIENCE and statement is not None:
            # Context facts are for the projector; a full hall need not receive them each time.
            payload["statement"] = {k: v for k, v in statement.items() if k != "facts"}
        if role != AUDIENCE:
            payload.update(self.screens)
        if self.tally is not None:
            revealed, mode = self.public["revealed"], self.public["event"]["results_mode"]
            expected = self.public["event"]["expected_audience"]
            payload.update(tally_message(self.tally, role, revealed, mode, expected))
            del payload["round_id"]
        return payload


def shows_results(role: str, revealed: bool, results_mode: str) -> bool:
    """Phones see results once revealed; the projector once revealed or when the event shows
    them live; the moderator always."""
    if role == AUDIENCE:
        return revealed
    if role == PRESENTER:
        return revealed or results_mode == "live"
    return True


def tally_message(
    tally: Tally, role: str, revealed: bool, results_mode: str, expected: int | None = None
) -> dict[str, Any]:
    """A tally as one role may see it: turnout for the screens, counts only where allowed.

    With an expected audience the screens' turnout says it, and whether more phones joined
    than expected (a hall larger than planned, or someone joining with many browsers).
    """
    turnout: dict[str, Any] | None = None
    if role != AUDIENCE:
        turnout = tally.turnout_dict()
        if expected is not None:
            turnout.update(expected=expected, over_expected=tally.participants > expected)
    return {
        "round_id": tally.round_id,
        "turnout": turnout,
        "results": tally.as_dict() if shows_results(role, revealed, results_mode) else None,
    }


# What moves in an event, in one query: the position, the reveal, the results mode, the
# statement on screen's round and reasons, and the reasons' setting. The rest of the state is
# the event's content, which never changes (polling.domain.content).
def latest_round_number() -> ScalarSelect[int]:
    """The number of the latest round of the statement a query joins (`Statement`), as a
    subquery to compare `Round.number` with."""
    latest = aliased(Round)
    return (
        select(func.max(latest.number)).where(latest.statement_id == Statement.id).scalar_subquery()
    )


_NOW = (
    select(
        Event.code,
        Event.current_position,
        Event.results_revealed,
        Event.results_mode,
        Statement.reasons_shown,
        Round.id.label("round_id"),
        Round.number,
        Round.opened_at,
        Round.closed_at,
        Round.closes_at,
        QuestionSettings.reasons.label("reasons_mode"),
    )
    .select_from(Event)
    .outerjoin(
        Statement, (Statement.event_id == Event.id) & (Statement.position == Event.current_position)
    )
    .outerjoin(
        Round,
        (Round.statement_id == Statement.id) & (Round.number == latest_round_number()),
    )
    .outerjoin(QuestionSettings, QuestionSettings.event_id == Event.id)
    .where(Event.id == bindparam("event_id"))
)


def snapshot(
    reader: Reader, event_id: int, *, code: str | None = None, audience: bool = False
) -> Snapshot | None:
    """Read an event's state and the tally of its current round; None if the event is gone
    (or, given a `code`, is not that event any more). For the `audience` only: the tally only
    once revealed, and no count of the joined phones (the screens' part)."""
    now = connection_of(reader).execute(_NOW, {"event_id": event_id}).first()
    if now is None or (code is not None and now.code != code):
        return None
    content = content_of(reader, event_id, now.code)
    if content is None:
        return None
    stage = stage_at(now.current_position, len(content.statements))
    statement = content.statements[now.current_position - 1] if stage == STATEMENT else None
    has_round = statement is not None and now.round_id is not None
    is_open = has_round and now.closed_at is None
    if stage != STATEMENT:
        phase = stage
    elif not has_round:
        phase = "ready"
    else:
        phase = "open" if is_open else "closed"
    public = {
        "event": {
            "code": content.code,
            "code_display": display_code(content.code),
            "title": content.title,
            "language": content.language,
            "results_mode": now.results_mode,
            "expected_audience": content.expected_audience,
            "audience_cap": content.audience_cap,
        },
        "phase": phase,
        "position": now.current_position,
        "total": len(content.statements),
        "statement": statement.payload if statement else None,
        "round": _round_payload(now) if has_round else None,
        "revealed": now.results_revealed,
        # Whether phones may say why they voted, and whether the hall sees the reasons.
        "reasons": _reasons_state(reader, event_id, now) if statement else None,
    }
    tally = None
    if has_round and statement is not None and (now.results_revealed or not audience):
        with orm_session(reader) as session:
            tally = round_tally(
                session, event_id, statement.option_keys, now.round_id, now.closed_at
            )
    screens = {
        "allowed_actions": allowed_actions(
            stage=stage,
            has_round=has_round,
            is_open=is_open,
            timed=is_open and now.closes_at is not None,
            revealed=now.results_revealed,
            results_mode=now.results_mode,
        ),
        "timer": {"default": content.timer_seconds, "choices": list(TIMER_CHOICES)},
        # A phone (a reconnecting hall) is spared the count.
        "joined": None if audience else participants(reader, event_id),
    }
    return Snapshot(public=public, tally=tally, screens=screens)


def round_tally(
    session: Session,
    event_id: int,
    option_keys: tuple[str, ...],
    round_id: int,
    closed_at: datetime | None,
) -> Tally:
    """Count the votes of a round from the vote rows (or from its archive, once retention
    deleted them)."""
    keys = list(option_keys)
    archive = session.get(RoundArchive, round_id)
    if archive is not None:
        return make_tally(round_id, keys, archive.counts, archive.participants)
    # A closed round's turnout counts the phones joined by its close, as the report does.
    participants = round_participants(session, event_id, closed_at)
    return make_tally(round_id, keys, vote_counts(session, round_id), participants)


@dataclass(frozen=True)
class TallySettings:
    """What decides who sees a tally: an event's reveal, results mode and expected audience."""

    revealed: bool
    results_mode: str
    expected_audience: int | None


def round_on_screen(session: Session, event_id: int) -> Row[int, datetime | None, int] | None:
    """The id, close and statement of the latest round of the statement on screen, if any
    (columns only: the statements' texts are not loaded)."""
    return session.execute(
        select(Round.id, Round.closed_at, Round.statement_id)
        .join(Statement, Round.statement_id == Statement.id)
        .join(Event, Event.id == Statement.event_id)
        .where(Event.id == event_id, Statement.position == Event.current_position)
        .order_by(Round.number.desc())
        .limit(1)
    ).first()


# The tally of the round on screen in one query, a row per option in deck order: what the
# tally publisher reads a few times a second while votes come in. Loading the event and its
# statements (their texts are JSON) and counting in six queries was most of a vote's CPU.
_CURRENT_TALLY = (
    select(
        Event.results_revealed,
        Event.results_mode,
        Event.expected_audience,
        Round.id.label("round_id"),
        Option.key,
        select(func.count(Vote.id))
        .where(Vote.round_id == Round.id, Vote.option_id == Option.id)
        .scalar_subquery()
        .label("votes"),
        joined_by(Event.id, Round.closed_at).scalar_subquery().label("participants"),
        RoundArchive.counts.label("archived_counts"),
        RoundArchive.participants.label("archived_participants"),
    )
    .join(
        Statement, (Statement.event_id == Event.id) & (Statement.position == Event.current_position)
    )
    .join(Round, Round.statement_id == Statement.id)
    .join(Option, Option.statement_id == Statement.id)
    .outerjoin(RoundArchive, RoundArchive.round_id == Round.id)
    .where(
        Event.id == bindparam("event_id"),
        Round.number == latest_round_number(),
    )
    .order_by(Option.position)
)


def current_tally(reader: Reader, event_id: int) -> tuple[Tally, TallySettings] | None:
    """The tally of the round on screen and who may see it, or None if no round is on screen
    (or the event is gone). Counted as `round_tally` counts."""
    rows = connection_of(reader).execute(_CURRENT_TALLY, {"event_id": event_id}).all()
    if not rows:
        return None
    first = rows[0]
    keys = [row.key for row in rows]
    settings = TallySettings(first.results_revealed, first.results_mode, first.expected_audience)
    if first.archived_counts is not None:
        tally = make_tally(first.round_id, keys, first.archived_counts, first.archived_participants)
    else:
        counts = {row.key: row.votes for row in rows}
        tally = make_tally(first.round_id, keys, counts, first.participants)
    return tally, settings


def _round_payload(now: Any) -> dict[str, Any]:
    """The round part of the state, from a row of _NOW."""
    return {
        "id": now.round_id,
        "number": now.number,
        "open": now.closed_at is None,
        "opened_at": now.opened_at.isoformat(),
        "closed_at": now.closed_at.isoformat() if now.closed_at else None,
        # The countdown as time left, not a clock time: phones' clocks are often off.
        "remaining_ms": _remaining_ms(now.closes_at, now.closed_at),
    }


def _remaining_ms(closes_at: datetime | None, closed_at: datetime | None) -> int | None:
    """Milliseconds until the round's countdown closes it, if it has one and is open."""
    if closes_at is None or closed_at is not None:
        return None
    return max(0, round((closes_at - utcnow()).total_seconds() * 1000))


def _reasons_state(reader: Reader, event_id: int, now: Any) -> dict[str, Any]:
    """What every screen's state says of the reasons (polling.domain.reasons): whether phones
    may give one, and whether the hall sees them."""
    mode = now.reasons_mode
    if mode is None:  # an event made outside create_event: its settings are the defaults
        with orm_session(reader) as session:
            mode = settings_for(session, event_id).reasons
    return {"mode": mode, "shown": now.reasons_shown}
