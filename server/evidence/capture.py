"""The triggers behind the chain: each write to an evidence table noted in `chain_pending`, and
on PostgreSQL the immutable kinds refusing UPDATE and DELETE.

Installed by `mamori db upgrade` (`sync`, run after the migrations) for every registered kind that
has none, so registering a kind is all a new table needs. On SQLite the trigger
calls `mamori_txn()`, a function only the application's connections have (server/db.py): a
client that writes around the application must drop the triggers first, and what it writes is
then left out of the chain, where the verifier finds it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, inspect, text

_PG_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION chain_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is evidence: rows are appended, never changed or deleted', TG_TABLE_NAME;
    END $$""",
]
_PG_DROP_FUNCTIONS = ["DROP FUNCTION IF EXISTS chain_immutable()"]
IMMUTABLE_EXTRA = ("chain_links",)  # the chain itself: appended only


def _sqlite_capture(table: str, key: str) -> list[str]:
    rows = {"INSERT": ("NEW", "I"), "UPDATE": ("NEW", "U"), "DELETE": ("OLD", "D")}
    return [f"CREATE TRIGGER IF NOT EXISTS chain_capture_{table}_{verb.lower()} AFTER {verb} ON {table} "
            f"BEGIN INSERT INTO chain_pending (kind, row_id, op, txn) "
            f"VALUES ('{table}', CAST({ref}.{key} AS TEXT), '{op}', mamori_txn()); END"
            for verb, (ref, op) in rows.items()]


def _pg_capture(table: str, key: str) -> list[str]:
    # One function per table, its SQL static (PL/pgSQL keeps the plan): the ingest inserts with
    # executemany, so whatever runs here runs once per row.
    return [f"""CREATE OR REPLACE FUNCTION chain_capture_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                INSERT INTO chain_pending (kind, row_id, op, txn)
                VALUES ('{table}', OLD.{key}::text, 'D', txid_current()::text);
              ELSE
                INSERT INTO chain_pending (kind, row_id, op, txn)
                VALUES ('{table}', NEW.{key}::text, left(TG_OP, 1), txid_current()::text);
              END IF;
              RETURN NULL;
            END $$""",
            f"CREATE OR REPLACE TRIGGER chain_capture AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION chain_capture_{table}()"]


def _pg_immutable(table: str) -> list[str]:
    return [f"CREATE OR REPLACE TRIGGER chain_immutable BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION chain_immutable()"]


def install(conn: Connection, tables: Iterable[tuple[str, str, bool]]) -> None:
    """Capture triggers on each (table, key column, immutable); idempotent."""
    postgres = conn.dialect.name == "postgresql"
    statements: list[str] = list(_PG_FUNCTIONS) if postgres else []
    for table, key, immutable in tables:
        statements += _pg_capture(table, key) if postgres else _sqlite_capture(table, key)
        if immutable and postgres:
            statements += _pg_immutable(table)
    if postgres:
        for table in IMMUTABLE_EXTRA:
            statements += _pg_immutable(table)
    for statement in statements:
        conn.execute(text(statement))


def uninstall(conn: Connection, tables: Iterable[str]) -> None:
    postgres = conn.dialect.name == "postgresql"
    for table in [*tables, *IMMUTABLE_EXTRA]:
        if postgres:
            conn.execute(text(f"DROP TRIGGER IF EXISTS chain_capture ON {table}"))
            conn.execute(text(f"DROP TRIGGER IF EXISTS chain_immutable ON {table}"))
            conn.execute(text(f"DROP FUNCTION IF EXISTS chain_capture_{table}()"))
        else:
            for verb in ("insert", "update", "delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS chain_capture_{table}_{verb}"))
    if postgres:
        for statement in _PG_DROP_FUNCTIONS:
            conn.execute(text(statement))


def installed(conn: Connection) -> set[str]:
    """The tables that have a capture trigger now."""
    if conn.dialect.name == "postgresql":
        found = conn.execute(text("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                  "WHERE t.tgname = 'chain_capture'")).scalars()
        return set(found)
    names = conn.execute(text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                              "AND name LIKE 'chain_capture_%'")).scalars()
    return set(names)


def sync(conn: Connection) -> int:
    """Install the triggers of every registered kind whose table exists and has none (after an upgrade: the
    chain's own, a kind registered since, a table a SQLite migration rebuilt), first noting its rows the chain
    does not hold yet, so they are chained with the upgrade; how many tables had none."""
    from server.evidence.chain import kinds

    tables = set(inspect(conn).get_table_names()) - installed(conn)  # an older revision lacks newer tables
    missing = [kind for name, kind in kinds().items() if name in tables]
    for kind in missing:
        key = kind.key.name
        conn.execute(text(f"INSERT INTO chain_pending (kind, row_id, op, txn) "
                          f"SELECT '{kind.name}', CAST({key} AS TEXT), 'I', '' FROM {kind.name} "
                          f"WHERE CAST({key} AS TEXT) NOT IN "
                          f"(SELECT row_id FROM chain_links WHERE kind = '{kind.name}') ORDER BY {key}"))
    if missing:  # only then: the server's own role may not create triggers (server/evidence/grants.py)
        install(conn, [(kind.name, kind.key.name, kind.immutable) for kind in missing])
    return len(missing)
