"""The coordinator's side of the load generator processes (harness.generator): start them,
send them commands, collect their reports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import sys
import time
from typing import Any

from benchmarks.harness import BenchError, log
from benchmarks.harness.servers import ROOT


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


async def start_workers(
    args: argparse.Namespace, bases: list[str], code: str
) -> tuple[list[WorkerProcess], int]:
    """Start `args.workers` generators, each with its share of `args.voters` voters; returns
    them and the connects each may have in flight."""
    concurrency = max(1, math.ceil(args.connect_concurrency / args.workers))
    workers = []
    for index in range(args.workers):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.harness.generator",
            cwd=ROOT,
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
                "code": code,
                "concurrency": concurrency,
                "connect_timeout": args.connect_timeout,
                "connect_retries": args.connect_retries,
                "connect_phase_timeout": args.connect_phase_timeout,
                "seed": args.seed,
                "client_watchdog": args.client_watchdog,
                "reconnect_wait": args.reconnect_wait,
            }
        )
    return workers, concurrency


async def stop_workers(workers: list[WorkerProcess]) -> float:
    """Tell every generator to quit; returns their CPU seconds, from their last words."""
    await asyncio.gather(*(worker.stop() for worker in workers), return_exceptions=True)
    cpu = 0.0
    for worker in workers:
        while not worker.messages.empty():
            message = worker.messages.get_nowait()
            if message.get("type") == "bye":
                cpu += message["cpu_s"]
    return cpu
