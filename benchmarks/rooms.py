"""What a hall leaving costs the room manager: N connections, each in its event's room, its
role's room and a room of its own, all disconnected, on python-socketio's manager and on the
project's indexed one (polling/realtime/rooms.py). Prints one JSON line of CPU seconds.

    .venv/bin/python -m benchmarks.rooms --connections 10000
"""

from __future__ import annotations

import argparse
import json
import time

import socketio

from polling.realtime.closing import ClosingManager


def leave_cost(manager: socketio.Manager, connections: int) -> float:
    """CPU seconds for `connections` phones of one event to disconnect one after another."""
    socketio.Server(client_manager=manager, async_mode="threading")
    sids = [manager.connect(f"eio-{n}", "/") for n in range(connections)]
    for number, sid in enumerate(sids):
        manager.enter_room(sid, "/", "event-1-audience")
        manager.enter_room(sid, "/", f"event-1-participant-{number}")
    started = time.process_time()
    for sid in sids:
        manager.disconnect(sid, "/")
    return round(time.process_time() - started, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=10_000)
    connections = parser.parse_args().connections
    print(
        json.dumps(
            {
                "connections": connections,
                "python_socketio_s": leave_cost(socketio.Manager(), connections),
                "indexed_s": leave_cost(ClosingManager(), connections),
            }
        )
    )


if __name__ == "__main__":
    main()
