"""Run `polling serve` as a real process, as an organiser would, and read its ready line."""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

POLLING = Path(sys.executable).with_name("polling")
START_TIMEOUT = 30
READY = "POLLING_READY "  # the line `polling serve` prints once it listens (docs/deployment.md)


class ServerProcess:
    """A server on 127.0.0.1 with its own database; can be killed and started again."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        polling: Path = POLLING,
        cwd: Path | None = None,
        open_files: int | None = None,
        **environment: str,
    ) -> None:
        self.polling = polling  # the `polling` command: this checkout's, or an installed one
        self.cwd = cwd
        self.environment = {
            **os.environ,
            "POLLING_INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
            # A test machine busy with other tests makes any server's event loop late now and
            # then; turning phones away for it is tested on purpose (tests/test_admission.py),
            # not left to chance in every other test.
            "POLLING_ADMISSION_LAG": "0",
            **environment,
        }
        self.environment.pop("POLLING_PUBLIC_URL", None)
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.urls: dict[str, str] = {}
        self.ready: dict[str, Any] = {}  # the ready line's JSON object
        self.printed = ""  # what the server printed until it was ready
        self.output = ""  # what the server printed after that, for diagnosis
        self.drains: list[threading.Thread] = []
        self.open_files = open_files  # `ulimit -n` of the server process, if given

    def start(self, *extra: str) -> ServerProcess:
        """Start (or restart on the same port) and wait until it listens."""
        command = [str(self.polling), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, *extra],
            env=self.environment,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=self._limit_files if self.open_files else None,
        )
        try:
            self.printed, self.ready = self._read_until_ready()
        except RuntimeError:
            self.stop()
            raise
        # Keep draining what the server prints, so a full pipe can never stall it.
        self.drains = [
            threading.Thread(target=self._drain, args=(pipe,), daemon=True)
            for pipe in (self.process.stdout, self.process.stderr)
        ]
        for drain in self.drains:
            drain.start()
        self.port = self.ready["port"]
        self.urls = {role: str(self.ready[role]) for role in ("join", "presenter", "moderator")}
        return self

    def _limit_files(self) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def code(self) -> str:
        return urlsplit(self.urls["join"]).path.strip("/")

    def key(self, role: str) -> str:
        return parse_qs(urlsplit(self.urls[role]).query)["key"][0]

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as when the laptop dies."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._close_pipes()

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
        self._close_pipes()

    def _close_pipes(self) -> None:
        """After the process ended: the drains reach end of file and close the pipes."""
        for drain in self.drains:
            drain.join(timeout=10)
        self.drains = []
        if self.process:
            for pipe in (self.process.stdout, self.process.stderr):
                if pipe and not pipe.closed:
                    pipe.close()

    def _drain(self, pipe) -> None:
        """Read until the process is gone (end of file), then close the pipe."""
        with pipe:
            for chunk in iter(lambda: os.read(pipe.fileno(), 65536), b""):
                self.output += chunk.decode(errors="replace")

    def _read_until_ready(self) -> tuple[str, dict[str, Any]]:
        """Collect stdout and stderr until the ready line is complete; return all that was
        printed and the line's JSON object.

        Reads the raw pipes: a buffered readline could keep lines in Python's buffer where
        select() cannot see them.
        """
        assert self.process and self.process.stdout and self.process.stderr
        selector = selectors.DefaultSelector()
        for pipe in (self.process.stdout, self.process.stderr):
            selector.register(pipe.fileno(), selectors.EVENT_READ)
        stdout = self.process.stdout.fileno()
        printed = {stdout: b"", self.process.stderr.fileno(): b""}
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while (ready := ready_line(printed[stdout].decode(errors="replace"))) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    shown = b"".join(printed.values()).decode(errors="replace")
                    raise RuntimeError(f"server did not start:\n{shown}")
                for key, _ in selector.select(timeout=remaining):
                    printed[key.fd] += os.read(key.fd, 65536)
        finally:
            selector.close()
        return b"".join(printed.values()).decode(errors="replace"), ready


def ready_line(stdout: str) -> dict[str, Any] | None:
    """The JSON object of the complete ready line in what `polling serve` printed, if any."""
    for line in stdout.splitlines(keepends=True):
        if line.startswith(READY) and line.endswith("\n"):
            return json.loads(line.removeprefix(READY))
    return None


def terminate(process: subprocess.Popen[Any]) -> None:
    """SIGTERM and wait; SIGKILL if it has not ended within 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
