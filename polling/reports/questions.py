"""The audience's questions in the results: one row per question, as the report page and
the CSV, JSON and xlsx files show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from polling.domain.models import Event
from polling.domain.question_models import Question
from polling.domain.questions import popularity, upvote_counts

QUESTION_COLUMNS = (
    "number",
    "question",
    "original_text",
    "name",
    "panel_member",
    "state",
    "upvotes",
    "asked_at",
    "approved_at",
    "on_screen_at",
    "answered_at",
)
QUESTION_TIME_COLUMNS = ("asked_at", "approved_at", "on_screen_at", "answered_at")


def question_rows(session: Session, event: Event) -> list[dict[str, Any]]:
    """Every question of an event, most upvoted first (ties: the older first).

    The name is there only if its asker typed one (and until retention removed it); the
    original text only if the moderator edited the question.
    """
    counts = upvote_counts(session, event.id)
    found = session.scalars(select(Question).where(Question.event_id == event.id))
    panel = [member["name"] for member in event.panel]
    return [
        {
            "number": question.number,
            "question": question.text,
            "original_text": question.original_text or "",
            "name": question.name or "",
            "panel_member": panel[question.panel_member]
            if question.panel_member is not None and question.panel_member < len(panel)
            else "",
            "state": question.state,
            "upvotes": counts.get(question.id, 0),
            "asked_at": _time(question.asked_at),
            "approved_at": _time(question.approved_at),
            "on_screen_at": _time(question.on_screen_at),
            "answered_at": _time(question.answered_at),
        }
        for question in sorted(found, key=lambda q: popularity(q, counts))
    ]


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
