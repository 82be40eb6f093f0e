"""Events: created from a deck, found by their join code, controlled with their keys."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from polling.domain import questions
from polling.domain.decks import Deck
from polling.domain.models import Event, Option, Participant, Round, Statement, Vote

CODE_LENGTH = 6
PRESENTER = "presenter"
MODERATOR = "moderator"


def create_event(session: Session, deck: Deck, *, results_mode: str = "hidden") -> Event:
    """Copy a deck into a new event and commit it."""
    event = Event(
        code=_unused_code(session),
        title=dict(deck.title),
        language=deck.language,
        deck_name=deck.name,
        presenter_key=secrets.token_hex(16),
        moderator_key=secrets.token_hex(16),
        results_mode=results_mode,
        panel=[member.as_dict() for member in deck.panel],
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


def latest_event_for_deck(session: Session, deck_name: str) -> Event | None:
    """The most recently created event of a deck, to reopen it."""
    return session.scalar(
        select(Event).where(Event.deck_name == deck_name).order_by(Event.id.desc()).limit(1)
    )


def list_events(session: Session) -> list[Event]:
    """All events, newest first."""
    return list(session.scalars(select(Event).order_by(Event.id.desc())))


@dataclass(frozen=True)
class Activity:
    """How many phones joined an event and how many votes it holds."""

    participants: int = 0
    votes: int = 0


def activity_by_event(session: Session, event_id: int | None = None) -> dict[int, Activity]:
    """Participants and votes per event id (of every event, or of one), in two queries."""
    participants_query = select(Participant.event_id, func.count()).group_by(Participant.event_id)
    votes_query = (
        select(Statement.event_id, func.count(Vote.id))
        .join(Round, Round.statement_id == Statement.id)
        .join(Vote, Vote.round_id == Round.id)
        .group_by(Statement.event_id)
    )
    if event_id is not None:
        participants_query = participants_query.where(Participant.event_id == event_id)
        votes_query = votes_query.where(Statement.event_id == event_id)
    participants = dict(session.execute(participants_query).all())
    votes = dict(session.execute(votes_query).all())
    return {
        event_id: Activity(participants.get(event_id, 0), votes.get(event_id, 0))
        for event_id in participants.keys() | votes.keys()
    }


def delete_event(session: Session, event_id: int) -> None:
    """Delete an event with its statements, rounds, participants, votes and archived counts.

    One statement: every table below events cascades in the schema (ON DELETE CASCADE).
    """
    session.execute(delete(Event).where(Event.id == event_id))
    session.commit()


def role_for_key(event: Event, key: object) -> str | None:
    """MODERATOR or PRESENTER if the key is that of the event, else None.

    Both keys are always compared, in constant time, so timing tells nothing about either.
    """
    if not isinstance(key, str) or not key:
        return None
    given = key.encode()
    is_moderator = hmac.compare_digest(given, event.moderator_key.encode())
    is_presenter = hmac.compare_digest(given, event.presenter_key.encode())
    if is_moderator:
        return MODERATOR
    if is_presenter:
        return PRESENTER
    return None
