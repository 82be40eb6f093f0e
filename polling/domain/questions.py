"""The audience's questions for the panel: ask, upvote, moderate, put one on screen.

The rules live here, without Flask. Moderator actions and questions are written and committed
here; upvotes are written here but committed in groups by `polling.realtime.vote_writer`, and
always counted from their rows (one per phone per question, a unique constraint), never kept
as a counter. Callers broadcast only after the commit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from polling.domain.decks import QA_MODES, QA_NAMES, REASON_MODES, DeckQA
from polling.domain.errors import VotingError
from polling.domain.models import Event, Participant, UTCDateTime, utcnow
from polling.domain.question_models import (
    ANSWERED,
    DISMISSED,
    HIDDEN,
    MERGED,
    ON_SCREEN,
    PENDING,
    PUBLIC,
    VISIBLE,
    Question,
    QuestionMute,
    QuestionSettings,
    QuestionVote,
)
from polling.domain.text import storable

MIN_LENGTH = 3
MAX_LENGTH = 300
MAX_NAME_LENGTH = 60
# A hall of thousands asks a few hundred; a script asks until something stops it.
MAX_QUESTIONS_PER_EVENT = 1000
# Words in common between two questions (of all their words) from which they look alike.
SIMILARITY = 0.6
# What the projector shows: the statement, the questions, or the reasons (or their words) of
# the statement on screen (polling.domain.reasons).
VIEWS = ("statements", "questions", "reasons", "words")
# The states in which a question counts against duplicates and can be found similar.
LIVE = (PENDING, *PUBLIC, HIDDEN)
UPVOTABLE = (VISIBLE, ON_SCREEN)

# Sent to the moderator's queue even when pre-moderation is off. Whole words only, after
# normalising (so "K*T" is "k t" and does not match; a human moderator still reads the rest).
BUILTIN_BLOCKLIST = frozenset(
    {
        "kut",
        "klote",
        "kanker",
        "kankerlijer",
        "tering",
        "tyfus",
        "tyfuslijer",
        "godverdomme",
        "lul",
        "klootzak",
        "eikel",
        "hoer",
        "hoerenzoon",
        "kutwijf",
        "mongool",
        "debiel",
        "flikker",
        "neuk",
        "neuken",
        "sukkel",
        "teringlijer",
        "fuck",
        "fucking",
        "fucker",
        "shit",
        "bullshit",
        "cunt",
        "bitch",
        "asshole",
        "bastard",
        "dick",
        "motherfucker",
        "whore",
        "slut",
        "retard",
        "nigger",
        "faggot",
    }
)


class QuestionError(VotingError):
    """A request the Q&A rules refuse; `details` go into the refusal (e.g. the duplicate)."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(code, message)
        self.details = details


def normalise(value: str) -> str:
    """Lower case, without accents, punctuation or repeated spaces: how duplicates compare."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", letters).split())


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the words of two normalised questions (0 to 1)."""
    words_a, words_b = set(a.split()), set(b.split())
    if not words_a or not words_b:
        return 0.0
    return len(words_a & words_b) / len(words_a | words_b)


def is_blocked(normalised: str, blocklist: list[str] | tuple[str, ...] = ()) -> bool:
    """True if a word of the built-in list or a word or phrase of the deck's list occurs."""
    words = set(normalised.split())
    if words & BUILTIN_BLOCKLIST:
        return True
    padded = f" {normalised} "
    return any(f" {normalise(entry)} " in padded for entry in blocklist if normalise(entry))


# ---------- settings ----------


def create_settings(session: Session, event_id: int, qa: DeckQA) -> QuestionSettings:
    """The settings of a new event, from its deck's [qa] table (not committed)."""
    settings = QuestionSettings(
        event_id=event_id,
        mode=qa.mode,
        names=qa.names,
        premoderation=qa.premoderation,
        blocklist=list(qa.blocklist),
        view="statements",
        reasons=qa.reasons,
        reasons_premoderation=qa.reasons_premoderation,
    )
    session.add(settings)
    return settings


def settings_for(session: Session, event_id: int) -> QuestionSettings:
    """An event's settings; an event without a row (made outside create_event) gets the
    defaults, stored."""
    settings = session.get(QuestionSettings, event_id)
    if settings is None:
        settings = create_settings(session, event_id, DeckQA())
        session.flush()
    return settings


def public_settings(settings: QuestionSettings) -> dict[str, Any]:
    """What every phone may know of the settings (not the blocklist)."""
    return {
        "mode": settings.mode,
        "names": settings.names,
        "premoderation": settings.premoderation,
        "view": settings.view,
        "reasons": settings.reasons,
        "reasons_premoderation": settings.reasons_premoderation,
    }


SETTING_VALUES: dict[str, tuple[str, ...]] = {
    "mode": QA_MODES,
    "names": QA_NAMES,
    "view": VIEWS,
    "reasons": REASON_MODES,
}


def _valid_setting(name: Any, value: Any) -> bool:
    if name in ("premoderation", "reasons_premoderation"):
        return isinstance(value, bool)
    allowed = SETTING_VALUES.get(name) if isinstance(name, str) else None
    return allowed is not None and isinstance(value, str) and value in allowed


def change_settings(session: Session, event_id: int, changes: dict[str, Any]) -> QuestionSettings:
    """Switch settings live (pre-moderation affects new questions only) and commit."""
    _require_event(session, event_id)
    if (
        not isinstance(changes, dict)
        or not changes
        or not all(_valid_setting(name, value) for name, value in changes.items())
    ):
        raise QuestionError(
            "bad_request",
            "Send {mode: off|open|upvotes|closed, names: off|optional|required, "
            "premoderation: true|false, view: statements|questions|reasons|words, "
            "reasons: open|off, reasons_premoderation: true|false}.",
        )
    settings = settings_for(session, event_id)
    for name, value in changes.items():
        setattr(settings, name, value)
    session.commit()
    return settings


# ---------- asking ----------


@dataclass(frozen=True)
class Asked:
    """A question as its asker typed it, checked."""

    text: str
    name: str | None
    panel_member: int | None


def check_question(
    event: Event, settings: QuestionSettings, text_: Any, name: Any, panel_member: Any
) -> Asked:
    """Validate what a phone sent; raise QuestionError with a clear code if it is wrong."""
    if settings.mode != "open":
        raise QuestionError("questions_closed", "Questions cannot be asked now.")
    if not isinstance(text_, str) or not storable(text_):
        raise QuestionError("bad_request", "Send {text, name, panel}.")
    cleaned = " ".join(text_.split())
    if len(cleaned) < MIN_LENGTH:
        raise QuestionError("too_short", f"A question needs at least {MIN_LENGTH} characters.")
    if len(cleaned) > MAX_LENGTH:
        raise QuestionError("too_long", f"A question has at most {MAX_LENGTH} characters.")
    if name is not None and not isinstance(name, str):
        raise QuestionError("bad_request", "The name must be text.")
    given = " ".join((name or "").split()) or None
    if settings.names == "off":
        given = None
    elif settings.names == "required" and given is None:
        raise QuestionError("name_required", "Please give your name with the question.")
    if given is not None and not storable(given):
        raise QuestionError("bad_request", "The name must be text.")
    if given is not None and len(given) > MAX_NAME_LENGTH:
        raise QuestionError("name_too_long", f"A name has at most {MAX_NAME_LENGTH} characters.")
    if panel_member is not None and (
        not isinstance(panel_member, int)
        or isinstance(panel_member, bool)
        or not 0 <= panel_member < len(event.panel or [])
    ):
        raise QuestionError("unknown_panel_member", "There is no such panel member.")
    return Asked(cleaned, given, panel_member)


def ask(
    session: Session,
    event_id: int,
    participant_id: int,
    text_: Any,
    name: Any = None,
    panel_member: Any = None,
    *,
    attempts: int = 5,
) -> Question:
    """Ask a question and commit it; raise QuestionError if the rules refuse it.

    It waits in the moderator's queue if pre-moderation is on, if a word of the blocklist
    occurs, or if the moderator muted this phone; otherwise everyone sees it at once.
    """
    event = _require_event(session, event_id)
    settings = settings_for(session, event_id)
    asked = check_question(event, settings, text_, name, panel_member)
    normalised = normalise(asked.text)
    if not normalised:
        raise QuestionError("too_short", f"A question needs at least {MIN_LENGTH} characters.")
    existing = list(
        session.execute(
            select(Question.id, Question.number, Question.normalised, Question.state).where(
                Question.event_id == event_id, Question.state.in_(LIVE)
            )
        )
    )
    for row in existing:
        if row.normalised == normalised:
            public = row.state in PUBLIC
            raise QuestionError(
                "duplicate",
                f"Question {row.number} asks the same: upvote it instead."
                if public
                else "This question has been asked already.",
                question=row.id if public else None,
                number=row.number if public else None,
            )
    total = session.scalar(
        select(func.count()).select_from(Question).where(Question.event_id == event_id)
    )
    if (total or 0) >= MAX_QUESTIONS_PER_EVENT:
        raise QuestionError("event_full", "This event takes no more questions.")
    muted = session.get(QuestionMute, (event_id, participant_id)) is not None
    held = "muted" if muted else "blocklist" if is_blocked(normalised, settings.blocklist) else None
    visible = not settings.premoderation and held is None
    similar = max(
        ((similarity(normalised, row.normalised), row.id) for row in existing),
        default=(0.0, None),
    )
    now = utcnow()
    for attempt in range(attempts):
        number = (
            session.scalar(select(func.max(Question.number)).where(Question.event_id == event_id))
            or 0
        ) + 1
        question = Question(
            event_id=event_id,
            number=number,
            participant_id=participant_id,
            text=asked.text,
            normalised=normalised,
            name=asked.name,
            panel_member=asked.panel_member,
            state=VISIBLE if visible else PENDING,
            held=held,
            similar_to_id=similar[1] if similar[0] >= SIMILARITY else None,
            asked_at=now,
            approved_at=now if visible else None,
        )
        session.add(question)
        try:
            session.commit()
            return question
        except IntegrityError:
            # Another question took this number at the same moment: take the next one.
            if attempt + 1 == attempts:
                raise
            session.rollback()
    raise QuestionError("busy", "The server is busy; please try again.")


# ---------- upvotes (written in groups by the vote writer) ----------

# One statement checks every rule and writes the upvote: the question is visible or on
# screen, upvotes are open, the phone is of the same event and did not ask it. The unique
# constraint one_upvote_per_question makes a second tap change nothing.
_UPVOTE = text(
    """
    INSERT INTO question_votes (question_id, participant_id, cast_at)
    SELECT q.id, p.id, :cast_at
    FROM questions q
    JOIN participants p ON p.event_id = q.event_id
    JOIN question_settings s ON s.event_id = q.event_id
    WHERE q.id = :question_id AND p.id = :participant_id
      AND q.state IN ('visible', 'on_screen') AND s.mode IN ('open', 'upvotes')
      AND (q.participant_id IS NULL OR q.participant_id <> p.id)
    ON CONFLICT (question_id, participant_id) DO NOTHING
    """
).bindparams(bindparam("cast_at", type_=UTCDateTime))


def upvote(connection: Connection, participant_id: int, question_id: int, up: bool) -> int:
    """Upvote (or withdraw the upvote of) a question; return its upvotes after.

    Does not commit: the caller groups upvotes into one transaction and acknowledges each
    only after that transaction committed.
    """
    parameters = {"question_id": question_id, "participant_id": participant_id}
    if up:
        written = connection.execute(_UPVOTE, {**parameters, "cast_at": utcnow()})
        if written.rowcount != 1 and not _has_upvoted(connection, participant_id, question_id):
            raise _upvote_refusal(connection, participant_id, question_id)
    else:
        connection.execute(
            delete(QuestionVote).where(
                QuestionVote.question_id == question_id,
                QuestionVote.participant_id == participant_id,
            )
        )
        voter_event = _participant_event(connection, participant_id)
        if voter_event is None:  # ids are never reused: its event was deleted
            raise QuestionError("event_gone", "This event has been deleted.")
        if _question_event(connection, question_id) != voter_event:
            raise QuestionError("unknown_question", "There is no such question in this event.")
    return connection.execute(
        select(func.count())
        .select_from(QuestionVote)
        .where(QuestionVote.question_id == question_id)
    ).scalar_one()


def _has_upvoted(connection: Connection, participant_id: int, question_id: int) -> bool:
    return (
        connection.execute(
            select(QuestionVote.id).where(
                QuestionVote.question_id == question_id,
                QuestionVote.participant_id == participant_id,
            )
        ).first()
        is not None
    )


def _question_event(connection: Connection, question_id: int) -> int | None:
    return connection.execute(select(Question.event_id).where(Question.id == question_id)).scalar()


def _participant_event(connection: Connection, participant_id: int) -> int | None:
    return connection.execute(
        select(Participant.event_id).where(Participant.id == participant_id)
    ).scalar()


def _upvote_refusal(connection: Connection, participant_id: int, question_id: int) -> QuestionError:
    """Why an upvote was not written (the rare path, so more queries are fine)."""
    found = connection.execute(
        select(Question.event_id, Question.state, Question.participant_id).where(
            Question.id == question_id
        )
    ).first()
    voter_event = _participant_event(connection, participant_id)
    if voter_event is None:  # ids are never reused: its event was deleted
        return QuestionError("event_gone", "This event has been deleted.")
    if found is None or found.event_id != voter_event:
        return QuestionError("unknown_question", "There is no such question in this event.")
    if found.participant_id == participant_id:
        return QuestionError("own_question", "You cannot upvote your own question.")
    if found.state not in UPVOTABLE:
        return QuestionError("not_upvotable", "This question cannot be upvoted.")
    return QuestionError("upvotes_closed", "Upvotes are closed.")


# ---------- the moderator ----------

# action -> (states it applies to, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((PENDING, DISMISSED), VISIBLE),
    "dismiss": ((PENDING,), DISMISSED),
    "on_screen": ((VISIBLE, ANSWERED, HIDDEN), ON_SCREEN),
    "answered": ((VISIBLE, ON_SCREEN), ANSWERED),
    "hide": ((VISIBLE, ON_SCREEN, ANSWERED), HIDDEN),
    "restore": ((HIDDEN, DISMISSED, ANSWERED, ON_SCREEN), VISIBLE),
}
MODERATOR_ACTIONS = (*TRANSITIONS, "edit", "mute", "unmute")


def moderate(
    session: Session, event_id: int, question_id: Any, action: Any, text_: Any = None
) -> Question:
    """Apply a moderator action to a question and commit it.

    `approve` and `edit` take an optional new text; the asker's original is kept for the
    export. `mute` sends the asker's later questions to the queue; votes are always kept.
    """
    if action not in MODERATOR_ACTIONS:
        raise QuestionError(
            "bad_request", f"Send {{action: one of {', '.join(MODERATOR_ACTIONS)}}}."
        )
    question = _question(session, event_id, question_id)
    if action in ("approve", "edit") and text_ is not None:
        _edit(question, text_)
    elif action == "edit":
        raise QuestionError("bad_request", "Send the new text.")
    if action in ("mute", "unmute"):
        _mute(session, event_id, question, action == "mute")
    elif action in TRANSITIONS:
        _transition(session, question, action)
    session.commit()
    return question


def _edit(question: Question, text_: Any) -> None:
    if not isinstance(text_, str) or not storable(text_):
        raise QuestionError("bad_request", "The text must be text.")
    cleaned = " ".join(text_.split())
    if not MIN_LENGTH <= len(cleaned) <= MAX_LENGTH:
        raise QuestionError(
            "bad_length", f"A question has {MIN_LENGTH} to {MAX_LENGTH} characters."
        )
    if cleaned != question.text:
        if question.original_text is None:
            question.original_text = question.text
        question.text = cleaned
        question.normalised = normalise(cleaned)


def _transition(session: Session, question: Question, action: str) -> None:
    sources, target = TRANSITIONS[action]
    if question.state not in sources:
        raise QuestionError(
            "not_allowed", f"Question {question.number} is {question.state}: cannot {action}."
        )
    now = utcnow()
    if target == ON_SCREEN:
        # One question on screen at a time: the one there goes back to the list.
        for current in session.scalars(
            select(Question).where(
                Question.event_id == question.event_id, Question.state == ON_SCREEN
            )
        ):
            current.state = VISIBLE
        question.on_screen_at = now
    if target == ANSWERED:
        question.answered_at = now
    if target == VISIBLE and question.approved_at is None:
        question.approved_at = now
    question.state = target
    question.held = None if target == VISIBLE else question.held


def _mute(session: Session, event_id: int, question: Question, mute: bool) -> None:
    if question.participant_id is None:
        raise QuestionError("not_allowed", "The asker of this question is no longer known.")
    key = (event_id, question.participant_id)
    existing = session.get(QuestionMute, key)
    if mute and existing is None:
        session.add(QuestionMute(event_id=event_id, participant_id=question.participant_id))
    elif not mute and existing is not None:
        session.delete(existing)


def next_question(session: Session, event_id: int) -> Question | None:
    """Mark the question on screen answered and put the most upvoted visible one up; commit.

    Returns the question now on screen, or None if no visible question is left.
    """
    _require_event(session, event_id)
    now = utcnow()
    for current in session.scalars(
        select(Question).where(Question.event_id == event_id, Question.state == ON_SCREEN)
    ):
        current.state = ANSWERED
        current.answered_at = now
    counts = upvote_counts(session, event_id)
    waiting = list(
        session.scalars(
            select(Question).where(Question.event_id == event_id, Question.state == VISIBLE)
        )
    )
    top = min(waiting, key=lambda q: popularity(q, counts), default=None)
    if top is not None:
        top.state = ON_SCREEN
        top.on_screen_at = now
    session.commit()
    return top


def merge(session: Session, event_id: int, question_id: Any, into_id: Any) -> Question:
    """Merge a question into another: the other keeps the union of both one's voters (the
    asker of the kept question excepted), the merged one leaves every list. Commit."""
    source = _question(session, event_id, question_id)
    target = _question(session, event_id, into_id)
    if source.id == target.id or source.state == MERGED or target.state in (MERGED, DISMISSED):
        raise QuestionError("not_allowed", "These two questions cannot be merged.")
    already = select(QuestionVote.participant_id).where(QuestionVote.question_id == target.id)
    voters: Any = select(
        bindparam("target", target.id), QuestionVote.participant_id, QuestionVote.cast_at
    ).where(
        QuestionVote.question_id == source.id,
        QuestionVote.participant_id.not_in(already),
    )
    if target.participant_id is not None:
        voters = voters.where(QuestionVote.participant_id != target.participant_id)
    session.execute(
        insert(QuestionVote).from_select(["question_id", "participant_id", "cast_at"], voters)
    )
    # The asker of the merged question agrees with the kept one: that is an upvote too.
    if source.participant_id not in (None, target.participant_id):
        exists = session.scalar(
            select(QuestionVote.id).where(
                QuestionVote.question_id == target.id,
                QuestionVote.participant_id == source.participant_id,
            )
        )
        if exists is None:
            session.add(QuestionVote(question_id=target.id, participant_id=source.participant_id))
    session.execute(delete(QuestionVote).where(QuestionVote.question_id == source.id))
    source.state = MERGED
    source.merged_into_id = target.id
    session.commit()
    return target


def _question(session: Session, event_id: int, question_id: Any) -> Question:
    if (
        not isinstance(question_id, int)
        or isinstance(question_id, bool)
        or not (0 < question_id < 2**63)
    ):
        raise QuestionError("bad_request", "Send {question: <id>}.")
    question = session.get(Question, question_id)
    if question is None or question.event_id != event_id:
        _require_event(session, event_id)
        raise QuestionError("unknown_question", "There is no such question in this event.")
    return question


def _require_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise QuestionError("event_gone", "This event has been deleted.")
    return event


# ---------- reading: the lists each screen gets ----------


def upvote_counts(session: Session, event_id: int) -> dict[int, int]:
    """Upvotes per question id of an event, counted from the rows (plus the count kept for
    questions whose upvotes retention deleted)."""
    counts = dict(
        session.execute(
            select(QuestionVote.question_id, func.count())
            .join(Question, Question.id == QuestionVote.question_id)
            .where(Question.event_id == event_id)
            .group_by(QuestionVote.question_id)
        ).all()
    )
    archived = session.execute(
        select(Question.id, Question.archived_upvotes).where(
            Question.event_id == event_id, Question.archived_upvotes.is_not(None)
        )
    )
    for question_id, kept in archived:
        counts[question_id] = counts.get(question_id, 0) + (kept or 0)
    return counts


def anonymise(session: Session, event_id: int) -> int:
    """For retention: keep each question's text and upvote count, forget who asked (and the
    name they typed) and who upvoted. Returns how many questions it changed; not committed."""
    counts = upvote_counts(session, event_id)
    changed = 0
    for question in session.scalars(select(Question).where(Question.event_id == event_id)):
        kept = counts.get(question.id, 0)
        if (question.participant_id, question.name, question.archived_upvotes) != (
            None,
            None,
            kept,
        ):
            changed += 1
        question.archived_upvotes = kept
        question.participant_id = None
        question.name = None
    session.flush()
    session.execute(
        delete(QuestionVote).where(
            QuestionVote.question_id.in_(select(Question.id).where(Question.event_id == event_id))
        )
    )
    return changed


def popularity(question: Question, counts: dict[int, int]) -> tuple[int, Any, int]:
    """Sort key of "Populair": most upvotes first; ties, the older first."""
    return (-counts.get(question.id, 0), question.asked_at, question.id)


def question_view(event: Event, question: Question, upvotes: int) -> dict[str, Any]:
    """A question as every screen shows it (texts are text; the pages never parse them)."""
    member = None
    if question.panel_member is not None and question.panel_member < len(event.panel):
        member = event.panel[question.panel_member]["name"]
    return {
        "id": question.id,
        "number": question.number,
        "text": question.text,
        "name": question.name,
        "panel_member": member,
        "state": question.state,
        "upvotes": upvotes,
        "asked_at": question.asked_at.isoformat(),
    }


def ask_in_batch(
    connection: Connection,
    event_id: int,
    participant_id: int,
    text_: Any,
    name: Any = None,
    panel_member: Any = None,
) -> dict[str, Any]:
    """`ask` inside the vote writer's transaction (committed with its batch, on its thread,
    so no disk flush blocks the event loop); returns the question as its asker sees it."""
    with Session(
        bind=connection, join_transaction_mode="rollback_only", expire_on_commit=False
    ) as session:
        # A clash of numbers (another process asked at the same moment) must fail the whole
        # batch, which the writer then writes job by job: no retry inside the batch.
        question = ask(session, event_id, participant_id, text_, name, panel_member, attempts=1)
        event = session.get(Event, event_id)
        assert event is not None
        return question_view(event, question, 0)


@dataclass
class Board:
    """Every question of an event with its upvotes, read once; each screen's list is cut
    from it."""

    event: Event
    settings: QuestionSettings
    questions: list[Question]
    counts: dict[int, int]
    muted: set[int]

    def __post_init__(self) -> None:
        self.by_id = {question.id: question for question in self.questions}

    def view(self, question: Question, *, moderator: bool = False) -> dict[str, Any]:
        """A question as a screen shows it (texts are text; the pages never parse them)."""
        view = question_view(self.event, question, self.counts.get(question.id, 0))
        if moderator:
            similar = self.by_id.get(question.similar_to_id)  # type: ignore[arg-type]
            merged_into = self.by_id.get(question.merged_into_id)  # type: ignore[arg-type]
            view.update(
                original_text=question.original_text,
                held=question.held,
                muted=question.participant_id in self.muted,
                panel_index=question.panel_member,
                similar_to=(
                    {"id": similar.id, "number": similar.number, "text": similar.text}
                    if similar is not None
                    and similar.state not in (MERGED, DISMISSED)
                    and question.state not in (MERGED, DISMISSED)
                    else None
                ),
                merged_into=merged_into.number if merged_into else None,
            )
        return view

    def popular(self, states: tuple[str, ...] = (VISIBLE,)) -> list[Question]:
        chosen = [q for q in self.questions if q.state in states]
        return sorted(chosen, key=lambda q: popularity(q, self.counts))

    def on_screen(self) -> Question | None:
        return next((q for q in self.questions if q.state == ON_SCREEN), None)

    def audience(self, size: int) -> dict[str, Any]:
        """What every phone gets: settings, the question on screen, the top `size` by
        upvotes and the newest `size` (the same message for the whole hall)."""
        public = [q for q in self.questions if q.state in (VISIBLE, ANSWERED)]
        newest = sorted(public, key=lambda q: (q.asked_at, q.id), reverse=True)[:size]
        on_screen = self.on_screen()
        return {
            "settings": public_settings(self.settings),
            "panel": [member["name"] for member in self.event.panel],
            "on_screen": self.view(on_screen) if on_screen else None,
            "popular": [self.view(q) for q in self.popular((VISIBLE, ANSWERED))[:size]],
            "newest": [self.view(q) for q in newest],
            "total": len(public) + (on_screen is not None),
        }

    def own(self, participant_id: int) -> list[dict[str, Any]]:
        """A phone's own questions (see `as_its_asker_sees_it`)."""
        return [
            as_its_asker_sees_it(self.view(question), question)
            for question in self.questions
            if question.participant_id == participant_id
        ]

    def moderator(self) -> dict[str, Any]:
        """Everything, for the moderator: the queue, the lists, the settings."""
        return {
            "settings": {**public_settings(self.settings), "blocklist": self.settings.blocklist},
            "panel": [member["name"] for member in self.event.panel],
            "questions": [
                self.view(q, moderator=True)
                for q in sorted(self.questions, key=lambda q: popularity(q, self.counts))
            ],
        }

    def screen(self, size: int = 4) -> dict[str, Any]:
        """For the projector: the question on screen and the next few by upvotes."""
        on_screen = self.on_screen()
        return {
            "settings": public_settings(self.settings),
            "on_screen": self.view(on_screen) if on_screen else None,
            "next": [self.view(q) for q in self.popular()[:size]],
            "total": sum(1 for q in self.questions if q.state in (VISIBLE, ON_SCREEN)),
        }


def board(session: Session, event_id: int) -> Board | None:
    """Read an event's questions and their upvotes (two queries), or None if it is gone."""
    event = session.get(Event, event_id)
    if event is None:
        return None
    questions = list(
        session.scalars(
            select(Question).where(Question.event_id == event_id).order_by(Question.number)
        )
    )
    muted = set(
        session.scalars(
            select(QuestionMute.participant_id).where(QuestionMute.event_id == event_id)
        )
    )
    return Board(
        event, settings_for(session, event_id), questions, upvote_counts(session, event_id), muted
    )


def as_its_asker_sees_it(view: dict[str, Any], question: Question) -> dict[str, Any]:
    """A question's view for its asker: a dismissed one stays "pending" for them."""
    if question.state == DISMISSED:
        view["state"] = PENDING
    return view


def own_questions(session: Session, event_id: int, participant_id: int) -> list[dict[str, Any]]:
    """A phone's own questions as `Board.own` gives them, read for that phone alone: the
    hall's lists are read once for all the phones that ask (polling.realtime.coalesce)."""
    event = session.get(Event, event_id)
    if event is None:
        return []
    asked = list(
        session.scalars(
            select(Question)
            .where(Question.event_id == event_id, Question.participant_id == participant_id)
            .order_by(Question.number)
        )
    )
    if not asked:
        return []
    counts = dict(
        session.execute(
            select(QuestionVote.question_id, func.count())
            .where(QuestionVote.question_id.in_([question.id for question in asked]))
            .group_by(QuestionVote.question_id)
        ).all()
    )
    return [
        as_its_asker_sees_it(
            question_view(
                event, question, counts.get(question.id, 0) + (question.archived_upvotes or 0)
            ),
            question,
        )
        for question in asked
    ]


def own_upvotes(session: Session, event_id: int, participant_id: int) -> list[int]:
    """The ids of the questions this phone upvoted."""
    return list(
        session.scalars(
            select(QuestionVote.question_id)
            .join(Question, Question.id == QuestionVote.question_id)
            .where(Question.event_id == event_id, QuestionVote.participant_id == participant_id)
        )
    )
