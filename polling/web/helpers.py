"""What the pages of every blueprint share: the request's database session, the event of a
URL (or 404), the key check, the page language and rendering a page.

One session per request: opened on first use, closed when the request ends, so objects read
early in a view (the event) still load their relations while the template renders.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, render_template, request, session
from sqlalchemy.orm import Session

from polling import db
from polling.domain.content import Content
from polling.domain.events import find_content, find_event, role_for_key
from polling.domain.models import Event
from polling.web.i18n import other_language, pick_language, strings
from polling.web.throttle import may_look_up

Found = TypeVar("Found", Event, Content)


def init_app(app: Flask) -> None:
    """Close the request's session when the request ends."""
    app.teardown_appcontext(_close_session)


def db_session() -> Session:
    """This request's database session (the same one for every caller in the request)."""
    if "db_session" not in g:
        g.db_session = db.session()
    current: Session = g.db_session
    return current


def _close_session(_error: BaseException | None) -> None:
    opened = g.pop("db_session", None)
    if opened is not None:
        opened.close()


def event_or_404(code: str) -> Event:
    """The event with this join code, read in the request's session; else 404, or 429 while
    codes are being tried (see polling.web.throttle)."""
    return _found_or_404(find_event(db_session(), code))


def content_or_404(code: str) -> Content:
    """As `event_or_404`, the event's unchanging part only (polling.domain.content): what the
    phone's page needs, without loading the event."""
    return _found_or_404(find_content(db_session(), code))


def _found_or_404(event: Found | None) -> Found:
    if not may_look_up(event, key=request.args.get("key")):
        abort(429)
    if event is None:
        abort(404)
    return event


def require_key(event: Event, roles: tuple[str, ...]) -> str:
    """The ?key= of the request if it is one of these roles' keys; else 403, or 429 once an
    event has seen too many wrong keys (see polling.domain.limits)."""
    key = request.args.get("key", "")
    if role_for_key(event, key) in roles:
        return key
    if not current_app.extensions["polling_limits"].failed_keys_per_event.allow(event.id):
        abort(429)
    abort(403)


def page_language(event: Event | Content | None) -> str:
    """?lang= switches the UI language and is remembered; otherwise the event's language."""
    requested = request.args.get("lang")
    if requested is not None and pick_language(requested, "") == requested:
        session["lang"] = requested
    return pick_language(session.get("lang"), event.language if event else "nl")


def render_page(template: str, event: Event | None = None, **context: Any) -> str:
    """A page in the reader's language (see `page_language`), with its strings `t` and the
    language to switch to, `other`."""
    language = page_language(event)
    return render_template(
        template,
        event=event,
        lang=language,
        t=strings(language),
        other=other_language(language),
        **context,
    )
