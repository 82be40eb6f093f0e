"""The organiser area (/organiser): behind a password, list, create, compare, delete events.

The password is set with `polling admin set-password` (stored as a salted scrypt hash) or
given as POLLING_ADMIN_PASSWORD (hashed in memory, never stored). Without either the area is
closed. A login lasts LOGIN_HOURS and ends when the password changes or at logout (the
server remembers the ended login, so a copied cookie ends with it). Every form carries a
per-session CSRF token; a POST without the right one changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any

import sqlalchemy
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from polling import realtime
from polling.domain.counts import Activity, activity_by_event
from polling.domain.decks import (
    Deck,
    DeckError,
    audience_size,
    list_decks,
    load_deck,
    read_deck,
)
from polling.domain.events import (
    create_event,
    delete_event,
    display_code,
    list_events,
)
from polling.domain.models import EndedLogin, Event, OrganiserPassword, utcnow
from polling.reports import charts, document
from polling.reports.compare import compare_rows, compare_tables, events_with_deck
from polling.runtime import blocking_runner
from polling.web.helpers import db_session, event_or_404, page_language, render_page
from polling.web.i18n import deck_problems, strings

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

LOGIN_HOURS = 12
MIN_PASSWORD_LENGTH = 10
MAX_DECK_BYTES = 256 * 1024
# The whole app takes no bigger request than this: a deck upload is the only large one.
MAX_REQUEST_BYTES = MAX_DECK_BYTES + 16 * 1024


class PasswordError(ValueError):
    """A password that cannot be used."""


def init_app(app: Flask) -> None:
    """Register the area; hash POLLING_ADMIN_PASSWORD once, at start."""
    app.register_blueprint(bp)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    plain = app.config.get("ADMIN_PASSWORD")
    app.extensions["polling_admin_hash"] = hash_password(plain) if plain else None
    app.jinja_env.globals["csrf_token"] = csrf_token


def hash_password(password: str) -> str:
    """A salted scrypt hash; refuses passwords that are too short to protect anything."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return generate_password_hash(password)


def set_password(database: Session, password: str) -> None:
    """Store a new password hash; every login made with the old one ends."""
    stored = database.scalar(select(OrganiserPassword))
    if stored is None:
        stored = OrganiserPassword(id=1)
        database.add(stored)
    stored.password_hash = hash_password(password)
    stored.changed_at = utcnow()
    database.commit()


def password_hash() -> str | None:
    """The hash logins are checked against: the environment's, else the stored one."""
    from_environment: str | None = current_app.extensions["polling_admin_hash"]
    if from_environment:
        return from_environment
    return db_session().scalar(select(OrganiserPassword.password_hash))


def csrf_token() -> str:
    """This session's token for forms; made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_hex(16)
    return token


@bp.before_request
def check_csrf() -> None:
    """No form is accepted without this session's token (a page of another site cannot
    read it, so it cannot post as the organiser)."""
    if request.method != "POST":
        return
    expected = session.get("csrf")
    given = request.form.get("csrf", "")
    if not isinstance(expected, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(400, description="csrf")


@bp.get("/login")
def login_page() -> str:
    return render_page("organiser_login.html", configured=password_hash() is not None)


@bp.post("/login")
def login() -> Response | tuple[str, int]:
    """Check the password; after 10 tries the area takes one every 6 s (HTTP 429)."""
    stored = password_hash()
    if stored is None:
        return render_page("organiser_login.html", configured=False), 403
    if not current_app.extensions["polling_limits"].organiser_logins.allow("organiser"):
        abort(429)
    password = request.form.get("password", "")
    # scrypt takes tens of milliseconds of CPU: not on the event loop the phones share.
    run_blocking = blocking_runner(current_app.config["ASYNC_MODE"])
    if not run_blocking(check_password_hash, stored, password):
        text = strings(page_language(None))
        return render_page("organiser_login.html", configured=True, problem=text["org_wrong"]), 401
    # A fresh token after login, so one seen before cannot be replayed in the new session.
    session["csrf"] = secrets.token_hex(16)
    session["organiser"] = {
        "login": _fingerprint(stored),
        "at": int(time.time()),
        "id": secrets.token_hex(16),
    }
    return redirect(url_for(".events"))


@bp.post("/logout")
def logout() -> Response:
    """End this login on the server too: a copy of the cookie stops working."""
    login = session.pop("organiser", None)
    login_id = login.get("id") if isinstance(login, dict) else None
    if isinstance(login_id, str):
        ending = db_session()
        old = utcnow() - timedelta(hours=LOGIN_HOURS)
        ending.execute(sqlalchemy.delete(EndedLogin).where(EndedLogin.ended_at < old))
        if ending.get(EndedLogin, login_id) is None:
            ending.add(EndedLogin(login_id=login_id))
        ending.commit()
    return redirect(url_for(".login_page"))


@bp.get("/")
def events() -> str | Response:
    """Every event, newest first, with its links; and the forms to create one."""
    if not _logged_in():
        return redirect(url_for(".login_page"))
    return _list_page()


@bp.post("/events")
def create() -> Response | tuple[str, int]:
    """Create an event from a deck in the decks folder or from an uploaded deck file."""
    if not _logged_in():
        abort(403)
    text = strings(page_language(None))
    results_mode = request.form.get("results", "hidden")
    if results_mode not in ("hidden", "live"):
        abort(400)
    upload = request.files.get("deck_file")
    cap = request.form.get("audience_cap") == "on"
    try:
        raw_audience = request.form.get("audience", "").strip()
        audience = audience_size(int(raw_audience), "form") if raw_audience else None
        if cap and audience is None:
            raise DeckError("form", "audience", "cap_needs_audience")
        if upload is not None and upload.filename:
            deck = _uploaded_deck(upload.filename, upload.stream.read(MAX_DECK_BYTES + 1))
        else:
            deck = _deck_from_folder(request.form.get("deck", ""))
    except DeckError as refused:
        shown = refused.lines(deck_problems(page_language(None)))
        return _list_page(text["org_deck_refused"], shown), 400
    except ValueError:  # an audience that is not a number
        return _list_page(text["org_deck_refused"], [text["org_audience_bad"]]), 400
    created = create_event(
        db_session(),
        deck,
        results_mode=results_mode,
        # The form's numbers, if given, else the deck's.
        expected_audience=audience,
        audience_cap=cap or None,
    )
    flash(text["org_created"].format(code=display_code(created.code)))
    return redirect(url_for(".events", _anchor=f"event-{created.code}"))


@bp.post("/decks/check")
def check_deck() -> tuple[dict[str, Any], int]:
    """Validate an uploaded deck without creating anything: the page checks a file before it
    submits, so a refused file stays chosen in the form while the organiser fixes it."""
    if not _logged_in():
        abort(403)
    upload = request.files.get("deck_file")
    if upload is None or not upload.filename:
        return {"ok": True, "problems": []}, 200
    text = strings(page_language(None))
    try:
        _uploaded_deck(upload.filename, upload.stream.read(MAX_DECK_BYTES + 1))
    except DeckError as refused:
        problems = refused.lines(deck_problems(page_language(None)))
        return {"ok": False, "title": text["org_deck_refused"], "problems": problems}, 200
    return {"ok": True, "problems": []}, 200


@bp.get("/compare")
def compare() -> str | Response:
    """Every event of one deck side by side: per statement and round, a table and a chart."""
    if not _logged_in():
        return redirect(url_for(".login_page"))
    deck_name = request.args.get("deck", "")
    found = events_with_deck(db_session(), deck_name)
    if not found:
        abort(404)
    # An event nobody voted in (a try-out, one made for later) is only a column of dashes.
    activity = activity_by_event(db_session())
    voted = [event for event in found if activity.get(event.id, Activity()).votes]
    found = voted or found
    results = [document.event_results(db_session(), event) for event in found]
    text = strings(page_language(None))
    # Events of one deck share their title: the code, the time and the hall tell them apart.
    labels = [
        " · ".join(
            (
                display_code(event.code),
                event.created_at.strftime("%Y-%m-%d %H:%M"),
                text["org_compare_participants"].format(
                    n=activity.get(event.id, Activity()).participants
                ),
            )
        )
        for event in found
    ]
    tables = [
        {**table, "chart": charts.comparison_chart(table, labels, text)}
        for table in compare_tables(compare_rows(results))
    ]
    return render_page("organiser_compare.html", deck=deck_name, labels=labels, tables=tables)


@bp.get("/events/<code:code>/delete")
def confirm_delete(code: str) -> str | Response:
    if not _logged_in():
        return redirect(url_for(".login_page"))
    event, activity = _event_with_activity(code)
    return render_page(
        "organiser_delete.html", item=event, activity=activity, code=display_code(code)
    )


@bp.post("/events/<code:code>/delete")
def delete(code: str) -> Response:
    """Delete an event and everything of it; its open pages are told and reload."""
    if not _logged_in():
        abort(403)
    event = event_or_404(code)
    delete_event(db_session(), event.id)
    realtime.event_deleted(event.id)
    flash(strings(page_language(None))["org_deleted"].format(code=display_code(code)))
    return redirect(url_for(".events"))


def _event_with_activity(code: str) -> tuple[Event, Activity]:
    event = event_or_404(code)
    return event, activity_by_event(db_session(), event.id).get(event.id, Activity())


def _uploaded_deck(filename: str, content: bytes) -> Deck:
    # Only the last part of the name, printable characters only: it is shown and stored.
    name = "".join(c for c in filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] if c.isprintable())
    name = name[:120] or "deck.toml"
    if len(content) > MAX_DECK_BYTES:
        raise DeckError(name, "file", "too_large", kb=MAX_DECK_BYTES // 1024)
    # Bounded by read_deck's pre-scan, and still not on the event loop the phones share.
    run_blocking = blocking_runner(current_app.config["ASYNC_MODE"])
    deck: Deck = run_blocking(partial(read_deck, content, name=name))
    return deck


def _deck_from_folder(name: str) -> Deck:
    known = {path.name: path for path in list_decks(current_app.config["DECKS_DIR"])}
    if name not in known:
        raise DeckError(name or "(none)", "deck", "pick_deck")
    return load_deck(known[name])


def _list_page(problem: str | None = None, details: list[str] | None = None) -> str:
    """The events with their links and activity, the forms, and what went wrong if anything."""
    items = list_events(db_session())
    activity = activity_by_event(db_session())
    events_per_deck = Counter(item.deck_name for item in items)
    return render_page(
        "organiser.html",
        items=items,
        activity=activity,
        comparable=sorted(deck for deck, n in events_per_deck.items() if n > 1),
        decks=[path.name for path in list_decks(current_app.config["DECKS_DIR"])],
        display_code=display_code,
        problem=problem,
        details=details or [],
    )


def _logged_in() -> bool:
    login = session.get("organiser")
    stored = password_hash()
    if not isinstance(login, dict) or stored is None:
        return False
    fresh = time.time() - float(login.get("at", 0)) < LOGIN_HOURS * 3600
    same_password = hmac.compare_digest(str(login.get("login", "")), _fingerprint(stored))
    login_id = login.get("id")
    if not (fresh and same_password and isinstance(login_id, str)):
        return False
    return db_session().get(EndedLogin, login_id) is None


def _fingerprint(stored_hash: str) -> str:
    """Names the password a login was made with, without putting its hash in the cookie."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, stored_hash.encode(), hashlib.sha256).hexdigest()[:32]
