"""The room index: a connection leaving costs its own rooms, not a scan of everyone's.

python-socketio's own manager copies and scans every room of the namespace for each
disconnect, and every connection has a room of its own: a hall of 10,000 leaving at once
took 11.7 s of one process's CPU. The indexed manager must keep exactly python-socketio's
rooms while never scanning them.
"""

from __future__ import annotations

import random

import socketio

from polling.realtime.closing import ClosingManager

NAMESPACE = "/"


class NoScan(dict):
    """A namespace's rooms that fail the test when a disconnect copies or walks them all."""

    def copy(self):
        raise AssertionError("a disconnect scanned every room of the namespace")

    def items(self):
        raise AssertionError("a disconnect scanned every room of the namespace")


def connected(manager: socketio.Manager, count: int) -> list[str]:
    socketio.Server(client_manager=manager, async_mode="threading")
    sids = []
    for number in range(count):
        sid = manager.connect(f"eio-{number}", NAMESPACE)
        sids.append(sid)
    return sids


def test_a_disconnect_does_not_scan_the_rooms_of_everyone_else():
    manager = ClosingManager()
    sids = connected(manager, 2_000)
    for number, sid in enumerate(sids):
        manager.enter_room(sid, NAMESPACE, "event-1-audience")
        manager.enter_room(sid, NAMESPACE, f"event-1-participant-{number}")
    manager.rooms[NAMESPACE] = NoScan(manager.rooms[NAMESPACE])

    leaving = sids[7]
    manager.disconnect(leaving, NAMESPACE)

    assert leaving not in manager.rooms[NAMESPACE]["event-1-audience"]
    assert "event-1-participant-7" not in manager.rooms[NAMESPACE]
    assert leaving not in manager.rooms[NAMESPACE]  # its own room
    assert not manager.is_connected(leaving, NAMESPACE)
    assert manager.get_rooms(sids[8], NAMESPACE)  # the others keep theirs
    assert len(manager.rooms[NAMESPACE]["event-1-audience"]) == 1_999


def test_rooms_are_exactly_python_socketios_after_any_sequence():
    """The same random connects, enters, leaves, closes and disconnects on both managers end
    in the same rooms, and every connection is said to be in the same rooms."""
    rng = random.Random(17)
    indexed, reference = ClosingManager(), socketio.Manager()
    sids = {}
    for manager in (indexed, reference):
        socketio.Server(client_manager=manager, async_mode="threading")
        manager.server.eio.generate_id = iter(f"s{n}" for n in range(10_000)).__next__
        sids[id(manager)] = [manager.connect(f"eio-{n}", NAMESPACE) for n in range(60)]
    rooms = [f"room-{n}" for n in range(8)]
    for _step in range(3_000):
        choice = rng.random()
        number, room = rng.randrange(60), rng.choice(rooms)
        for manager in (indexed, reference):
            sid = sids[id(manager)][number]
            connected_now = manager.is_connected(sid, NAMESPACE)
            if choice < 0.5 and connected_now:
                manager.enter_room(sid, NAMESPACE, room)
            elif choice < 0.8 and connected_now:
                manager.leave_room(sid, NAMESPACE, room)
            elif choice < 0.82:
                manager.close_room(room, NAMESPACE)
            elif connected_now:
                manager.disconnect(sid, NAMESPACE)
    assert indexed.rooms == reference.rooms
    for number in range(60):
        sid = sids[id(indexed)][number]
        assert sorted(indexed.get_rooms(sid, NAMESPACE)) == sorted(
            reference.get_rooms(sid, NAMESPACE)
        )
