"""nginx in front of the servers, from the same template as the deployment guide.

`deploy/nginx.conf` is the `http`-level configuration that docs/deployment.md shows; `render`
fills in the upstream servers and the `listen` lines. The guide's block is `render(*DOC_VALUES)`
(tests/test_nginx.py checks it), and the tests run nginx with the same template on a free port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.server_process import terminate

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
START_TIMEOUT = 10

# What the deployment guide shows: two processes on one machine, TLS on port 443.
DOC_VALUES = (
    ["127.0.0.1:5001", "127.0.0.1:5002"],
    [
        "listen 443 ssl;",
        "server_name vote.example.org;",
        "ssl_certificate     /etc/ssl/vote.example.org.pem;",
        "ssl_certificate_key /etc/ssl/vote.example.org.key;",
    ],
)


def render(servers: list[str], listen: list[str]) -> str:
    """The template with one `server` line per upstream address and the given listen lines."""
    text = TEMPLATE.read_text()
    text = text.replace("@servers@", "\n".join(f"    server {address};" for address in servers))
    return text.replace("@listen@", "\n".join(f"    {line}" for line in listen))


def nginx_binary() -> str | None:
    """Debian's nginx lives in /usr/sbin, which is not on every user's PATH."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Nginx:
    """nginx as a foreground process of this test: its own prefix, config, temp dirs and port.

    One process (`master_process off`), so it never switches users and needs no system paths.
    Each response carries `X-Upstream` (the process that answered), added outside the
    template's config, only here, so tests can see where a request went.
    """

    def __init__(self, prefix: Path, servers: list[str]) -> None:
        self.prefix = prefix
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "logs").mkdir(exist_ok=True)
        (prefix / "polling.conf").write_text(render(servers, [f"listen 127.0.0.1:{self.port};"]))
        temp = "\n".join(
            f"    {kind}_temp_path {prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"""daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid {prefix / "nginx.pid"};
events {{ worker_connections 4096; }}
http {{
{temp}
    add_header X-Upstream $upstream_addr always;
    include {prefix / "polling.conf"};
}}
"""
        )

    @property
    def log(self) -> Path:
        return self.prefix / "nginx.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        """Start nginx and wait until its port accepts connections."""
        binary = nginx_binary()
        assert binary, "nginx is not installed"
        # Its log goes to a file, not a pipe: a restarted upstream makes it write a line per
        # broken connection, more than a pipe nobody reads can hold.
        command = [binary, "-p", f"{self.prefix}/", "-c", str(self.prefix / "nginx.conf")]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*command, "-e", "stderr"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx did not start:\n{self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("nginx did not listen within 10 s") from None
                time.sleep(0.05)  # polling the port: nginx prints nothing when it is ready

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
