"""The durable outbox: every scan and event on the Pi's own disk until the server's `ack` names it.

A broker's PUBACK is not delivery (a broker restarted without persistence forgets), so a message
leaves only on the server's ack. SQLite with `synchronous=FULL`: when `put` returns, the scan
survives `kill -9` and a pulled plug. The file also keeps the last allowlist, so a cabinet
rebooted while the network is down can still decide alone.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    payload BLOB NOT NULL,
    put_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS kept (
    name    TEXT PRIMARY KEY,
    payload BLOB NOT NULL
);
"""


class OutboxError(RuntimeError):
    """The outbox cannot keep a message; the reader must signal an error, not pretend it recorded."""


class OutboxFull(OutboxError):
    """The disk is full."""


@dataclass(frozen=True, slots=True)
class Pending:
    seq: int  # position in the queue
    id: str
    channel: str  # "scan" or "event"
    payload: bytes


class Outbox:
    """A queue of scans and events waiting for the server's ack. Safe to share between threads."""

    def __init__(self, path: str | Path, owner: str | None = None):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._count = self._db.execute("SELECT count(*) FROM pending").fetchone()[0]
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"cannot open the outbox at {self.path}: {exc} (is the folder there and writable "
                              "by the gateway's user?)") from None
        self._sent_at: dict[str, float] = {}  # id -> monotonic time of the last send; memory only
        if owner is not None:
            self._claim(owner)

    def _claim(self, owner: str) -> None:
        """One outbox, one reader: re-sent under another reader's name, scans would land in the
        wrong ledger (or be refused by the broker's ACL and wait forever)."""
        kept = self.kept("owner")
        if kept is None:
            self.keep("owner", owner.encode())
        elif kept.decode() != owner:
            self._db.close()
            raise OutboxError(f"{self.path} holds the outbox of reader {kept.decode()} ({self._count} messages "
                              f"waiting), not of {owner}: give each reader its own outbox.path")

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, msg_id: str, channel: str, payload: bytes) -> None:
        """Keep one message; returns only once it is on disk."""
        with self._lock, self._writing():
            cur = self._db.execute(
                "INSERT OR IGNORE INTO pending (id, channel, payload, put_at) VALUES (?, ?, ?, ?)",
                (msg_id, channel, payload, time.time()))
            self._count += cur.rowcount

    @contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "full" in str(exc):
                raise OutboxFull(f"the outbox disk is full ({self.path}): free space on the Pi") from exc
            raise OutboxError(f"the outbox at {self.path} cannot be written: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise OutboxError(f"the outbox at {self.path} cannot be written: {exc}") from exc

    def acknowledge(self, ids: Iterable[str]) -> int:
        """Forget the messages the server has committed; returns how many were still here."""
        ids = list(ids)
        if not ids:
            return 0
        with self._lock:
            removed = 0
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                removed += self._db.execute(f"DELETE FROM pending WHERE id IN ({marks})", chunk).rowcount
            self._count -= removed
            for msg_id in ids:
                self._sent_at.pop(msg_id, None)
        return removed

    def mark_sent(self, ids: Iterable[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for msg_id in ids:
                self._sent_at[msg_id] = now

    def all(self) -> list[Pending]:
        """Everything waiting, oldest first (for inspection; sending goes page by page)."""
        return self.page(after=0, limit=-1)

    def page(self, after: int = 0, limit: int = 200) -> list[Pending]:
        """Up to `limit` waiting messages after position `after`, oldest first (a reconnect re-sends
        a long backlog page by page, so the Pi never holds it all in memory)."""
        with self._lock:
            rows = self._db.execute("SELECT seq, id, channel, payload FROM pending WHERE seq > ? ORDER BY seq LIMIT ?",
                                    (after, limit)).fetchall()
        return [Pending(seq, i, c, bytes(p)) for seq, i, c, p in rows]

    def any_due(self, resend_after: float) -> bool:
        """Whether something waits that was never sent, or sent more than `resend_after` seconds ago."""
        with self._lock:
            if self._count > len(self._sent_at):
                return True
            oldest = min(self._sent_at.values(), default=None)
        return oldest is not None and time.monotonic() - oldest >= resend_after

    def sent_within(self, msg_id: str, seconds: float) -> bool:
        """Whether `msg_id` was sent less than `seconds` ago (and so is not due to be re-sent)."""
        with self._lock:
            sent = self._sent_at.get(msg_id)
        return sent is not None and time.monotonic() - sent < seconds

    # ------------------------------------------------------------ kept values (the allowlist)

    def keep(self, name: str, payload: bytes) -> None:
        with self._lock, self._writing():
            self._db.execute("INSERT INTO kept (name, payload) VALUES (?, ?) "
                             "ON CONFLICT (name) DO UPDATE SET payload = excluded.payload", (name, payload))

    def kept(self, name: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT payload FROM kept WHERE name = ?", (name,)).fetchone()
        return bytes(row[0]) if row else None
