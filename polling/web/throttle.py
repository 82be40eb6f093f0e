"""Finding events by trying codes: lookups of codes that do not exist share one slow budget.

A six-digit code has 900,000 values; unthrottled, a script tried them all in half an hour.
Every lookup of an unknown code (a page of /<code>, the join form, a Socket.IO connect)
takes a token from one bucket for the whole process: 300 at once, then 10 a second, so all
codes take at least 25 hours, while a person's typo costs one token of 300.

While the bucket is empty, a known code is answered as an unknown one would be (HTTP 429,
`rate_limited`) unless the request proves it did not come from guessing: the QR code's
signature (?s=), a key of the event, or a browser that opened the event before. Otherwise a
scanner would read "429" as "no event here" and scan on at full speed.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request, session

from polling.domain.events import Keyed, role_for_key
from polling.domain.limits import RateLimit

UNKNOWN_BURST = 300
UNKNOWN_PER_SECOND = 10
SIGNATURE_PARAMETER = "s"
# Where the session remembers the last event this browser opened.
OPENED = "opened"


def code_lookups() -> RateLimit:
    """The process's bucket of unknown-code lookups (made on first use)."""
    bucket: RateLimit = current_app.extensions.setdefault(
        "polling_code_lookups", RateLimit(burst=UNKNOWN_BURST, per_second=UNKNOWN_PER_SECOND)
    )
    return bucket


def join_signature(code: str) -> str:
    """What the QR code adds to the join URL: only this server can make it (40 bits)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"join:{code}".encode(), hashlib.sha256).hexdigest()[:10]


def may_look_up(event: Keyed | None, *, key: object = None) -> bool:
    """Whether to answer a lookup that found `event` (None: no such code), or refuse it as
    too many; an unknown code takes a token."""
    if event is None:
        return code_lookups().allow("unknown")
    if _proven(event, key):
        return True
    return code_lookups().has_token("unknown")


def _proven(event: Keyed, key: object) -> bool:
    signature = request.args.get(SIGNATURE_PARAMETER, "")
    return (
        hmac.compare_digest(signature.encode(), join_signature(event.code).encode())
        or session.get(OPENED) == event.code
        or role_for_key(event, key) is not None
    )
