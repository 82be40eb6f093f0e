"""What an event shows that never changes once it is created, read once per process.

An event's code, keys, title, language, expected audience and statements (texts, facts,
options) are copied from its deck when the event is created and never written again; what
moves is the position, the rounds, the reveal, the results mode and the settings, which
polling.domain.state reads in one query. Before, every join loaded the event and all its
statements through the ORM (all of them, to count them, with their JSON texts): about a
quarter of a join's server CPU when a hall scans the QR code.

The kept content is keyed by the database's engine, the event's id and its code: ids are
never given twice in one database (migration 0004), and a caller only asks for the
content of an event that its own query has just found, so a deleted event's content is never
served. At most MAX_EVENTS events are kept per database; the least recently used goes first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, selectinload

from polling.database import Reader, orm_session
from polling.domain.models import Event, Statement

MAX_EVENTS = 256


@dataclass(frozen=True)
class StatementContent:
    """A statement as every screen's state shows it, and its options' keys in deck order."""

    id: int
    payload: dict[str, Any]
    option_keys: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    """The unchanging part of an event (see the module docstring)."""

    id: int
    code: str
    title: dict[str, str]
    language: str
    presenter_key: str
    moderator_key: str
    expected_audience: int | None
    audience_cap: bool
    timer_seconds: int | None
    statements: tuple[StatementContent, ...]  # in deck order: position 1 is statements[0]


_kept: WeakKeyDictionary[Engine, OrderedDict[tuple[int, str], Content]] = WeakKeyDictionary()


def content_of(reader: Reader, event_id: int, code: str) -> Content | None:
    """The event's content, from memory or read once; None if no such event (with this code)."""
    engine = reader.engine if isinstance(reader, Connection) else reader.get_bind()
    assert isinstance(engine, Engine)
    kept = _kept.setdefault(engine, OrderedDict())
    key = (event_id, code)
    content = kept.get(key)
    if content is not None:
        kept.move_to_end(key)
        return content
    with orm_session(reader) as session:
        content = _read(session, event_id, code)
    if content is not None:
        kept[key] = content
        while len(kept) > MAX_EVENTS:
            kept.popitem(last=False)
    return content


def _read(session: Session, event_id: int, code: str) -> Content | None:
    event = session.get(
        Event, event_id, options=[selectinload(Event.statements).selectinload(Statement.options)]
    )
    if event is None or event.code != code:
        return None
    return Content(
        id=event.id,
        code=event.code,
        title=dict(event.title),
        language=event.language,
        presenter_key=event.presenter_key,
        moderator_key=event.moderator_key,
        expected_audience=event.expected_audience,
        audience_cap=event.audience_cap,
        timer_seconds=event.timer_seconds,
        statements=tuple(
            StatementContent(
                id=statement.id,
                payload={
                    "id": statement.id,
                    "key": statement.key,
                    "position": statement.position,
                    "texts": statement.texts,
                    "facts": statement.facts,
                    "options": [{"key": o.key, "labels": o.labels} for o in statement.options],
                },
                option_keys=tuple(option.key for option in statement.options),
            )
            for statement in event.statements
        ),
    )
