"""What the pages need of the audience's questions before their scripts connect."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import bindparam, select

from polling.domain.question_models import QuestionSettings
from polling.web.helpers import db_session

_MODE = select(QuestionSettings.mode).where(QuestionSettings.event_id == bindparam("event_id"))


def qa_mode(event_id: int) -> str:
    """The event's Q&A mode (off, open, upvotes, closed), so the phone shows the Vragen tab
    at once, or not at all."""
    # The request's session: the vote page has one open already.
    mode = db_session().connection().execute(_MODE, {"event_id": event_id}).scalar()
    return mode if mode is not None else "open"


def init_app(app: Flask) -> None:
    """Make `qa_mode` available to the templates."""
    app.add_template_global(qa_mode)
