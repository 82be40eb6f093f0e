"""The tables. The database is the truth for an event's state and its votes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, TypeDecorator, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from polling.database import Base

# SQLite reuses the id of a deleted last row unless told not to: a page still open on a
# deleted event would then act on the next one. (PostgreSQL sequences never reuse an id.)
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}

LOBBY = "lobby"
STATEMENT = "statement"
FINISHED = "finished"


def stage_at(position: int, total: int) -> str:
    """lobby, statement or finished, from the position and the number of statements."""
    if position <= 0:
        return LOBBY
    if position > total:
        return FINISHED
    return STATEMENT


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC timestamp that comes back timezone-aware from every database (SQLite drops it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use polling.domain.models.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Event(Base):
    """One run of a deck in front of an audience."""

    __tablename__ = "events"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> title
    language: Mapped[str] = mapped_column(String(8))
    deck_name: Mapped[str] = mapped_column(String(200), index=True)
    presenter_key: Mapped[str] = mapped_column(String(64))
    moderator_key: Mapped[str] = mapped_column(String(64))
    results_mode: Mapped[str] = mapped_column(String(8), default="hidden")  # hidden | live
    # 0 = lobby (before the first statement), 1..N = that statement, N+1 = finished.
    current_position: Mapped[int] = mapped_column(default=0)
    results_revealed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # [{"name", "role": {language: text}}], from the deck; shown on the waiting screens.
    panel: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    # Seconds the moderator's countdown offers first (from the deck's `timer`); None: no default.
    timer_seconds: Mapped[int | None] = mapped_column(default=None)
    # How many phones the organiser expects (deck or organiser area); None: not said. Joins
    # beyond it are shown on the screens, and refused if audience_cap is set.
    expected_audience: Mapped[int | None] = mapped_column(default=None)
    audience_cap: Mapped[bool] = mapped_column(default=False, server_default=false())

    statements: Mapped[list[Statement]] = relationship(
        back_populates="event", order_by="Statement.position", cascade="all, delete-orphan"
    )

    @property
    def stage(self) -> str:
        """lobby, statement or finished, derived from the position."""
        return stage_at(self.current_position, len(self.statements))

    @property
    def current_statement(self) -> Statement | None:
        """The statement on screen, if any."""
        if self.stage != STATEMENT:
            return None
        return self.statements[self.current_position - 1]


class Statement(Base):
    """A statement of an event, copied from its deck so later deck edits change nothing."""

    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("event_id", "position"),
        UniqueConstraint("event_id", "key"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    position: Mapped[int]  # 1-based, in the order of the deck
    key: Mapped[str] = mapped_column(String(64))
    # language -> {"theme", "question", "challenge", "statement"}
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON)
    # [{"text": {language: text}, "source": {language: text}}]; shown after the reveal.
    facts: Mapped[list[dict[str, dict[str, str]]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # "Toon redenen": the moderator let the hall read (and upvote) this statement's reasons.
    reasons_shown: Mapped[bool] = mapped_column(default=False, server_default=false())

    event: Mapped[Event] = relationship(back_populates="statements")
    options: Mapped[list[Option]] = relationship(
        order_by="Option.position", cascade="all, delete-orphan"
    )
    rounds: Mapped[list[Round]] = relationship(
        order_by="Round.number", cascade="all, delete-orphan"
    )

    @property
    def latest_round(self) -> Round | None:
        """The round the statement is in now; None before voting first opened."""
        return self.rounds[-1] if self.rounds else None


class Option(Base):
    """A choice on a statement, e.g. eens / oneens."""

    __tablename__ = "options"
    __table_args__ = (UniqueConstraint("statement_id", "key"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(32))
    labels: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> label


class Round(Base):
    """One opening of voting on a statement; a re-vote after discussion is round 2."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("statement_id", "number"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    number: Mapped[int]
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When a countdown closes the round: kept here, not in a timer, so it survives a restart.
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def is_open(self) -> bool:
        """Votes are accepted while the round has not been closed."""
        return self.closed_at is None


class Participant(Base):
    """An anonymous phone in an event. Only a digest of its cookie token is stored."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("event_id", "token_digest"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # sha256 of event id and the phone's random token: the same phone is unlinkable across events.
    token_digest: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def pseudonym(self) -> str:
        """The name this participant has in exports."""
        return self.token_digest[:10]


class Vote(Base):
    """A participant's current choice in a round; changing it updates this row."""

    __tablename__ = "votes"
    # The rule "one vote per phone per round" lives in the schema.
    __table_args__ = (
        UniqueConstraint("round_id", "participant_id", name="one_vote_per_round"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("options.id", ondelete="CASCADE"))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoundArchive(Base):
    """The counts of a round whose raw votes retention deleted (see polling.domain.retention).

    Results, exports and screens read a round's counts from here once it exists: the event's
    record stays, while nothing per participant does.
    """

    __tablename__ = "round_archives"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    counts: Mapped[dict[str, int]] = mapped_column(JSON)  # option key -> votes
    participants: Mapped[int]  # phones that had joined when voting closed
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganiserPassword(Base):
    """The organiser area's password, as a salted scrypt hash (one row; see polling.web.organiser).

    POLLING_ADMIN_PASSWORD, when set, takes its place and is never stored.
    """

    __tablename__ = "organiser_password"

    id: Mapped[int] = mapped_column(primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EndedLogin(Base):
    """An organiser login ended by logging out: a copy of its cookie no longer logs in.

    Kept for as long as a login lasts (see polling.web.organiser.LOGIN_HOURS), then dropped.
    """

    __tablename__ = "ended_logins"

    login_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# The audience's questions have their own module; imported here so every table is known.
from polling.domain import question_models, reason_models  # noqa: E402, F401
