"""The rules of an event: joining, casting a vote, and the moderator's actions.

Every function here validates, writes and commits; callers broadcast only afterwards.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from polling.models import STATEMENT, Event, Participant, Round, Statement, Vote, utcnow

ACTIONS = (
    "next",
    "previous",
    "open",
    "close",
    "reveal",
    "hide",
    "new_round",
    "results_live",
    "results_hidden",
)


class VotingError(Exception):
    """A request the rules refuse; `code` is stable for clients, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def token_digest(event_id: int, token: str) -> str:
    """What is stored of a phone's token: per event, so phones are unlinkable across events."""
    return hashlib.sha256(f"{event_id}:{token}".encode()).hexdigest()


def join(session: Session, event_id: int, token: str) -> Participant:
    """The participant for this phone in this event, created on its first visit."""
    digest = token_digest(event_id, token)
    query = select(Participant).where(
        Participant.event_id == event_id, Participant.token_digest == digest
    )
    participant = session.scalar(query)
    if participant is not None:
        return participant
    _insert_ignoring_conflict(session, Participant, event_id=event_id, token_digest=digest)
    session.commit()
    return session.scalars(query).one()


def cast_vote(session: Session, participant_id: int, round_id: int, option_key: str) -> Vote:
    """Record (or change) a participant's vote in an open round, and commit it."""
    found = session.execute(
        select(Round, Statement, Event)
        .join(Statement, Round.statement_id == Statement.id)
        .join(Event, Statement.event_id == Event.id)
        .join(Participant, Participant.event_id == Event.id)
        .where(Round.id == round_id, Participant.id == participant_id)
    ).one_or_none()
    if found is None:
        raise VotingError("unknown_round", "There is no such round in this event.")
    round_, statement, event = found
    if event.current_position != statement.position or not round_.is_open:
        raise VotingError("voting_closed", "Voting on this statement is closed.")
    option = next((o for o in statement.options if o.key == option_key), None)
    if option is None:
        raise VotingError("unknown_option", f"{option_key!r} is not an option of this statement.")

    values = {"option_id": option.id, "cast_at": utcnow()}
    insert = _dialect_insert(session)(Vote).values(
        round_id=round_id, participant_id=participant_id, **values
    )
    session.execute(
        insert.on_conflict_do_update(index_elements=["round_id", "participant_id"], set_=values)
    )
    session.commit()
    return session.scalars(
        select(Vote).where(Vote.round_id == round_id, Vote.participant_id == participant_id)
    ).one()


def control(session: Session, event_id: int, action: str) -> Event:
    """Apply a moderator action to an event and commit it."""
    event = session.get(Event, event_id)
    if event is None:
        raise VotingError("unknown_event", "This event no longer exists.")
    if action not in ACTIONS:
        raise VotingError("unknown_action", f"Unknown action {action!r}.")
    handler = _HANDLERS[action]
    handler(session, event)
    session.commit()
    return event


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


def _results_mode(mode: str):
    def apply(session: Session, event: Event) -> None:
        event.results_mode = mode

    return apply


_HANDLERS = {
    "next": lambda session, event: _move(event, +1),
    "previous": lambda session, event: _move(event, -1),
    "open": _open,
    "close": _close,
    "reveal": _reveal,
    "hide": _hide,
    "new_round": _new_round,
    "results_live": _results_mode("live"),
    "results_hidden": _results_mode("hidden"),
}


def count_participants(session: Session, event_id: int) -> int:
    """Phones that joined the event."""
    return (
        session.scalar(
            select(func.count()).select_from(Participant).where(Participant.event_id == event_id)
        )
        or 0
    )


def _dialect_insert(session: Session):
    """INSERT with ON CONFLICT support for the database in use."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database {name!r}: use SQLite or PostgreSQL")


def _insert_ignoring_conflict(session: Session, model: type, **values: object) -> None:
    session.execute(_dialect_insert(session)(model).values(**values).on_conflict_do_nothing())
