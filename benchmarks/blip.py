"""The Wi-Fi blip: every phone of the hall loses the network at once, or the server restarts.

    sudo .venv/bin/python -m benchmarks.blip --phones 1000 --down 5           # link down 5 s
    sudo .venv/bin/python -m benchmarks.blip --phones 1000 --mode restart     # SIGKILL + restart

The phones live in a network namespace of their own, joined to the server's by a veth pair
(10.200.<n>.1 the server, 10.200.<n>.2 the phones), so `ip link set ... down` for N seconds and
then up is a real loss of the network, not a closed socket. Needs root (ip netns); the namespace
and the veth are this run's own and are removed at the end, also after an error or Ctrl+C.

Each phone opens the vote page (for its cookie), connects as the page's script does
(WebSocket at once; `--polling-first`: long-polling, then the upgrade), and votes once. Then
the blip: the link goes down, and each phone's browser notices (the `offline` event, on which
engine.io closes the transport), so it starts reconnecting as static/js/common.js has it:
delay 1 s doubling up to 10 s,
randomisation 0.5 (socket.io-client's back-off, not python-socketio's), 20 s to connect. With
`--no-offline` the phones are left to find out by themselves (TCP and the ping). In restart mode
the server is SIGKILLed and started again on the same port and database.

Reported (last stdout line, JSON): how long until every phone is back with its own vote shown
(its state on reconnect says `you.choice` = what it voted), per-phone p50/p95 from the network
(or the server) being back, reconnect attempts and failures, the server's CPU and RSS, whether
`/healthz` answered throughout, and whether every tally the projector got was right. The
projector and moderator stay on the server's side of the link, as on the venue's wired network.

With `--questions N` the hall follows the questions, as when the Vragen tab is open: the first N
phones each ask one before the blip, and every phone asks for the lists (`questions_sync`) once
connected and again after every reconnect, as static/js/questions-common.js does; a phone is
back once it has its vote and the lists.

Exit status: 0 all back with the right vote, 1 a phone shown another vote or a wrong tally,
2 the run failed or not all came back within --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import hall
from benchmarks.harness.clients import (
    CONNECT_TIMEOUT,
    browser_backoff,
    busy_retry_after,
    busy_retry_delay,
)

ROOT = Path(__file__).resolve().parent.parent
POLLING = Path(sys.executable).with_name("polling")
DECK = ROOT / "statements" / "ai-in-de-zorg.toml"
# Handshakes a phone tries before the blip before it counts as failed to join.
JOIN_ATTEMPTS = 8


def log(message: str) -> None:
    print(f"[blip {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field: str) -> float | None:
    try:
        found = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return None
    return round(int(found[1]) / 1024, 1) if found else None


# --------------------------------------------------------------------------------------------
# The phones: worker processes inside the namespace (this file with --worker)
# --------------------------------------------------------------------------------------------


class Phone:
    """One phone: a cookie jar, a Socket.IO client and the browser's reconnection."""

    def __init__(self, worker: Worker, index: int) -> None:
        self.transports = worker.transports
        import aiohttp
        import socketio

        self.worker = worker
        self.index = index
        self.rng = random.Random(index)
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        # Our own reconnection below: python-socketio's adds ±0.5 s, not ±50 %, and waits 1 s
        # for the namespace where the browser waits 20 s.
        self.sio = socketio.AsyncClient(
            reconnection=False,
            http_session=self.http,
            handle_sigint=False,
            request_timeout=CONNECT_TIMEOUT,
        )
        self.sio.on("state", self.on_state)
        self.sio.on("disconnect", self.on_disconnect)
        self.sio.on("connect_error", self.on_connect_error)
        self.retry_after: float | None = None  # the server's "busy_retry" delay, if refused
        self.choice: str | None = None
        self.armed = False
        self.dropped = False  # lost its connection after arm
        self.back_at: float | None = None
        self.back_choice: Any = None
        self.state_back_at: float | None = None  # its state (and vote) shown again
        self.lists_back_at: float | None = None  # the questions' lists too (--questions)
        self.attempts = 0
        self.failures: dict[str, int] = {}
        self.reconnecting: asyncio.Task | None = None
        self.closing = False

    async def join(self) -> None:
        from socketio.exceptions import ConnectionError as Refused

        base, code = self.worker.base, self.worker.code
        async with self.http.get(f"{base}/{code}") as response:
            response.raise_for_status()
        # Before the blip the hall joins as a hall does: a handshake refused while the server
        # is busy is tried again after the browser's back-off, as socket.io-client does.
        for attempt in range(JOIN_ATTEMPTS):
            try:
                await self.sio.connect(
                    f"{base}?role=audience",  # the page's handshake query (static/js/common.js)
                    auth={"code": code, "role": "audience"},
                    headers={"Origin": base},
                    transports=self.transports,
                    wait_timeout=CONNECT_TIMEOUT,
                )
                break
            except Refused:
                if attempt == JOIN_ATTEMPTS - 1:
                    raise
                await self.drop_transport(2)
                await asyncio.sleep(browser_backoff(attempt, self.rng))
        if self.worker.questions:
            if self.index < self.worker.questions:
                text = f"Vraag {self.index}: hoe zit het met {hall.words(self.rng, 4)}?"
                reply = await self.sio.call("question_ask", {"text": text}, timeout=60)
                if not (isinstance(reply, dict) and reply.get("ok")):
                    raise RuntimeError(f"question_ask refused: {reply}")
            await self.follow_questions()

    async def follow_questions(self) -> None:
        """The Vragen tab's questions_sync, sent on every connect."""
        reply = await self.sio.call("questions_sync", {}, timeout=CONNECT_TIMEOUT)
        if not (isinstance(reply, dict) and reply.get("ok")):
            raise RuntimeError(f"questions_sync refused: {reply}")
        if self.armed and self.lists_back_at is None:
            self.lists_back_at = time.time()
            self.came_back()

    def came_back(self) -> None:
        """Back once its vote is shown, and (--questions) the lists too."""
        if self.state_back_at is not None and (
            not self.worker.questions or self.lists_back_at is not None
        ):
            self.back_at = max(self.state_back_at, self.lists_back_at or 0)

    async def vote(self, round_id: int) -> bool:
        choice = self.rng.choice(("agree", "disagree"))
        ack = await self.sio.call("vote", {"round": round_id, "choice": choice}, timeout=30)
        if isinstance(ack, dict) and ack.get("ok"):
            self.choice = choice
            return True
        return False

    async def on_state(self, data: dict[str, Any]) -> None:
        # Only the state sent on (re)connect carries can_control.
        if self.armed and self.state_back_at is None and "can_control" in data:
            self.state_back_at = time.time()
            you = data.get("you")
            self.back_choice = you.get("choice") if isinstance(you, dict) else None
            self.came_back()

    async def on_connect_error(self, data: Any = None) -> None:
        retry_after = busy_retry_after(data)
        if retry_after is not None:
            self.retry_after = retry_after

    async def on_disconnect(self, *_reason: Any) -> None:
        if self.armed:
            self.dropped = True
        if not self.closing and self.reconnecting is None:
            self.reconnecting = asyncio.create_task(self.reconnect())

    async def reconnect(self) -> None:
        """socket.io-client's Manager.reconnect: wait the back-off, try, repeat; after a
        "busy_retry" refusal, the server's delay plus up to half of it, as common.js does."""
        attempt = 0
        try:
            while not self.closing:
                if self.retry_after is not None:
                    delay = busy_retry_delay(self.retry_after, self.rng)
                    self.retry_after, attempt = None, 0  # the handshake worked: back-off reset
                else:
                    delay = browser_backoff(attempt, self.rng)
                    attempt += 1
                await asyncio.sleep(delay)
                self.attempts += 1
                try:
                    async with asyncio.timeout(CONNECT_TIMEOUT):
                        await self.sio.connect(
                            # As the page says once it was in: a phone coming back.
                            f"{self.worker.base}?role=audience&back=1",
                            auth={"code": self.worker.code, "role": "audience"},
                            headers={"Origin": self.worker.base},
                            transports=self.transports,
                            wait_timeout=CONNECT_TIMEOUT,
                        )
                    break
                except Exception as error:
                    name = "busy_retry" if self.retry_after else type(error).__name__
                    self.failures[name] = self.failures.get(name, 0) + 1
                    await self.drop_transport(2)
            if self.worker.questions and not self.closing:
                try:
                    await self.follow_questions()
                except Exception as error:  # the page shows no lists: this phone is not back
                    name = f"questions_sync {type(error).__name__}"
                    self.failures[name] = self.failures.get(name, 0) + 1
        finally:
            self.reconnecting = None

    async def offline(self) -> None:
        """The browser's `offline` event: engine.io drops the transport at once.

        The WebSocket's TCP connection is aborted on our side (nothing can be sent over the
        dead link anyway), so the client sees a transport error and reconnects, as a page does.
        """
        eio = self.sio.eio
        ws = getattr(eio, "ws", None)
        if eio.current_transport == "websocket" and ws is not None:
            ws._writer.transport.abort()
            return
        await self.drop_transport(1)  # still on long-polling: close it, briefly

    async def drop_transport(self, seconds: float) -> None:
        """Abort what is left of a failed or lost connection, waiting at most `seconds`."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(seconds):
                await self.sio.eio.disconnect(abort=True)

    async def close(self) -> None:
        self.closing = True
        if self.reconnecting:
            self.reconnecting.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self.sio.disconnect()
        await self.http.close()


class Worker:
    """Phones in one process; commands come as JSON lines on stdin, answers go to stdout."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.base, self.code = config["base"], config["code"]
        self.indices: list[int] = config["indices"]
        # The page's order: WebSocket at once (python-engineio has no fallback to long-polling,
        # so this is WebSocket only), or long-polling first, then the upgrade.
        self.transports = ["polling", "websocket"] if config["polling_first"] else ["websocket"]
        self.questions: int = config["questions"]
        self.phones: list[Phone] = []

    @staticmethod
    def send(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    async def run(self) -> None:
        self.phones = [Phone(self, index) for index in self.indices]
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        gate = asyncio.Semaphore(50)
        failed: dict[str, int] = {}

        async def join(phone: Phone) -> None:
            async with gate:
                try:
                    await phone.join()
                except Exception as error:
                    failed[type(error).__name__] = failed.get(type(error).__name__, 0) + 1

        await asyncio.gather(*(join(phone) for phone in self.phones))
        self.send({"type": "joined", "failed": failed})
        while line := await reader.readline():
            command = json.loads(line)
            if command["cmd"] == "vote":
                votes = await asyncio.gather(
                    *(phone.vote(command["round"]) for phone in self.phones),
                    return_exceptions=True,
                )
                choices = [phone.choice for phone in self.phones]
                self.send(
                    {"type": "voted", "acked": sum(v is True for v in votes), "choices": choices}
                )
            elif command["cmd"] == "arm":
                for phone in self.phones:
                    phone.armed = True
                self.send({"type": "armed"})
            elif command["cmd"] == "offline":
                await asyncio.gather(*(phone.offline() for phone in self.phones))
                self.send({"type": "offline"})
            elif command["cmd"] == "report":
                self.send(
                    {
                        "type": "report",
                        "dropped": [phone.dropped for phone in self.phones],
                        "back": [phone.back_at for phone in self.phones],
                        "shown": [phone.back_choice for phone in self.phones],
                        "attempts": sum(phone.attempts for phone in self.phones),
                        "failures": merge(phone.failures for phone in self.phones),
                    }
                )
            elif command["cmd"] == "quit":
                break
        await asyncio.gather(*(phone.close() for phone in self.phones), return_exceptions=True)


def merge(counters: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for counter in counters:
        for key, value in counter.items():
            total[key] = total.get(key, 0) + value
    return total


def worker_main(config: str) -> int:
    raise_file_limit()
    asyncio.run(Worker(json.loads(config)).run())
    return 0


# --------------------------------------------------------------------------------------------
# The orchestrator: network, server, screens
# --------------------------------------------------------------------------------------------


class Network:
    """A namespace for the phones and a veth pair to it; this run's own, removed at the end."""

    def __init__(self) -> None:
        n = os.getpid() % 250 + 1
        self.name = f"polling-blip-{os.getpid()}"
        self.host_side, self.phone_side = f"pbh{os.getpid()}", f"pbp{os.getpid()}"
        self.server_address, self.phone_address = f"10.200.{n}.1", f"10.200.{n}.2"
        self.made = False

    def ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, text=True)

    def create(self) -> None:
        self.ip("netns", "add", self.name)
        self.made = True
        self.ip("link", "add", self.host_side, "type", "veth", "peer", "name", self.phone_side)
        self.ip("link", "set", self.phone_side, "netns", self.name)
        self.ip("addr", "add", f"{self.server_address}/24", "dev", self.host_side)
        self.ip("link", "set", self.host_side, "up")
        self.ip("-n", self.name, "addr", "add", f"{self.phone_address}/24", "dev", self.phone_side)
        self.ip("-n", self.name, "link", "set", self.phone_side, "up")
        self.ip("-n", self.name, "link", "set", "lo", "up")

    def link(self, state: str) -> None:
        self.ip("link", "set", self.host_side, state)

    def remove(self) -> None:
        if self.made:
            # Deleting the namespace deletes the veth pair with it.
            subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True)
            subprocess.run(["ip", "link", "del", self.host_side], check=False, capture_output=True)
            self.made = False


class Server:
    """`polling serve` on the server's side of the veth, with a fresh SQLite database."""

    def __init__(self, host: str, phones: int, tmp: Path) -> None:
        self.host, self.tmp = host, tmp
        self.env = {
            **os.environ,
            "POLLING_INSTANCE_PATH": str(tmp / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp / 'blip.sqlite3'}",
            "POLLING_MAX_CONNECTIONS": str(max(20000, 3 * phones)),
        }
        self.env.pop("POLLING_PUBLIC_URL", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.code = self.presenter_key = self.moderator_key = ""
        self.started = 0

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, *extra: str) -> None:
        self.started += 1
        out, err = self.tmp / f"server-{self.started}.out", self.tmp / f"server-{self.started}.err"
        command = [str(POLLING), "serve", "--host", self.host, "--port", str(self.port), *extra]
        with out.open("wb") as stdout, err.open("wb") as stderr:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=stdout, stderr=stderr, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while b"Listening on" not in err.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{err.read_text()}")
            time.sleep(0.02)  # the log file is all it tells; 20 ms is the timing's resolution
        printed = out.read_text()
        self.port = int(re.search(r"Listening on http://\S+:(\d+)", err.read_text())[1])
        self.code = re.search(r"^Join:\s+\S+/(\w+)\s*$", printed, re.M)[1]
        self.presenter_key = re.search(r"^Presenter:\s+\S+key=(\w+)", printed, re.M)[1]
        self.moderator_key = re.search(r"^Moderator:\s+\S+key=(\w+)", printed, re.M)[1]

    def kill(self) -> None:
        assert self.process
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Screen:
    """The projector or the moderator, on the server's side of the link."""

    def __init__(self, server: Server, role: str, key: str) -> None:
        import socketio

        self.server, self.role, self.key = server, role, key
        self.sio = socketio.AsyncClient(
            reconnection_delay=0.2, reconnection_delay_max=1, handle_sigint=False
        )
        self.states: list[dict[str, Any]] = []
        self.tallies: list[tuple[float, dict[str, Any]]] = []
        self.sio.on("state", lambda data: self.states.append(data))
        self.sio.on("tally", lambda data: self.tallies.append((time.time(), data)))

    async def connect(self) -> None:
        await self.sio.connect(
            self.server.base,
            auth={"code": self.server.code, "role": self.role, "key": self.key},
            headers={"Origin": self.server.base},
            transports=["websocket"],
            wait_timeout=CONNECT_TIMEOUT,
        )

    async def control(self, action: str) -> None:
        reply = await self.sio.call("control", {"action": action}, timeout=30)
        if reply != {"ok": True}:
            raise RuntimeError(f"control {action}: {reply}")


class WorkerProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin
        self.process.stdin.write((json.dumps(command) + "\n").encode())

    async def expect(self, kind: str, timeout: float) -> dict[str, Any]:
        assert self.process.stdout
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            if not line:
                raise RuntimeError("a phone worker ended early")
            message = json.loads(line)
            if message.get("type") == kind:
                return message


async def all_expect(workers: list[WorkerProcess], kind: str, timeout: float) -> list[dict]:
    return await asyncio.gather(*(worker.expect(kind, timeout) for worker in workers))


async def health_watch(base: str, stop: asyncio.Event, gaps: list[tuple[float, float]]) -> None:
    """GET /healthz twice a second from the server's side; note each time it took or failed."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            began = time.monotonic()
            try:
                async with http.get(f"{base}/healthz", timeout=aiohttp.ClientTimeout(5)) as r:
                    ok = r.status == 200
            except Exception:
                ok = False
            gaps.append((time.time(), time.monotonic() - began if ok else math.inf))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)


async def bench(args: argparse.Namespace, network: Network, tmp: Path) -> dict[str, Any]:
    server = Server(network.server_address, args.phones, tmp)
    server.start("--new-event", "--deck", str(DECK))
    log(f"server up at {server.base}, event {server.code}; phones in namespace {network.name}")
    presenter = Screen(server, "presenter", server.presenter_key)
    moderator = Screen(server, "moderator", server.moderator_key)
    await presenter.connect()
    await moderator.connect()
    for action in ("results_live", "next", "open"):
        await moderator.control(action)
    round_id = next(s for s in reversed(moderator.states) if s["phase"] == "open")["round"]["id"]

    workers: list[WorkerProcess] = []
    try:
        count = args.workers or max(1, min(4, math.ceil(args.phones / 500)))
        joined_at, join_cpu = time.time(), cpu_seconds(server.process.pid)
        for w in range(count):
            config = {
                "base": server.base,
                "code": server.code,
                "indices": list(range(w, args.phones, count)),
                "polling_first": args.polling_first,
                "questions": args.questions,
            }
            process = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", network.name, sys.executable, "-m", "benchmarks.blip",
                "--worker", json.dumps(config),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                limit=2**24, cwd=ROOT,
            )  # fmt: skip
            workers.append(WorkerProcess(process))
        joined = await all_expect(workers, "joined", 600)
        join_failed = merge(message["failed"] for message in joined)
        join_cpu = (cpu_seconds(server.process.pid) or 0) - (join_cpu or 0)
        join_s = time.time() - joined_at
        log(f"{args.phones} phones joined in {time.time() - joined_at:.1f} s, failed {join_failed}")
        for worker in workers:
            worker.send({"cmd": "vote", "round": round_id})
        voted = await all_expect(workers, "voted", 300)
        choices = [choice for message in voted for choice in message["choices"]]
        expected = {"agree": choices.count("agree"), "disagree": choices.count("disagree")}
        deadline = time.monotonic() + 30
        while not presenter.tallies or counts(presenter.tallies[-1][1]) != expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the projector never showed {expected}")
            await asyncio.sleep(0.05)
        log(f"{sum(m['acked'] for m in voted)} votes acked; the projector shows {expected}")

        for worker in workers:
            worker.send({"cmd": "arm"})
        await all_expect(workers, "armed", 60)
        stop_health, gaps = asyncio.Event(), []
        health = asyncio.create_task(health_watch(server.base, stop_health, gaps))
        tallies_from, states_from = len(presenter.tallies), len(presenter.states)
        pid = server.process.pid
        cpu_before = cpu_seconds(pid)
        event_at = time.time()
        if args.mode == "blip":
            network.link("down")
            if args.offline:
                for worker in workers:
                    worker.send({"cmd": "offline"})
                await all_expect(workers, "offline", 60)
            log(f"link down for {args.down} s")
            await asyncio.sleep(args.down - (time.time() - event_at))
            network.link("up")
            reachable = time.time()
            log("link up")
        else:
            killed_cpu = cpu_seconds(pid)
            server.kill()
            server.start("--event", server.code)
            reachable = time.time()
            pid = server.process.pid
            start_cpu = cpu_seconds(pid)
            log(f"server SIGKILLed and listening again after {reachable - event_at:.2f} s")

        deadline = time.monotonic() + args.timeout
        while True:
            for worker in workers:
                worker.send({"cmd": "report"})
            reports = await all_expect(workers, "report", 60)
            back = [at for message in reports for at in message["back"]]
            dropped = [d for message in reports for d in message["dropped"]]
            missing = sum(d and at is None for d, at in zip(dropped, back, strict=True))
            # Without the offline event a phone may never notice a short blip (TCP carries
            # it over); give it the browser's ping timeout (45 s) to find out.
            settled = args.offline or time.time() - reachable > 50 or args.mode == "restart"
            if (settled and missing == 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        all_back = time.time()
        cpu_after = cpu_seconds(pid)
        stop_health.set()
        await health
        shown = [choice for message in reports for choice in message["shown"]]
        wrong = sum(
            1 for at, got, had in zip(back, shown, choices, strict=True) if at and got != had
        )
        after = sorted(at - reachable for at in back if at is not None)
        # CPU of the server from the event until all were back; after a restart the new
        # process's, without its start-up (reported apart).
        if args.mode == "restart":
            storm_cpu = (cpu_after or 0) - (start_cpu or 0) + (killed_cpu or 0) - (cpu_before or 0)
        else:
            start_cpu = None
            storm_cpu = (cpu_after or 0) - (cpu_before or 0)
        per_phone = round(1000 * storm_cpu / len(after), 2) if after else None
        # /healthz from when the server was reachable again (during a restart it cannot answer).
        health = [gap for at, gap in gaps if at >= reachable]
        screens = [tally for _at, tally in presenter.tallies[tallies_from:]]
        screens += [state for state in presenter.states[states_from:] if state.get("results")]
        result = {
            "mode": args.mode,
            "phones": args.phones,
            "down_s": args.down if args.mode == "blip" else None,
            "offline_event": args.offline if args.mode == "blip" else None,
            "transports": "polling,websocket" if args.polling_first else "websocket",
            "questions": args.questions,
            "joined": args.phones - sum(join_failed.values()),
            "join_s": round(join_s, 2),
            # Each join: the vote page, the handshake (and upgrade), the namespace, the state.
            "join_cpu_ms_per_phone": round(1000 * join_cpu / args.phones, 2),
            "acked": sum(message["acked"] for message in voted),
            "dropped": sum(dropped),
            "back": len(after),
            "not_back": missing,
            "all_back_s": round(max(after), 2) if after and not missing else None,
            "back_p50_s": rounded(percentile(after, 0.5)),
            "back_p95_s": rounded(percentile(after, 0.95)),
            "wrong_vote_shown": wrong,
            "attempts": sum(message["attempts"] for message in reports),
            "failed_attempts": merge(message["failures"] for message in reports),
            "server_cpu_s": round(storm_cpu, 2),
            "server_cpu_ms_per_phone_back": per_phone,
            "server_start_cpu_s": rounded(start_cpu),
            "server_rss_mb": memory_mb(pid, "VmRSS"),
            "server_peak_rss_mb": memory_mb(pid, "VmHWM"),
            "healthz_max_s": rounded(max(health)) if health and max(health) < math.inf else None,
            "healthz_failed": sum(gap == math.inf for gap in health),
            "projector_updates": len(screens),
            "projector_wrong_tallies": sum(counts(screen) != expected for screen in screens),
            "server_exited": server.process.poll() is not None,
            "measured_s": round(all_back - event_at, 1),
        }
        return result
    finally:
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.send({"cmd": "quit"})
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), 20)
            except TimeoutError:
                worker.process.kill()
        for screen in (presenter, moderator):
            with contextlib.suppress(Exception):
                await screen.sio.disconnect()
        server.stop()


def counts(tally: dict[str, Any]) -> dict[str, int] | None:
    results = tally.get("results")
    return results["counts"] if results else None


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--mode", choices=("blip", "restart"), default="blip")
    parser.add_argument("--down", type=float, default=5.0, help="seconds the link is down")
    parser.add_argument(
        "--offline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="phones notice the loss at once, as a browser's offline event (default)",
    )
    parser.add_argument(
        "--polling-first",
        action="store_true",
        help="phones connect by long-polling, then upgrade (the page's way before 2026-12-02; "
        "default: WebSocket at once, as the page does)",
    )
    parser.add_argument(
        "--questions",
        type=int,
        default=0,
        help="the hall follows the questions: this many asked before the blip (default: none)",
    )
    parser.add_argument("--workers", type=int, default=0, help="phone processes (default N/500)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for all")
    parser.add_argument("--keep", action="store_true", help="keep the server's logs and database")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker_main(argv[1])
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("blip.py needs root: it makes a network namespace (ip netns)", file=sys.stderr)
        return 2
    raise_file_limit()
    network = Network()
    tmp = Path(tempfile.mkdtemp(prefix="polling-blip-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        network.create()
        result = asyncio.run(bench(args, network, tmp))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return 2
    finally:
        network.remove()
        if not args.keep:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
        else:
            log(f"kept {tmp}")
    log(
        f"{result['back']} of {result['dropped']} dropped back, all in {result['all_back_s']} s "
        f"(p50 {result['back_p50_s']} s, p95 {result['back_p95_s']} s), "
        f"{result['wrong_vote_shown']} shown a wrong vote, "
        f"{result['projector_wrong_tallies']} wrong tallies"
    )
    print(json.dumps(result))
    if result["wrong_vote_shown"] or result["projector_wrong_tallies"]:
        return 1
    return 0 if result["not_back"] == 0 else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
