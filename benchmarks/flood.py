"""One phone's message flood against a running hall: do the other phones notice?

Starts `polling serve` (eventlet) on a fresh SQLite database, connects --phones real
Socket.IO clients that each change their vote every --interval seconds and time each
acknowledgement, and polls /healthz. After --seconds of quiet, --flooders scripted phones
join and send `42["vote",{"round":"x"}]` as fast as they can over their WebSocket; each one
that is cut off takes a new cookie and starts again. The last line on stdout is one JSON
object: ack p50/p95 of the other phones, quiet and during the flood, and /healthz latency.

    .venv/bin/python benchmarks/flood.py --phones 40 --flooders 4 --seconds 15
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
import socketio
import websocket

POLLING = Path(sys.executable).with_name("polling")
FLOOD_FRAME = '42["vote",{"round":"x"}]'


def log(message: str) -> None:
    print(f"[flood] {message}", file=sys.stderr, flush=True)


def start_server(
    folder: Path, max_connections: int | None = None, open_files: int | None = None
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`polling serve` on a free port; returns the process and its printed URLs."""
    environment = {
        **os.environ,
        "POLLING_INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": f"sqlite:///{folder / 'flood.sqlite3'}",
        "POLLING_ASYNC_MODE": "eventlet",
    }
    environment.pop("POLLING_PUBLIC_URL", None)
    if max_connections:
        environment["POLLING_MAX_CONNECTIONS"] = str(max_connections)

    def limit_files() -> None:
        if open_files:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    process = subprocess.Popen(
        [str(POLLING), "serve", "--host", "127.0.0.1", "--port", "0"],
        env=environment,
        preexec_fn=limit_files,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed = ""
    assert process.stdout is not None
    while "Listening on" not in printed:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"server did not start:\n{printed}")
        printed += line
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    port = re.search(r"Listening on http://127\.0\.0\.1:(\d+)", printed)[1]
    urls = {
        name.lower(): re.search(rf"^{name}:\s+(\S+)", printed, re.M)[1]
        for name in ("Join", "Moderator")
    }
    urls["base"] = f"http://127.0.0.1:{port}"
    urls["code"] = urls["join"].rsplit("/", 1)[1]
    urls["key"] = urls["moderator"].split("key=", 1)[1]
    return process, urls


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], fraction: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return round(ordered[min(int(len(ordered) * fraction), len(ordered) - 1)] * 1000, 1)


class Phone:
    """A real Socket.IO client that changes its vote every interval and times the acks."""

    def __init__(self, urls: dict[str, str]) -> None:
        cookie = requests.get(urls["join"], timeout=10).cookies["polling"]
        self.sio = socketio.Client()
        self.round: int | None = None
        self.sio.on("state", self._on_state)
        self.sio.connect(
            urls["base"],
            auth={"code": urls["code"], "role": "audience"},
            headers={"Cookie": f"polling={cookie}"},
            transports=["websocket"],
            wait_timeout=10,
        )
        self.acks: list[tuple[float, float]] = []  # (sent at, seconds to the ack)
        self.failures = 0

    def _on_state(self, state: dict[str, Any]) -> None:
        if state.get("round"):
            self.round = state["round"]["id"]

    def run(self, until: float, interval: float, offset: float) -> None:
        time.sleep(offset)
        choice = "agree"
        while time.monotonic() < until:
            sent = time.monotonic()
            try:
                reply = self.sio.call("vote", {"round": self.round, "choice": choice}, timeout=10)
                if reply.get("ok"):
                    self.acks.append((sent, time.monotonic() - sent))
                else:
                    self.failures += 1
            except Exception:  # a timeout is a figure, not a crash
                self.failures += 1
            choice = "disagree" if choice == "agree" else "agree"
            time.sleep(max(0.0, interval - (time.monotonic() - sent)))


def flooder(urls: dict[str, str], stop: Any, counts: Any) -> None:
    """Connect as a phone and send frames as fast as possible; on being cut off, again.

    Runs in a process of its own: in the phones' process its busy loop would hold their
    interpreter lock and show as their latency, not the server's. At the lowest priority:
    on a real deployment the flooder's CPU is its own machine's, not the server's.
    """
    os.nice(19)
    port = urls["base"].rsplit(":", 1)[1]
    auth = json.dumps({"code": urls["code"], "role": "audience"})
    while not stop.is_set():
        try:
            cookie = requests.get(urls["join"], timeout=10).cookies["polling"]
            ws = websocket.create_connection(
                f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
                cookie=f"polling={cookie}",
                timeout=10,
            )
            ws.recv()
            ws.send("40" + auth)
            with counts.get_lock():
                counts[0] += 1
            while not stop.is_set():
                ws.send(FLOOD_FRAME)
        except Exception:
            with counts.get_lock():
                counts[1] += 1
            time.sleep(0.05)


HALF_SENT_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"  # the headers never end


def hold_half_sent(port: int, count: int, stop: Any, held: Any) -> None:
    """Keep `count` connections that sent half a GET, re-opening each one the server closes
    as soon as it is closed, until `stop` is set. held[0]: the most held at once; held[1]:
    how many the server closed.

    Runs in a thread (tests/test_slow_clients.py) or, at the lowest priority, in a process
    of its own (`hold_half_sent_niced`, this benchmark)."""
    selector = selectors.DefaultSelector()
    try:
        while not stop.is_set():
            while len(selector.get_map()) < count and not stop.is_set():
                try:
                    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                    connection.sendall(HALF_SENT_REQUEST)
                except OSError:
                    time.sleep(0.05)
                    continue
                connection.setblocking(False)
                selector.register(connection, selectors.EVENT_READ)
            held[0] = max(held[0], len(selector.get_map()))
            # The server never answers a half-sent request: readable means closed.
            for key, _ in selector.select(timeout=0.1):
                selector.unregister(key.fileobj)
                key.fileobj.close()
                held[1] += 1
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()
        selector.close()


def hold_half_sent_niced(port: int, count: int, stop: Any, held: Any) -> None:
    os.nice(19)
    hold_half_sent(port, count, stop, held)


def health(urls: dict[str, str], stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    while not stop.is_set():
        sent = time.monotonic()
        try:
            requests.get(f"{urls['base']}/healthz", timeout=5).raise_for_status()
            samples.append((sent, time.monotonic() - sent))
        except Exception:
            samples.append((sent, 5.0))
        time.sleep(0.25)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=40)
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15, help="of each phase")
    parser.add_argument("--interval", type=float, default=2.5, help="between a phone's votes")
    parser.add_argument("--half-open", type=int, default=0, help="half-sent requests to hold")
    parser.add_argument("--max-connections", type=int, help="POLLING_MAX_CONNECTIONS")
    parser.add_argument("--open-files", type=int, help="the server's ulimit -n")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        process, urls = start_server(Path(folder), args.max_connections, args.open_files)
        try:
            return run(args, process, urls)
        finally:
            process.terminate()
            process.wait(timeout=10)


def run(args: argparse.Namespace, process: subprocess.Popen[str], urls: dict[str, str]) -> int:
    moderator = socketio.Client()
    moderator.connect(
        urls["base"],
        auth={"code": urls["code"], "role": "moderator", "key": urls["key"]},
        transports=["websocket"],
    )
    phones = [Phone(urls) for _ in range(args.phones)]
    for action in ("next", "open"):
        assert moderator.call("control", {"action": action})["ok"]
    while any(phone.round is None for phone in phones):
        time.sleep(0.05)
    log(
        f"{len(phones)} phones voting; quiet for {args.seconds} s, then {args.flooders} "
        f"flooders and {args.half_open} half-sent requests"
    )
    start = time.monotonic()
    flood_at = start + args.seconds
    until = flood_at + args.seconds
    stop = threading.Event()
    health_samples: list[tuple[float, float]] = []
    threads = [
        threading.Thread(
            target=phone.run, args=(until, args.interval, i * args.interval / len(phones))
        )
        for i, phone in enumerate(phones)
    ]
    threads.append(threading.Thread(target=health, args=(urls, stop, health_samples)))
    for thread in threads:
        thread.start()
    rss_quiet = rss_mb(process.pid)
    time.sleep(max(0.0, flood_at - time.monotonic()))
    counts = multiprocessing.Array("i", 2)  # connections, cut off
    stop_flooding = multiprocessing.Event()
    flooders = [
        multiprocessing.Process(target=flooder, args=(urls, stop_flooding, counts), daemon=True)
        for _ in range(args.flooders)
    ]
    for flooding in flooders:
        flooding.start()
    held = multiprocessing.Array("i", 2)  # most held at once, closed by the server
    if args.half_open:
        holder = multiprocessing.Process(
            target=hold_half_sent_niced,
            args=(int(urls["base"].rsplit(":", 1)[1]), args.half_open, stop_flooding, held),
            daemon=True,
        )
        holder.start()
        flooders.append(holder)
    time.sleep(max(0.0, until - time.monotonic()))
    rss_flood = rss_mb(process.pid)
    stop.set()
    stop_flooding.set()
    for flooding in flooders:
        flooding.join(timeout=10)
        if flooding.is_alive():
            flooding.kill()
    for thread in threads:
        thread.join(timeout=30)
    acks = [ack for phone in phones for ack in phone.acks]
    quiet = [seconds for sent, seconds in acks if sent < flood_at]
    flood = [seconds for sent, seconds in acks if sent >= flood_at + 1]  # once it is going
    health_flood = [seconds for sent, seconds in health_samples if sent >= flood_at]
    result = {
        "phones": args.phones,
        "flooders": args.flooders,
        "quiet_acks": len(quiet),
        "quiet_p50_ms": percentile(quiet, 0.5),
        "quiet_p95_ms": percentile(quiet, 0.95),
        "flood_acks": len(flood),
        "flood_p50_ms": percentile(flood, 0.5),
        "flood_p95_ms": percentile(flood, 0.95),
        "vote_failures": sum(phone.failures for phone in phones),
        "healthz_flood_p95_ms": percentile(health_flood, 0.95),
        "healthz_flood_max_ms": percentile(health_flood, 1.0),
        "half_open_held": held[0],
        "half_open_closed_by_server": held[1],
        "server_alive": process.poll() is None,
        "flood_connections": counts[0],
        "flooders_cut_off": counts[1],
        "rss_quiet_mb": round(rss_quiet, 1),
        "rss_flood_mb": round(rss_flood, 1),
    }
    for phone in phones:
        phone.sio.disconnect()
    moderator.disconnect()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
