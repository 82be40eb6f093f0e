"""The organiser's command line: `polling serve`, `polling event ...`, `polling export ...`."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from polling.config import load_settings, time_zone
from polling.reports.formats import FORMATS, TABLES

if TYPE_CHECKING:
    from flask import Flask  # noqa: TID251 - only the type of what create_app returns

    from polling.domain.decks import Deck
    from polling.domain.models import Event
    from polling.reports.compare import CompareRow
    from polling.reports.document import EventInfo

# The commands import the app, the database and the reports in their bodies: at the top they
# would make every command, `polling --help` too, wait for Flask, SQLAlchemy and Alembic
# (measured: --help takes about 0.1 s as it is, over 0.8 s with them).


def main(argv: list[str] | None = None) -> None:
    """Console entry point.

    eventlet must patch the standard library before Flask or SQLAlchemy are imported, and
    importing this package has already imported them; so `serve` continues in a fresh
    interpreter that patches first.
    """
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        async_mode = load_settings()["ASYNC_MODE"]
        if async_mode != "threading":
            start = (
                f"from polling.runtime import patch_first\npatch_first({async_mode!r})\n"
                "from polling.cli import cli\ncli.main(prog_name='polling')"
            )
            os.execv(sys.executable, [sys.executable, "-c", start, *args])
    cli.main(args=args, prog_name="polling")


@click.group()
def cli() -> None:
    """Live audience polling for panel discussions."""


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port (0 picks a free one).")
@click.option("--deck", type=click.Path(dir_okay=False, path_type=Path), help="Deck to run.")
@click.option("--event", "code", help="Serve this existing event (its join code).")
@click.option("--new-event", is_flag=True, help="Start a fresh event instead of reopening.")
def serve(host: str, port: int, deck: Path | None, code: str | None, new_event: bool) -> None:
    """Start the server for an event and print its URLs and QR code.

    Without options it reopens the event in use (the one with the latest vote or moderator
    action), or creates one from the default deck; so a restart in the middle of a panel
    continues where it was. With --deck: the event in use of that deck.
    """
    from polling import runtime
    from polling.web.qr import qr_text
    from polling.web.urls import default_public_url

    app = _create_app()
    listener = _listen(app, host, port)
    app.extensions["polling_server_lock"] = _hold_database(app)
    bound_port = listener.getsockname()[1]
    if not app.config.get("PUBLIC_URL"):
        app.config["PUBLIC_URL"] = default_public_url(host, bound_port)
    if app.config["RETENTION_DAYS"] is not None:
        _purge(app.config["RETENTION_DAYS"])
    event, why = _event_to_serve(app, deck, code, new_event)
    click.echo(why)
    _print_urls(app.config["PUBLIC_URL"], event, organiser=_organiser_note(app))
    click.echo(qr_text(f"{app.config['PUBLIC_URL']}/{event.code}"))
    sys.stdout.flush()
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Listening on http://{shown}:{bound_port} - press Ctrl+C to stop.", err=True)
    _print_ready(f"http://{shown}:{bound_port}", bound_port, app.config["PUBLIC_URL"], event)
    with contextlib.suppress(KeyboardInterrupt):
        runtime.serve(app, listener)


@cli.command()
@click.option("--days", type=click.IntRange(min=0), help="Default: POLLING_RETENTION_DAYS.")
@click.option("--dry-run", is_flag=True, help="Report what would be deleted; delete nothing.")
def purge(days: int | None, dry_run: bool) -> None:
    """Delete the raw votes and participants of events inactive for DAYS days.

    The counts per statement, round and option are kept, so results and exports still work;
    the per-participant votes (and so the opinion shift) are gone.
    """

    app = _app()
    days = days if days is not None else app.config["RETENTION_DAYS"]
    if days is None:
        raise click.ClickException("retention is off: give --days N or set POLLING_RETENTION_DAYS")
    _purge(days, dry_run)


def _purge(days: int, dry_run: bool = False) -> None:
    from datetime import timedelta

    from polling import db
    from polling.domain.events import display_code
    from polling.domain.retention import purge as purge_events

    with db.session() as db_session:
        report = purge_events(db_session, timedelta(days=days), dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    for item in report:
        click.echo(
            f"{display_code(item.code)}: {verb.lower()} {item.votes_deleted} votes and "
            f"{item.participants_deleted} participants; kept the counts of "
            f"{item.rounds_archived} rounds"
        )
    total = sum(item.votes_deleted for item in report)
    click.echo(f"{verb} {total} votes of {len(report)} events inactive for more than {days} days.")


@cli.group("db")
def database() -> None:
    """Show or upgrade the database schema."""


@database.command("upgrade")
def database_upgrade() -> None:
    """Bring the database to the schema of this version (take a copy of it first)."""
    from polling import db, schema

    _app(check_schema=False)
    before, after = schema.upgrade(db.engine)
    where = db.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{where} is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded {where} from revision {before or 'none'} to {after}.")


@database.command("status")
def database_status() -> None:
    """Print the database's schema revision and the one this version needs."""
    from polling import db, schema

    _app(check_schema=False)
    with db.engine.connect() as connection:
        current = schema.current_revision(connection)
    head = schema.head_revision()
    where = db.engine.url.render_as_string(hide_password=True)
    state = "up to date" if current == head else f"needs: {schema.UPGRADE_COMMAND}"
    click.echo(f"{where}: revision {current or 'none'}, this version needs {head} ({state}).")


@cli.group()
def admin() -> None:
    """The organiser area's password."""


@admin.command("set-password")
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
def admin_set_password(from_stdin: bool) -> None:
    """Set the password of the organiser area (/organiser); logins made with the old one end.

    Asked twice, not echoed; never an argument, which shell history and `ps` would show. Only
    a salted hash is stored. POLLING_ADMIN_PASSWORD, when set, takes precedence.
    """
    from polling import db
    from polling.web.organiser import MIN_PASSWORD_LENGTH, PasswordError, set_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:

        def long_enough(value: str) -> str:
            if len(value) < MIN_PASSWORD_LENGTH:
                raise click.UsageError(f"that is {len(value)}: at least {MIN_PASSWORD_LENGTH}")
            return value

        click.echo(
            f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters; "
            "it is not shown as you type."
        )
        password = click.prompt(
            "New organiser password",
            hide_input=True,
            confirmation_prompt="Type it again",
            value_proc=long_enough,
        )
    app = _app()
    try:
        with db.session() as db_session:
            set_password(db_session, password)
    except PasswordError as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"Password set. The organiser area: {_base_url(app)}/organiser/")
    if app.config.get("ADMIN_PASSWORD"):
        click.echo("Note: POLLING_ADMIN_PASSWORD is set and takes precedence.", err=True)


@cli.group()
def event() -> None:
    """Create and list events."""


@event.command("create")
@click.option("--deck", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--results", type=click.Choice(["hidden", "live"]), help="Projector results.")
@click.option("--json", "as_json", is_flag=True, help="Print the event as JSON.")
def event_create(deck: Path, results: str | None, as_json: bool) -> None:
    """Create an event from a deck file and print its URLs."""
    from polling import db
    from polling.domain.decks import near_limits
    from polling.domain.events import create_event

    app = _app()
    loaded = _load_deck(deck)
    for warning in near_limits(loaded):
        click.echo(f"Warning: {warning}: fits the screen only at its smallest type.", err=True)
    with db.session() as db_session:
        created = create_event(
            db_session, loaded, results_mode=results or app.config["RESULTS_MODE"]
        )
    base = _base_url(app)
    if as_json:
        click.echo(json.dumps(_event_json(base, created), ensure_ascii=False, indent=2))
    else:
        _print_urls(base, created)


@event.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
def event_list(as_json: bool) -> None:
    """List all events, newest first."""
    from polling import db
    from polling.domain.events import display_code, list_events

    app = _app()
    base = _base_url(app)
    with db.session() as db_session:
        found = list_events(db_session)
        rows = [(_event_json(base, item), item.stage, item.current_position) for item in found]
    if as_json:
        click.echo(json.dumps([row for row, _stage, _pos in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No events yet. Create one with: polling event create --deck PATH")
    for row, stage, position in rows:
        where = f"statement {position}" if stage == "statement" else stage
        click.echo(
            f"{display_code(row['code'])}  {row['created_at'][:16]}  {row['deck']:<24} "
            f"{where:<12} {row['title']}"
        )


@cli.command("export")
@click.argument("code")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help="xlsx: a workbook with the sheets summary, votes, shift, questions and event.",
)
@click.option(
    "--table",
    type=click.Choice(TABLES),
    default="summary",
    show_default=True,
    help="CSV only: results per option, every vote, the audience's questions, or their reasons.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def export_command(code: str, fmt: str, table: str, output: Path | None) -> None:
    """Export the results of the event with join code CODE."""
    from polling import db
    from polling.domain.events import find_event
    from polling.reports import document, formats

    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        raise click.ClickException("xlsx is a binary file: give -o FILE (or redirect the output)")
    from polling.web.i18n import strings

    app = _app()
    with db.session() as db_session:
        found = find_event(db_session, code)
        if found is None:
            raise click.ClickException(f"no event with code {code!r} (see: polling event list)")
        body = formats.render(
            document.event_results(db_session, found),
            fmt,
            table,
            t=strings(found.language),
            time_zone=time_zone(app.config),
        )
    if isinstance(body, bytes):
        if output is None:
            sys.stdout.buffer.write(body)
        else:
            output.write_bytes(body)
    elif output is None:
        click.echo(body, nl=False)
    else:
        output.write_text(body, encoding="utf-8")
    if output is not None:
        click.echo(f"Wrote {output}", err=True)


@cli.command("compare")
@click.argument("codes", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare_command(codes: tuple[str, ...], as_json: bool) -> None:
    """Compare events that ran the same deck, per statement, round and option.

    With one CODE: every event of that event's deck, oldest first. With several: those.
    """
    from polling import db
    from polling.domain.events import find_event
    from polling.reports import document
    from polling.reports.compare import compare_rows, events_with_deck

    _app()
    with db.session() as db_session:
        found = []
        for code in codes:
            event = find_event(db_session, code)
            if event is None:
                raise click.ClickException(f"no event with code {code!r} (see: polling event list)")
            found.append(event)
        decks = {event.deck_name for event in found}
        if len(decks) > 1:
            raise click.ClickException(
                f"these events ran different decks: {', '.join(sorted(decks))}"
            )
        if len(found) == 1:
            found = events_with_deck(db_session, found[0].deck_name)
        results = [document.event_results(db_session, event) for event in found]
    rows = compare_rows(results)
    events = [result["event"] for result in results]
    if as_json:
        comparison = {"deck": decks.pop(), "events": events, "rows": rows}
        click.echo(json.dumps(comparison, ensure_ascii=False, indent=2))
        return
    _print_comparison(decks.pop(), events, rows)


def _print_comparison(deck: str, events: list[EventInfo], rows: list[CompareRow]) -> None:
    """A plain table for a terminal: one column per event, a block per statement and round."""
    width = 14
    click.echo(f"Deck {deck}: {len(events)} event(s)")
    click.echo((" " * 28 + "".join(f"{e['code_display']:<{width}}" for e in events)).rstrip())
    dates = "".join(f"{(e['created_at'] or '')[:10]:<{width}}" for e in events)
    click.echo((" " * 28 + dates).rstrip())
    shown: tuple[str, ...] | tuple[str, int] = ()
    for row in rows:
        if shown[:1] != (row["statement_key"],):
            text = row["statement"]
            click.echo(f"\n{row['statement_key']}: {text if len(text) <= 70 else text[:69] + '…'}")
        lead = f"  round {row['round']}" if (row["statement_key"], row["round"]) != shown else ""
        shown = (row["statement_key"], row["round"])
        if row["option"] is None:
            label, cells = "voters", [cell and str(cell["voters"]) for cell in row["events"]]
        else:
            label = row["label"] or ""
            cells = [cell and f"{cell['percent']}% ({cell['votes']})" for cell in row["events"]]
        line = f"{lead:<11}{label[:16]:<17}" + "".join(f"{c or '-':<{width}}" for c in cells)
        click.echo(line.rstrip())


def _app(*, check_schema: bool = True) -> Flask:
    """The app for commands that only read or write the database: they serve nothing, so
    they need no async library."""
    return _create_app({"ASYNC_MODE": "threading"}, check_schema=check_schema)


def _create_app(config: dict[str, Any] | None = None, *, check_schema: bool = True) -> Flask:
    from polling import create_app
    from polling.schema import SchemaError

    try:
        return create_app(config, check_schema=check_schema)
    except SchemaError as error:
        raise click.ClickException(str(error)) from None


def _load_deck(path: Path) -> Deck:
    """A deck by its path, or by its file name in the decks folder (POLLING_DECKS)."""
    from polling.domain.decks import DeckError, load_deck

    if not path.exists() and path.parent == Path("."):
        path = Path(load_settings()["DECKS_DIR"]) / path
    try:
        return load_deck(path)
    except DeckError as error:
        raise click.ClickException(str(error)) from None


def _listen(app: Flask, host: str, port: int) -> Any:
    """The listening socket, or a clear refusal if the port is taken."""
    import errno

    from polling import runtime

    try:
        return runtime.listen(app.config["ASYNC_MODE"], host, port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise click.ClickException(
            f"polling (or another program) is already running on :{port}.\n"
            f"Stop it first, or start this one on another port: polling serve --port {port + 1}"
        ) from None


def _hold_database(app: Flask) -> Any:
    """This process's claim on its SQLite database (see polling.server_lock)."""
    from polling.server_lock import AlreadyServing, hold_database

    try:
        return hold_database(app.config["DATABASE_URL"], app.config["MESSAGE_QUEUE"])
    except AlreadyServing as refused:
        raise click.ClickException(str(refused)) from None


# Printed under the event when `polling serve` picked it itself.
OTHER_EVENT = "  Another: polling serve --event CODE (see polling event list), or --new-event."


def _event_to_serve(
    app: Flask, deck: Path | None, code: str | None, new_event: bool
) -> tuple[Event, str]:
    """The event to serve and a line that says why this one."""
    from polling import db
    from polling.domain.events import create_event, find_event, most_recently_active

    with db.session() as db_session:
        if code is not None:
            found = find_event(db_session, code)
            if found is None:
                raise click.ClickException(f"no event with code {code!r} (see: polling event list)")
            return found, "Serving the event chosen with --event."
        path = deck or Path(app.config["DECKS_DIR"]) / app.config["DEFAULT_DECK"]
        if not new_event:
            # With --deck only that deck's events count; else every event does.
            deck_name = _load_deck(path).name if deck else None
            in_use = most_recently_active(db_session, deck_name)
            if in_use is not None:
                local = in_use.at.astimezone(time_zone(app.config))
                when = local.strftime("%Y-%m-%d %H:%M")
                of = f" of deck {in_use.event.deck_name}" if deck else ""
                return in_use.event, (
                    f"Reopened the event in use{of}: its last activity ({in_use.what}, {when}) "
                    f"is the latest.\n{OTHER_EVENT}"
                )
        created = create_event(
            db_session, _load_deck(path), results_mode=app.config["RESULTS_MODE"]
        )
        why = "as asked (--new-event)" if new_event else "there was none to reopen"
        return created, f"Created a new event from {path.name}: {why}.\n{OTHER_EVENT}"


def _base_url(app: Flask) -> str:
    from polling.web.urls import default_public_url

    return (app.config.get("PUBLIC_URL") or default_public_url("0.0.0.0", 5000)).rstrip("/")


def _event_json(base: str, item: Event) -> dict[str, str]:
    from polling.web.urls import join_url, moderator_url, presenter_url

    return {
        "code": item.code,
        "title": item.title.get(item.language, ""),
        "deck": item.deck_name,
        "created_at": item.created_at.isoformat(timespec="seconds"),
        "join_url": join_url(base, item),
        "presenter_url": presenter_url(base, item),
        "moderator_url": moderator_url(base, item),
    }


def _organiser_note(app: Flask) -> str:
    """What the organiser line says about the area's password."""
    from polling import db
    from polling.domain.models import OrganiserPassword

    if app.config.get("ADMIN_PASSWORD"):
        return "(its password is POLLING_ADMIN_PASSWORD)"
    with db.session() as db_session:
        stored = db_session.get(OrganiserPassword, 1) is not None
    if stored:
        return "(password set; to change it: polling admin set-password)"
    return "(locked until you run: polling admin set-password)"


def _print_urls(base: str, item: Event, organiser: str = "") -> None:
    from polling.domain.events import display_code

    urls = _event_json(base, item)
    click.echo(f"Event:      {urls['title']}  (code {display_code(item.code)})")
    click.echo(f"Join:       {urls['join_url']}")
    click.echo(f"Presenter:  {urls['presenter_url']}")
    click.echo(f"Moderator:  {urls['moderator_url']}   (keep this one to yourself)")
    if organiser:
        click.echo(f"Organiser:  {base}/organiser/   {organiser}")


READY = "POLLING_READY"


def _print_ready(url: str, port: int, base: str, item: Event) -> None:
    """The last line `serve` prints to stdout, for programs that start it (tests, benchmarks,
    a supervisor): `POLLING_READY` and one JSON object, printed once the socket listens.

    The lines above it are for people and may change; this one keeps its keys (see
    docs/deployment.md).
    """
    from polling.web.urls import join_url, moderator_url, presenter_url

    base = base.rstrip("/")
    ready = {
        "url": url,
        "port": port,
        "code": item.code,
        "join": join_url(base, item),
        "presenter": presenter_url(base, item),
        "moderator": moderator_url(base, item),
        "organiser": f"{base}/organiser/",
    }
    click.echo(f"{READY} {json.dumps(ready, ensure_ascii=False)}")
    sys.stdout.flush()
