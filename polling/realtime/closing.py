"""Closing a room disconnects its members, on every server process.

python-socketio's `close_room` only forgets who is in a room; the connections stay open and
keep the identity they were given. When an event is deleted its pages must be cut off, also
on the other processes of a deployment: with a message queue every process hears the close
(in order after the `event_deleted` message sent before it) and disconnects its own members.
"""

from __future__ import annotations

from typing import Any

import socketio

from polling.realtime.rooms import IndexedRooms


def client_manager(message_queue: str | None, channel: str) -> socketio.Manager:
    """The manager of rooms and connections: in memory, or shared through Redis."""
    if message_queue:
        return ClosingRedisManager(message_queue, channel=channel)
    return ClosingManager()


def disconnect_members(manager: Any, room: str, namespace: str | None) -> None:
    """Disconnect this process's connections in a room (each gets its disconnect handler)."""
    namespace = namespace or "/"
    for sid, _eio_sid in list(manager.get_participants(namespace, room)):
        manager.server.disconnect(sid, namespace, ignore_queue=True)


class ClosingManager(IndexedRooms):
    """One process: closing a room disconnects its members."""

    def close_room(self, room: str, namespace: str | None) -> Any:
        disconnect_members(self, room, namespace)
        return super().close_room(room, namespace)


class ClosingRedisManager(IndexedRooms, socketio.RedisManager):
    """Several processes: each disconnects its members when it hears a room closed (the
    process that closes it hears it first, directly)."""

    def _handle_close_room(self, message: dict[str, Any]) -> None:
        disconnect_members(self, str(message.get("room")), message.get("namespace"))
        super()._handle_close_room(message)
