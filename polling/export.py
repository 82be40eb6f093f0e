"""The results of an event as data: per statement and round, the opinion shift between rounds,
and every anonymous vote.

`event_results` reads the database once; the writers below are pure functions of its output.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from polling.events import display_code
from polling.models import Event, Option, Participant, Round, Statement, Vote
from polling.retention import archived_counts
from polling.shift import statement_shifts
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
SHIFT_COLUMNS = (
    "position",
    "statement_key",
    "from_round",
    "to_round",
    "from_choice",
    "to_choice",
    "participants",
)
FORMATS = ("csv", "json", "xlsx")
# Excel shows these as dates; CSV and JSON keep the ISO text with its UTC offset.
TIME_COLUMNS = ("opened_at", "closed_at", "cast_at")
# The shift sheet's word for "did not vote in this round" (newly voted, dropped out).
NO_VOTE = "(no vote)"
TABLES = ("summary", "votes")


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


def shift_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per statement, pair of rounds and transition, zeros included, so a pivot table
    of from_choice against to_choice needs no gaps filled. NO_VOTE stands for not voting in
    that round: (no vote) -> agree is newly voted, agree -> (no vote) dropped out."""
    rows = []
    for statement in results["statements"]:
        for shift in statement.get("shifts", []):
            pairs = [(t["from"], t["to"], t["count"]) for t in shift["transitions"]]
            pairs += [(NO_VOTE, k, n) for k, n in shift["newly_voted_by_choice"].items()]
            pairs += [(k, NO_VOTE, n) for k, n in shift["dropped_out_by_choice"].items()]
            rows.extend(
                {
                    "position": statement["position"],
                    "statement_key": statement["key"],
                    "from_round": shift["from_round"],
                    "to_round": shift["to_round"],
                    "from_choice": old,
                    "to_choice": new,
                    "participants": count,
                }
                for old, new, count in pairs
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


def to_xlsx(results: dict[str, Any]) -> bytes:
    """A workbook with the sheets summary, votes, shift and event, for people who open results
    in Excel or LibreOffice rather than in a script. Times are in UTC."""
    from openpyxl import Workbook  # imported here: only downloads need it, not every server start

    workbook = Workbook()
    sheets = (
        ("summary", SUMMARY_COLUMNS, summary_rows(results)),
        ("votes", VOTE_COLUMNS, results["votes"]),
        ("shift", SHIFT_COLUMNS, shift_rows(results)),
        (
            "event",
            ("field", "value"),
            [{"field": k, "value": _cell_text(v)} for k, v in results["event"].items()],
        ),
    )
    workbook.remove(workbook.active)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(list(columns))
        for row in rows:
            sheet.append([_cell(column, row[column]) for column in columns])
        _tidy_sheet(sheet, columns)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(column: str, value: Any) -> Any:
    """Times as Excel dates (naive, in UTC: Excel has no time zones); empty as an empty cell."""
    if value in (None, ""):
        return None
    if column in TIME_COLUMNS:
        return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    return value


def _tidy_sheet(sheet: Any, columns: tuple[str, ...]) -> None:
    """Bold frozen header, filters, readable widths; and every text stays text.

    A deck's statement or label that starts with '=' would otherwise be written as a formula
    and run when the file is opened (formula injection).
    """
    from openpyxl.styles import Font

    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    for index, column in enumerate(columns):
        letter = sheet.cell(row=1, column=index + 1).column_letter
        widest = max((len(str(c.value or "")) for c in sheet[letter][:200]), default=0)
        sheet.column_dimensions[letter].width = min(max(widest, len(column), 8) + 2, 60)


def render(results: dict[str, Any], fmt: str, table: str = "summary") -> str | bytes:
    """The results in one of FORMATS: text for csv and json, bytes for xlsx."""
    if fmt == "json":
        return to_json(results)
    if fmt == "xlsx":
        return to_xlsx(results)
    return to_csv(results, table)


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _localised(texts: dict[str, str], language: str, fallback: str) -> str:
    """A deck text in the wanted language, else the deck's own (empty if it has neither)."""
    return texts.get(language) or texts.get(fallback, "")


def _cell_text(value: Any) -> Any:
    """A value for a spreadsheet cell; the panel (a list) as "Name (role); ..."."""
    if not isinstance(value, list):
        return value
    return "; ".join(
        f"{member['name']} ({member['role']})" if member["role"] else member["name"]
        for member in value
    )
