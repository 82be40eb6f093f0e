"""The results of an event as one document: per statement and round, the opinion shift
between rounds, every anonymous vote, and the audience's questions and reasons.

`event_results` reads the database once; `polling.reports.formats` writes its files, and the
results page, the charts and the comparison read it too. The document is typed with
TypedDicts: plain dicts at run time, so the JSON download is the document as it is (no
conversion that could drift from it), while mypy checks every key a reader uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from polling.domain.counts import counts_by_round, round_participants
from polling.domain.events import display_code
from polling.domain.models import Event, Option, Participant, Round, Statement, Vote
from polling.domain.retention import archived_counts
from polling.domain.tally import make_tally
from polling.reports.questions import question_rows
from polling.reports.reasons import ReasonRow, reason_rows
from polling.reports.shift import ShiftResult, statement_shifts


class PanelMember(TypedDict):
    """A member of the panel, with their role in the document's language."""

    name: str
    role: str


class EventInfo(TypedDict):
    """What the document says about the event itself."""

    code: str  # as typed and as `event create --json` gives it: "482913"
    code_display: str  # grouped for reading aloud: "482 913"
    title: str
    language: str
    deck: str
    created_at: str | None  # ISO 8601, UTC, to the second
    panel: list[PanelMember]


class OptionInfo(TypedDict):
    """An option of a statement, with its label in the document's language."""

    key: str
    label: str


class FactInfo(TypedDict):
    """A context fact of a statement, with its source."""

    text: str
    source: str


class RoundResult(TypedDict):
    """One round's tally; `participants` counts the phones joined by its close."""

    number: int
    opened_at: str | None
    closed_at: str | None  # None while the round is open
    counts: dict[str, int]  # option key -> votes, in option order
    percentages: dict[str, int]  # whole percentages that add up to 100 (or all 0)
    voters: int
    participants: int
    turnout: int  # voters as a whole percentage of participants


class StatementResult(TypedDict):
    """A statement with its rounds and the shifts between them."""

    position: int
    key: str
    texts: dict[str, str]  # "statement" (and more) in the document's language
    options: list[OptionInfo]
    facts: list[FactInfo]
    rounds: list[RoundResult]
    shifts: list[ShiftResult]


class VoteRow(TypedDict):
    """One anonymous vote: the participant as a 10-character pseudonym."""

    participant: str
    statement_key: str
    round: int
    choice: str
    cast_at: str | None


class EventResults(TypedDict):
    """Everything an organiser takes home from an event (`event_results`)."""

    event: EventInfo
    statements: list[StatementResult]
    votes: list[VoteRow]
    questions: list[dict[str, Any]]  # see polling.reports.questions.question_rows
    reasons: list[ReasonRow]  # the audience's reasons for their votes


def event_results(session: Session, event: Event, language: str | None = None) -> EventResults:
    """Everything an organiser takes home from an event, in the event's language (or in
    `language`, where the deck has texts in it: the results page follows the reader's choice)."""
    fallback = event.language
    language = language or fallback
    counts = counts_by_round(session, event.id)
    archives = archived_counts(
        session, [r.id for statement in event.statements for r in statement.rounds]
    )
    rows = _vote_rows(session, event.id)
    # The shift follows database ids, not the 10-character pseudonyms of the export: two phones
    # whose pseudonyms happen to collide must never be taken for one person.
    by_statement: dict[str, list[dict[str, Any]]] = {}
    for participant_id, row in rows:
        by_statement.setdefault(row["statement_key"], []).append(
            {**row, "participant": participant_id}
        )
    statements: list[StatementResult] = []
    for statement in event.statements:
        keys = [option.key for option in statement.options]
        rounds: list[RoundResult] = []
        for round_ in statement.rounds:
            if round_.id in archives:  # raw votes deleted by retention: the kept counts
                round_counts = archives[round_.id].counts
                participants = archives[round_.id].participants
            else:
                round_counts = counts.get(round_.id, {})
                participants = round_participants(session, event.id, round_.closed_at)
            tally = make_tally(round_.id, keys, round_counts, participants)
            rounds.append(
                {
                    "number": round_.number,
                    "opened_at": _time(round_.opened_at),
                    "closed_at": _time(round_.closed_at),
                    "counts": dict(tally.counts),
                    "percentages": tally.percentages,
                    "voters": tally.voters,
                    "participants": tally.participants,
                    "turnout": tally.turnout,
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
                    {
                        "text": _localised(fact["text"], language, fallback),
                        "source": _localised(fact["source"], language, fallback),
                    }
                    for fact in statement.facts
                ],
                "rounds": rounds,
                "shifts": [shift.as_dict() for shift in shifts],
            }
        )
    return {
        "event": {
            # The code as `polling event create --json` gives it; grouped for reading aloud
            # in code_display.
            "code": event.code,
            "code_display": display_code(event.code),
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
        "votes": [row for _participant_id, row in rows],
        "questions": question_rows(session, event),
        "reasons": reason_rows(session, event),
    }


def _vote_rows(session: Session, event_id: int) -> list[tuple[int, VoteRow]]:
    """Every vote as exported, with the participant's database id for the shift."""
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
        (
            participant_id,
            {
                "participant": Participant(token_digest=digest).pseudonym,
                "statement_key": statement_key,
                "round": number,
                "choice": choice,
                "cast_at": _time(cast_at),
            },
        )
        for participant_id, digest, statement_key, number, choice, cast_at in rows
    ]


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _localised(texts: dict[str, str], language: str, fallback: str) -> str:
    """A deck text in the wanted language, else the deck's own (empty if it has neither)."""
    return texts.get(language) or texts.get(fallback, "")
