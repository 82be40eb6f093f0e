"""The tables of the audience's questions (see polling.domain.questions for the rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from polling.database import Base
from polling.domain.models import UTCDateTime, utcnow

# The states of a question. A dismissed question stays "pending" for its asker.
PENDING = "pending"
VISIBLE = "visible"
ON_SCREEN = "on_screen"
ANSWERED = "answered"
HIDDEN = "hidden"
DISMISSED = "dismissed"
MERGED = "merged"
STATES = (PENDING, VISIBLE, ON_SCREEN, ANSWERED, HIDDEN, DISMISSED, MERGED)
# The states everyone in the hall sees (and may upvote, except answered ones).
PUBLIC = (VISIBLE, ON_SCREEN, ANSWERED)


class QuestionSettings(Base):
    """An event's Q&A settings: from the deck's [qa] table, switched live by the moderator."""

    __tablename__ = "question_settings"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(16), default="open")  # off|open|upvotes|closed
    names: Mapped[str] = mapped_column(String(16), default="optional")  # off|optional|required
    premoderation: Mapped[bool] = mapped_column(Boolean, default=True)
    # Words that send a question to the moderator's queue, on top of the built-in list.
    blocklist: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the projector shows: the statements, the questions, the reasons or their words.
    view: Mapped[str] = mapped_column(String(16), default="statements")
    # The audience's reasons for their votes (polling.domain.reasons): open|off, and whether
    # each waits for the moderator before the hall sees it.
    reasons: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    reasons_premoderation: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class Question(Base):
    """A question from the hall. Its upvotes are rows of QuestionVote, counted when read."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("event_id", "number", name="one_number_per_question"),
        Index("ix_questions_event_normalised", "event_id", "normalised"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1, 2, ... per event: "vraag 12", to say aloud
    # The asker; NULL once retention deleted the participants (the question stays).
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(String(300))
    # The text as asked, when the moderator edited it; kept for the export.
    original_text: Mapped[str | None] = mapped_column(String(300), default=None)
    normalised: Mapped[str] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(60), default=None)  # only if typed
    panel_member: Mapped[int | None] = mapped_column(default=None)  # index in Event.panel
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    # Why it waits in the queue although pre-moderation is off: "blocklist" or "muted".
    held: Mapped[str | None] = mapped_column(String(16), default=None)
    # A near-duplicate found when it was asked: the moderator may merge the two.
    similar_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"), default=None
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"), default=None
    )
    # The upvotes once retention deleted the phones (and with them the upvote rows).
    archived_upvotes: Mapped[int | None] = mapped_column(default=None)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    on_screen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class QuestionVote(Base):
    """One phone's upvote of one question; withdrawing it deletes the row."""

    __tablename__ = "question_votes"
    __table_args__ = (
        UniqueConstraint("question_id", "participant_id", name="one_upvote_per_question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionMute(Base):
    """A phone whose later questions go to the moderator's queue, whatever the settings."""

    __tablename__ = "question_mutes"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    muted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
