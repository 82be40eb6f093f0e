"""The server processes a benchmark starts (or none, with --url), and their database.

Each is `polling serve` (the script next to the Python that runs the benchmark) with a fresh
database in a temporary folder; the benchmark reads the URLs from its ready line (see
docs/deployment.md), as a supervisor would.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from benchmarks.harness import BenchError, log
from benchmarks.harness.metrics import cpu_seconds

ROOT = Path(__file__).resolve().parents[2]
POLLING = Path(sys.executable).with_name("polling")
DEFAULT_DECK = ROOT / "statements" / "ai-in-de-zorg.toml"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
SERVER_START_TIMEOUT = 60
STOP_TIMEOUT = 10
READY = "POLLING_READY "  # the line `polling serve` prints once it listens


def ready_line(stdout: str) -> dict[str, Any] | None:
    """The JSON object of the first complete ready line in what a server printed, if any."""
    for line in stdout.splitlines(keepends=True):
        if line.startswith(READY) and line.endswith("\n"):
            return json.loads(line.removeprefix(READY))
    return None


def url_key(url: str) -> str:
    """The `key` of a presenter or moderator URL."""
    return parse_qs(urlsplit(url).query)["key"][0]


class Servers:
    """The server processes this run started (or none with --url), and their database."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="polling-bench-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[tuple[Path, Path]] = []
        self.database_url: str | None = None  # SQLAlchemy URL the servers use
        self.pg_database: str | None = None  # the database we created and must drop
        self.bases: list[str] = []
        self.code = ""
        self.presenter_key = ""
        self.moderator_key = ""
        self.env: dict[str, str] = {}

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def start(self) -> None:
        args = self.args
        if args.database == "postgres":
            self._create_pg_database()
        else:
            self.database_url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        env = self.env = self._environment()
        if args.processes == 1:
            ready = self._start_one(0, ["--new-event"], env)
            self.code = ready["code"]
            self.presenter_key = url_key(ready["presenter"])
            self.moderator_key = url_key(ready["moderator"])
        else:
            created = self._create_event(env)
            self.code = created["code"]
            self.presenter_key = url_key(created["presenter_url"])
            self.moderator_key = url_key(created["moderator_url"])
            for index in range(args.processes):
                self._spawn(index, ["--event", self.code], env)
            for index in range(args.processes):
                self._wait_ready(index)
        log(
            f"{len(self.processes)} server process(es) up: {', '.join(self.bases)} "
            f"(pids {', '.join(map(str, self.pids))}), event {self.code}, "
            f"database {self._database_label()}"
        )

    def _database_label(self) -> str:
        return self.pg_database or str(self.tmp / "bench.sqlite3")

    def _environment(self) -> dict[str, str]:
        args = self.args
        env = dict(os.environ)
        for name in ("POLLING_PUBLIC_URL", "POLLING_MESSAGE_QUEUE", "POLLING_SECRET_KEY"):
            env.pop(name, None)
        env.update(
            POLLING_INSTANCE_PATH=str(self.tmp / "instance"),
            DATABASE_URL=self.database_url or "",
            POLLING_ASYNC_MODE=args.async_mode,
            POLLING_MAX_CONNECTIONS=str(max(20000, 2 * args.voters + 100)),
        )
        if args.message_queue:
            env["POLLING_MESSAGE_QUEUE"] = args.message_queue
            # A channel of its own: other servers or tests on the same Redis stay out of it.
            env["POLLING_MESSAGE_CHANNEL"] = f"polling-bench-{os.getpid()}"
        if args.tally_interval is not None:
            env["POLLING_TALLY_INTERVAL"] = str(args.tally_interval)
        return env

    def _create_pg_database(self) -> None:
        import psycopg

        name = f"bench_{os.getpid()}"
        with psycopg.connect(self.args.pg_admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.pg_database = name
        admin = urlsplit(self.args.pg_admin_url)
        self.database_url = admin._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl()

    def _drop_pg_database(self) -> None:
        if not self.pg_database:
            return
        import psycopg

        try:
            with psycopg.connect(
                self.args.pg_admin_url, autocommit=True, connect_timeout=10
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
        except Exception as error:
            log(f"could not drop database {self.pg_database}: {error}")
        else:
            self.pg_database = None

    def _create_event(self, env: dict[str, str]) -> dict[str, str]:
        command = [str(POLLING), "event", "create", "--deck", str(self.args.deck), "--json"]
        try:
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=60, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise BenchError("polling event create did not finish in 60 s") from error
        if done.returncode != 0:
            raise BenchError(f"polling event create failed:\n{done.stdout}{done.stderr}")
        return json.loads(done.stdout)

    def _spawn(
        self, index: int, extra: list[str], env: dict[str, str], port: int = 0, append=False
    ) -> None:
        """Start server `index`; with `append` (a restart) it replaces the one at that index
        and its output goes on in the same log files."""
        out, err = self.tmp / f"server-{index}.out", self.tmp / f"server-{index}.err"
        command = [str(POLLING), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
        mode = "ab" if append else "wb"
        with out.open(mode) as stdout, err.open(mode) as stderr:
            # A session of its own: Ctrl+C reaches only this script, which then stops it.
            process = subprocess.Popen(
                command,
                env=env,
                cwd=self.tmp,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        if append:
            self.processes[index] = process
            return
        self.processes.append(process)
        self.logs.append((out, err))
        self.bases.append("")

    def _start_one(self, index: int, extra: list[str], env: dict[str, str]) -> dict[str, Any]:
        self._spawn(index, extra, env)
        return self._wait_ready(index)

    def _wait_ready(self, index: int, offset: int = 0, poll: float = 0.1) -> dict[str, Any]:
        """Wait for the server's ready line on stdout and return its JSON object (only in what
        the log got after byte `offset`: a restarted server appends to it)."""
        process = self.processes[index]
        out, err = self.logs[index]
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while (ready := ready_line(out.read_bytes()[offset:].decode(errors="replace"))) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                printed = (out.read_bytes()[offset:] + err.read_bytes()).decode(errors="replace")
                raise BenchError(f"server {index} did not start:\n{printed}")
            time.sleep(poll)
        self.bases[index] = ready["url"]
        return ready

    def restart(self) -> dict[str, Any]:
        """SIGKILL every server process, then start each again on the same port, database and
        environment (serving the same event with `--event CODE`); returns when they listen.

        Times are time.time(): `killed` (just before the first SIGKILL), `spawned`,
        `listening` (when the last ready line was seen, printed just after "Listening on"; the
        log is polled every 20 ms), and the new processes' CPU seconds at that moment (their
        start-up).
        """
        ports = [int(base.rsplit(":", 1)[1]) for base in self.bases]
        killed = time.time()
        for process in self.processes:
            process.send_signal(signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=STOP_TIMEOUT)
        spawned = time.time()
        offsets = []
        for index, port in enumerate(ports):
            out, err = self.logs[index]
            offsets.append((out.stat().st_size, err.stat().st_size))
            self._spawn(index, ["--event", self.code], self.env, port=port, append=True)
        for index in range(len(ports)):
            self._wait_ready(index, offsets[index][0], poll=0.02)
        listening = time.time()
        if self.bases != [f"http://127.0.0.1:{port}" for port in ports]:
            raise BenchError(f"restarted on other ports: {self.bases}, not {ports}")
        return {
            "killed": killed,
            "spawned": spawned,
            "listening": listening,
            "start_cpu_s": cpu_seconds(self.pids),
            "err_offsets": [err_offset for _out_offset, err_offset in offsets],
        }

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        self._drop_pg_database()

    def error_report(self, since: list[int] | None = None) -> tuple[int, dict[str, int], str]:
        """The servers' stderr: tracebacks, other messages counted by kind, and the last lines
        (only what came after the byte offsets `since`, one per process, if given).

        eventlet writes some messages without a newline ("server=... client=... socket
        shutdown error: ..."), so messages are also split where such a prefix starts.
        """
        tracebacks, kinds, tails = 0, collections.Counter(), []
        for index, (_out, err) in enumerate(self.logs):
            with contextlib.suppress(OSError):
                offset = since[index] if since else 0
                text = err.read_bytes()[offset:].decode(errors="replace")
                tracebacks += text.count("Traceback (most recent call last)")
                messages = [
                    message.strip()
                    for message in re.split(r"\n|(?=server=\S+ client=)", text)
                    if message.strip() and not message.startswith("Listening on")
                ]
                for message in messages:
                    if not message.startswith((" ", "File ", "Traceback")):
                        kinds[re.sub(r"\d+", "#", message)[:160]] += 1
                if messages:
                    tails.append(f"--- server {index} stderr: last lines ---")
                    tails.extend(message[:300] for message in messages[-15:])
        return tracebacks, dict(kinds.most_common(10)), "\n".join(tails)

    def shut_down(self, result: dict[str, Any]) -> None:
        """Stop every server, put what they printed wrong into `result`, remove the temp dir."""
        self.stop()
        tracebacks, kinds, tail = self.error_report()
        result["server_tracebacks"] = tracebacks
        result["server_messages"] = kinds
        if tail:
            log("the server printed:\n" + tail)
        self.cleanup()

    def cleanup(self) -> None:
        if self.args.keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def query(database_url: str, sql: str, *params: Any) -> list[tuple]:
    """Run one read-only query (with ? placeholders) on the server's database."""
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()
    if database_url.startswith("postgresql"):
        import psycopg

        plain = urlsplit(database_url)._replace(scheme="postgresql").geturl()
        with psycopg.connect(plain, connect_timeout=10) as connection:
            return connection.execute(sql.replace("?", "%s"), params).fetchall()
    raise BenchError(f"cannot read votes from {database_url!r}")


def event_id(database_url: str, code: str) -> int:
    """The id of the event with this code in the server's database."""
    rows = query(database_url, "SELECT id FROM events WHERE code = ?", code)
    if not rows:
        raise BenchError(f"no event {code} in {database_url}")
    return int(rows[0][0])


def count_votes(database_url: str, round_id: int) -> int:
    """SELECT count(*) FROM votes of this round, straight from the database."""
    return query(database_url, "SELECT count(*) FROM votes WHERE round_id = ?", round_id)[0][0]
