"""For whoever runs the server: /healthz for a load balancer, /metrics for Prometheus."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy import text
from werkzeug.security import check_password_hash

from polling import db
from polling.metrics import exposition
from polling.realtime.broadcast import ROLES
from polling.runtime import blocking_runner
from polling.web.organiser import password_hash

bp = Blueprint("operations", __name__)

# A health check must answer quickly even when a service hangs.
CHECK_TIMEOUT_SECONDS = 2


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Authorization headers already checked against the password (digests, not passwords),
    # so a scrape every few seconds costs no scrypt and no login attempt.
    app.extensions["polling_metrics_logins"] = set()


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """200 if the database answers (and the message queue, if one is configured), else 503;
    the body says which part fails, without its address or password."""
    checks = {"database": _check(_database), "message_queue": "not configured"}
    if current_app.config["MESSAGE_QUEUE"]:
        checks["message_queue"] = _check(_message_queue)
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return {"status": "ok" if healthy else "failing", **checks}, 200 if healthy else 503


def _check(probe: Any) -> str:
    try:
        probe()
    except Exception as failure:  # any failure is an answer here, not a crash
        return f"error: {type(failure).__name__}"
    return "ok"


def _database() -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _message_queue() -> None:
    url = current_app.config["MESSAGE_QUEUE"]
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise NotImplementedError(url.split(":", 1)[0])
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


@bp.get("/metrics")
def metrics() -> Response:
    """This process's metrics in Prometheus' text format, behind the organiser password
    (HTTP basic authentication, any user name); not there until a password is set."""
    stored = password_hash()
    if stored is None:
        abort(404)
    if not _authorised(stored):
        return Response(
            "The organiser password is needed (HTTP basic authentication).\n",
            401,
            {"WWW-Authenticate": 'Basic realm="polling metrics"'},
        )
    body = exposition(
        current_app.extensions["polling_metrics"],
        # Phones told to come back later count as one more limit.
        {
            **current_app.extensions["polling_limits"].refusals(),
            "admission": current_app.extensions["polling_admission"].refused,
            "admission_lag": current_app.extensions["polling_admission"].shed,
        },
        ROLES,
    )
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")


def _authorised(stored: str) -> bool:
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.password is None:
        return False
    known = current_app.extensions["polling_metrics_logins"]
    digest = hashlib.sha256(f"{stored}\0{auth.password}".encode()).hexdigest()
    if digest in known:
        return True
    if not current_app.extensions["polling_limits"].organiser_logins.allow("metrics"):
        abort(429)
    run_blocking = blocking_runner(current_app.config["ASYNC_MODE"])
    if not run_blocking(check_password_hash, stored, auth.password):
        return False
    known.add(digest)
    return True
