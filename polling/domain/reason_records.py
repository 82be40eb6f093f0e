"""What a reason's record holds beyond its row: its side, whether its phone changed its mind,
its upvotes, and what retention keeps of these once the votes and phones are gone.

A reason's side is not stored while the votes exist: it is the option of its phone's vote in
the reason's round, so a changed vote moves the reason. A *mover* is a reason of round N >= 2
whose phone chose differently in round N-1. Both are read here, in one query, for the report
and for retention; after retention, from the reason's archived_* columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, select
from sqlalchemy.orm import Session, aliased

from polling.domain.models import Option, Round, Vote
from polling.domain.reason_models import Reason, ReasonVote


@dataclass(frozen=True)
class Side:
    """Where a reason stands: the option of its phone's vote in its round, and the phone's
    choice in the round before when that was a different one (else None)."""

    choice: str | None
    previous: str | None


def with_sides(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """A query of reasons with two more columns: `choice`, the option of the phone's vote in
    the reason's round, and `before`, its choice in the round before (after retention, what
    the reason kept of both). The one definition of a reason's side, for every screen, the
    report and retention."""
    vote, option = aliased(Vote), aliased(Option)
    before, earlier_vote, earlier_option = aliased(Round), aliased(Vote), aliased(Option)
    return (
        query.add_columns(
            func.coalesce(option.key, Reason.archived_choice).label("choice"),
            func.coalesce(earlier_option.key, Reason.archived_previous).label("before"),
        )
        .join(Round, Round.id == Reason.round_id)
        .outerjoin(
            vote,
            and_(vote.round_id == Reason.round_id, vote.participant_id == Reason.participant_id),
        )
        .outerjoin(option, option.id == vote.option_id)
        .outerjoin(
            before,
            and_(before.statement_id == Round.statement_id, before.number == Round.number - 1),
        )
        .outerjoin(
            earlier_vote,
            and_(
                earlier_vote.round_id == before.id,
                earlier_vote.participant_id == Reason.participant_id,
            ),
        )
        .outerjoin(earlier_option, earlier_option.id == earlier_vote.option_id)
    )


def moved_from(choice: str | None, before: str | None) -> str | None:
    """The earlier choice of a phone that changed its mind, else None."""
    return before if choice is not None and before is not None and before != choice else None


def upvotes() -> ColumnElement[int]:
    """A reason's upvotes: its rows, plus the count kept once retention deleted them."""
    rows = select(func.count(ReasonVote.id)).where(ReasonVote.reason_id == Reason.id)
    return (rows.scalar_subquery() + func.coalesce(Reason.archived_upvotes, 0)).label("upvotes")


def sides(session: Session, event_id: int, statement_id: int | None = None) -> dict[int, Side]:
    """The side of every reason of an event (or of one statement), by reason id."""
    query = with_sides(select(Reason.id)).where(Reason.event_id == event_id)
    if statement_id is not None:
        query = query.where(Reason.statement_id == statement_id)
    return {
        row.id: Side(row.choice, moved_from(row.choice, row.before))
        for row in session.execute(query)
    }


def upvote_counts(session: Session, event_id: int) -> dict[int, int]:
    """Upvotes per reason id of an event (see `upvotes`)."""
    query = select(Reason.id, upvotes()).where(Reason.event_id == event_id)
    return {reason_id: count for reason_id, count in session.execute(query)}


def anonymise(session: Session, event_id: int) -> int:
    """For retention, before the votes and phones go: each reason keeps its text, its side,
    its phone's earlier side if it moved, and its upvote count; who wrote it and who upvoted
    it go. Returns how many reasons it changed; not committed."""
    found = sides(session, event_id)
    counts = upvote_counts(session, event_id)
    changed = 0
    for reason in session.scalars(select(Reason).where(Reason.event_id == event_id)):
        # Upvotes of every reason, also of one anonymised before (a later phone's upvote).
        reason.archived_upvotes = counts.get(reason.id, 0)
        if reason.participant_id is not None:
            side = found[reason.id]
            reason.archived_choice = side.choice
            reason.archived_previous = side.previous
            reason.participant_id = None
            changed += 1
    session.flush()
    session.execute(
        delete(ReasonVote).where(
            ReasonVote.reason_id.in_(select(Reason.id).where(Reason.event_id == event_id))
        )
    )
    return changed
