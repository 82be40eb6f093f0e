"""The organiser area: a password (hashed), a session, CSRF on every form; list, create
(from the decks folder or an upload, with the CLI's errors), delete with everything."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from polling import create_app, db
from polling.cli import cli
from polling.domain.decks import load_deck
from polling.domain.events import create_event, delete_event, display_code
from polling.domain.models import Event, OrganiserPassword, Participant, Round, Statement, Vote
from polling.web.organiser import PasswordError, set_password
from tests.support import (
    PANEL_DECK,
    PASSWORD,
    Clients,
    app_settings,
    csrf,
    log_in,
    run_first_statement,
)


@pytest.fixture
def organiser(app):
    """A browser of the organiser, logged in."""
    with db.session() as session:
        set_password(session, PASSWORD)
    browser = app.test_client()
    response = log_in(browser, PASSWORD)
    assert response.status_code == 302
    return browser


def count(model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_without_a_password_the_area_is_closed_and_says_how_to_open_it(app):
    browser = app.test_client()
    assert browser.get("/organiser/").headers["Location"] == "/organiser/login"
    page = browser.get("/organiser/login").get_data(as_text=True)
    assert "polling admin set-password" in page and 'type="password"' not in page
    with browser.session_transaction() as session:
        session["csrf"] = "token"
    tried = browser.post("/organiser/login", data={"csrf": "token", "password": PASSWORD})
    assert tried.status_code == 403


def test_only_the_right_password_opens_the_list(app, event):
    with db.session() as session:
        set_password(session, PASSWORD)
    browser = app.test_client()
    wrong = log_in(browser, "not the password")
    assert wrong.status_code == 401 and "klopt niet" in wrong.get_data(as_text=True)
    assert browser.get("/organiser/").status_code == 302
    assert log_in(browser, PASSWORD).headers["Location"] == "/organiser/"
    listing = browser.get("/organiser/").get_data(as_text=True)
    assert f'id="event-{event.code}"' in listing
    assert f"key={event.moderator_key}" in listing and f"key={event.presenter_key}" in listing


def test_the_password_is_stored_only_as_a_salted_hash(app):
    with db.session() as session:
        set_password(session, PASSWORD)
        stored = session.scalar(select(OrganiserPassword.password_hash))
    assert PASSWORD not in stored and stored.startswith("scrypt:")
    with db.session() as session, pytest.raises(PasswordError, match="at least 10"):
        set_password(session, "short")


def test_changing_the_password_ends_existing_logins(app, organiser):
    assert organiser.get("/organiser/").status_code == 200
    with db.session() as session:
        set_password(session, "another long password")
    assert organiser.get("/organiser/").headers["Location"] == "/organiser/login"


def test_the_environment_password_works_and_is_never_stored(tmp_path):
    app = create_app({**app_settings(tmp_path), "ADMIN_PASSWORD": PASSWORD})
    browser = app.test_client()
    assert log_in(browser, PASSWORD).status_code == 302
    assert count(OrganiserPassword) == 0


def test_every_form_needs_the_sessions_csrf_token(app, organiser, event):
    stranger = app.test_client()  # another site's page posting in the organiser's browser
    forged = {"csrf": csrf(stranger), "deck": "ai-in-de-zorg.toml", "results": "hidden"}
    assert organiser.post("/organiser/events", data=forged).status_code == 400
    assert organiser.post("/organiser/events", data={**forged, "csrf": ""}).status_code == 400
    assert organiser.post(f"/organiser/events/{event.code}/delete").status_code == 400
    assert organiser.post("/organiser/logout").status_code == 400
    assert count(Event) == 1
    assert organiser.get("/organiser/").status_code == 200  # still logged in


def test_creating_from_the_decks_folder(organiser):
    token = csrf(organiser, "/organiser/")
    response = organiser.post(
        "/organiser/events", data={"csrf": token, "deck": "ai-in-de-zorg.toml", "results": "live"}
    )
    assert response.status_code == 302
    with db.session() as session:
        created = session.scalar(select(Event))
    assert created.results_mode == "live" and created.deck_name == "ai-in-de-zorg.toml"
    assert len(created.panel) == 4
    listing = organiser.get("/organiser/").get_data(as_text=True)
    assert f"{created.code[:3]} {created.code[3:]}" in listing  # the notice and the row

    unknown = organiser.post(
        "/organiser/events", data={"csrf": token, "deck": "../../etc/passwd", "results": "live"}
    )
    assert unknown.status_code == 400 and count(Event) == 1


UPLOADED = b"""
title = "Uploaded"
language = "en"
[[statements]]
key = "one"
statement = "Statement one"
"""


def upload(browser, content: bytes, filename: str = "mine.toml"):
    return browser.post(
        "/organiser/events",
        data={
            "csrf": csrf(browser, "/organiser/"),
            "deck": "ai-in-de-zorg.toml",
            "results": "hidden",
            "deck_file": (io.BytesIO(content), filename),
        },
        content_type="multipart/form-data",
    )


def test_an_uploaded_deck_is_used_instead_of_the_picked_one(organiser):
    assert upload(organiser, UPLOADED, "../evil/path/mine.toml").status_code == 302
    with db.session() as session:
        created = session.scalar(select(Event))
        assert [s.key for s in created.statements] == ["one"]
    assert created.title == {"en": "Uploaded"} and created.deck_name == "mine.toml"


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (UPLOADED.replace(b'key = "one"\n', b""), "mine.toml: statements[1].key: is missing"),
        (b"title = 'unterminated\n", "mine.toml: file: is not valid TOML"),
        ("title = 'x'".encode("utf-16"), "mine.toml: file: is not UTF-8 text"),
        (UPLOADED + b" " * 256 * 1024, "mine.toml: file: is larger than 256 KB"),
    ],
    ids=["invalid-deck", "not-toml", "not-utf8", "too-large"],
)
def test_a_broken_upload_is_refused_with_the_clis_error_and_creates_nothing(
    organiser, tmp_path, monkeypatch, content, shown
):
    organiser.get("/?lang=en")  # the CLI speaks English; the page speaks its UI language
    response = upload(organiser, content)
    assert response.status_code == 400
    assert shown in response.get_data(as_text=True)
    assert count(Event) == 0

    deck_file = tmp_path / "mine.toml"
    deck_file.write_bytes(content)
    # The command's own database, never one in the checkout's instance folder.
    monkeypatch.setenv("POLLING_INSTANCE_PATH", str(tmp_path / "cli-instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    result = CliRunner().invoke(cli, ["event", "create", "--deck", str(deck_file)])
    if "larger than" not in shown:  # the CLI reads any size
        assert shown.split(": ", 1)[1] in result.output


def test_a_broken_deck_is_refused_in_dutch_with_every_problem_at_once(organiser):
    broken = UPLOADED.replace(b'key = "one"\n', b"") + b'timer = "soon"\ncolour = "red"\n'
    response = upload(organiser, broken)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Dit deck bevat een fout:" in page
    assert "mine.toml: statements[1].key: ontbreekt" in page
    assert page.count("<li>mine.toml: ") >= 2
    assert count(Event) == 0


def test_the_deck_check_lists_problems_and_creates_nothing(organiser):
    token = csrf(organiser, "/organiser/")

    def check(content: bytes):
        data = {"csrf": token, "deck_file": (io.BytesIO(content), "mine.toml")}
        return organiser.post("/organiser/decks/check", data=data).get_json()

    assert check(UPLOADED) == {"ok": True, "problems": []}
    refused = check(UPLOADED.replace(b'key = "one"\n', b""))
    assert refused["ok"] is False
    assert refused["problems"] == ["mine.toml: statements[1].key: ontbreekt"]
    assert count(Event) == 0


def test_deleting_an_event_removes_everything_and_tells_its_pages(app, organiser, clients):
    run_first_statement(clients)
    phone = clients.phone()
    phone.get_received()
    keep = upload(organiser, UPLOADED)
    assert keep.status_code == 302
    code = clients.event.code

    confirm = organiser.get(f"/organiser/events/{code}/delete").get_data(as_text=True)
    assert "deelnemers: 4, stemmen: 5" in confirm
    token = csrf(organiser, f"/organiser/events/{code}/delete")
    assert (
        organiser.post(f"/organiser/events/{code}/delete", data={"csrf": token}).status_code == 302
    )

    # Told, then cut off: a page of a deleted event keeps no connection to act through.
    assert [m["args"] for m in phone.queue if m["name"] == "event_deleted"] == [[{}]]
    assert not phone.is_connected()
    with db.session() as session:
        (remaining,) = session.scalars(select(Event)).all()
        assert remaining.title == {"en": "Uploaded"}
        for model in (Participant, Vote):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        statements = session.scalars(select(Statement)).all()
        assert [s.event_id for s in statements] == [remaining.id]
        assert session.scalar(select(func.count()).select_from(Round)) == 0
    assert app.test_client().get(f"/{code}").status_code == 404
    assert organiser.get(f"/organiser/events/{code}/delete").status_code == 404


def test_the_cli_sets_the_password(app, tmp_path):
    environment = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "POLLING_INSTANCE_PATH": app.instance_path,
    }
    runner = CliRunner()
    short = runner.invoke(cli, ["admin", "set-password"], input="short\nshort\n", env=environment)
    assert short.exit_code == 1 and "at least 10" in short.output
    result = runner.invoke(
        cli, ["admin", "set-password"], input=f"{PASSWORD}\n{PASSWORD}\n", env=environment
    )
    assert result.exit_code == 0, result.output
    assert log_in(app.test_client(), PASSWORD).status_code == 302

    scripted = runner.invoke(
        cli,
        ["admin", "set-password", "--stdin"],
        input="a password from a script\n",
        env=environment,
    )
    assert scripted.exit_code == 0, scripted.output
    assert log_in(app.test_client(), "a password from a script").status_code == 302


def test_guessing_the_password_is_slowed_down(app):
    with db.session() as session:
        set_password(session, PASSWORD)
    browser = app.test_client()
    for _ in range(10):
        assert log_in(browser, "a wrong guess!").status_code == 401
    # The bucket is for the whole area: without IP addresses, nothing else tells guessers apart.
    assert log_in(app.test_client(), PASSWORD).status_code == 429


def test_events_of_one_deck_are_compared_side_by_side(app, organiser, clients):
    run_first_statement(clients)  # round 1: 2 agree, 1 disagree; round 2: 2 disagree
    assert upload(organiser, UPLOADED).status_code == 302  # another deck: not compared
    token = csrf(organiser, "/organiser/")
    organiser.post(
        "/organiser/events", data={"csrf": token, "deck": "ai-in-de-zorg.toml", "results": "live"}
    )
    listing = organiser.get("/organiser/").get_data(as_text=True)
    assert "/organiser/compare?deck=ai-in-de-zorg.toml" in listing
    assert "compare?deck=mine.toml" not in listing

    page = organiser.get("/organiser/compare?deck=ai-in-de-zorg.toml").get_data(as_text=True)
    first = display_code(clients.event.code)
    tables = re.findall(r"<table.*?</table>", page, re.S)
    assert len(tables) == 2  # statement 1, rounds 1 and 2: nothing else was voted on
    cells = re.findall(r"<td>(.*?)</td>", tables[0])
    # The second event has no votes: no column of dashes for it.
    assert cells == ["67% (2)", "33% (1)", "3"]
    assert f"{first} · " in page and "3 deelnemers" in page  # code, time and hall per event
    chart = re.search(r'<svg[^>]*role="img"[^>]*aria-label="([^"]*)"', page)
    assert f"(Ronde 1): {first}" in chart[1] and "Eens 67% (2), Oneens 33% (1)" in chart[1]

    assert organiser.get("/organiser/compare?deck=nope.toml").status_code == 404
    outsider = app.test_client().get("/organiser/compare?deck=ai-in-de-zorg.toml")
    assert outsider.headers["Location"] == "/organiser/login"


def test_deleting_an_event_cascades_on_postgres_too(tmp_path, postgres_url):
    app = create_app({**app_settings(tmp_path), "DATABASE_URL": postgres_url})
    with db.session() as session:
        event = create_event(session, load_deck(PANEL_DECK))
        other = create_event(session, load_deck(PANEL_DECK))
    run_first_statement(Clients(app, event))
    run_first_statement(Clients(app, other))
    with db.session() as session:
        delete_event(session, event.id)
        assert session.scalars(select(Event.id)).all() == [other.id]
        for model in (Participant, Vote, Statement):
            rows = session.scalar(select(func.count()).select_from(model))
            assert rows == {Participant: 3, Vote: 5, Statement: 4}[model], model
    db.engine.dispose()


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"a" + b".a" * 50_000 + b" = 1", "dotted key"), (b"x = " + b"[" * 120_000, "nests more")],
)
def test_a_hostile_upload_is_a_400_naming_the_problem(organiser, content, problem):
    organiser.get("/?lang=en")  # the problem in the CLI's words
    response = upload(organiser, content)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    assert count(Event) == 0


def test_the_cli_refuses_a_hostile_deck_with_the_same_words(app, tmp_path):
    hostile = tmp_path / "hostile.toml"
    hostile.write_text("x = " + "[" * 120_000)
    environment = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "POLLING_INSTANCE_PATH": app.instance_path,
    }
    result = CliRunner().invoke(cli, ["event", "create", "--deck", str(hostile)], env=environment)
    assert result.exit_code == 1
    assert "nests more than" in result.output


def test_logging_out_ends_a_copied_login_cookie(app, organiser):
    copy = app.test_client()
    copy.set_cookie("polling", organiser.get_cookie("polling").value)
    assert copy.get("/organiser/").status_code == 200
    token = csrf(organiser, "/organiser/")
    assert organiser.post("/organiser/logout", data={"csrf": token}).status_code == 302
    assert organiser.get("/organiser/").status_code == 302  # to the login page
    assert copy.get("/organiser/").status_code == 302
