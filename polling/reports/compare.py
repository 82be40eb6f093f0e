"""Compare events that ran the same deck: the same statement, round and option side by side.

An organiser who runs a panel in several cities wants to see whether Utrecht agreed more than
Groningen. Events copy their deck, so statements are matched by key and options by key; a deck
edited between events simply leaves gaps (None) where an event had no such statement, round or
option.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from polling.domain.models import Event
from polling.reports.document import EventResults, OptionInfo, RoundResult, StatementResult

# One event's cell: {"votes": n, "percent": p} in an option's row, {"voters": n} in the voters
# row; None where that event had no such statement, round or option.
Cell = dict[str, int] | None


class CompareRow(TypedDict):
    """A statement's round and option (or, with option None, its voters) across events."""

    statement_key: str
    statement: str
    round: int
    option: str | None
    label: str | None
    events: list[Cell]


class CompareOption(TypedDict):
    """One option of a comparison table, with a cell per event."""

    key: str
    label: str
    events: list[Cell]


class CompareTable(TypedDict):
    """One statement's round across events: its options, and the voters per event."""

    statement_key: str
    statement: str
    round: int
    options: list[CompareOption]
    voters: list[int | None]


def events_with_deck(session: Session, deck_name: str) -> list[Event]:
    """Every event that ran this deck, oldest first (the order a series happened in)."""
    return list(
        session.scalars(select(Event).where(Event.deck_name == deck_name).order_by(Event.id))
    )


def compare_rows(results: Sequence[EventResults]) -> list[CompareRow]:
    """One row per statement, round and option, with that option's votes and percent in each
    event (`polling.reports.document.event_results` documents, in the order given), then one
    row with the voters per event (option None). Statements in the order of the first event
    that has them."""
    statements: dict[str, StatementResult] = {}
    for result in results:
        for statement in result["statements"]:
            statements.setdefault(statement["key"], statement)
    rows: list[CompareRow] = []
    for key, first in statements.items():
        per_event = [_by_key(result["statements"]).get(key) for result in results]
        labels = _labels(first, per_event)
        numbers = sorted({r["number"] for s in per_event if s for r in s["rounds"]})
        for number in numbers:
            rounds = [_round(statement, number) for statement in per_event]
            for option, label in labels.items():
                rows.append(
                    {
                        "statement_key": key,
                        "statement": first["texts"]["statement"],
                        "round": number,
                        "option": option,
                        "label": label,
                        "events": [_cell(round_, option) for round_ in rounds],
                    }
                )
            rows.append(
                {
                    "statement_key": key,
                    "statement": first["texts"]["statement"],
                    "round": number,
                    "option": None,
                    "label": None,
                    "events": [
                        None if round_ is None else {"voters": round_["voters"]}
                        for round_ in rounds
                    ],
                }
            )
    return rows


def _by_key(statements: list[StatementResult]) -> dict[str, StatementResult]:
    return {statement["key"]: statement for statement in statements}


def _labels(first: StatementResult, per_event: list[StatementResult | None]) -> dict[str, str]:
    """Options in the first event's order, then any another event added."""
    labels: dict[str, str] = {}
    for statement in [first, *per_event]:
        options: list[OptionInfo] = statement["options"] if statement else []
        for option in options:
            labels.setdefault(option["key"], option["label"])
    return labels


def _round(statement: StatementResult | None, number: int) -> RoundResult | None:
    if statement is None:
        return None
    return next((r for r in statement["rounds"] if r["number"] == number), None)


def _cell(round_: RoundResult | None, option: str) -> Cell:
    if round_ is None or option not in round_["counts"]:
        return None
    return {"votes": round_["counts"][option], "percent": round_["percentages"][option]}


def compare_tables(rows: Sequence[CompareRow]) -> list[CompareTable]:
    """`compare_rows` grouped as one table per statement and round: its options (each with
    a cell per event) and the voters per event, for the organiser's comparison page."""
    tables: dict[tuple[str, int], CompareTable] = {}
    for row in rows:
        table = tables.setdefault(
            (row["statement_key"], row["round"]),
            {
                "statement_key": row["statement_key"],
                "statement": row["statement"],
                "round": row["round"],
                "options": [],
                "voters": [],
            },
        )
        if row["option"] is None:
            table["voters"] = [cell["voters"] if cell else None for cell in row["events"]]
        else:
            table["options"].append(
                {"key": row["option"], "label": row["label"] or "", "events": row["events"]}
            )
    return list(tables.values())
