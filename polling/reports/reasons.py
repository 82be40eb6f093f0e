"""The audience's reasons for their votes in the results: one row per reason, as the report
page and the CSV, JSON and xlsx files show them."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from polling.domain import reason_records
from polling.domain.models import Event, Participant, Round, Statement
from polling.domain.reason_models import Reason

# The columns of the `reasons` table and sheet (polling.reports.formats.reason_table).
REASON_COLUMNS = (
    "pseudonym",
    "statement_key",
    "statement",
    "round",
    "choice",
    "choice_label",
    "reason",
    "shown",
    "upvotes",
    "previous_choice",
    "previous_label",
    "original_text",
    "state",
    "written_at",
)
REASON_TIME_COLUMNS = ("written_at",)


class ReasonRow(TypedDict):
    """One reason as the results document holds it."""

    pseudonym: str  # its phone's, as in the votes; "" once retention deleted the phones
    statement_key: str
    round: int
    choice: str | None  # the side: the option of the phone's vote in that round
    previous_choice: str | None  # the phone's choice in the round before, if it differed
    text: str
    original_text: str | None  # as written, if the moderator edited it
    state: str  # pending, visible, hidden or dismissed
    shown: bool  # picked by the moderator for the projector
    upvotes: int
    written_at: str | None


def reason_rows(session: Session, event: Event) -> list[ReasonRow]:
    """Every reason of an event, per statement and round, most upvoted first (ties: the
    older first)."""
    sides = reason_records.sides(session, event.id)
    upvotes = reason_records.upvote_counts(session, event.id)
    found = session.execute(
        select(Reason, Participant.token_digest, Statement.key, Statement.position, Round.number)
        .join(Statement, Statement.id == Reason.statement_id)
        .join(Round, Round.id == Reason.round_id)
        .outerjoin(Participant, Participant.id == Reason.participant_id)
        .where(Reason.event_id == event.id)
    )
    rows = [
        (
            (position, number, -upvotes.get(reason.id, 0), reason.written_at, reason.id),
            ReasonRow(
                pseudonym=Participant(token_digest=digest).pseudonym if digest else "",
                statement_key=statement_key,
                round=number,
                choice=sides[reason.id].choice,
                previous_choice=sides[reason.id].previous,
                text=reason.text,
                original_text=reason.original_text,
                state=reason.state,
                shown=reason.picked,
                upvotes=upvotes.get(reason.id, 0),
                written_at=_time(reason.written_at),
            ),
        )
        for reason, digest, statement_key, position, number in found
    ]
    return [row for _order, row in sorted(rows, key=lambda pair: pair[0])]


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
