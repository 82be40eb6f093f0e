"""What the benchmark command lines share: options, signals, limits and the result line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
from typing import Any

from benchmarks.harness.servers import PG_ADMIN_URL

ASYNC_MODES = ("eventlet", "gevent", "threading")


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """--async-mode, --pg-admin-url, --keep: how the started server runs."""
    parser.add_argument("--async-mode", choices=ASYNC_MODES, default="eventlet")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="to create the bench db")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with server logs")


def add_client_options(
    parser: argparse.ArgumentParser, *, connect_concurrency: int, ack_timeout: float
) -> None:
    """How the clients connect and wait: the two benchmarks differ only in two defaults."""
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=connect_concurrency,
        help=f"connects in flight at once, over all generators (default {connect_concurrency})",
    )
    parser.add_argument(
        "--connect-timeout", type=float, default=30.0, help="seconds per connect attempt"
    )
    parser.add_argument(
        "--ack-timeout",
        type=float,
        default=ack_timeout,
        help=f"seconds per vote ack (default {ack_timeout:g})",
    )
    parser.add_argument(
        "--client-watchdog",
        type=float,
        default=45.0,
        help="seconds a client waits for the server before giving up, as a browser does "
        "(default 45; 0 keeps python-engineio's stricter 30 s)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (moments, choices)")


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def on_sigterm(_signum: int, _frame: Any) -> None:
    """Stop as on Ctrl+C: asyncio then cancels the run cleanly, and everything is stopped."""
    os.kill(os.getpid(), signal.SIGINT)


def prepare_process() -> None:
    """Many sockets, and a clean stop on Ctrl+C or SIGTERM."""
    raise_file_limit()
    # Ctrl+C stops the run even when started from a shell that ignores SIGINT (e.g. with &).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_sigterm)


def print_result(result: dict[str, Any]) -> None:
    """The last line on stdout: the figures as one JSON object."""
    print(json.dumps(result), flush=True)
