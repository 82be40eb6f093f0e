"""The results of an event as one document: per statement and round, the opinion shift
between rounds, and every anonymous vote.

`event_results` reads the database once; `polling.reports.formats` writes its files, and the
results page, the charts and the comparison read it too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from polling.domain.events import display_code
from polling.domain.models import Event, Option, Participant, Round, Statement, Vote
from polling.domain.retention import archived_counts
from polling.domain.tally import make_tally
from polling.reports.questions import question_rows
from polling.reports.shift import statement_shifts


def event_results(session: Session, event: Event, language: str | None = None) -> dict[str, Any]:
    """Everything an organiser takes home from an event, in the event's language (or in
    `language`, where the deck has texts in it: the results page follows the reader's choice)."""
    fallback = event.language
    language = language or fallback
    joined_times = list(
        session.scalars(select(Participant.joined_at).where(Participant.event_id == event.id))
    )
    counts = _counts_by_round(session, event.id)
    archives = archived_counts(
        session, [r.id for statement in event.statements for r in statement.rounds]
    )
    rows = _vote_rows(session, event.id)
    # The shift follows database ids, not the 10-character pseudonyms of the export: two phones
    # whose pseudonyms happen to collide must never be taken for one person.
    by_statement: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_statement.setdefault(row["statement_key"], []).append(
            {**row, "participant": row["participant_id"]}
        )
    statements = []
    for statement in event.statements:
        keys = [option.key for option in statement.options]
        rounds = []
        for round_ in statement.rounds:
            # Turnout counts the phones that had joined by the time voting closed.
            until = round_.closed_at
            participants = sum(1 for t in joined_times if until is None or t <= until)
            round_counts = counts.get(round_.id, {})
            if round_.id in archives:  # raw votes deleted by retention: the kept counts
                round_counts = archives[round_.id].counts
                participants = archives[round_.id].participants
            tally = make_tally(round_.id, keys, round_counts, participants)
            rounds.append(
                {
                    "number": round_.number,
                    "opened_at": _time(round_.opened_at),
                    "closed_at": _time(round_.closed_at),
                    **{k: v for k, v in tally.as_dict().items() if k != "round_id"},
                }
            )
        votes = by_statement.get(statement.key, [])
        shifts = statement_shifts(votes, statement.key, keys, len(statement.rounds))
        statements.append(
            {
                "position": statement.position,
                "key": statement.key,
                "texts": statement.texts.get(language) or statement.texts[fallback],
                "options": [
                    {"key": o.key, "label": o.labels.get(language) or o.labels.get(fallback, o.key)}
                    for o in statement.options
                ],
                "facts": [
                    {key: _localised(fact[key], language, fallback) for key in ("text", "source")}
                    for fact in statement.facts
                ],
                "rounds": rounds,
                "shifts": [shift.as_dict() for shift in shifts],
            }
        )
    return {
        "event": {
            "code": display_code(event.code),
            "title": event.title.get(language, ""),
            "language": language,
            "deck": event.deck_name,
            "created_at": _time(event.created_at),
            "panel": [
                {"name": member["name"], "role": _localised(member["role"], language, fallback)}
                for member in event.panel
            ],
        },
        "statements": statements,
        "votes": [{k: v for k, v in row.items() if k != "participant_id"} for row in rows],
        "questions": question_rows(session, event),
    }


def _counts_by_round(session: Session, event_id: int) -> dict[int, dict[str, int]]:
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


def _vote_rows(session: Session, event_id: int) -> list[dict[str, Any]]:
    """Every vote as exported, plus the participant's database id for the shift."""
    rows = session.execute(
        select(
            Participant.id,
            Participant.token_digest,
            Statement.key,
            Round.number,
            Option.key,
            Vote.cast_at,
        )
        .join(Participant, Vote.participant_id == Participant.id)
        .join(Option, Vote.option_id == Option.id)
        .join(Round, Vote.round_id == Round.id)
        .join(Statement, Round.statement_id == Statement.id)
        .where(Statement.event_id == event_id)
        .order_by(Statement.position, Round.number, Vote.cast_at, Vote.id)
    )
    return [
        {
            "participant": Participant(token_digest=digest).pseudonym,
            "statement_key": statement_key,
            "round": number,
            "choice": choice,
            "cast_at": _time(cast_at),
            "participant_id": participant_id,
        }
        for participant_id, digest, statement_key, number, choice, cast_at in rows
    ]


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _localised(texts: dict[str, str], language: str, fallback: str) -> str:
    """A deck text in the wanted language, else the deck's own (empty if it has neither)."""
    return texts.get(language) or texts.get(fallback, "")
