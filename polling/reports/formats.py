"""The results document as files: CSV (summary or every vote), JSON and an xlsx workbook.

Pure functions of `polling.reports.document.event_results`.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from polling.reports.questions import QUESTION_COLUMNS, QUESTION_TIME_COLUMNS

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
TIME_COLUMNS = ("opened_at", "closed_at", "cast_at", *QUESTION_TIME_COLUMNS)
# The shift sheet's word for "did not vote in this round" (newly voted, dropped out).
NO_VOTE = "(no vote)"
TABLES = ("summary", "votes", "questions")


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
    """The summary table, every vote, or the audience's questions, as CSV."""
    columns, rows = {
        "summary": (SUMMARY_COLUMNS, summary_rows(results)),
        "votes": (VOTE_COLUMNS, results["votes"]),
        "questions": (QUESTION_COLUMNS, results.get("questions", [])),
    }[table]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_json(results: dict[str, Any]) -> str:
    """The whole results document as JSON."""
    return json.dumps(results, ensure_ascii=False, indent=2) + "\n"


def to_xlsx(results: dict[str, Any]) -> bytes:
    """A workbook with the sheets summary, votes, shift, questions and event, for people who
    open results in Excel or LibreOffice rather than in a script. Times are in UTC."""
    from openpyxl import Workbook  # imported here: only downloads need it, not every server start

    workbook = Workbook()
    sheets = (
        ("summary", SUMMARY_COLUMNS, summary_rows(results)),
        ("votes", VOTE_COLUMNS, results["votes"]),
        ("shift", SHIFT_COLUMNS, shift_rows(results)),
        ("questions", QUESTION_COLUMNS, results.get("questions", [])),
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


def _cell_text(value: Any) -> Any:
    """A value for a spreadsheet cell; the panel (a list) as "Name (role); ..."."""
    if not isinstance(value, list):
        return value
    return "; ".join(
        f"{member['name']} ({member['role']})" if member["role"] else member["name"]
        for member in value
    )
