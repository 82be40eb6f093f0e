"""The pages: join, vote (phone), presenter (projector), moderator, QR code and downloads."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    request,
    session,
    url_for,
)
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response as BaseResponse

from polling.config import time_zone
from polling.domain.events import display_code, find_event, normalise_code
from polling.domain.models import Event
from polling.domain.roles import MODERATOR, PRESENTER
from polling.reports import charts, document, formats
from polling.web import helpers
from polling.web.helpers import (
    content_or_404,
    db_session,
    event_or_404,
    page_language,
    render_page,
    require_key,
)
from polling.web.i18n import strings
from polling.web.page_cache import PageCache
from polling.web.qr import qr_svg
from polling.web.questions_page import qa_mode
from polling.web.throttle import OPENED, SIGNATURE_PARAMETER, join_signature, may_look_up
from polling.web.urls import display_url, join_url, public_base_url

bp = Blueprint("pages", __name__)

# Scripts and styles only from this server: a venue may have no internet, and no inline
# script means an injected one cannot run.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

DOWNLOADS = {
    "results.csv": ("csv", "summary", "text/csv"),
    "votes.csv": ("csv", "votes", "text/csv"),
    "questions.csv": ("csv", "questions", "text/csv"),
    "reasons.csv": ("csv", "reasons", "text/csv"),
    "results.json": ("json", "summary", "application/json"),
    "results.xlsx": (
        "xlsx",
        "summary",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


class CodeConverter(BaseConverter):
    """A join code in a URL: six digits."""

    regex = r"\d{6}"


def init_app(app: Flask) -> None:
    """Register the pages, the code converter and the security headers."""
    app.url_map.converters["code"] = CodeConverter
    app.extensions["polling_pages"] = PageCache()
    helpers.init_app(app)
    app.register_blueprint(bp)
    app.after_request(security_headers)
    for status in ERROR_TEXTS:
        app.register_error_handler(status, lambda error: _error_page(error.code))


def security_headers(response: Response) -> Response:
    """Headers every response carries."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # Presenter and moderator URLs carry keys: never leak them in a Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def join() -> str | BaseResponse | tuple[str, int]:
    """Type a code to join; a valid one redirects to the vote page."""
    text = strings(page_language(None))
    raw = request.args.get("code")
    problem = None
    if raw is not None:
        code = normalise_code(raw)
        if code is None:
            problem = text["join_bad_code"]
        else:
            found = find_event(db_session(), code)
            if not may_look_up(found):
                abort(429)
            if found is not None:
                return redirect(url_for(".vote", code=code))
            # A no-break space: "151 757" never breaks into "151 / 757" on a narrow phone.
            problem = text["join_unknown_code"].format(
                code=display_code(code).replace(" ", "\u00a0")
            )
    page = render_page("join.html", problem=problem, typed=raw or "")
    return (page, 400) if problem else page


@bp.get("/<code:code>")
def vote(code: str) -> str:
    """The phone's page. The cookie gives the phone its anonymous identity."""
    content = content_or_404(code)
    if not isinstance(session.get("participant"), str):
        session["participant"] = secrets.token_urlsafe(24)
        session.permanent = True
    session[OPENED] = content.code  # this browser needs no proof for this event from now on
    language = page_language(content)
    # Everything the page shows: the event (its texts never change), the language, the Q&A
    # mode, and where the app is mounted (the static files' URLs).
    key = (
        "vote.html",
        content.id,
        content.code,
        language,
        qa_mode(content.id),
        request.script_root,
    )
    pages: PageCache = current_app.extensions["polling_pages"]
    return pages.page(
        key,
        lambda: render_page(
            "vote.html",
            db_session().get(Event, content.id),
            code_display=display_code(content.code),
        ),
    )


@bp.get("/<code:code>/presenter")
def presenter(code: str) -> str:
    """The projector's page; with the moderator key it also takes keyboard shortcuts."""
    event = event_or_404(code)
    key = require_key(event, (PRESENTER, MODERATOR))
    url = join_url(public_base_url(), event)
    return render_page(
        "presenter.html",
        event,
        key=key,
        join_url_display=display_url(url),
        # Host and path apart, so a long address breaks before the code, not inside it.
        join_host=display_url(url).rsplit("/", 1)[0],
        join_path=f"/{event.code}",
        code_display=display_code(event.code),
    )


@bp.get("/<code:code>/moderator")
def moderator(code: str) -> str:
    """The moderator's phone page."""
    event = event_or_404(code)
    key = require_key(event, (MODERATOR,))
    return render_page("moderator.html", event, key=key, code_display=display_code(event.code))


@bp.get("/<code:code>/qr.svg")
def qr(code: str) -> Response:
    """The QR code of the event's join URL."""
    event = event_or_404(code)
    # Signed: a phone that scanned it is let in while someone is trying codes.
    signed = f"{join_url(public_base_url(), event)}?{SIGNATURE_PARAMETER}={join_signature(code)}"
    svg = qr_svg(signed)
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/<code:code>/export/<name>")
def download(code: str, name: str) -> Response:
    """A results file, or one chart as SVG or PNG (see polling.reports.charts.chart_file), for the
    moderator key only."""
    event = event_or_404(code)
    require_key(event, (MODERATOR,))
    if name not in DOWNLOADS and not charts.is_chart_file(name):
        abort(404)
    results = document.event_results(db_session(), event)
    body: str | bytes
    if name in DOWNLOADS:
        fmt, table, mimetype = DOWNLOADS[name]
        body = formats.render(
            results,
            fmt,
            table,
            t=strings(event.language),
            time_zone=time_zone(current_app.config),
        )
    elif name.endswith(".png"):
        slide = charts.chart_slide(results, name, strings(event.language))
        if slide is None:
            abort(404)
        body, mimetype = charts.to_png(slide), "image/png"
    else:
        svg = charts.chart_file(results, name, strings(event.language))
        if svg is None:
            abort(404)
        body, mimetype = svg, "image/svg+xml"
    filename = f"{event.code}-{name}"
    return Response(
        body,
        # Text gets its charset (once: `mimetype` would have Werkzeug add it again); a
        # workbook is bytes and has none.
        content_type=f"{mimetype}; charset=utf-8" if isinstance(body, str) else mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/socket.io/", strict_slashes=False)
@bp.route("/socket.io/", endpoint="socketio_websocket", websocket=True, strict_slashes=False)
def socketio_path() -> Response:
    """Never reached over HTTP: the Socket.IO middleware answers this path first.

    Flask-SocketIO runs every event in a request context for this path (a WebSocket one, once
    upgraded); without matching rules, URL matching raises an exception for every vote, and its
    traceback
    makes reference cycles that only the garbage collector frees (long pauses with a full
    hall connected).
    """
    abort(404)


# The heading and sentence of each error page (keys of polling.web.i18n), by HTTP status.
ERROR_TEXTS = {
    400: ("bad_request_title", "bad_request_text"),
    403: ("forbidden_title", "forbidden_text"),
    404: ("error_title", "join_prompt"),
    413: ("too_large_title", "too_large_text"),
    429: ("too_many_title", "too_many_text"),
}


def _error_page(status: int) -> tuple[str, int]:
    text = strings(page_language(None))
    title, sentence = ERROR_TEXTS[status]
    return render_page("error.html", title=text[title], sentence=text[sentence]), status
