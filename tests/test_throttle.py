"""Scanning join codes: unknown codes share one slow budget, and a known code is not given
away while it is spent (polling.web.throttle)."""

from __future__ import annotations

import re

from polling import socketio
from polling.domain.limits import RateLimit
from polling.web.throttle import UNKNOWN_BURST, UNKNOWN_PER_SECOND


def unknown_code(event) -> str:
    return "100000" if event.code != "100000" else "100001"


def test_scanning_every_code_takes_more_than_a_day():
    assert (900_000 - UNKNOWN_BURST) / UNKNOWN_PER_SECOND > 24 * 3600


def test_a_typo_costs_nothing(app, event):
    browser = app.test_client()
    page = browser.get("/", query_string={"code": unknown_code(event)})
    assert page.status_code == 400 and "100\u00a000" in page.get_data(as_text=True)
    assert browser.head(f"/{unknown_code(event)}").status_code == 404
    assert browser.get(f"/{event.code}").status_code == 200


def test_a_scan_is_slowed_and_learns_nothing_while_legitimate_phones_get_in(app, event):
    # The real rate, with a stopped clock and a smaller burst, so the test needs no hour.
    app.extensions["polling_code_lookups"] = RateLimit(
        burst=20, per_second=UNKNOWN_PER_SECOND, clock=lambda: 0.0
    )
    scanner = app.test_client()
    answers = [scanner.head(f"/{100000 + n}").status_code for n in range(25)]
    assert answers.count(429) >= 4 and set(answers) <= {404, 429, 200}
    # Spent: the real event's code is answered like any other, for HEAD, GET and the form.
    assert scanner.head(f"/{event.code}").status_code == 429
    assert scanner.get(f"/{event.code}").status_code == 429
    assert scanner.get("/", query_string={"code": event.code}).status_code == 429
    refused = socketio.test_client(app, auth={"code": unknown_code(event), "role": "audience"})
    assert not refused.is_connected()

    # A phone that scanned the QR code carries its signature and gets in.
    qr = app.test_client().get(f"/{event.code}/qr.svg", query_string={"key": "x"})
    assert qr.status_code == 429  # the QR code itself is no way around it
    phone = app.test_client()
    signature = signed_join_signature(app, event)
    assert phone.get(f"/{event.code}", query_string={"s": signature}).status_code == 200
    assert phone.get(f"/{event.code}").status_code == 200  # it opened the event before
    connected = socketio.test_client(
        app, flask_test_client=phone, auth={"code": event.code, "role": "audience"}
    )
    assert connected.is_connected()
    # The screens carry their key.
    page = app.test_client().get(
        f"/{event.code}/moderator", query_string={"key": event.moderator_key}
    )
    assert page.status_code == 200


def signed_join_signature(app, event) -> str:
    """The signature the QR code holds, read from the QR code as a phone would (its SVG
    encodes the URL; here it is rebuilt with the server's own function)."""
    from polling.web.throttle import join_signature

    with app.test_request_context():
        signature = join_signature(event.code)
    assert re.fullmatch(r"[0-9a-f]{10}", signature)
    return signature
