"""Run `polling serve` as a real process, as an organiser would, and read what it prints."""

from __future__ import annotations

import os
import re
import resource
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

POLLING = Path(sys.executable).with_name("polling")
START_TIMEOUT = 30


class ServerProcess:
    """A server on 127.0.0.1 with its own database; can be killed and started again."""

    def __init__(self, tmp_path: Path, open_files: int | None = None, **environment: str) -> None:
        self.environment = {
            **os.environ,
            "POLLING_INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
            **environment,
        }
        self.environment.pop("POLLING_PUBLIC_URL", None)
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.urls: dict[str, str] = {}
        self.output = ""  # what the server printed after starting, for diagnosis
        self.drains: list[threading.Thread] = []
        self.open_files = open_files  # `ulimit -n` of the server process, if given

    def start(self, *extra: str) -> ServerProcess:
        """Start (or restart on the same port) and wait until it listens."""
        command = [str(POLLING), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, *extra],
            env=self.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=self._limit_files if self.open_files else None,
        )
        try:
            printed = self._read_until_listening()
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
        self.port = int(re.search(r"Listening on http://127\.0\.0\.1:(\d+)", printed)[1])
        for name in ("Join", "Presenter", "Moderator"):
            self.urls[name.lower()] = re.search(rf"^{name}:\s+(\S+)", printed, re.M)[1]
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
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
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

    def _read_until_listening(self) -> str:
        """Collect stdout and stderr until the URLs and the 'Listening on' line are printed.

        Reads the raw pipes: a buffered readline could keep lines in Python's buffer where
        select() cannot see them.
        """
        assert self.process and self.process.stdout and self.process.stderr
        selector = selectors.DefaultSelector()
        for pipe in (self.process.stdout, self.process.stderr):
            selector.register(pipe.fileno(), selectors.EVENT_READ)
        printed = b""
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while b"Listening on" not in printed or b"Moderator:" not in printed:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    raise RuntimeError(f"server did not start:\n{printed.decode()}")
                for key, _ in selector.select(timeout=remaining):
                    printed += os.read(key.fd, 65536)
        finally:
            selector.close()
        return printed.decode()
