"""The floor: the bare stack a vote cannot go below, for the load benchmark to compare with.

    python -m benchmarks.floor_server --compare -- --voters 1000 --window 10

python-socketio on eventlet's WSGI server, as `polling serve` runs it, with no Flask and no
database: the vote page is a few bytes and a cookie, a connection is accepted with a small
state, a vote is acknowledged at once and counted in a dict, and the projector and moderator get
a tally every 0.25 s while votes come in (polling's POLLING_TALLY_INTERVAL). It speaks just
enough of polling's protocol (docs/protocol.md) for benchmarks/load.py to drive it unchanged.

With `--compare`, it runs benchmarks/load.py against itself and then against a real
`polling serve` with the same arguments (after `--`), and prints both results and the ratio of
server CPU per vote, ack latency and connect time: each figure next to its floor. Without it,
it serves until stopped and prints the load.py options that target it:

    python -m benchmarks.floor_server --port 5099
    python -m benchmarks.load --voters 1000 --window 10 --url http://127.0.0.1:5099 \\
        --code 100000 --presenter-key p --moderator-key m --server-pid PID

Not a product: the dict of votes dies with the process; it only shows what the stack costs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CODE, PRESENTER_KEY, MODERATOR_KEY = "100000", "p", "m"
KEYS = {"presenter": PRESENTER_KEY, "moderator": MODERATOR_KEY}
TALLY_INTERVAL = 0.25
CHOICES = ("agree", "disagree")


def make_app() -> Any:
    """The Socket.IO server and its WSGI app: the vote page, then the events load.py sends."""
    import socketio

    sio = socketio.Server(async_mode="eventlet", cors_allowed_origins=None)
    state = {"phase": "lobby", "round": None, "live": False}
    votes: dict[str, str] = {}  # participant token -> choice, for the one round
    people: dict[str, tuple[str, str | None]] = {}  # sid -> (role, token)
    dirty = {"tally": False}

    def public_state() -> dict[str, Any]:
        current = state["round"]
        return {
            "phase": state["phase"],
            "round": {"id": current, "open": state["phase"] == "open"} if current else None,
        }

    def tally() -> dict[str, Any]:
        counts = {choice: 0 for choice in CHOICES}
        for choice in votes.values():
            counts[choice] += 1
        return {
            "round_id": state["round"],
            "results": {"counts": counts} if state["live"] else None,
            "turnout": {"voters": len(votes)},
        }

    @sio.event
    def connect(sid: str, environ: dict[str, Any], auth: Any) -> bool:
        auth = auth if isinstance(auth, dict) else {}
        role = auth.get("role")
        if auth.get("code") != CODE or role not in ("audience", "presenter", "moderator"):
            return False
        if role != "audience" and auth.get("key") != KEYS[role]:
            return False
        token = cookie(environ.get("HTTP_COOKIE", ""))
        if role == "audience" and token is None:
            return False
        people[sid] = (role, token)
        sio.enter_room(sid, role)
        you = {"choice": votes.get(token)} if role == "audience" else None
        sio.emit(
            "state", {**public_state(), "can_control": role == "moderator", "you": you}, to=sid
        )
        return True

    @sio.event
    def disconnect(sid: str, *_reason: Any) -> None:
        people.pop(sid, None)

    @sio.event
    def sync(sid: str, _data: Any = None) -> dict[str, Any]:
        return {"ok": True, "state": public_state()}

    @sio.event
    def control(sid: str, data: Any) -> dict[str, Any]:
        role, _token = people.get(sid, (None, None))
        action = data.get("action") if isinstance(data, dict) else None
        if role != "moderator":
            return {"ok": False, "error": "forbidden"}
        if action == "results_live":
            state["live"] = True
        elif action == "next":
            state["phase"], state["round"] = "closed", (state["round"] or 0) + 1
            votes.clear()
        elif action == "open":
            state["phase"] = "open"
        elif action == "close":
            state["phase"] = "closed"
        else:
            return {"ok": False, "error": "unknown action"}
        sio.emit("state", public_state())
        return {"ok": True}

    @sio.event
    def vote(sid: str, data: Any) -> dict[str, Any]:
        role, token = people.get(sid, (None, None))
        if not isinstance(data, dict) or role != "audience" or token is None:
            return {"ok": False, "error": "invalid"}
        if state["phase"] != "open" or data.get("round") != state["round"]:
            return {"ok": False, "error": "closed"}
        if data.get("choice") not in CHOICES:
            return {"ok": False, "error": "invalid"}
        votes[token] = data["choice"]
        dirty["tally"] = True
        return {"ok": True, "round": state["round"], "choice": data["choice"]}

    def publish() -> None:
        while True:
            sio.sleep(TALLY_INTERVAL)
            if dirty["tally"]:
                dirty["tally"] = False
                message = tally()
                sio.emit("tally", message, room="presenter")
                sio.emit("tally", message, room="moderator")

    sio.start_background_task(publish)

    def page(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") == f"/{CODE}":
            token = cookie(environ.get("HTTP_COOKIE", "")) or secrets.token_urlsafe(16)
            start_response(
                "200 OK",
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Set-Cookie", f"polling={token}; HttpOnly; Path=/; SameSite=Lax"),
                ],
            )
            return [b"<!doctype html><title>floor</title>"]
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return socketio.WSGIApp(sio, page)


def cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "polling" and value:
            return value
    return None


def serve(host: str, port: int) -> None:
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    import eventlet.wsgi

    listener = eventlet.listen((host, port), backlog=2048)
    bound = listener.getsockname()[1]
    print(
        json.dumps(
            {
                "url": f"http://{host}:{bound}",
                "pid": os.getpid(),
                "load_args": [
                    f"--url=http://{host}:{bound}",
                    f"--code={CODE}",
                    f"--presenter-key={PRESENTER_KEY}",
                    f"--moderator-key={MODERATOR_KEY}",
                    f"--server-pid={os.getpid()}",
                ],
            }
        ),
        flush=True,
    )
    # The same settings as polling's runtime.serve: room for a hall, no access log.
    eventlet.wsgi.server(listener, make_app(), max_size=20000, log_output=False)


def load(arguments: list[str]) -> dict[str, Any]:
    """One run of benchmarks/load.py; its last stdout line is the result."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", *arguments],
        cwd=HERE.parent,  # benchmarks is a package of the checkout
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"error": f"load.py exited {done.returncode}"}


def per_vote_ms(result: dict[str, Any]) -> float | None:
    cpu, acked = result.get("server_cpu_s"), result.get("acked")
    return round(1000 * cpu / acked, 3) if cpu is not None and acked else None


def compare(arguments: list[str]) -> int:
    floor = subprocess.Popen(
        [sys.executable, __file__, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        started = json.loads(floor.stdout.readline())
        print(f"[floor] bare stack at {started['url']}", file=sys.stderr, flush=True)
        bare = load([*arguments, *started["load_args"]])
    finally:
        floor.terminate()
        floor.wait(timeout=10)
    time.sleep(1)  # let the machine settle between the two runs
    real = load(arguments)
    ratios = {}
    for key in ("ack_p50_ms", "ack_p95_ms", "connect_s", "server_cpu_s"):
        if real.get(key) is not None and bare.get(key):
            ratios[key] = round(real[key] / bare[key], 2)
    cpu_floor, cpu_real = per_vote_ms(bare), per_vote_ms(real)
    if cpu_floor and cpu_real:
        ratios["server_cpu_per_vote"] = round(cpu_real / cpu_floor, 2)
    print(
        json.dumps(
            {
                "floor": bare,
                "polling": real,
                "floor_cpu_ms_per_vote": cpu_floor,
                "polling_cpu_ms_per_vote": cpu_real,
                "ratio_to_floor": ratios,
            }
        )
    )
    return 0 if "error" not in bare and "error" not in real else 2


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument(
        "--compare",
        action="store_true",
        help="run load.py (arguments after --) against the floor, then against polling",
    )
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    rest = argv[split + 1 :]
    if args.compare:
        return compare(rest)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
