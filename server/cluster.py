"""Several `mamori serve` processes on one PostgreSQL (docs/scale-out.md): what is serialised in the database.

- `serialise()`: a batch's readers and cards, locked for its transaction (advisory transaction locks,
  taken in one sorted statement, so two batches never wait on each other in a circle);
- `Leader`: one process runs the periodic jobs, the one holding a session advisory lock on its own
  connection (its death, or the connection's, releases it and another process takes over);
- `migration_lock()`: one `upgrade` at a time;
- `sole_server()`: SQLite takes one server only (a lock file beside the database).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger("mamori.cluster")

# Keys of the session locks; the transaction locks are hashed from text and live in the same space,
# so these sit far from where a 64-bit hash is likely to fall twice (and a clash only makes one wait).
LEADER_KEY = 0x6D616D6F_7269_0001
MIGRATION_KEY = 0x6D616D6F_7269_0002

# Sorted in a subquery that OFFSET 0 keeps from being flattened: the locks are taken in key order.
_LOCK_IN_ORDER = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM "
    "(SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k OFFSET 0) AS ordered")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a name (Python's hash() differs per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def serialise(conn: Connection, names: Iterable[str]) -> None:
    """Wait until no other transaction holds any of these names; hold them until this one ends.
    Nothing to do on SQLite, where one process writes and its writes are serialised already."""
    if conn.dialect.name != "postgresql":
        return
    keys = sorted({lock_key(name) for name in names})
    if keys:
        conn.execute(_LOCK_IN_ORDER, {"keys": keys})


class Leader:
    """Who runs the periodic jobs. On SQLite the only process is always the leader."""

    def __init__(self, engine: Engine, check_every_s: float = 5):
        self.engine = engine
        self.check_every_s = check_every_s
        self._single = engine.dialect.name != "postgresql"
        self._conn: Connection | None = None
        self._leading = self._single
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leader", daemon=True)

    @property
    def leading(self) -> bool:
        return self._leading

    def start(self) -> None:
        """Asks once at once, so the periodic jobs started next know whether to run their first round."""
        if not self._single:
            self.check()
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._let_go()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check()
            self._stop.wait(self.check_every_s)

    def check(self) -> bool:
        """Take the lock if free; if held, make sure the connection holding it is still there."""
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self._leading:
                self._conn.execute(text("SELECT 1"))
            else:
                self._leading = bool(self._conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_KEY}))
                if self._leading:
                    log.info("this process now runs the periodic jobs (chasing, closing time, doors, allowlists, "
                             "notices, the chain's watch)")
        except Exception:
            if self._leading:
                log.warning("lost the database connection that made this process the leader; trying again")
            self._let_go()
        return self._leading

    def _let_go(self) -> None:
        was_leading, self._leading = self._leading and not self._single, self._single
        if self._conn is not None:
            try:
                if was_leading:  # at once: a closed socket's server process may hold the lock a moment longer
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_KEY})
            except Exception:
                log.debug("unlocking the leader's lock failed; ending its session releases it", exc_info=True)
            try:
                self._conn.invalidate()  # not back to the pool: ending the session releases its advisory lock
                self._conn.close()
            except Exception:
                log.debug("closing the leader's connection failed", exc_info=True)
            self._conn = None


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the migration lock (PostgreSQL) while the body runs: a second process waits, then finds
    nothing left to do."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_KEY})


class AlreadyServing(RuntimeError):
    pass


def sole_server(database_url: str):
    """On SQLite, a lock file beside the database held for the life of the process (None elsewhere).
    A second `serve` on the same file is refused: SQLite has no locks for two writers' batches."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database).resolve().with_name(Path(url.database).name + ".serve-lock")
    handle = open(path, "a+")  # noqa: SIM115 - held open until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyServing(
            f"another `mamori serve` already runs on {url.database}: SQLite takes one server only. "
            "To run several, use PostgreSQL (docs/scale-out.md)") from None
    return handle
