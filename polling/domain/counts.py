"""Every count of an event, in one place: participants, votes per round and option, and
activity per event. Counts come from the rows in the database, never from a copy in memory.

Participants of a round: the phones that had joined the event by the time the round
closed; while a round is open, everyone joined so far. `round_participants` is the one
definition. The projector, the moderator's phone, the results report and the counts kept
by retention all use it, so the turnout of a closed round is the same number everywhere,
and a phone that joins later (for the next statement) does not lower it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Select, SQLColumnExpression, func, or_, select
from sqlalchemy.orm import Session

from polling.domain.models import Option, Participant, Round, Statement, Vote


def participants(session: Session | Connection, event_id: int) -> int:
    """Phones that joined the event so far (also inside the vote writer's transaction)."""
    return round_participants(session, event_id, None)


def round_participants(
    session: Session | Connection, event_id: int, closed_at: datetime | None
) -> int:
    """The audience of a round that closed at `closed_at` (None: it is open): the phones
    that joined the event by then. The base of the round's turnout."""
    return session.scalar(joined_by(event_id, closed_at)) or 0


def joined_by(
    event_id: int | SQLColumnExpression[int],
    closed_at: datetime | SQLColumnExpression[datetime | None] | None,
) -> Select[int]:
    """The query behind `round_participants`; with columns for arguments, a subquery that
    other queries (the tally publisher's) correlate with their own round."""
    query = select(func.count()).select_from(Participant).where(Participant.event_id == event_id)
    if closed_at is None:
        return query
    if isinstance(closed_at, datetime):
        return query.where(Participant.joined_at <= closed_at)
    return query.where(or_(closed_at.is_(None), Participant.joined_at <= closed_at))


def vote_counts(session: Session, round_id: int) -> dict[str, int]:
    """Votes per option key in a round (options nobody chose are absent)."""
    rows = session.execute(
        select(Option.key, func.count(Vote.id))
        .join(Vote, Vote.option_id == Option.id)
        .where(Vote.round_id == round_id)
        .group_by(Option.key)
    )
    return {key: count for key, count in rows}


def counts_by_round(session: Session, event_id: int) -> dict[int, dict[str, int]]:
    """Votes per option key of every round of an event, by round id, in one query."""
    rows = session.execute(
        select(Vote.round_id, Option.key, func.count(Vote.id))
        .join(Option, Vote.option_id == Option.id)
        .join(Round, Vote.round_id == Round.id)
        .join(Statement, Round.statement_id == Statement.id)
        .where(Statement.event_id == event_id)
        .group_by(Vote.round_id, Option.key)
    )
    counts: dict[int, dict[str, int]] = {}
    for round_id, key, count in rows:
        counts.setdefault(round_id, {})[key] = count
    return counts


@dataclass(frozen=True)
class Activity:
    """How many phones joined an event and how many votes it holds."""

    participants: int = 0
    votes: int = 0


def activity_by_event(session: Session, event_id: int | None = None) -> dict[int, Activity]:
    """Participants and votes per event id (of every event, or of one), in two queries."""
    participants_query = select(Participant.event_id, func.count()).group_by(Participant.event_id)
    votes_query = (
        select(Statement.event_id, func.count(Vote.id))
        .join(Round, Round.statement_id == Statement.id)
        .join(Vote, Vote.round_id == Round.id)
        .group_by(Statement.event_id)
    )
    if event_id is not None:
        participants_query = participants_query.where(Participant.event_id == event_id)
        votes_query = votes_query.where(Statement.event_id == event_id)
    joined = {key: count for key, count in session.execute(participants_query)}
    votes = {key: count for key, count in session.execute(votes_query)}
    return {
        key: Activity(joined.get(key, 0), votes.get(key, 0)) for key in joined.keys() | votes.keys()
    }
