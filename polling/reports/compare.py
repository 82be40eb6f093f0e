"""Compare events that ran the same deck: the same statement, round and option side by side.

An organiser who runs a panel in several cities wants to see whether Utrecht agreed more than
Groningen. Events copy their deck, so statements are matched by key and options by key; a deck
edited between events simply leaves gaps (None) where an event had no such statement, round or
option.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from polling.domain.models import Event


def events_with_deck(session: Session, deck_name: str) -> list[Event]:
    """Every event that ran this deck, oldest first (the order a series happened in)."""
    return list(
        session.scalars(select(Event).where(Event.deck_name == deck_name).order_by(Event.id))
    )


def compare_rows(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per statement, round and option, with that option's votes and percent in each
    event (`polling.document.event_results` documents, in the order given), then one row with
    the voters per event (option None). Statements in the order of the first event that has
    them."""
    statements: dict[str, dict[str, Any]] = {}
    for result in results:
        for statement in result["statements"]:
            statements.setdefault(statement["key"], statement)
    rows = []
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


def _by_key(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {statement["key"]: statement for statement in statements}


def _labels(first: dict[str, Any], per_event: list[dict[str, Any] | None]) -> dict[str, str]:
    """Options in the first event's order, then any another event added."""
    labels: dict[str, str] = {}
    for statement in [first, *per_event]:
        for option in statement["options"] if statement else ():
            labels.setdefault(option["key"], option["label"])
    return labels


def _round(statement: dict[str, Any] | None, number: int) -> dict[str, Any] | None:
    if statement is None:
        return None
    return next((r for r in statement["rounds"] if r["number"] == number), None)


def _cell(round_: dict[str, Any] | None, option: str) -> dict[str, int] | None:
    if round_ is None or option not in round_["counts"]:
        return None
    return {"votes": round_["counts"][option], "percent": round_["percentages"][option]}


def compare_tables(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`compare_rows` grouped as one table per statement and round: its options (each with
    a cell per event) and the voters per event, for the organiser's comparison page."""
    tables: dict[tuple[str, int], dict[str, Any]] = {}
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
                {"key": row["option"], "label": row["label"], "events": row["events"]}
            )
    return list(tables.values())
