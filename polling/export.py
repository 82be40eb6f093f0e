"""The results of an event as data: per statement and round, and every anonymous vote.

`event_results` reads the database once; the writers below are pure functions of its output.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from polling.events import display_code
from polling.models import Event, Option, Participant, Round, Statement, Vote
from polling.tally import make_tally

SUMMARY_COLUMNS = (
    "position",
    "statement_key",
    "statement",
    "round",
    "option",
    "label",
    "votes",
    "percent",
    "voters",
    "participants",
    "turnout_percent",
    "opened_at",
    "closed_at",
)
VOTE_COLUMNS = ("participant", "statement_key", "round", "choice", "cast_at")
FORMATS = ("csv", "json")
TABLES = ("summary", "votes")


def event_results(session: Session, event: Event) -> dict[str, Any]:
    """Everything an organiser takes home from an event, in the event's language."""
    language = event.language
    joined_times = list(
        session.scalars(select(Participant.joined_at).where(Participant.event_id == event.id))
    )
    counts = _counts_by_round(session, event.id)
    statements = []
    for statement in event.statements:
        keys = [option.key for option in statement.options]
        rounds = []
        for round_ in statement.rounds:
            # Turnout counts the phones that had joined by the time voting closed.
            until = round_.closed_at
            participants = sum(1 for t in joined_times if until is None or t <= until)
            tally = make_tally(round_.id, keys, counts.get(round_.id, {}), participants)
            rounds.append(
                {
                    "number": round_.number,
                    "opened_at": _time(round_.opened_at),
                    "closed_at": _time(round_.closed_at),
                    **{k: v for k, v in tally.as_dict().items() if k != "round_id"},
                }
            )
        statements.append(
            {
                "position": statement.position,
                "key": statement.key,
                "texts": statement.texts[language],
                "options": [
                    {"key": o.key, "label": o.labels.get(language, o.key)}
                    for o in statement.options
                ],
                "rounds": rounds,
            }
        )
    return {
        "event": {
            "code": display_code(event.code),
            "title": event.title.get(language, ""),
            "language": language,
            "deck": event.deck_name,
            "created_at": _time(event.created_at),
        },
        "statements": statements,
        "votes": _votes(session, event.id),
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


def _votes(session: Session, event_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Participant.token_digest, Statement.key, Round.number, Option.key, Vote.cast_at)
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
        }
        for digest, statement_key, number, choice, cast_at in rows
    ]


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per statement, round and option."""
    rows = []
    for statement in results["statements"]:
        for round_ in statement["rounds"]:
            for option in statement["options"]:
                rows.append(
                    {
                        "position": statement["position"],
                        "statement_key": statement["key"],
                        "statement": statement["texts"]["statement"],
                        "round": round_["number"],
                        "option": option["key"],
                        "label": option["label"],
                        "votes": round_["counts"][option["key"]],
                        "percent": round_["percentages"][option["key"]],
                        "voters": round_["voters"],
                        "participants": round_["participants"],
                        "turnout_percent": round_["turnout"],
                        "opened_at": round_["opened_at"],
                        "closed_at": round_["closed_at"] or "",
                    }
                )
    return rows


def to_csv(results: dict[str, Any], table: str = "summary") -> str:
    """The summary table, or every vote, as CSV."""
    columns, rows = (
        (SUMMARY_COLUMNS, summary_rows(results))
        if table == "summary"
        else (VOTE_COLUMNS, results["votes"])
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_json(results: dict[str, Any]) -> str:
    """The whole results document as JSON."""
    return json.dumps(results, ensure_ascii=False, indent=2) + "\n"


def render(results: dict[str, Any], fmt: str, table: str = "summary") -> str:
    """The results in one of FORMATS."""
    if fmt == "json":
        return to_json(results)
    return to_csv(results, table)


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
