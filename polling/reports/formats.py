"""The results document as files: CSV (summary or every vote), JSON and an xlsx workbook.

Pure functions of `polling.reports.document.event_results`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only the type: the command line imports this module for FORMATS
    from polling.reports.document import EventResults

from polling.reports.questions import QUESTION_COLUMNS, QUESTION_TIME_COLUMNS
from polling.reports.reasons import REASON_COLUMNS, REASON_TIME_COLUMNS

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
VOTE_COLUMNS = ("participant", "statement_key", "round", "choice", "choice_label", "cast_at")
SHIFT_COLUMNS = (
    "position",
    "statement_key",
    "from_round",
    "to_round",
    "from_choice",
    "from_label",
    "to_choice",
    "to_label",
    "participants",
)
FORMATS = ("csv", "json", "xlsx")
# In the event's time zone: Excel shows them as dates, CSV as ISO text with the offset; JSON
# keeps the document's UTC.
TIME_COLUMNS = (
    "opened_at",
    "closed_at",
    "cast_at",
    "created_at",
    *QUESTION_TIME_COLUMNS,
    *REASON_TIME_COLUMNS,
)
# Excel reads a CSV as UTF-8 only when it starts with this mark; without it, "é" turns to "Ã©".
BOM = "\ufeff"
# The shift sheet's word for "did not vote in this round" (newly voted, dropped out).
NO_VOTE = "(no vote)"
TABLES = ("summary", "votes", "questions", "reasons")


def summary_rows(results: EventResults) -> list[dict[str, Any]]:
    """One row per statement, round and option."""
    rows: list[dict[str, Any]] = []
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


def vote_rows(results: EventResults) -> list[dict[str, Any]]:
    """Every vote, with its option's label beside the key."""
    labels = _labels(results)
    return [
        {**vote, "choice_label": labels.get((vote["statement_key"], vote["choice"]), "")}
        for vote in results["votes"]
    ]


def reason_table(results: EventResults) -> list[dict[str, Any]]:
    """Every reason of the audience, with its statement's text and its options' labels beside
    their keys; its text as `reason`."""
    labels = _labels(results)
    texts = {s["key"]: s["texts"]["statement"] for s in results["statements"]}
    return [
        {
            **reason,
            "statement": texts.get(reason["statement_key"], ""),
            "choice_label": labels.get((reason["statement_key"], reason["choice"] or ""), ""),
            "reason": reason["text"],
            "previous_label": labels.get(
                (reason["statement_key"], reason["previous_choice"] or ""), ""
            ),
        }
        for reason in results.get("reasons", [])
    ]


def shift_rows(results: EventResults, no_vote_label: str = NO_VOTE) -> list[dict[str, Any]]:
    """One row per statement, pair of rounds and transition, zeros included, so a pivot table
    of from_choice against to_choice needs no gaps filled. NO_VOTE stands for not voting in
    that round: (no vote) -> agree is newly voted, agree -> (no vote) dropped out. Each choice
    has its label beside it (`no_vote_label` for NO_VOTE)."""
    labels = _labels(results)
    rows: list[dict[str, Any]] = []
    for statement in results["statements"]:
        key = statement["key"]

        def label(choice: str, key: str = key) -> str:
            return no_vote_label if choice == NO_VOTE else labels.get((key, choice), choice)

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
                    "from_label": label(old),
                    "to_choice": new,
                    "to_label": label(new),
                    "participants": count,
                }
                for old, new, count in pairs
            )
    return rows


def to_csv(results: EventResults, table: str = "summary", time_zone: tzinfo = UTC) -> str:
    """The summary table, every vote, or the audience's questions or reasons, as CSV for
    Excel: a byte order mark first, times in `time_zone` as ISO 8601 with their offset. The
    header keeps the column keys (scripts)."""
    columns, rows = {
        "summary": (SUMMARY_COLUMNS, summary_rows(results)),
        "votes": (VOTE_COLUMNS, vote_rows(results)),
        "questions": (QUESTION_COLUMNS, results.get("questions", [])),
        "reasons": (REASON_COLUMNS, reason_table(results)),
    }[table]
    out = io.StringIO()
    out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                column: _local(row[column], time_zone).isoformat()
                if column in TIME_COLUMNS and row[column]
                else csv_cell(row[column])
                for column in columns
            }
        )
    return out.getvalue()


# A cell starting with one of these is a formula to Excel and LibreOffice (=HYPERLINK(...)).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """OWASP's escaping of CSV injection: text that would start a formula gets a leading
    apostrophe, which spreadsheets show as text and do not evaluate. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_json(results: EventResults) -> str:
    """The whole results document as JSON."""
    return json.dumps(results, ensure_ascii=False, indent=2) + "\n"


def to_xlsx(
    results: EventResults,
    t: Mapping[str, str] | None = None,
    time_zone: tzinfo = UTC,
) -> bytes:
    """A workbook with the sheets summary, votes, shift, questions, reasons and event, for
    people who open results in Excel or LibreOffice rather than in a script.

    The headers are in the event's language (`t`, from polling.web.i18n; the keys without
    it), and name the time zone of the times; the sheet names stay, for macros and queries.
    """
    from openpyxl import Workbook  # imported here: only downloads need it, not every server start

    t = t or {}
    event_rows = [
        {"field": t.get(f"col_{key}", key), "value": _cell(key, _cell_text(value), time_zone)}
        for key, value in results["event"].items()
    ]
    event_rows.append({"field": t.get("col_time_zone", "time_zone"), "value": str(time_zone)})
    sheets = (
        ("summary", SUMMARY_COLUMNS, summary_rows(results)),
        ("votes", VOTE_COLUMNS, vote_rows(results)),
        ("shift", SHIFT_COLUMNS, shift_rows(results, t.get("did_not_vote", NO_VOTE))),
        ("questions", QUESTION_COLUMNS, results.get("questions", [])),
        ("reasons", REASON_COLUMNS, reason_table(results)),
        ("event", ("field", "value"), event_rows),
    )
    offset = _offset(results, time_zone)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append([_header(column, t, offset) for column in columns])
        for row in rows:
            sheet.append([_cell(column, row[column], time_zone) for column in columns])
        _tidy_sheet(sheet, columns)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _header(column: str, t: Mapping[str, str], offset: str) -> str:
    """A column's header in the event's language; a time's says in which zone it is."""
    header = t.get(f"col_{column}", column)
    return f"{header} ({offset})" if column in TIME_COLUMNS else header


def _offset(results: EventResults, time_zone: tzinfo) -> str:
    """The zone and its UTC offset at the event's start: "Europe/Amsterdam, UTC+01:00"."""
    created = results["event"].get("created_at")
    at = _local(created, time_zone) if created else datetime.now(time_zone)
    return f"{time_zone}, UTC{at.strftime('%z')[:3]}:{at.strftime('%z')[3:]}"


def _local(value: str, time_zone: tzinfo) -> datetime:
    """An ISO time of the document (UTC) in `time_zone`."""
    return datetime.fromisoformat(value).astimezone(time_zone)


def _cell(column: str, value: Any, time_zone: tzinfo = UTC) -> Any:
    """Times as Excel dates (naive, in `time_zone`: Excel has no time zones, the header names
    it); empty as an empty cell."""
    if value in (None, ""):
        return None
    if column in TIME_COLUMNS:
        return _local(value, time_zone).replace(tzinfo=None)
    return value


def _labels(results: EventResults) -> dict[tuple[str, str], str]:
    """(statement key, option key) -> the option's label."""
    return {
        (statement["key"], option["key"]): option["label"]
        for statement in results["statements"]
        for option in statement["options"]
    }


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


def render(
    results: EventResults,
    fmt: str,
    table: str = "summary",
    *,
    t: Mapping[str, str] | None = None,
    time_zone: tzinfo = UTC,
) -> str | bytes:
    """The results in one of FORMATS: text for csv and json, bytes for xlsx. `t` (the event's
    language) names the workbook's columns; `time_zone` is the one of CSV and xlsx times."""
    if fmt == "json":
        return to_json(results)
    if fmt == "xlsx":
        return to_xlsx(results, t, time_zone)
    return to_csv(results, table, time_zone)


def _cell_text(value: Any) -> Any:
    """A value for a spreadsheet cell; the panel (a list) as "Name (role); ..."."""
    if not isinstance(value, list):
        return value
    return "; ".join(
        f"{member['name']} ({member['role']})" if member["role"] else member["name"]
        for member in value
    )
