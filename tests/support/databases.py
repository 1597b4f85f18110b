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
from collections.abc import Callable, Iterator
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


class _Errands:
    """One thread doing queued errands in order, so that no test waits for them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.waiting: queue.Queue = queue.Queue()
        self.thread: threading.Thread | None = None

    def send(self, errand: Callable[[], None]) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self.thread.start()
        self.waiting.put(errand)

    def _run(self) -> None:
        while True:
            errand = self.waiting.get()
            try:
                errand()
            except Exception as exc:
                print(f"{self.name}: {exc}", file=sys.stderr)
            finally:
                self.waiting.task_done()

    def finish(self) -> None:
        self.waiting.join()


class _Spares:
    """The next migrated PostgreSQL database, copied from the template while the current test runs;
    finished databases are dropped the same way (PostgreSQL checkpoints on each DROP DATABASE, about a
    second on a busy machine)."""

    def __init__(self) -> None:
        self.maker = _Errands("make-test-databases")
        self.dropper = _Errands("drop-test-databases")
        self.ready: queue.Queue[str | Exception] = queue.Queue()
        self.ordered = False

    def take(self) -> str:
        templates.postgres()  # migrated here, never on the maker's thread (Alembic's context is global)
        if not self.ordered:
            self._order()
        got = self.ready.get()
        self._order()
        if isinstance(got, Exception):
            raise got
        return got

    def drop(self, name: str) -> None:
        self.dropper.send(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _order(self) -> None:
        self.ordered = True
        self.maker.send(self._make)

    def _make(self) -> None:
        name = _new_name()
        try:
            _admin(f'CREATE DATABASE "{name}" TEMPLATE "{templates.postgres()}"')
        except Exception as exc:
            self.ready.put(exc)
        else:
            self.ready.put(name)

    def finish(self) -> None:
        self.maker.finish()
        while not self.ready.empty():
            if isinstance(name := self.ready.get(), str):
                self.drop(name)
        self.dropper.finish()


templates = _Templates()
spares = _Spares()


@atexit.register
def _clean_up() -> None:
    spares.finish()
    templates.drop()


def _new_name() -> str:
    return f"mamori_test_{uuid.uuid4().hex[:12]}"


def migrated_sqlite(path: Path) -> str:
    """A SQLite database at `path` at the newest schema (a copy of the migrated template); its URL."""
    with closing(sqlite3.connect(templates.sqlite())) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return f"sqlite:///{path}"


@contextmanager
def throwaway_postgres(*, migrated: bool = False) -> Iterator[str]:
    """A uniquely named database (empty, or at the newest schema): yields its URL, drops it afterwards."""
    if migrated:
        name = spares.take()
    else:
        name = _new_name()
        _admin(f'CREATE DATABASE "{name}"')
    try:
        yield _postgres_url(name)
    finally:
        spares.drop(name)


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
