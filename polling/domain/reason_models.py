"""The tables of the audience's reasons for a vote (see polling.domain.reasons for the rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polling.database import Base
from polling.domain.models import UTCDateTime, utcnow

# The states of a reason. The moderator picks reasons for the projector among visible ones.
PENDING = "pending"
VISIBLE = "visible"
HIDDEN = "hidden"
DISMISSED = "dismissed"
STATES = (PENDING, VISIBLE, HIDDEN, DISMISSED)


class Reason(Base):
    """Why a phone voted as it did in one round: "Waarom eens?".

    Its side is not stored while the vote exists: it is the vote's option, read when shown, so
    a changed vote moves the reason with it. Retention keeps the side in `archived_choice`
    (and the phone's choice in the round before in `archived_previous`) before the votes go.
    """

    __tablename__ = "reasons"
    __table_args__ = (UniqueConstraint("round_id", "participant_id", name="one_reason_per_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    # The phone; NULL once retention deleted the participants (the reason stays).
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(String(200))
    # The text as written, when the moderator edited it; kept for the export.
    original_text: Mapped[str | None] = mapped_column(String(200), default=None)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    # Why it waits although pre-moderation is off: "blocklist" or "muted".
    held: Mapped[str | None] = mapped_column(String(16), default=None)
    # Chosen by the moderator for the projector.
    picked: Mapped[bool] = mapped_column(Boolean, default=False)
    archived_choice: Mapped[str | None] = mapped_column(String(32), default=None)
    archived_previous: Mapped[str | None] = mapped_column(String(32), default=None)
    archived_upvotes: Mapped[int | None] = mapped_column(default=None)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ReasonVote(Base):
    """One phone's upvote of one reason; withdrawing it deletes the row."""

    __tablename__ = "reason_votes"
    __table_args__ = (
        UniqueConstraint("reason_id", "participant_id", name="one_upvote_per_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reason_id: Mapped[int] = mapped_column(ForeignKey("reasons.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
