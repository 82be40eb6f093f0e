"""The deployment guide's nginx config, run: two processes on PostgreSQL and Redis behind it."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests.nginx import DOC_VALUES, Nginx, nginx_binary, render
from tests.server_process import POLLING, ServerProcess
from tests.support import PANEL_DECK, unavailable

DEPLOYMENT_GUIDE = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"
PHONES = 200
WAIT = 20


def test_the_deployment_guide_shows_the_template_that_is_tested():
    guide = DEPLOYMENT_GUIDE.read_text()
    blocks = re.findall(r"^```nginx\n(.*?)^```$", guide, re.M | re.S)
    assert len(blocks) == 1, "docs/deployment.md should have one ```nginx block"
    expected = render(*DOC_VALUES)
    assert blocks[0] == expected, (
        "docs/deployment.md's nginx block differs from deploy/nginx.conf; paste this into it:\n"
        + expected
    )


class Phone:
    """A python-socketio client as the page's script uses it, through nginx.

    It has its own cookie jar (it opens the vote page first, for the participant cookie), sends
    the page's Origin, and notes which process answered each of its requests (X-Upstream).
    """

    def __init__(self, base: str, auth: dict[str, str]) -> None:
        self.base = base
        self.auth = auth
        self.upstreams: set[str] = set()
        self.states: list[dict[str, Any]] = []
        self.tallies: list[dict[str, Any]] = []
        self.disconnects = 0
        self.changed = asyncio.Condition()
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._answered)
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), trace_configs=[trace]
        )
        # Quicker than the page's back-off (1 s up to 10 s), to keep the test short.
        self.sio = socketio.AsyncClient(
            http_session=self.http, reconnection_delay=0.3, reconnection_delay_max=1
        )
        self.sio.connect = self._patient(self.sio.connect)
        self.sio.on("state", self._state)
        self.sio.on("tally", self._tally)
        self.sio.on("connect", self._connected)
        self.sio.on("disconnect", self._disconnected)

    @staticmethod
    def _patient(connect: Callable[..., Any]) -> Callable[..., Any]:
        """Reconnect with a browser's patience for the server's answer.

        python-socketio's reconnect loop waits 1 s for the namespace to connect and then starts
        over; a browser waits 20 s. Under a hall's reconnect wave 1 s is too short, and the
        retries keep the server too busy to ever answer in time.
        """

        async def patient(*args: Any, **kwargs: Any) -> Any:
            kwargs["wait_timeout"] = WAIT
            return await connect(*args, **kwargs)

        return patient

    async def _answered(self, _session: Any, _context: Any, params: Any) -> None:
        upstream = params.response.headers.get("X-Upstream")
        # The vote page itself may come from any process: the cookie it sets is what sticks.
        if upstream and params.url.path.startswith("/socket.io/"):
            self.upstreams.add(upstream)

    async def _state(self, data: dict[str, Any]) -> None:
        async with self.changed:
            self.states.append(data)
            self.changed.notify_all()

    async def _tally(self, data: dict[str, Any]) -> None:
        async with self.changed:
            self.tallies.append(data)
            self.changed.notify_all()

    async def _connected(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def _disconnected(self, *_reason: Any) -> None:
        async with self.changed:
            self.disconnects += 1
            self.changed.notify_all()

    async def join(self, page: str | None = None) -> None:
        if page:
            async with self.http.get(f"{self.base}{page}") as response:
                assert response.status == 200
            if self.auth["role"] == "audience":  # the vote page gives the participant cookie
                assert any(cookie.key == "polling" for cookie in self.http.cookie_jar)
        await self.sio.connect(
            self.base, auth=self.auth, headers={"Origin": self.base}, wait_timeout=WAIT
        )

    async def until(self, check: Callable[[], Any]) -> Any:
        """Wait until `check()` gives something true (re-checked on every message)."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(check), WAIT)
            return check()

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return await self.sio.call(event, data, timeout=WAIT)

    @property
    def upstream(self) -> str:
        assert len(self.upstreams) == 1, f"requests went to {self.upstreams}"
        return next(iter(self.upstreams))

    async def close(self) -> None:
        await self.sio.disconnect()
        await self.http.close()


@pytest.fixture
def behind_nginx(tmp_path, postgres_url, redis_url):
    """Two `polling serve` processes for one event on PostgreSQL and Redis, nginx in front."""
    if nginx_binary() is None:
        unavailable("nginx is not installed (Debian: apt-get install nginx)")
    environment = {
        "DATABASE_URL": postgres_url,
        "POLLING_MESSAGE_QUEUE": redis_url,
        "POLLING_MESSAGE_CHANNEL": f"polling-test-{uuid.uuid4().hex[:8]}",
        "POLLING_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    created = subprocess.run(
        [str(POLLING), "event", "create", "--deck", str(PANEL_DECK), "--json"],
        env={**ServerProcess(tmp_path).environment, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    code = json.loads(created.stdout)["code"]
    servers = [ServerProcess(tmp_path, **environment) for _ in range(2)]
    nginx = None
    try:
        for server in servers:
            server.start("--event", code)
        nginx = Nginx(tmp_path / "nginx", [f"127.0.0.1:{s.port}" for s in servers]).start()
        yield nginx, servers
    finally:
        if nginx:
            nginx.stop()
        for server in servers:
            server.stop()


def test_a_hall_through_nginx_sticks_upgrades_crosses_processes_and_survives_a_restart(
    behind_nginx,
):
    nginx, servers = behind_nginx
    # A loop of its own on a thread of its own: the browser tests' Playwright keeps an event
    # loop running on the main thread.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, hall(nginx, servers)).result()


async def hall(nginx: Nginx, servers: list[ServerProcess]) -> None:
    base, code = nginx.base_url, servers[0].code
    address = {f"127.0.0.1:{server.port}": server for server in servers}
    presenter = Phone(base, {"code": code, "role": "presenter", "key": servers[0].key("presenter")})
    moderator = Phone(base, {"code": code, "role": "moderator", "key": servers[0].key("moderator")})
    phones = [Phone(base, {"code": code, "role": "audience"}) for _ in range(PHONES)]
    try:
        await presenter.join(f"/{code}/presenter?key={servers[0].key('presenter')}")
        await moderator.join()
        gate = asyncio.Semaphore(40)

        async def join(phone: Phone) -> None:
            async with gate:
                await phone.join(f"/{code}")

        await asyncio.gather(*(join(phone) for phone in phones))

        # Stickiness: every Socket.IO request of a phone (long-polling, WebSocket) reached one
        # process, and the hash spreads the hall over both.
        on = {upstream: [p for p in phones if p.upstream == upstream] for upstream in address}
        assert all(len(group) > PHONES / 5 for group in on.values()), {
            upstream: len(group) for upstream, group in on.items()
        }
        # The WebSocket upgrade went through nginx (the client starts with long-polling).
        assert {phone.sio.transport() for phone in phones} == {"websocket"}

        for action in ("results_live", "next", "open"):
            assert await moderator.call("control", {"action": action}) == {"ok": True}
        round_id = (await presenter.until(lambda: open_round(presenter.states)))["round"]["id"]
        choices = {phone: ("agree", "disagree")[index % 2] for index, phone in enumerate(phones)}
        acks = await asyncio.gather(
            *(phone.call("vote", {"round": round_id, "choice": c}) for phone, c in choices.items())
        )
        assert all(ack["ok"] for ack in acks)

        # Votes taken by either process reach the projector, which is on one of them.
        expected = {"agree": PHONES // 2, "disagree": PHONES - PHONES // 2}
        await presenter.until(lambda: counts(presenter.tallies) == expected)

        # SIGKILL the process the projector is not on, and start it again on the same port.
        projector_on = address[presenter.upstream]
        restarted = next(server for server in servers if server is not projector_on)
        hit = on[f"127.0.0.1:{restarted.port}"]
        stayed = [phone for phone in phones if phone not in hit]
        seen = {phone: len(phone.states) for phone in phones}
        tallies_before = len(presenter.tallies)
        restarted.kill()
        await asyncio.gather(*(phone.until(lambda p=phone: p.disconnects) for phone in hit))
        restarted.start()

        # Its phones come back through nginx by themselves, each shown its own vote. (The
        # state on connect can arrive just before the namespace counts as connected.)
        def back(phone: Phone) -> Any:
            states = [s for s in phone.states[seen[phone] :] if "can_control" in s]
            return "/" in phone.sio.namespaces and states

        returned = await asyncio.gather(*(phone.until(lambda p=phone: back(p)) for phone in hit))
        for phone, states in zip(hit, returned, strict=True):
            assert states[-1]["you"]["choice"] == choices[phone]
        # The rest never noticed, and the projector's tally was right throughout.
        assert all(phone.disconnects == 0 for phone in stayed)
        assert presenter.disconnects == 0
        assert all(counts([tally]) == expected for tally in presenter.tallies[tallies_before:]), (
            "the projector showed a wrong tally during the restart"
        )

        # A phone that came back changes its vote; the projector sees it.
        changer = hit[0]
        flipped = "disagree" if choices[changer] == "agree" else "agree"
        assert (await changer.call("vote", {"round": round_id, "choice": flipped}))["ok"]
        expected[flipped] += 1
        expected[choices[changer]] -= 1
        await presenter.until(lambda: counts(presenter.tallies) == expected)
    finally:
        await asyncio.gather(
            *(client.close() for client in (presenter, moderator, *phones)),
            return_exceptions=True,
        )


def open_round(states: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((s for s in reversed(states) if s["phase"] == "open"), None)


def counts(tallies: list[dict[str, Any]]) -> dict[str, int] | None:
    results = tallies[-1]["results"] if tallies else None
    return results["counts"] if results else None
