"""Retention: after N days, delete an event's raw votes and participants, keep its counts.

Healthcare organisers must be able to say how long data is kept. The raw votes (who, as a
pseudonym, chose what and when) and the participants' cookie digests are what could ever be
linked to a person; the counts per round and option are what the report needs. So a purge
first writes each round's counts to `round_archives`, then deletes the rest, in one
transaction. The audience's questions keep their text and upvote count; who asked, the name
they typed and who upvoted go. Their reasons for a vote keep their text, their side (and the
earlier side of those who changed their mind) and their upvote count; who wrote and who
upvoted them go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from polling.domain import questions, reason_records
from polling.domain.counts import participants, round_participants, vote_counts
from polling.domain.models import Event, Participant, Round, RoundArchive, Statement, Vote, utcnow
from polling.domain.question_models import Question
from polling.domain.reason_models import Reason


@dataclass(frozen=True)
class Purged:
    """What a purge deleted from one event."""

    code: str
    rounds_archived: int
    votes_deleted: int
    participants_deleted: int
    questions_anonymised: int = 0
    reasons_anonymised: int = 0


def purge(
    session: Session, older_than: timedelta, *, now: datetime | None = None, dry_run: bool = False
) -> list[Purged]:
    """Purge every event last active before `now - older_than` that still has raw data.

    An event's last activity is the latest opening or closing of any of its rounds, question
    or reason, or its creation. With `dry_run` nothing is written; the report says what would
    be deleted.
    """
    cutoff = (now or utcnow()) - older_than
    report = []
    for event in session.scalars(select(Event).order_by(Event.id)):
        if _last_activity(session, event) >= cutoff:
            continue
        purged = _purge_event(session, event, dry_run)
        if purged.votes_deleted or purged.participants_deleted or purged.rounds_archived:
            report.append(purged)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def _last_activity(session: Session, event: Event) -> datetime:
    latest = session.execute(
        select(func.max(Round.opened_at), func.max(Round.closed_at))
        .join(Statement, Round.statement_id == Statement.id)
        .where(Statement.event_id == event.id)
    ).one()
    asked = session.scalar(select(func.max(Question.asked_at)).where(Question.event_id == event.id))
    written = session.scalar(select(func.max(Reason.written_at)).where(Reason.event_id == event.id))
    moments = (event.created_at, *latest, asked, written)
    return max(moment for moment in moments if moment is not None)


def _purge_event(session: Session, event: Event, dry_run: bool) -> Purged:
    archived = 0
    for statement in event.statements:
        for round_ in statement.rounds:
            if session.get(RoundArchive, round_.id) is not None:
                continue
            counts = vote_counts(session, round_.id)
            audience = round_participants(session, event.id, round_.closed_at)
            session.add(RoundArchive(round_id=round_.id, counts=counts, participants=audience))
            archived += 1
    round_ids = (
        select(Round.id)
        .join(Statement, Round.statement_id == Statement.id)
        .where(Statement.event_id == event.id)
    )
    votes = session.scalar(
        select(func.count()).select_from(Vote).where(Vote.round_id.in_(round_ids))
    )
    joined = participants(session, event.id)
    questions_anonymised = reasons_anonymised = 0
    if not dry_run:
        session.flush()
        # Questions keep their text and upvote count; their askers' names and phones go.
        questions_anonymised = questions.anonymise(session, event.id)
        # Reasons keep their sides, read from the votes: so before the votes go.
        reasons_anonymised = reason_records.anonymise(session, event.id)
        session.execute(delete(Vote).where(Vote.round_id.in_(round_ids)))
        session.execute(delete(Participant).where(Participant.event_id == event.id))
    return Purged(
        code=event.code,
        rounds_archived=archived,
        votes_deleted=votes or 0,
        participants_deleted=joined,
        questions_anonymised=questions_anonymised,
        reasons_anonymised=reasons_anonymised,
    )


def archived_counts(session: Session, round_ids: list[int]) -> dict[int, RoundArchive]:
    """The archives of those rounds that have one."""
    if not round_ids:
        return {}
    archives = session.scalars(select(RoundArchive).where(RoundArchive.round_id.in_(round_ids)))
    return {archive.round_id: archive for archive in archives}
