"""Taking a backup and restoring one: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

A backup is consistent while the server writes: SQLite copies the database in one step (one read
snapshot; WAL lets the ingest go on committing), pg_dump reads everything in one snapshot. It is
written under a temporary name and renamed when complete, with a `sha256sum`-style file beside it,
so a half-written backup never looks like one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from server.backup.retention import backup_name
from server.config import get_settings
from server.db import make_engine
from server.evidence.runs import snapshot_verify
from server.migrate import alembic_config, current_revision

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """Said to the person as it is: what went wrong and what to do."""


def kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups know SQLite and PostgreSQL, not {backend}")
    return backend


def take_backup(database_url: str, folder: Path, now: datetime) -> Path:
    """One backup file (and its .sha256) in `folder`; returns its path."""
    kind = kind_of(database_url)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = folder / backup_name(now, kind)
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == "sqlite":
            source = _sqlite_path(database_url)
            if not source.is_file():  # sqlite3 would make an empty database there, and back that up
                raise BackupError(f"no database file {source.resolve()}: check MAMORI_DATABASE_URL")
            _sqlite_backup(source, partial)
        else:
            _run([_tool("pg_dump"), "--format=custom", f"--file={partial}", "--no-password",
                  f"--dbname={_libpq(database_url)[0]}"], database_url, "pg_dump")
        os.chmod(partial, 0o600)  # personal data
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    checksum = final.with_name(final.name + ".sha256")
    checksum.write_text(f"{_sha256(final)}  {final.name}\n")
    return final


def restore(backup: Path, database_url: str) -> str:
    """Into an empty database only; returns what the restored schema needs (said to the person)."""
    if not backup.is_file():
        raise BackupError(f"no backup file {backup}")
    _check_sum(backup)
    with open(backup, "rb") as f:
        head = f.read(16)
    kind = kind_of(database_url)
    made_by = "sqlite" if head == SQLITE_MAGIC else "postgresql" if head.startswith(PGDUMP_MAGIC) else None
    if made_by is None:
        raise BackupError(f"{backup.name} is neither a SQLite database nor a pg_dump file")
    if made_by != kind:
        raise BackupError(f"{backup.name} is a {made_by} backup: restore it into a {made_by} database")
    _refuse_unless_empty(database_url)
    if kind == "sqlite":
        target = _sqlite_path(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_backup(backup, target, read_only=True)
        with closing(sqlite3.connect(target)) as conn:
            problem = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the restored database fails SQLite's integrity check: {problem}")
    else:
        _run([_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
              "--no-password", f"--dbname={_libpq(database_url)[0]}", str(backup)], database_url, "pg_restore")
    state = schema_state(database_url)
    return f"{state}; {chain_state(database_url, newest='newest' in state)}"


def chain_state(database_url: str, *, newest: bool) -> str:
    """The restored evidence chain verified (docs/evidence.md), as said to the person; a chain that does not
    verify is an error: the backup is not what the office wrote."""
    if not newest:
        return "verify its evidence chain after the upgrade: `mamori ledger verify`"
    engine = make_engine(database_url)
    try:
        report = snapshot_verify(engine, get_settings().zone)
    finally:
        engine.dispose()
    if not report.ok:
        raise BackupError(f"restored, but its evidence chain does not verify ({report.count} problems; the first: "
                          f"{report.problems[0]}): the backup is not what the office wrote. "
                          "`mamori ledger verify` names them all")
    if report.head is None:
        return "its evidence chain is empty"
    return f"its evidence chain verifies: {report.links} links, head {report.head.seq} ({report.head.hash[:16]}…)"


def schema_state(database_url: str) -> str:
    """The restored database's migration against this mamori's newest one."""
    have = current_revision(database_url)
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    if have == head:
        return f"at the newest schema ({head})"
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config(database_url)).walk_revisions()}
    if have in known:
        return f"at schema {have}, older than this mamori's {head}: `mamori db upgrade` (or `mamori serve`) brings it up"
    raise BackupError(f"the restored database is at schema {have!r}, which this mamori does not know (its newest is "
                      f"{head}): it was made by a newer mamori; restore it with that version")


def _refuse_unless_empty(database_url: str) -> None:
    if kind_of(database_url) == "sqlite" and not _sqlite_path(database_url).exists():
        return
    engine = make_engine(database_url)
    try:
        tables = inspect(engine).get_table_names()
    except OperationalError as exc:
        raise BackupError(f"cannot open {make_url(database_url).render_as_string(hide_password=True)}: "
                          f"{str(exc.orig).strip()} (create it first: createdb)") from None
    finally:
        engine.dispose()
    if tables:
        shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        raise BackupError(f"{make_url(database_url).render_as_string(hide_password=True)} already has {len(tables)} "
                          f"tables ({shown}): a restore goes only into an empty database, so that nothing in it is "
                          "overwritten or mixed with the backup. Make a new one (createdb, or a new SQLite file name)")


def _sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
    return Path(name)


def _sqlite_backup(source: Path, target: Path, *, read_only: bool = False) -> None:
    # pages=-1: the whole database in one step, so one read snapshot; in steps, every write by the
    # server in between would make SQLite start the copy again. The copy is switched out of WAL so
    # that it is one file, with no -wal or -shm beside it (the server turns WAL on again when it opens it).
    uri = source.resolve().as_uri() + ("?mode=ro&immutable=1" if read_only else "")
    with closing(sqlite3.connect(uri, uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (that goes in PGPASSWORD, never on a command line)."""
    url: URL = make_url(database_url)
    env = {"PGPASSWORD": url.password} if url.password else {}
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: a PostgreSQL backup needs PostgreSQL's own tools "
                          f"(Debian: sudo apt-get install postgresql-client, of the server's version or newer)")
    return found


def _run(command: list[str], database_url: str, what: str) -> None:
    env = {**os.environ, **_libpq(database_url)[1]}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_sum(backup: Path) -> None:
    checksum = backup.with_name(backup.name + ".sha256")
    if not checksum.exists():
        raise BackupError(f"no {checksum.name} beside the backup: it cannot be checked. If you are sure the file "
                          f"is whole, write one with: sha256sum {backup.name} > {checksum.name}")
    expected = checksum.read_text().split()[0]
    if _sha256(backup) != expected:
        raise BackupError(f"{backup.name} does not match {checksum.name}: the file is damaged or incomplete; "
                          "take another backup file")
