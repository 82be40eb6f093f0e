"""A load generator process: its share of the voters, on one asyncio loop.

The coordinator (benchmarks/load.py, through harness.workers) starts it as
`python -m benchmarks.harness.generator` and speaks to it in JSON lines: its config first on
stdin, then commands (`vote`, `storm_arm`, `storm_wait`, or `wave` for benchmarks/joinwave.py,
then `quit`); it answers on stdout (`progress`, `connected`, `voted`, `armed`, `storm`, `waved`,
`bye`). End of stdin is a quit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import math
import random
import resource
import signal
import sys
import time
from typing import Any

from benchmarks.harness.cli import raise_file_limit
from benchmarks.harness.clients import (
    CHOICES,
    count_library_logs,
    error_name,
    participant_cookie,
    relax_watchdog,
)
from benchmarks.harness.wave import Wave


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
        wave = None
        command = await self.commands.get()
        if command.get("cmd") == "wave":  # the joiners stay connected until the quit
            self.phase = "vote"
            wave = Wave(self, command)
            emit_message(await wave.run())
            self.phase = "after"
        elif command.get("cmd") == "vote":
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
        if wave is not None:
            await wave.close()
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


if __name__ == "__main__":
    count_library_logs()
    raise_file_limit()
    sys.exit(worker_main())
