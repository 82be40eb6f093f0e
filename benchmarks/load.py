"""Load benchmark: a thousand phones voting in the same ten seconds.

    python benchmarks/load.py --voters 1000 --window 10
    python benchmarks/load.py --voters 1000 --window 10 --processes 2   # PostgreSQL + Redis
    python benchmarks/load.py --voters 1000 --window 5 --restart   # then SIGKILL + restart

It starts the server (or targets a running one with --url), opens N real Socket.IO connections
from several generator processes, lets a moderator open a round, has every voter vote once at a
random moment within the window, and measures ack latency, what reached the database, how soon
the projector's tally showed every vote, and the server's CPU time and memory. With --restart it
then kills the server, starts it again on the same port and database, and times how every
client comes back with its own vote. Progress goes to stderr; the last line on stdout is one
JSON object. See benchmarks/README.md.

Exit status: 0 done, 1 an acknowledged vote is missing from the database (or, with --restart,
was given back to its voter as another choice), 2 the run failed
(the JSON line then has "error"), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import hashlib
import json
import logging
import math
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
POLLING = Path(sys.executable).with_name("polling")
DEFAULT_DECK = ROOT / "statements" / "ai-in-de-zorg.toml"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
CHOICES = ("agree", "disagree")
SERVER_START_TIMEOUT = 60
STOP_TIMEOUT = 10


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """The run cannot go on; the message says why."""


# --------------------------------------------------------------------------------------------
# Server processes and their database
# --------------------------------------------------------------------------------------------


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
            printed = self._start_one(0, ["--new-event"], env)
            self.code = urlsplit(printed["join"]).path.strip("/")
            self.presenter_key = parse_qs(urlsplit(printed["presenter"]).query)["key"][0]
            self.moderator_key = parse_qs(urlsplit(printed["moderator"]).query)["key"][0]
        else:
            created = self._create_event(env)
            self.code = created["code"]
            self.presenter_key = parse_qs(urlsplit(created["presenter_url"]).query)["key"][0]
            self.moderator_key = parse_qs(urlsplit(created["moderator_url"]).query)["key"][0]
            for index in range(args.processes):
                self._spawn(index, ["--event", self.code], env)
            for index in range(args.processes):
                self._wait_listening(index)
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

    def _start_one(self, index: int, extra: list[str], env: dict[str, str]) -> dict[str, str]:
        self._spawn(index, extra, env)
        return self._wait_listening(index)

    def _wait_listening(
        self, index: int, offsets: tuple[int, int] = (0, 0), poll: float = 0.1
    ) -> dict[str, str]:
        """Wait for the URLs (stdout) and the 'Listening on' line (stderr), as a person would
        (only in what the logs got after `offsets`: a restarted server appends to them)."""
        process = self.processes[index]
        out, err = self.logs[index]
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            printed = "".join(
                path.read_bytes()[offset:].decode(errors="replace")
                for path, offset in zip((out, err), offsets, strict=True)
            )
            if "Listening on" in printed and "Moderator:" in printed:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"server {index} did not start:\n{printed}")
            time.sleep(poll)
        port = int(re.search(r"Listening on http://127\.0\.0\.1:(\d+)", printed)[1])
        self.bases[index] = f"http://127.0.0.1:{port}"
        return {
            name.lower(): re.search(rf"^{name}:\s+(\S+)", printed, re.M)[1]
            for name in ("Join", "Presenter", "Moderator")
        }

    def restart(self) -> dict[str, Any]:
        """SIGKILL every server process, then start each again on the same port, database and
        environment (serving the same event with `--event CODE`); returns when they listen.

        Times are time.time(): `killed` (just before the first SIGKILL), `spawned`,
        `listening` (when the last "Listening on" line was seen; the log is polled every
        20 ms), and the new processes' CPU seconds at that moment (their start-up).
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
            self._wait_listening(index, offsets[index], poll=0.02)
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


def count_votes(database_url: str, round_id: int) -> int:
    """SELECT count(*) FROM votes of this round, straight from the database."""
    return query(database_url, "SELECT count(*) FROM votes WHERE round_id = ?", round_id)[0][0]


def cookie_token(cookie: str) -> str | None:
    """The participant token inside the signed Flask session cookie (signature not checked)."""
    try:
        compressed = cookie.startswith(".")
        payload = cookie.removeprefix(".").split(".", 1)[0]
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        session = json.loads(zlib.decompress(raw) if compressed else raw)
    except (ValueError, zlib.error):
        return None
    token = session.get("participant") if isinstance(session, dict) else None
    return token if isinstance(token, str) else None


def token_digest(event_id: int, token: str) -> str:
    """How the server stores a phone (polling.domain.voting.token_digest), with a fallback copy."""
    try:
        from polling.domain.voting import token_digest as server_digest
    except Exception:
        return hashlib.sha256(f"{event_id}:{token}".encode()).hexdigest()
    return server_digest(event_id, token)


def check_acked_votes(
    database_url: str, round_id: int, acked: list[list[Any]], opened: float, result: dict
) -> list[str]:
    """Look up every acknowledged vote in the database; returns lines about the ones that are
    missing or stored with another choice (and sets missing_votes, wrong_choice, verified)."""
    rows = query(
        database_url,
        "SELECT p.event_id, p.token_digest, o.key FROM votes v"
        " JOIN participants p ON p.id = v.participant_id"
        " JOIN options o ON o.id = v.option_id WHERE v.round_id = ?",
        round_id,
    )
    stored = {digest: key for _event, digest, key in rows}
    event_ids = {event for event, _digest, _key in rows}
    if len(event_ids) > 1:
        return [f"votes of round {round_id} belong to several events: {sorted(event_ids)}"]
    event_id = event_ids.pop() if event_ids else None
    missing, wrong, found, unreadable = [], [], 0, 0
    for voter, cookie, choice, at in acked:
        token = cookie_token(cookie)
        if token is None:
            unreadable += 1
            continue
        key = stored.get(token_digest(event_id, token)) if event_id is not None else None
        when = f"acked {at - opened:.2f} s after the open"
        if key is None:
            missing.append(f"voter {voter}: {choice!r} {when}, not in the database")
        elif key != choice:
            wrong.append(f"voter {voter}: {choice!r} {when}, stored as {key!r}")
        else:
            found += 1
    if rows and not found and (missing or unreadable):
        # Nothing matched at all: the cookie or digest scheme changed, not every vote lost.
        return [
            f"cannot match acked votes to stored ones ({len(rows)} stored, {unreadable} "
            "unreadable cookies): cookie or token digest scheme changed?"
        ]
    result["verified"] = found
    result["missing_votes"] = len(missing)
    result["wrong_choice"] = len(wrong)
    return missing + wrong


# --------------------------------------------------------------------------------------------
# Server CPU and memory from /proc
# --------------------------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float | None:
    """utime + stime of the processes (all their threads), in seconds."""
    if not pids:
        return None
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # fields 14 and 15 of stat
    return total


def machine_cpu() -> list[int]:
    """The machine's CPU time counters (all cores): user nice system idle iowait irq ..."""
    try:
        return [
            int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        ]
    except (OSError, ValueError):
        return []


def machine_load(before: list[int], after: list[int]) -> dict[str, float]:
    """Busy and I/O-wait share of all cores between two machine_cpu() readings, in percent."""
    if not before or len(before) != len(after):
        return {}
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta[:8]) or 1
    idle, iowait = delta[3], delta[4]
    return {
        "machine_busy_pct": round(100 * (total - idle - iowait) / total, 1),
        "machine_iowait_pct": round(100 * iowait / total, 1),
    }


def memory_mb(pids: list[int], field: str) -> float | None:
    """VmHWM (peak resident) or VmRSS of the processes, summed, in MB."""
    if not pids:
        return None
    total = 0.0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        found = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
        if not found:
            return None
        total += int(found[1]) / 1024
    return round(total, 1)


# --------------------------------------------------------------------------------------------
# The load generator processes (this file with --worker)
# --------------------------------------------------------------------------------------------


def emit_message(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def read_command(reader: asyncio.StreamReader) -> dict[str, Any]:
    line = await reader.readline()
    return json.loads(line) if line.strip() else {"cmd": "quit"}


def error_name(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text[:80]}" if text else type(error).__name__


def relax_watchdog(client: Any, seconds: float) -> None:
    """Give a python-socketio client the patience of a browser.

    python-engineio's client gives up a connection when it has sent nothing for
    max(pingInterval, pingTimeout) + 5 s (30 s with the server's defaults): a server ping only
    5 s late already makes it stop answering, and the server then drops it. A browser waits
    pingInterval + pingTimeout (45 s) for a ping. Both watchdogs derive from the ping timeout
    the server announced, so raising it on our side makes both at least `seconds`.
    """
    if seconds > 0 and client.eio is not None:
        client.eio.ping_timeout = max(client.eio.ping_timeout, seconds - 5)


class CountingHandler(logging.Handler):
    """Counts the warnings and errors the client libraries log, instead of printing each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: collections.Counter[str] = collections.Counter()
        # Set while we disconnect on purpose: python-engineio then warns "Server sent close
        # packet data None, aborting" for every client.
        self.paused = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.paused:
            return
        with contextlib.suppress(Exception):
            text = re.sub(r"0x[0-9a-f]+|\d+", "#", record.getMessage().splitlines()[0])
            self.counts[f"{record.name}: {text[:100]}"] += 1


LIBRARY_LOGS = CountingHandler()


def count_library_logs() -> CountingHandler:
    handler = LIBRARY_LOGS
    for name in ("engineio.client", "socketio.client", "asyncio", "aiohttp"):
        library = logging.getLogger(name)
        library.handlers[:] = [handler]
        library.propagate = False
        library.setLevel(logging.WARNING)
    return handler


async def participant_cookie(http: Any, base: str, code: str) -> str:
    """Open the vote page as a phone does, and return the participant cookie it sets."""
    async with http.get(f"{base}/{code}") as response:
        await response.read()
        morsel = response.cookies.get("polling")
        if response.status != 200 or morsel is None:
            raise BenchError(f"GET /{code}: HTTP {response.status}")
        return morsel.value


class Worker:
    """One generator process: its share of the voters, on one asyncio loop."""

    def __init__(self, config: dict[str, Any], commands: asyncio.StreamReader) -> None:
        self.config = config
        self.stdin = commands
        self.commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.stop = asyncio.Event()  # the coordinator said quit, or went away
        self.index: int = config["worker"]
        self.random = random.Random(config["seed"] * 1000 + self.index)
        self.voters = list(range(config["worker"], config["voters"], config["workers"]))
        self.clients: dict[int, Any] = {}
        self.cookies: dict[int, str] = {}
        self.acked_votes: list[list[Any]] = []  # [voter, cookie, choice, time of the ack]
        self.connect_errors: collections.Counter[str] = collections.Counter()
        self.connect_retries = 0
        self.disconnects = 0
        self.quitting = False
        self.sent = 0
        self.acked = 0
        self.latencies: list[float] = []
        self.vote_errors: collections.Counter[str] = collections.Counter()
        self.last_ack = 0.0
        self.failed = 0
        self.phase = "connect"
        self.disconnects_by_phase: collections.Counter[str] = collections.Counter()
        self.reconnects = 0
        self.logs = count_library_logs()
        # --restart: the choice each voter had acknowledged, and what came after the kill.
        self.acked_choice: dict[int, str] = {}
        self.storm_armed = False
        self.storm_states: dict[int, list[list[Any]]] = collections.defaultdict(list)
        self.storm_killed = math.inf  # time.time() of the kill, once the coordinator says it
        self.storm_attempts = 0
        self.storm_attempt_errors: collections.Counter[str] = collections.Counter()

    async def run(self) -> None:
        import aiohttp

        listener = asyncio.create_task(self.listen())
        timeout = aiohttp.ClientTimeout(total=self.config["connect_timeout"])
        connector = aiohttp.TCPConnector(limit=self.config["concurrency"])
        async with aiohttp.ClientSession(
            timeout=timeout, connector=connector, cookie_jar=aiohttp.DummyCookieJar()
        ) as http:
            await self.connect_all(http)
        self.phase = "idle"
        command = await self.commands.get()
        if command.get("cmd") == "vote":
            self.phase = "vote"
            await self.vote_all(command)
            self.phase = "after"
            while not self.stop.is_set():  # --restart: the reconnect storm
                command = await self.commands.get()
                if command.get("cmd") == "storm_arm":
                    self.arm_storm()
                elif command.get("cmd") == "storm_wait":
                    await self.storm_wait(command)
        await self.stop.wait()
        self.quitting = True
        await self.disconnect_all()
        listener.cancel()
        emit_message({"type": "bye", "worker": self.index, "cpu_s": self.cpu()})

    async def listen(self) -> None:
        """Pass on commands; a quit or the end of stdin stops whatever is going on."""
        while True:
            command = await read_command(self.stdin)
            if command.get("cmd") == "quit":
                self.stop.set()
            await self.commands.put(command)
            if self.stop.is_set():
                return

    async def until_done_or_stopped(self, tasks: list[asyncio.Task], timeout: float) -> set:
        """Wait for the tasks, at most `timeout` seconds or until told to stop; cancel the rest."""
        if tasks:
            everything = asyncio.ensure_future(asyncio.wait(tasks))
            stopped = asyncio.ensure_future(self.stop.wait())
            await asyncio.wait(
                [everything, stopped], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            everything.cancel()
            stopped.cancel()
        pending = {task for task in tasks if not task.done()}
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=10)
        return pending

    @staticmethod
    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    async def progress(self, what: str) -> None:
        while True:
            await asyncio.sleep(1)
            if what == "connect":
                counts = {"connected": len(self.clients), "failed": self.failed}
            elif what == "storm":
                counts = {"back": len(self.storm_back()), "attempts": self.storm_attempts}
            else:
                counts = {"sent": self.sent, "acked": self.acked}
            emit_message({"type": "progress", "worker": self.index, "phase": what, **counts})

    async def connect_all(self, http: Any) -> None:
        semaphore = asyncio.Semaphore(self.config["concurrency"])
        reporter = asyncio.create_task(self.progress("connect"))
        started = time.monotonic()
        tasks = [asyncio.create_task(self.connect_voter(http, semaphore, v)) for v in self.voters]
        pending = await self.until_done_or_stopped(tasks, self.config["connect_phase_timeout"])
        if pending:
            reason = "stopped" if self.stop.is_set() else "connect phase timeout"
            self.connect_errors[reason] += len(pending)
        reporter.cancel()
        emit_message(
            {
                "type": "connected",
                "worker": self.index,
                "connected": len(self.clients),
                "connect_s": time.monotonic() - started,
                "connect_errors": dict(self.connect_errors),
                "connect_retries": self.connect_retries,
            }
        )

    async def connect_voter(self, http: Any, semaphore: asyncio.Semaphore, voter: int) -> None:
        import socketio

        bases = self.config["bases"]
        base, code = bases[voter % len(bases)], self.config["code"]
        attempts = self.config["connect_retries"] + 1
        async with semaphore:
            for attempt in range(attempts):
                client = None
                try:
                    async with asyncio.timeout(self.config["connect_timeout"]):
                        cookie = await participant_cookie(http, base, code)
                        client = socketio.AsyncClient(
                            handle_sigint=False,
                            reconnection_delay=0.5,
                            reconnection_delay_max=5,
                        )
                        client.on("disconnect", self.on_disconnect)
                        client.on(
                            "state", lambda message, voter=voter: self.on_state(voter, message)
                        )
                        client.on("connect", lambda client=client: self.on_connect(client))
                        await client.connect(
                            base,
                            auth={"code": code, "role": "audience"},
                            # A function: engine.io deletes the Cookie from a dict it is given.
                            headers=lambda cookie=cookie: {"Cookie": f"polling={cookie}"},
                            transports=["websocket"],
                            wait_timeout=self.config["connect_timeout"],
                        )
                    self.clients[voter] = client
                    self.cookies[voter] = cookie
                    return
                except asyncio.CancelledError:
                    if client is not None:
                        await self.drop(client)
                    raise
                except Exception as error:
                    if client is not None:
                        await self.drop(client)
                    if attempt + 1 == attempts:
                        self.connect_errors[error_name(error)] += 1
                        self.failed += 1
                    else:
                        self.connect_retries += 1
                        await asyncio.sleep(0.5 * (attempt + 1))

    def on_connect(self, client: Any) -> None:
        relax_watchdog(client, self.config["client_watchdog"])
        if getattr(client, "was_connected", False):
            self.reconnects += 1
        client.was_connected = True

    def on_state(self, voter: int, message: Any) -> None:
        """After storm_arm, keep the personal states (those with can_control: only the state
        sent on connect has it) with when they came and the choice they say this voter has."""
        if self.storm_armed and isinstance(message, dict) and "can_control" in message:
            you, current = message.get("you"), message.get("round")
            self.storm_states[voter].append(
                [
                    time.time(),
                    you.get("choice") if isinstance(you, dict) else "<no you>",
                    current.get("id") if isinstance(current, dict) else None,
                    message.get("phase"),
                ]
            )

    def arm_storm(self) -> None:
        """Before the kill: record personal states from now on and count reconnect attempts
        (python-socketio's reconnect loop calls connect() and swallows its errors)."""
        self.storm_armed = True
        self.phase = "storm"
        self.storm_log_base = collections.Counter(self.logs.counts)
        for client in self.clients.values():
            client.connect = self.counting_connect(client.connect)
        emit_message({"type": "armed", "worker": self.index})

    def counting_connect(self, connect: Any) -> Any:
        patience = self.config.get("reconnect_wait")

        async def counted(*args: Any, **kwargs: Any) -> Any:
            if patience:  # --reconnect-wait: more than the 1 s the reconnect loop allows
                kwargs.setdefault("wait_timeout", patience)
            self.storm_attempts += 1
            try:
                return await connect(*args, **kwargs)
            except Exception as error:
                self.storm_attempt_errors[error_name(error)] += 1
                raise

        return counted

    def storm_back(self) -> dict[int, list[Any]]:
        """Each voter's first personal state after the kill."""
        back = {}
        for voter, states in self.storm_states.items():
            after = [state for state in states if state[0] >= self.storm_killed]
            if after:
                back[voter] = after[0]
        return back

    async def storm_wait(self, command: dict[str, Any]) -> None:
        """Wait until every voter got its personal state again (or the timeout), then report
        per voter: [voter, time back or None, choice it was told, acked choice, round, phase]."""
        self.storm_killed = command["killed"]
        reporter = asyncio.create_task(self.progress("storm"))
        deadline = time.monotonic() + command["timeout"]
        while time.monotonic() < deadline and not self.stop.is_set():
            if len(self.storm_back()) >= len(self.clients):
                break
            await asyncio.sleep(0.05)
        reporter.cancel()
        back = self.storm_back()
        voters = []
        for voter in self.clients:
            at, choice, round_id, phase = back.get(voter, [None, None, None, None])
            voters.append([voter, at, choice, self.acked_choice.get(voter), round_id, phase])
        emit_message(
            {
                "type": "storm",
                "worker": self.index,
                "voters": voters,
                "attempts": self.storm_attempts,
                "attempt_errors": dict(self.storm_attempt_errors),
                "disconnects": self.disconnects_by_phase["storm"],
                "client_log": dict(collections.Counter(self.logs.counts) - self.storm_log_base),
            }
        )

    def on_disconnect(self, *_reason: Any) -> None:
        if not self.quitting:
            self.disconnects += 1
            self.disconnects_by_phase[self.phase] += 1

    @staticmethod
    async def drop(client: Any) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                if client.connected or not getattr(client, "_reconnect_task", None):
                    await client.disconnect()
                else:  # still reconnecting (e.g. after --restart): stop that
                    await client.shutdown()

    async def vote_all(self, command: dict[str, Any]) -> None:
        cpu_before = self.cpu()
        reporter = asyncio.create_task(self.progress("vote"))
        window, round_id = command["window"], command["round"]
        tasks = [
            asyncio.create_task(
                self.vote(
                    voter,
                    client,
                    round_id,
                    command["start_at"] + self.random.uniform(0, window),
                    self.random.choice(CHOICES),
                    command["ack_timeout"],
                )
            )
            for voter, client in self.clients.items()
        ]
        pending = await self.until_done_or_stopped(tasks, window + command["ack_timeout"] + 5)
        if pending:
            reason = "stopped" if self.stop.is_set() else "vote phase timeout"
            self.vote_errors[reason] += len(pending)
        reporter.cancel()
        emit_message(
            {
                "type": "voted",
                "worker": self.index,
                "sent": self.sent,
                "acked": self.acked,
                "latencies_ms": [round(value, 2) for value in self.latencies],
                "acked_votes": self.acked_votes,
                "last_ack": self.last_ack,
                "vote_errors": dict(self.vote_errors),
                "disconnects": self.disconnects,
                "disconnects_by_phase": dict(self.disconnects_by_phase),
                "reconnects": self.reconnects,
                "client_log": dict(self.logs.counts),
                "cpu_s": self.cpu() - cpu_before,
            }
        )

    async def vote(
        self, voter: int, client: Any, round_id: int, at: float, choice: str, ack_timeout: float
    ) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        if not client.connected:
            self.vote_errors["not connected"] += 1
            return
        self.sent += 1
        started = time.monotonic()
        try:
            reply = await client.call(
                "vote", {"round": round_id, "choice": choice}, timeout=ack_timeout
            )
        except Exception as error:
            self.vote_errors[error_name(error)] += 1
            return
        elapsed = (time.monotonic() - started) * 1000
        if isinstance(reply, dict) and reply.get("ok") is True:
            self.acked += 1
            self.latencies.append(elapsed)
            now = time.time()
            self.last_ack = max(self.last_ack, now)
            self.acked_votes.append([voter, self.cookies[voter], choice, now])
            self.acked_choice[voter] = choice
        else:
            code = reply.get("error") if isinstance(reply, dict) else repr(reply)[:40]
            self.vote_errors[f"refused: {code}"] += 1

    async def disconnect_all(self) -> None:
        self.logs.paused = True
        clients = list(self.clients.values())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.gather(*(self.drop(client) for client in clients))
        for client in clients:  # e.g. one that was reconnecting
            http = getattr(client.eio, "http", None)
            if http is not None and not http.closed:
                with contextlib.suppress(Exception):
                    await http.close()


async def work() -> None:
    commands = await stdin_reader()
    config = await read_command(commands)
    if "worker" in config:
        await Worker(config, commands).run()


def worker_main() -> int:
    # The coordinator stops its workers (quit, or end of stdin) also on Ctrl+C: they disconnect
    # their clients cleanly instead of dying mid-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(work())
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    return 0


# --------------------------------------------------------------------------------------------
# The coordinator: presenter, moderator, generator processes, figures
# --------------------------------------------------------------------------------------------


class Screen:
    """The presenter or moderator connection; keeps every tally it receives."""

    def __init__(self, name: str, watchdog: float) -> None:
        import socketio

        self.name = name
        self.watchdog = watchdog
        self.client = socketio.AsyncClient(handle_sigint=False)
        self.tallies: list[tuple[float, int | None, int]] = []  # (time, round id, votes)
        self.connects = 0
        # --restart: (time, "state" or "tally", round id, votes shown, personal) from storm_arm
        self.storm: list[tuple[float, str, int | None, int | None, bool]] | None = None
        self.client.on("tally", self.on_tally)
        self.client.on("connect", self.on_connect)
        self.client.on("state", self.on_state)

    def on_connect(self) -> None:
        relax_watchdog(self.client, self.watchdog)
        self.connects += 1

    def on_tally(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        results = message.get("results")
        if isinstance(results, dict) and isinstance(results.get("counts"), dict):
            votes = sum(results["counts"].values())
        else:
            votes = (message.get("turnout") or {}).get("voters") or 0
        self.tallies.append((time.time(), message.get("round_id"), votes))
        if self.storm is not None:
            self.storm.append((time.time(), "tally", message.get("round_id"), votes, False))

    def on_state(self, message: Any) -> None:
        if self.storm is None or not isinstance(message, dict):
            return
        results, current = message.get("results"), message.get("round")
        votes = None
        if isinstance(results, dict) and isinstance(results.get("counts"), dict):
            votes = sum(results["counts"].values())
        round_id = current.get("id") if isinstance(current, dict) else None
        self.storm.append((time.time(), "state", round_id, votes, "can_control" in message))

    def storm_back(self, since: float) -> tuple[float, int | None, int | None] | None:
        """The first personal state after `since`: (time, round id, votes it shows)."""
        for at, kind, round_id, votes, personal in self.storm or []:
            if at >= since and kind == "state" and personal:
                return at, round_id, votes
        return None

    def storm_showed(self, since: float, round_id: int, votes: int) -> bool:
        """Whether a state or tally after `since` showed exactly `votes` in the round."""
        return any(
            at >= since and seen_round == round_id and seen == votes
            for at, _kind, seen_round, seen, _personal in self.storm or []
        )

    async def connect(self, base: str, code: str, role: str, key: str) -> None:
        await self.client.connect(
            base,
            auth={"code": code, "role": role, "key": key},
            transports=["websocket"],
            wait_timeout=30,
        )

    def first_complete(self, round_id: int, votes: int) -> float | None:
        for at, tally_round, seen in self.tallies:
            if tally_round == round_id and seen >= votes:
                return at
        return None

    async def wait_complete(self, round_id: int, votes: int, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            at = self.first_complete(round_id, votes)
            if at is not None:
                return at
            await asyncio.sleep(0.05)
        return self.first_complete(round_id, votes)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.client.disconnect()


class WorkerProcess:
    """A generator subprocess, spoken to in JSON lines over its stdin and stdout."""

    def __init__(self, index: int, process: asyncio.subprocess.Process) -> None:
        self.index = index
        self.process = process
        self.progress: dict[str, Any] = {}
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                await self.messages.put({"type": "eof", "worker": self.index})
                return
            try:
                message = json.loads(line)
            except ValueError:
                log(f"worker {self.index}: {line.decode(errors='replace').rstrip()}")
                continue
            if message.get("type") == "progress":
                self.progress = message
            else:
                await self.messages.put(message)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, RuntimeError):
            self.process.stdin.write((json.dumps(message) + "\n").encode())

    async def expect(self, kind: str, deadline: float) -> dict[str, Any]:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            message = await self.messages.get()
        if message.get("type") != kind:
            raise BenchError(f"worker {self.index} sent {message.get('type')!r}, not {kind!r}")
        return message

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.send({"cmd": "quit"})
            with contextlib.suppress(Exception):
                assert self.process.stdin is not None
                self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=45)
            except TimeoutError:
                log(f"worker {self.index} did not stop: killing it")
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.process.wait(), timeout=10)
        # The reader ends at end of file, after the last message (the worker's "bye").
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self.reader, timeout=5)


async def collect(
    workers: list[WorkerProcess], kind: str, timeout: float, phase: str, progress_keys: tuple
) -> list[dict[str, Any]]:
    """Wait for `kind` from every worker, printing progress, within `timeout` seconds."""
    deadline = time.monotonic() + timeout

    async def reporter() -> None:
        while True:
            await asyncio.sleep(2)
            totals = {
                key: sum(
                    w.progress.get(key, 0) for w in workers if w.progress.get("phase") == phase
                )
                for key in progress_keys
            }
            log(f"{phase}: " + ", ".join(f"{key} {value}" for key, value in totals.items()))

    task = asyncio.create_task(reporter())
    try:
        return list(await asyncio.gather(*(w.expect(kind, deadline) for w in workers)))
    except TimeoutError:
        raise BenchError(
            f"the workers did not finish the {phase} phase in {timeout:.0f} s"
        ) from None
    finally:
        task.cancel()


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1], 1)


async def control(moderator: Screen, action: str) -> None:
    reply = await moderator.client.call("control", {"action": action}, timeout=30)
    if not (isinstance(reply, dict) and reply.get("ok")):
        raise BenchError(f"control {action!r} refused: {reply}")


def summarize_votes(voted: list[dict[str, Any]], opened: float, result: dict[str, Any]) -> float:
    """Merge the workers' vote reports into `result`; returns the time of the last ack."""
    result["generator_vote_cpu_s"] = round(sum(report["cpu_s"] for report in voted), 2)
    latencies = sorted(value for report in voted for value in report["latencies_ms"])
    result["sent"] = sum(report["sent"] for report in voted)
    result["acked"] = sum(report["acked"] for report in voted)
    errors: collections.Counter[str] = collections.Counter()
    by_phase: collections.Counter[str] = collections.Counter()
    client_log: collections.Counter[str] = collections.Counter()
    for report in voted:
        errors.update(report["vote_errors"])
        by_phase.update(report["disconnects_by_phase"])
        client_log.update(report["client_log"])
    result["vote_errors"] = dict(errors)
    result["disconnects"] = sum(report["disconnects"] for report in voted)
    result["disconnects_by_phase"] = dict(by_phase)
    result["reconnects"] = sum(report["reconnects"] for report in voted)
    if client_log:
        log(f"client library warnings: {dict(client_log)}")
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
        result[f"ack_{name}_ms"] = percentile(latencies, fraction)
    last_ack = max((report["last_ack"] for report in voted), default=0.0)
    if last_ack:
        result["vote_phase_s"] = round(last_ack - opened, 2)
        result["votes_per_s"] = round(result["acked"] / max(last_ack - opened, 0.001), 1)
    log(
        f"sent {result['sent']}, acked {result['acked']}, ack p50 {result['ack_p50_ms']} ms, "
        f"p99 {result['ack_p99_ms']} ms" + (f", errors {dict(errors)}" if errors else "")
    )
    return last_ack


async def bench(
    args: argparse.Namespace, target: dict[str, Any], result: dict[str, Any], checks: dict
) -> None:
    """The run; fills `result` as it goes, so a failure still reports what was measured, and
    `checks` with the acknowledged votes to look up in the database."""
    bases: list[str] = target["bases"]
    pids: list[int] = target["pids"]
    presenter = Screen("presenter", args.client_watchdog)
    moderator = Screen("moderator", args.client_watchdog)
    workers: list[WorkerProcess] = []
    try:
        await presenter.connect(bases[0], target["code"], "presenter", target["presenter_key"])
        await moderator.connect(bases[-1], target["code"], "moderator", target["moderator_key"])
        log(f"presenter on {bases[0]}, moderator on {bases[-1]}")

        concurrency = max(1, math.ceil(args.connect_concurrency / args.workers))
        for index in range(args.workers):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**24,
            )
            worker = WorkerProcess(index, process)
            workers.append(worker)
            worker.send(
                {
                    "worker": index,
                    "workers": args.workers,
                    "voters": args.voters,
                    "bases": bases,
                    "code": target["code"],
                    "concurrency": concurrency,
                    "connect_timeout": args.connect_timeout,
                    "connect_retries": args.connect_retries,
                    "connect_phase_timeout": args.connect_phase_timeout,
                    "seed": args.seed,
                    "client_watchdog": args.client_watchdog,
                    "reconnect_wait": args.reconnect_wait,
                }
            )
        log(
            f"connecting {args.voters} voters from {args.workers} worker process(es), "
            f"at most {concurrency * args.workers} connects in flight"
        )
        started = time.monotonic()
        connected = await collect(
            workers,
            "connected",
            args.connect_phase_timeout + 30,
            "connect",
            ("connected", "failed"),
        )
        result["connect_s"] = round(time.monotonic() - started, 2)
        result["connected"] = sum(report["connected"] for report in connected)
        result["connect_retries"] = sum(report["connect_retries"] for report in connected)
        errors: collections.Counter[str] = collections.Counter()
        for report in connected:
            errors.update(report["connect_errors"])
        result["connect_errors"] = dict(errors)
        log(f"connected {result['connected']}/{args.voters} in {result['connect_s']} s")
        if errors:
            log(f"connect errors: {dict(errors)}")
        if result["connected"] == 0:
            raise BenchError("no voter could connect")

        await control(moderator, "results_live")
        await control(moderator, "next")
        cpu_before = cpu_seconds(pids)
        await control(moderator, "open")
        opened = time.time()
        machine_before = machine_cpu()
        synced = await moderator.client.call("sync", timeout=30)
        current = (synced or {}).get("state", {}).get("round") or {}
        if not current.get("open"):
            raise BenchError(f"voting did not open: {synced}")
        round_id = current["id"]
        result["round_id"] = round_id
        log(f"round {round_id} open: {result['connected']} votes within {args.window} s")
        for worker in workers:
            worker.send(
                {
                    "cmd": "vote",
                    "round": round_id,
                    "start_at": opened,
                    "window": args.window,
                    "ack_timeout": args.ack_timeout,
                }
            )
        voted = await collect(
            workers, "voted", args.window + args.ack_timeout + 30, "vote", ("sent", "acked")
        )
        result.update(machine_load(machine_before, machine_cpu()))
        last_ack = summarize_votes(voted, opened, result)
        checks["opened"] = opened
        checks["acked_votes"] = [vote for report in voted for vote in report["acked_votes"]]

        acked = result["acked"]
        for screen in (presenter, moderator):
            seen_at = await screen.wait_complete(round_id, acked, args.final_timeout)
            key = f"{screen.name}_final_ms"
            if seen_at is None:
                most = max((v for _t, r, v in screen.tallies if r == round_id), default=0)
                log(f"{screen.name}: no tally showed all {acked} votes (at most {most})")
                result[key] = None
            else:
                result[key] = round((seen_at - last_ack) * 1000, 1) if last_ack else None
        result["presenter_tallies"] = sum(1 for _t, r, _v in presenter.tallies if r == round_id)
        result["screen_reconnects"] = max(0, presenter.connects - 1) + max(
            0, moderator.connects - 1
        )
        cpu_after = cpu_seconds(pids)
        if cpu_before is not None and cpu_after is not None:
            result["server_cpu_s"] = round(cpu_after - cpu_before, 2)
        result["server_rss_mb"] = memory_mb(pids, "VmHWM")
        result["server_rss_end_mb"] = memory_mb(pids, "VmRSS")
        if args.restart:
            await storm(args, target["servers"], workers, presenter, moderator, round_id, result)
    finally:
        await asyncio.gather(*(worker.stop() for worker in workers), return_exceptions=True)
        cpu = 0.0
        for worker in workers:
            while not worker.messages.empty():
                message = worker.messages.get_nowait()
                if message.get("type") == "bye":
                    cpu += message["cpu_s"]
        if workers:
            result["generator_cpu_s"] = round(cpu, 2)
        LIBRARY_LOGS.paused = True
        await presenter.close()
        await moderator.close()
        LIBRARY_LOGS.paused = False


async def storm(
    args: argparse.Namespace,
    servers: Servers,
    workers: list[WorkerProcess],
    presenter: Screen,
    moderator: Screen,
    round_id: int,
    result: dict[str, Any],
) -> None:
    """--restart: SIGKILL the server(s) with every vote acknowledged and the round open, start
    them again on the same ports and database, and time how every client comes back by itself
    (python-socketio's reconnection) to its personal state, with its own vote in it."""
    acked = result["acked"]
    result["storm_reconnect_wait_s"] = args.reconnect_wait or 1.0
    for worker in workers:
        worker.send({"cmd": "storm_arm"})
    await collect(workers, "armed", 30, "arm", ())
    presenter.storm, moderator.storm = [], []
    log(f"killing the server(s) with SIGKILL (pids {', '.join(map(str, servers.pids))})")
    # In a thread: this loop keeps serving the presenter and moderator clients meanwhile.
    restart = await asyncio.to_thread(servers.restart)
    killed, listening = restart["killed"], restart["listening"]
    pids = servers.pids
    result["storm_restart_s"] = round(listening - killed, 2)
    result["storm_server_start_cpu_s"] = restart["start_cpu_s"]
    log(
        f"restarted (pids {', '.join(map(str, pids))}): listening {listening - killed:.2f} s "
        f"after the kill; waiting up to {args.storm_timeout:.0f} s for every client"
    )
    for worker in workers:
        worker.send({"cmd": "storm_wait", "killed": killed, "timeout": args.storm_timeout})
    reports = await collect(
        workers, "storm", args.storm_timeout + 30, "storm", ("back", "attempts")
    )
    cpu_end = cpu_seconds(pids)
    deadline = time.monotonic() + max(5.0, args.storm_timeout - (time.time() - listening))
    while time.monotonic() < deadline and not (
        presenter.storm_back(killed) and moderator.storm_back(killed)
    ):
        await asyncio.sleep(0.05)
    voters = [voter for report in reports for voter in report["voters"]]
    back = sorted(at - listening for _v, at, *_rest in voters if at is not None)
    wrong = [
        f"voter {voter}: acked {expected!r}, state.you.choice {choice!r}"
        for voter, at, choice, expected, _round, _phase in voters
        if at is not None and expected is not None and choice != expected
    ]
    result["storm_voters"] = len(voters)
    result["storm_reconnected"] = len(back)
    result["storm_missing"] = len(voters) - len(back)
    last = listening + back[-1] if back else None
    complete = bool(voters) and not result["storm_missing"]
    result["storm_all_back_s"] = round(last - listening, 2) if complete else None
    result["storm_all_back_from_kill_s"] = round(last - killed, 2) if complete else None
    back_ms = [value * 1000 for value in back]
    for name, fraction in (("first", 0.0), ("p50", 0.5), ("p95", 0.95), ("max", 1.0)):
        value = percentile(back_ms, fraction)
        result[f"storm_{name}_s"] = round(value / 1000, 2) if value is not None else None
    # Voters back per second after "Listening on" (the waves of the reconnect backoff).
    waves = collections.Counter(math.floor(value) for value in back)
    result["storm_back_per_s"] = {str(second): waves[second] for second in sorted(waves)}
    result["storm_wrong_choice"] = len(wrong)
    result["storm_no_vote_acked"] = sum(1 for voter in voters if voter[3] is None)
    result["storm_wrong_round"] = sum(
        1 for _v, at, _c, _e, seen, phase in voters if at and (seen != round_id or phase != "open")
    )
    for screen in (presenter, moderator):
        came = screen.storm_back(killed)
        result[f"storm_{screen.name}_back_s"] = round(came[0] - listening, 2) if came else None
        result[f"storm_{screen.name}_ok"] = screen.storm_showed(killed, round_id, acked)
        if not result[f"storm_{screen.name}_ok"]:
            log(f"{screen.name} after the restart: {screen.storm[:5]} (acked {acked})")
    if cpu_end is not None and restart["start_cpu_s"] is not None:
        result["storm_server_cpu_s"] = round(cpu_end - restart["start_cpu_s"], 2)
    result["storm_server_rss_mb"] = memory_mb(pids, "VmHWM")
    result["storm_server_rss_end_mb"] = memory_mb(pids, "VmRSS")
    result["storm_attempts"] = sum(report["attempts"] for report in reports)
    errors: collections.Counter[str] = collections.Counter()
    client_log: collections.Counter[str] = collections.Counter()
    for report in reports:
        errors.update(report["attempt_errors"])
        client_log.update(report["client_log"])
    result["storm_attempt_errors"] = dict(errors)
    result["storm_disconnects"] = sum(report["disconnects"] for report in reports)
    tracebacks, kinds, _tail = servers.error_report(restart["err_offsets"])
    result["storm_server_tracebacks"] = tracebacks
    result["storm_server_messages"] = kinds
    if client_log:
        log(f"client library warnings during the storm: {dict(client_log)}")
    if wrong:
        shown = "\n".join(f"  {line}" for line in wrong[:50])
        log(f"STORM: voters told another choice than they had acked:\n{shown}")
    log(
        f"storm: {len(back)}/{len(voters)} voters back, all back "
        f"{result['storm_all_back_s']} s after listening, p50 {result['storm_p50_s']} s, "
        f"p95 {result['storm_p95_s']} s, wrong choice {len(wrong)}, "
        f"presenter ok {result['storm_presenter_ok']}, attempts {result['storm_attempts']}"
    )


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load benchmark: N phones vote once each within a window of S seconds.",
    )
    parser.add_argument("--voters", type=int, default=1000, help="audience connections (N)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds to spread votes (S)")
    parser.add_argument(
        "--workers", type=int, help="generator processes (default min(8, ceil(N/1500)))"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes (>1: PostgreSQL + Redis)"
    )
    parser.add_argument(
        "--async-mode", choices=("eventlet", "gevent", "threading"), default="eventlet"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        help="database of the started server(s) (default sqlite; postgres with --processes > 1)",
    )
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="to create the bench db")
    parser.add_argument(
        "--message-queue", help=f"POLLING_MESSAGE_QUEUE (default {REDIS_URL} with --processes > 1)"
    )
    parser.add_argument("--deck", type=Path, default=DEFAULT_DECK, help="deck (--processes > 1)")
    parser.add_argument("--tally-interval", type=float, help="POLLING_TALLY_INTERVAL")
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=100,
        help="connects in flight at once, over all workers (default 100)",
    )
    parser.add_argument(
        "--connect-timeout", type=float, default=30.0, help="seconds per connect attempt"
    )
    parser.add_argument("--connect-retries", type=int, default=2, help="retries per voter")
    parser.add_argument(
        "--connect-phase-timeout", type=float, help="seconds for all connects (default N/20, ≥120)"
    )
    parser.add_argument("--ack-timeout", type=float, default=60.0, help="seconds per vote ack")
    parser.add_argument(
        "--final-timeout", type=float, default=30.0, help="seconds to wait for the final tally"
    )
    parser.add_argument(
        "--client-watchdog",
        type=float,
        default=45.0,
        help="seconds a client waits for the server before giving up, as a browser does "
        "(default 45; 0 keeps python-engineio's stricter 30 s)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (moments, choices)")
    parser.add_argument(
        "--restart",
        action="store_true",
        help="reconnect storm: once every vote is acked, SIGKILL the server(s), start them "
        "again on the same port and database, and time how the clients come back",
    )
    parser.add_argument(
        "--storm-timeout",
        type=float,
        default=120.0,
        help="--restart: seconds after the restart to wait for every client (default 120)",
    )
    parser.add_argument(
        "--reconnect-wait",
        type=float,
        help="--restart: seconds a voter's reconnect attempt waits for the Socket.IO connect "
        "to be accepted (default: python-socketio's 1 s; a browser waits 20 s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with server logs")
    target = parser.add_argument_group("a running server instead (all of these)")
    target.add_argument(
        "--url", action="append", help="server base URL; repeat for several processes"
    )
    target.add_argument("--code", help="the event's join code")
    target.add_argument("--moderator-key")
    target.add_argument("--presenter-key")
    target.add_argument(
        "--database-url", help="where to count votes (sqlite:///PATH or postgresql://...)"
    )
    target.add_argument(
        "--server-pid", type=int, action="append", default=[], help="for CPU and memory"
    )
    args = parser.parse_args(argv)
    if args.voters < 1 or args.window < 0 or args.processes < 1:
        parser.error("--voters and --processes must be at least 1, --window not negative")
    if args.url and not (args.code and args.moderator_key and args.presenter_key):
        parser.error("--url needs --code, --moderator-key and --presenter-key")
    if args.url and args.restart:
        parser.error("--restart needs a server this benchmark starts (not --url)")
    if args.database is None:
        args.database = "postgres" if args.processes > 1 else "sqlite"
    if args.message_queue is None and args.processes > 1:
        args.message_queue = REDIS_URL
    if args.workers is None:
        args.workers = min(8, math.ceil(args.voters / 1500))
    args.workers = max(1, min(args.workers, args.voters))
    if args.connect_phase_timeout is None:
        args.connect_phase_timeout = max(120.0, args.voters / 20)
    return args


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def on_sigterm(_signum: int, _frame: Any) -> None:
    """Stop as on Ctrl+C: asyncio then cancels the run cleanly, and everything is stopped."""
    os.kill(os.getpid(), signal.SIGINT)


def main(argv: list[str]) -> int:
    library_logs = count_library_logs()
    if argv[:1] == ["--worker"]:
        raise_file_limit()
        return worker_main()
    args = parse_args(argv)
    raise_file_limit()
    # Ctrl+C stops the run even when started from a shell that ignores SIGINT (e.g. with &).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_sigterm)
    result: dict[str, Any] = {
        "voters": args.voters,
        "connected": 0,
        "sent": 0,
        "acked": 0,
        "committed": None,
        "ack_p50_ms": None,
        "ack_p95_ms": None,
        "ack_p99_ms": None,
        "presenter_final_ms": None,
        "server_cpu_s": None,
        "server_rss_mb": None,
        "processes": len(args.url) if args.url else args.processes,
        "async_mode": None if args.url else args.async_mode,
        "database": None if args.url else args.database,
        "window_s": args.window,
        "connect_s": None,
        "workers": args.workers,
    }
    before = machine_cpu()
    time.sleep(1)
    result.update(
        {f"{key}_before": value for key, value in machine_load(before, machine_cpu()).items()}
    )
    if result.get("machine_busy_pct_before", 0) > 25:
        busy = result["machine_busy_pct_before"]
        log(f"the machine is already {busy}% busy before the run: figures will be noisy")
    servers = None if args.url else Servers(args)
    failure = None
    database_url = None
    checks: dict[str, Any] = {}
    problems: list[str] = []
    try:
        try:
            if servers is None:
                target = {
                    "bases": [url.rstrip("/") for url in args.url],
                    "code": args.code.replace(" ", ""),
                    "presenter_key": args.presenter_key,
                    "moderator_key": args.moderator_key,
                    "pids": args.server_pid,
                }
                database_url = args.database_url
            else:
                servers.start()
                target = {
                    "bases": servers.bases,
                    "code": servers.code,
                    "presenter_key": servers.presenter_key,
                    "moderator_key": servers.moderator_key,
                    "pids": servers.pids,
                    "servers": servers,
                }
                database_url = servers.database_url
            if not target["pids"]:
                log("no server pid known (--server-pid): no CPU and memory figures")
            asyncio.run(bench(args, target, result, checks))
        except (BenchError, OSError, TimeoutError) as error:
            failure = str(error) or type(error).__name__
        except Exception as error:  # report it in the JSON line too, then fail
            failure = error_name(error)
        if "round_id" in result:
            if database_url:
                try:
                    result["committed"] = count_votes(database_url, result["round_id"])
                    if checks.get("acked_votes"):
                        problems = check_acked_votes(
                            database_url,
                            result["round_id"],
                            checks["acked_votes"],
                            checks["opened"],
                            result,
                        )
                except Exception as error:
                    failure = failure or f"reading the votes failed: {error_name(error)}"
            else:
                log("no --database-url: committed votes not counted")
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        if servers is not None:
            servers.shut_down(result)
    if library_logs.counts:
        log(f"client library warnings (presenter, moderator): {dict(library_logs.counts)}")
    if failure:
        result["error"] = failure
        log(f"FAILED: {failure}")
    committed, acked = result["committed"], result["acked"]
    lost = committed is not None and committed < acked
    if lost:
        log(f"LOST VOTES: {acked} acked but only {committed} in the database")
    if problems:
        shown = "\n".join(f"  {line}" for line in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        log(f"acknowledged votes not in the database as acked:\n{shown}{more}")
    print(json.dumps(result), flush=True)
    if result.get("storm_wrong_choice"):
        log(f"STORM: {result['storm_wrong_choice']} voters were given back another choice")
    if lost or result.get("missing_votes") or result.get("wrong_choice"):
        return 1
    if result.get("storm_wrong_choice"):
        return 1
    return 2 if failure else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
