"""The HTTP side: joining by code, the vote page's cookie, keys on screens, the QR code."""

from __future__ import annotations

from pathlib import Path

from polling.web.i18n import strings
from polling.web.pages import CONTENT_SECURITY_POLICY


def test_typing_the_code_with_a_space_opens_the_vote_page(app, event):
    spaced = f"{event.code[:3]} {event.code[3:]}"
    response = app.test_client().get("/", query_string={"code": spaced})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/{event.code}"


def test_wrong_code_explains_itself(app, event):
    client = app.test_client()
    unknown = client.get("/", query_string={"code": "111 111"})
    assert unknown.status_code == 400
    # With a no-break space: the code never breaks across two lines ("111 / 111").
    assert "Er is geen stemming met code 111\u00a0111" in unknown.get_data(as_text=True)
    malformed = client.get("/", query_string={"code": "12"})
    assert "6 cijfers" in malformed.get_data(as_text=True)


def test_vote_page_sets_an_anonymous_http_only_cookie(app, event):
    response = app.test_client().get(f"/{event.code}")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = response.get_data(as_text=True)
    assert 'lang="nl"' in page and "Samen versnellen van AI in de zorg" in page


def test_vote_page_switches_to_english(app, event):
    page = app.test_client().get(f"/{event.code}?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page and "Accelerating AI in healthcare together" in page


def test_unknown_event_is_404(app):
    assert app.test_client().get("/123456").status_code == 404


def test_screens_need_their_key(app, event):
    client = app.test_client()
    presenter = f"/{event.code}/presenter"
    moderator = f"/{event.code}/moderator"
    assert client.get(presenter, query_string={"key": event.presenter_key}).status_code == 200
    assert client.get(presenter, query_string={"key": event.moderator_key}).status_code == 200
    assert client.get(presenter, query_string={"key": "nope"}).status_code == 403
    assert client.get(moderator, query_string={"key": event.moderator_key}).status_code == 200
    assert client.get(moderator, query_string={"key": event.presenter_key}).status_code == 403
    assert client.get(moderator).status_code == 403


def test_presenter_shows_join_url_code_and_qr(app, event):
    page = app.test_client().get(
        f"/{event.code}/presenter", query_string={"key": event.presenter_key}
    )
    text = page.get_data(as_text=True)
    assert f"polling.test/{event.code}" in text
    assert f"{event.code[:3]} {event.code[3:]}" in text
    qr = app.test_client().get(f"/{event.code}/qr.svg")
    assert qr.mimetype == "image/svg+xml"
    assert qr.get_data(as_text=True).startswith("<svg")


def test_qr_code_encodes_the_public_join_url(app, event):
    """With its signature, which lets a phone in while someone scans codes (web/throttle)."""
    from polling.web.qr import qr_svg
    from polling.web.throttle import join_signature

    with app.test_request_context():
        signature = join_signature(event.code)
    expected = qr_svg(f"http://polling.test/{event.code}?s={signature}")
    assert app.test_client().get(f"/{event.code}/qr.svg").get_data(as_text=True) == expected


def test_every_page_sends_a_strict_content_security_policy(app, event):
    client = app.test_client()
    for path in ("/", f"/{event.code}", "/static/css/app.css", "/999999"):
        with client.get(path) as response:
            headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    from polling import create_app
    from tests.support import app_settings

    first = create_app(app_settings(tmp_path))
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) == 64
    assert create_app(app_settings(tmp_path)).config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_cookie_is_secure_when_served_over_https(tmp_path, event):
    from polling import create_app
    from tests.support import app_settings

    app = create_app({**app_settings(tmp_path), "PUBLIC_URL": "https://vote.example.org"})
    cookie = app.test_client().get(f"/{event.code}").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


# Every error code a phone can be given: on connect, in reply to a vote, and in reply to sync.
PHONE_ERRORS = (
    "bad_auth",
    "unknown_event",
    "no_participant",
    "rate_limited",
    "busy",
    "storage_error",
    "bad_request",
    "not_audience",
    "unknown_round",
    "voting_closed",
    "unknown_option",
    "not_joined",
    "event_gone",
    "audience_full",
)


def test_the_phone_has_a_sentence_in_both_languages_for_every_documented_error():
    protocol = (Path(__file__).resolve().parents[1] / "docs" / "protocol.md").read_text()
    for code in PHONE_ERRORS:
        if code == "no_participant":  # the phone reloads, which sets its cookie
            continue
        assert f"`{code}`" in protocol, code
        dutch, english = strings("nl")[f"error_{code}"], strings("en")[f"error_{code}"]
        assert dutch != english and "{" not in dutch + english, code


def test_the_phone_words_every_refusal_of_a_reason_in_both_languages():
    from polling.web.i18n_reasons import REASON_ERRORS

    protocol = (Path(__file__).resolve().parents[1] / "docs" / "protocol.md").read_text()
    for code in REASON_ERRORS:
        assert f"`{code}`" in protocol, code
        dutch, english = (
            strings("nl")[f"reason_error_{code}"],
            strings("en")[f"reason_error_{code}"],
        )
        assert dutch != english and "{" not in dutch + english, code


def test_an_empty_secret_key_file_is_replaced_and_a_short_key_refused(tmp_path):
    """An empty instance/secret_key (a crash between create and write) made every vote page
    a 500."""
    import pytest

    from polling import create_app
    from tests.support import app_settings

    key_file = tmp_path / "instance" / "secret_key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text("")
    app = create_app(app_settings(tmp_path))
    assert len(app.config["SECRET_KEY"]) == 64 == len(key_file.read_text().strip())
    assert key_file.stat().st_mode & 0o777 == 0o600
    with app.test_client() as browser:
        assert browser.get("/").status_code == 200
    with pytest.raises(SystemExit, match="at least 32"):
        create_app({**app_settings(tmp_path), "SECRET_KEY": "too-short"})


def test_the_database_is_readable_by_its_owner_only(app, event):
    from pathlib import Path

    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert name.stat().st_mode & 0o777 == 0o600, name
