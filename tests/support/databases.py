"""Throwaway databases: empty, or a copy of a template this test process migrated once.

Alembic takes about half a second per database; a copy of a migrated template takes a few
milliseconds (SQLite) or one `CREATE DATABASE … TEMPLATE` (PostgreSQL). Each pytest process makes its
own templates, named after the migrations folder's contents and a random id, and drops them at the end,
so processes run side by side (several people's, or xdist workers) never share or collide on one.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import queue
import shutil
import sqlite3
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg

from server.migrate import MIGRATIONS, upgrade

PG_ADMIN_URL = os.environ.get("MAMORI_TEST_PG", "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
KINDS = ("sqlite", "postgresql")


def postgres_available() -> str | None:
    """None if the test server answers, else why not."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def migrations_digest() -> str:
    """A short hash of every migration file: a template made from other migrations has another name."""
    digest = hashlib.sha256()
    for path in sorted(p for p in MIGRATIONS.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(MIGRATIONS)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:10]


def _postgres_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


class _Templates:
    """The migrated templates of this process, made on first use and removed at exit."""

    def __init__(self) -> None:
        self.key = f"{migrations_digest()}_{uuid.uuid4().hex[:8]}"
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = Path(tempfile.mkdtemp(prefix=f"mamori_tmpl_{self.key}_")) / "mamori.db"
            upgrade(f"sqlite:///{path}")  # the engine is disposed: no -wal file is left beside it
            self._sqlite = path
        return self._sqlite

    def postgres(self) -> str:
        if self._postgres is None:
            name = f"mamori_tmpl_{self.key}"
            _admin(f'CREATE DATABASE "{name}"')
            self._postgres = name  # from here on it is dropped at exit, even if the migration fails
            upgrade(_postgres_url(name))
        return self._postgres

    def drop(self) -> None:
        if self._sqlite is not None:
            shutil.rmtree(self._sqlite.parent, ignore_errors=True)
            self._sqlite = None
        if self._postgres is not None:
            _admin(f'DROP DATABASE IF EXISTS "{self._postgres}" WITH (FORCE)')
            self._postgres = None


class _Dropper:
    """Drops finished databases on a thread of its own: PostgreSQL checkpoints on each DROP DATABASE
    (about a second on a busy machine), which the next test need not wait for."""

    def __init__(self) -> None:
        self.waiting: queue.Queue[str] = queue.Queue()
        self.thread: threading.Thread | None = None

    def drop(self, name: str) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="drop-test-databases", daemon=True)
            self.thread.start()
        self.waiting.put(name)

    def _run(self) -> None:
        while True:
            name = self.waiting.get()
            try:
                _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.Error as exc:
                print(f"could not drop the test database {name}: {exc}", file=sys.stderr)
            finally:
                self.waiting.task_done()

    def finish(self) -> None:
        self.waiting.join()


templates = _Templates()
dropper = _Dropper()


@atexit.register
def _clean_up() -> None:
    dropper.finish()
    templates.drop()


def migrated_sqlite(path: Path) -> str:
    """A SQLite database at `path` at the newest schema (a copy of the migrated template); its URL."""
    with closing(sqlite3.connect(templates.sqlite())) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return f"sqlite:///{path}"


@contextmanager
def throwaway_postgres(*, migrated: bool = False) -> Iterator[str]:
    """Create a uniquely named database (empty, or at the newest schema), yield its URL, drop it afterwards."""
    name = f"mamori_test_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{templates.postgres()}"' if migrated else ""
    _admin(f'CREATE DATABASE "{name}"{template}')
    try:
        yield _postgres_url(name)
    finally:
        dropper.drop(name)


@contextmanager
def throwaway_database(kind: str, folder: Path, *, migrated: bool = True) -> Iterator[str]:
    """A database of `kind` ("sqlite": a file in `folder`; "postgresql"), at the newest schema unless
    `migrated=False`; yields its SQLAlchemy URL."""
    if kind == "sqlite":
        path = folder / "mamori.db"
        yield migrated_sqlite(path) if migrated else f"sqlite:///{path}"
        return
    with throwaway_postgres(migrated=migrated) as url:
        yield url
