"""One server per SQLite database, unless a message queue joins the processes.

Two `polling serve` on one database without a message queue are a split brain: each process
has its own rooms, so a moderator's "Next" reaches only the phones and projectors that happen
to be connected to the same process. The first server holds an exclusive lock on a file next
to the database for as long as it runs; a second one cannot take it and refuses to start.
The operating system drops the lock when the process ends, however it ends (a crash or
SIGKILL leaves no stale lock behind).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url


class AlreadyServing(RuntimeError):
    """Another server process uses this database; the message says what to do."""


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite database file (`polling.sqlite3.lock`); None for other
    databases and for SQLite in memory."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve().with_name(Path(url.database).name + ".lock")


def hold_database(database_url: str, message_queue: str | None) -> IO[str] | None:
    """Take the database's lock for the life of this process; returns the open lock file,
    which the caller keeps (closing it releases the lock).

    Nothing is locked with a message queue (processes share rooms through it) or for a
    database other than a SQLite file. Raises AlreadyServing if another process holds it.
    """
    path = lock_path(database_url)
    if message_queue or path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyServing(
            f"another polling server (process {holder}) is already using the database "
            f"{path.with_suffix('')}.\n"
            "Two servers on one database split the audience: phones and screens connected to "
            "one never see the moderator's actions on the other.\n"
            "Stop the other server first, or give this one its own database "
            "(POLLING_INSTANCE_PATH or DATABASE_URL), or join the processes with a message "
            "queue (POLLING_MESSAGE_QUEUE=redis://..., see docs/deployment.md)."
        ) from None
    # Who holds it, for the message above; informative only, the lock is what counts.
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
