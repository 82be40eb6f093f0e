"""The rules of an event: joining, casting a vote, and the moderator's actions.

Moderator actions validate, write and commit here; votes and joins are written here but
committed in groups by `polling.realtime.vote_writer`. Callers broadcast only after the commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from polling.domain.counts import participants
from polling.domain.errors import VotingError
from polling.domain.models import (
    FINISHED,
    LOBBY,
    STATEMENT,
    Event,
    Participant,
    Round,
    Statement,
    UTCDateTime,
    utcnow,
)

ACTIONS = (
    "next",
    "previous",
    "open",
    "close",
    "reveal",
    "hide",
    "new_round",
    "extend",
    "stop_timer",
    "results_live",
    "results_hidden",
)

# Actions that take a number of seconds: a countdown to open with, or to add.
TIMED_ACTIONS = ("open", "new_round", "extend")
# The countdowns the moderator page offers; a deck may name its own default (`timer`).
TIMER_CHOICES = (20, 30, 60, 90)
MIN_TIMER_SECONDS = 5
MAX_TIMER_SECONDS = 3600
EXTEND_SECONDS = 30

# Actions that change nothing a phone shows: only the screens are told, which spares a
# broadcast to every phone in the hall.
SCREEN_ONLY_ACTIONS = ("results_live", "results_hidden")


def token_digest(event_id: int, token: str) -> str:
    """What is stored of a phone's token: per event, so phones are unlinkable across events."""
    return hashlib.sha256(f"{event_id}:{token}".encode()).hexdigest()


# Built once: every phone that reconnects asks it (building the statement each time cost
# more than running it).
_PARTICIPANT = select(Participant.id).where(
    Participant.event_id == bindparam("event_id"), Participant.token_digest == bindparam("digest")
)


def participant_of(connection: Connection | Session, event_id: int, token: str) -> int | None:
    """The participant id of this phone in this event, or None if it never joined it."""
    known: int | None = connection.execute(
        _PARTICIPANT, {"event_id": event_id, "digest": token_digest(event_id, token)}
    ).scalar()
    return known


def join(connection: Connection, event_id: int, token: str) -> int:
    """The participant id of this phone in this event, created on its first visit.

    Does not commit: the caller may group many joins and votes in one transaction.
    """
    known = participant_of(connection, event_id, token)
    if known is not None:
        return known  # a phone coming back is never refused
    limit = connection.execute(
        select(Event.expected_audience).where(Event.id == event_id, Event.audience_cap)
    ).scalar()
    if limit is not None and participants(connection, event_id) >= limit:
        raise VotingError(
            "audience_full", f"This event is full: the organiser expects {limit} phones."
        )
    digest = token_digest(event_id, token)
    insert = dialect_insert(connection)(Participant).values(
        event_id=event_id, token_digest=digest, joined_at=utcnow()
    )
    connection.execute(insert.on_conflict_do_nothing())
    return connection.execute(
        select(Participant.id).where(
            Participant.event_id == event_id, Participant.token_digest == digest
        )
    ).scalar_one()


# One statement checks every rule and writes the vote: the round is open, its statement is on
# screen, the option belongs to it and the participant to the same event. If any rule fails
# it inserts nothing, and `_refusal` finds out which. A second vote in the round updates the
# first (the unique constraint one_vote_per_round), so a vote is never counted twice.
_CAST_VOTE = text(
    """
    INSERT INTO votes (round_id, participant_id, option_id, cast_at)
    SELECT r.id, p.id, o.id, :cast_at
    FROM rounds r
    JOIN statements s ON s.id = r.statement_id
    JOIN events e ON e.id = s.event_id
    JOIN options o ON o.statement_id = s.id
    JOIN participants p ON p.event_id = e.id
    WHERE r.id = :round_id AND p.id = :participant_id AND o.key = :choice
      AND r.closed_at IS NULL AND e.current_position = s.position
      AND (r.closes_at IS NULL OR r.closes_at > :cast_at)
    ON CONFLICT (round_id, participant_id)
    DO UPDATE SET option_id = excluded.option_id, cast_at = excluded.cast_at
    """
).bindparams(bindparam("cast_at", type_=UTCDateTime))


def cast_vote(connection: Connection, participant_id: int, round_id: int, choice: str) -> None:
    """Record (or change) a vote in an open round; raise VotingError if a rule forbids it.

    Does not commit: the caller groups votes into one transaction and acknowledges each
    only after that transaction committed.
    """
    written = connection.execute(
        _CAST_VOTE,
        {
            "round_id": round_id,
            "participant_id": participant_id,
            "choice": choice,
            "cast_at": utcnow(),
        },
    )
    if written.rowcount != 1:
        raise _refusal(connection, participant_id, round_id, choice)


# A vote as the writer batches it: (participant id, round id, choice).
Ballot = tuple[int, int, str]


def cast_votes(connection: Connection, ballots: list[Ballot]) -> list[VotingError | None]:
    """Record several votes, each as `cast_vote` does; for each, None or why it was refused.

    One statement executed for all of them: at a thousand votes a second the writer's
    batches hold dozens, and executing each on its own costs more than writing it.
    Does not commit.
    """
    now = utcnow()
    parameters = [
        {"round_id": round_id, "participant_id": participant_id, "choice": choice, "cast_at": now}
        for participant_id, round_id, choice in ballots
    ]
    if connection.execute(_CAST_VOTE, parameters).rowcount == len(ballots):
        return [None] * len(ballots)
    # Some were refused (rarely): each again on its own tells which. Writing again a vote
    # that was written above changes nothing but its time.
    refusals: list[VotingError | None] = []
    for participant_id, round_id, choice in ballots:
        try:
            cast_vote(connection, participant_id, round_id, choice)
            refusals.append(None)
        except VotingError as refused:
            refusals.append(refused)
    return refusals


def _refusal(
    connection: Connection, participant_id: int, round_id: int, choice: str
) -> VotingError:
    """Why a vote was not written (the rare path, so a second query is fine)."""
    found = connection.execute(
        select(
            Round.closed_at, Round.closes_at, Statement.position, Event.current_position, Event.id
        )
        .join(Statement, Round.statement_id == Statement.id)
        .join(Event, Statement.event_id == Event.id)
        .where(Round.id == round_id)
    ).first()
    voter_event = connection.execute(
        select(Participant.event_id).where(Participant.id == participant_id)
    ).scalar()
    if voter_event is None:  # ids are never reused: its event was deleted
        return VotingError("event_gone", "This event has been deleted.")
    if found is None or voter_event != found.id:
        return VotingError("unknown_round", "There is no such round in this event.")
    past_deadline = found.closes_at is not None and found.closes_at <= utcnow()
    if found.closed_at is not None or past_deadline or found.position != found.current_position:
        return VotingError("voting_closed", "Voting on this statement is closed.")
    return VotingError("unknown_option", f"{choice!r} is not an option of this statement.")


def control(session: Session, event_id: int, action: str, seconds: int | None = None) -> Event:
    """Apply a moderator action to an event and commit it.

    `seconds` is a countdown for "open" and "new_round" (the round then closes by itself, see
    `close_due_rounds`) and the time "extend" adds; other actions take none.
    """
    event = session.get(Event, event_id)
    if event is None:
        raise VotingError("event_gone", "This event has been deleted.")
    if action not in ACTIONS:
        raise VotingError("unknown_action", f"Unknown action {action!r}.")
    if seconds is not None and (
        action not in TIMED_ACTIONS or not MIN_TIMER_SECONDS <= seconds <= MAX_TIMER_SECONDS
    ):
        raise VotingError(
            "bad_timer",
            f"A countdown is {MIN_TIMER_SECONDS} to {MAX_TIMER_SECONDS} seconds, "
            f"for {', '.join(TIMED_ACTIONS)} only.",
        )
    handler = _HANDLERS[action]
    handler(session, event)
    if action in ("open", "new_round"):
        _set_deadline(event, seconds)
    elif action == "extend":
        _extend(event, seconds or EXTEND_SECONDS)
    session.commit()
    return event


def allowed_actions(
    *, stage: str, has_round: bool, is_open: bool, timed: bool, revealed: bool, results_mode: str
) -> list[str]:
    """The moderator actions that make sense now, in the order of ACTIONS: what the pages
    offer, so the rules are not repeated in JavaScript. `has_round`: the statement on screen
    has been opened at least once; `timed`: its open round has a countdown."""
    allowed = {
        "previous": stage != LOBBY,
        "next": stage != FINISHED,
        "open": stage == STATEMENT and not is_open,
        "close": is_open,
        "reveal": has_round and not revealed,
        "hide": has_round and revealed,
        "new_round": has_round and not is_open,
        "extend": timed,
        "stop_timer": timed,
        "results_live": results_mode != "live",
        "results_hidden": results_mode == "live",
    }
    return [action for action in ACTIONS if allowed[action]]


# Open rounds whose countdown ran out, with their events.
_DUE_ROUNDS = (
    select(Round.id, Statement.event_id)
    .join(Statement, Round.statement_id == Statement.id)
    .where(
        Round.closed_at.is_(None),
        Round.closes_at.is_not(None),
        Round.closes_at <= bindparam("now", type_=UTCDateTime),
    )
)


def close_due_rounds(session: Session | Connection, now: datetime | None = None) -> list[int]:
    """Close every open round whose countdown has run out; commit; return their events' ids.

    Each round is closed by a conditional UPDATE, so when several server processes run this
    at once exactly one closes (and announces) it.
    """
    due = session.execute(_DUE_ROUNDS, {"now": now or utcnow()}).all()
    if not due:
        return []  # almost always, a few times a second: no statement to build, no commit
    closed = []
    for round_id, event_id in due:
        result = session.execute(
            update(Round)
            .where(Round.id == round_id, Round.closed_at.is_(None))
            .values(closed_at=Round.closes_at)
        )
        if getattr(result, "rowcount", 0) == 1:  # a CursorResult: an UPDATE has a row count
            closed.append(event_id)
    session.commit()
    return closed


def _set_deadline(event: Event, seconds: int | None) -> None:
    statement = _require_statement(event)
    latest = statement.latest_round
    if latest is not None:
        latest.closes_at = utcnow() + timedelta(seconds=seconds) if seconds else None


def _extend(event: Event, seconds: int) -> None:
    latest = _require_statement(event).latest_round
    if latest is None or not latest.is_open or latest.closes_at is None:
        raise VotingError("no_timer", "No countdown is running.")
    latest.closes_at = max(latest.closes_at, utcnow()) + timedelta(seconds=seconds)


def _stop_timer(session: Session, event: Event) -> None:
    latest = _require_statement(event).latest_round
    if latest is None or not latest.is_open or latest.closes_at is None:
        raise VotingError("no_timer", "No countdown is running.")
    latest.closes_at = None


def _move(event: Event, step: int) -> None:
    last = len(event.statements) + 1
    target = min(max(event.current_position + step, 0), last)
    if target == event.current_position:
        where = "first" if step < 0 else "last"
        raise VotingError("no_more_statements", f"Already at the {where} screen.")
    _close_open_round(event)
    event.current_position = target
    event.results_revealed = False


def _close_open_round(event: Event) -> None:
    statement = event.current_statement
    latest = statement.latest_round if statement else None
    if latest is not None and latest.is_open:
        latest.closed_at = utcnow()


def _require_statement(event: Event) -> Statement:
    statement = event.current_statement
    if event.stage != STATEMENT or statement is None:
        raise VotingError("no_statement", "There is no statement on screen.")
    return statement


def _open(session: Session, event: Event) -> None:
    statement = _require_statement(event)
    latest = statement.latest_round
    if latest is None:
        statement.rounds.append(Round(number=1, opened_at=utcnow()))
    elif not latest.is_open:
        latest.closed_at = None  # reopened: the moderator closed too early


def _close(session: Session, event: Event) -> None:
    latest = _require_statement(event).latest_round
    if latest is None or not latest.is_open:
        raise VotingError("not_open", "Voting is not open.")
    latest.closed_at = utcnow()
    latest.closes_at = None  # closed by hand, not by the countdown


def _reveal(session: Session, event: Event) -> None:
    if _require_statement(event).latest_round is None:
        raise VotingError("no_round", "Open voting before revealing results.")
    event.results_revealed = True


def _hide(session: Session, event: Event) -> None:
    event.results_revealed = False


def _new_round(session: Session, event: Event) -> None:
    statement = _require_statement(event)
    latest = statement.latest_round
    if latest is None:
        raise VotingError("no_round", "Open the first round before starting another.")
    if latest.is_open:
        raise VotingError("round_open", "Close this round before starting the next.")
    statement.rounds.append(Round(number=latest.number + 1, opened_at=utcnow()))
    event.results_revealed = False


def _results_mode(mode: str) -> Callable[[Session, Event], None]:
    def apply(session: Session, event: Event) -> None:
        event.results_mode = mode

    return apply


_HANDLERS: dict[str, Callable[[Session, Event], None]] = {
    "next": lambda session, event: _move(event, +1),
    "previous": lambda session, event: _move(event, -1),
    "open": _open,
    "close": _close,
    "reveal": _reveal,
    "hide": _hide,
    "new_round": _new_round,
    "extend": lambda session, event: None,  # the time is added by control()
    "stop_timer": _stop_timer,
    "results_live": _results_mode("live"),
    "results_hidden": _results_mode("hidden"),
}


def dialect_insert(connection: Connection) -> Callable[..., Any]:
    """INSERT with ON CONFLICT support for the database in use."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database {name!r}: use SQLite or PostgreSQL")
