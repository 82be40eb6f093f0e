"""Events: created from a deck, found by their join code, controlled with their keys."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from polling.database import Reader, connection_of
from polling.domain import questions
from polling.domain.content import Content, content_of
from polling.domain.decks import Deck
from polling.domain.models import Event, Option, Participant, Round, Statement, Vote
from polling.domain.roles import MODERATOR, PRESENTER

CODE_LENGTH = 6


def create_event(
    session: Session,
    deck: Deck,
    *,
    results_mode: str = "hidden",
    expected_audience: int | None = None,
    audience_cap: bool | None = None,
) -> Event:
    """Copy a deck into a new event and commit it; the expected audience and its cap are the
    deck's unless given."""
    event = Event(
        code=_unused_code(session),
        title=dict(deck.title),
        language=deck.language,
        deck_name=deck.name,
        presenter_key=secrets.token_hex(16),
        moderator_key=secrets.token_hex(16),
        results_mode=results_mode,
        panel=[member.as_dict() for member in deck.panel],
        timer_seconds=deck.timer,
        expected_audience=expected_audience if expected_audience is not None else deck.audience,
        audience_cap=audience_cap if audience_cap is not None else deck.audience_cap,
    )
    for position, item in enumerate(deck.statements, start=1):
        statement = Statement(
            position=position,
            key=item.key,
            texts=item.texts,
            facts=[fact.as_dict() for fact in item.facts],
        )
        statement.options = [
            Option(position=index, key=option.key, labels=dict(option.labels))
            for index, option in enumerate(item.options, start=1)
        ]
        event.statements.append(statement)
    session.add(event)
    session.flush()
    questions.create_settings(session, event.id, deck.qa)
    session.commit()
    return event


def _unused_code(session: Session) -> str:
    """Six digits, not starting with 0 (people drop a leading zero), not in use."""
    while True:
        code = str(secrets.randbelow(9 * 10 ** (CODE_LENGTH - 1)) + 10 ** (CODE_LENGTH - 1))
        if session.scalar(select(Event.id).where(Event.code == code)) is None:
            return code


def normalise_code(text: str) -> str | None:
    """'482 913', '482-913' or '482913' -> '482913'; None if it cannot be a code."""
    digits = "".join(ch for ch in text if not ch.isspace() and ch not in "-.")
    if len(digits) == CODE_LENGTH and digits.isascii() and digits.isdigit():
        return digits
    return None


def display_code(code: str) -> str:
    """A code grouped for reading aloud and typing: '482 913'."""
    return f"{code[:3]} {code[3:]}"


def find_event(session: Session, code: str) -> Event | None:
    """The event with this join code, if any."""
    normalised = normalise_code(code)
    if normalised is None:
        return None
    return session.scalar(select(Event).where(Event.code == normalised))


_EVENT_ID = select(Event.id).where(Event.code == bindparam("code"))


def find_content(reader: Reader, code: str) -> Content | None:
    """The unchanging part of the event with this join code, if any: what a phone's page and
    connect need, read with one indexed query once the event is known to this process."""
    normalised = normalise_code(code)
    if normalised is None:
        return None
    # Core, not the ORM: a phone's page and connect both ask, for every phone of a hall.
    event_id = connection_of(reader).execute(_EVENT_ID, {"code": normalised}).scalar()
    return content_of(reader, event_id, normalised) if event_id is not None else None


def latest_event_for_deck(session: Session, deck_name: str) -> Event | None:
    """The most recently created event of a deck."""
    return session.scalar(
        select(Event).where(Event.deck_name == deck_name).order_by(Event.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class LastActivity:
    """When an event was last in use, and by what."""

    event: Event
    at: datetime
    what: str  # one of ACTIVITIES


# What counts as use, from the rows that carry a time. A moderator's "next" or "reveal" leaves
# none (the position is a number, not a history); opening and closing voting do.
ACTIVITIES = ("created", "phone joined", "voting opened", "voting closed", "vote")


def most_recently_active(session: Session, deck_name: str | None = None) -> LastActivity | None:
    """The event in use: the one whose last vote, opening or closing of voting, joining phone
    or creation is the latest (of one deck, or of all); None if there is no event.

    This, not the newest event, is what a restart reopens: an event created for later, or
    to try a deck, must not take the place of the one the hall is voting in.
    """
    events = select(Event.id)
    if deck_name is not None:
        events = events.where(Event.deck_name == deck_name)
    event_ids = events.scalar_subquery()
    per_round = (
        select(Statement.event_id, Round.opened_at, Round.closed_at, Round.id)
        .join(Round, Round.statement_id == Statement.id)
        .where(Statement.event_id.in_(event_ids))
        .subquery()
    )
    sources = {
        "created": select(Event.id, func.max(Event.created_at)).where(Event.id.in_(event_ids)),
        "phone joined": select(Participant.event_id, func.max(Participant.joined_at)).where(
            Participant.event_id.in_(event_ids)
        ),
        "voting opened": select(per_round.c.event_id, func.max(per_round.c.opened_at)),
        "voting closed": select(per_round.c.event_id, func.max(per_round.c.closed_at)),
        "vote": select(per_round.c.event_id, func.max(Vote.cast_at)).join(
            Vote, Vote.round_id == per_round.c.id
        ),
    }
    latest: tuple[datetime, int, str] | None = None
    for what, query in sources.items():
        column = query.selected_columns[0]
        for event_id, at in session.execute(query.group_by(column)).all():
            at = _aware(at)
            # Ties (a vote in the second its round opened) go to the later kind of activity.
            if at is not None and (latest is None or (at, event_id) >= latest[:2]):
                latest = (at, event_id, what)
    if latest is None:
        return None
    at, event_id, what = latest
    return LastActivity(session.get_one(Event, event_id), at, what)


def _aware(value: datetime | None) -> datetime | None:
    """Aggregates bypass the column type: SQLite hands back naive UTC (or even text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def list_events(session: Session) -> list[Event]:
    """All events, newest first."""
    return list(session.scalars(select(Event).order_by(Event.id.desc())))


def delete_event(session: Session, event_id: int) -> None:
    """Delete an event with its statements, rounds, participants, votes and archived counts.

    One statement: every table below events cascades in the schema (ON DELETE CASCADE).
    """
    session.execute(delete(Event).where(Event.id == event_id))
    session.commit()


class Keyed(Protocol):
    """An event as far as its keys go: the ORM row, or its kept content."""

    @property
    def code(self) -> str: ...
    @property
    def presenter_key(self) -> str: ...
    @property
    def moderator_key(self) -> str: ...


def role_for_key(event: Keyed, key: object) -> str | None:
    """MODERATOR or PRESENTER if the key is that of the event, else None.

    Both keys are always compared, in constant time, so timing tells nothing about either.
    """
    if not isinstance(key, str) or not key:
        return None
    try:
        given = key.encode()
    except UnicodeEncodeError:  # a lone surrogate: no key has one
        return None
    is_moderator = hmac.compare_digest(given, event.moderator_key.encode())
    is_presenter = hmac.compare_digest(given, event.presenter_key.encode())
    if is_moderator:
        return MODERATOR
    if is_presenter:
        return PRESENTER
    return None
