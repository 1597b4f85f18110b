"""The triggers behind the chain: each write to an evidence table noted in `chain_pending`, and
on PostgreSQL the immutable kinds refusing UPDATE and DELETE.

Installed by migration 0016 for the kinds of that day, and by `mamori db upgrade` for every kind
registered since (`sync`), so registering a kind is all a new table needs. On SQLite the trigger
calls `mamori_txn()`, a function only the application's connections have (server/db.py): a
client that writes around the application must drop the triggers first, and what it writes is
then left out of the chain, where the verifier finds it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

_PG_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION chain_capture() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        INSERT INTO chain_pending (kind, row_id, op, txn)
        VALUES (TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0], 'D', txid_current()::text);
      ELSE
        INSERT INTO chain_pending (kind, row_id, op, txn)
        VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0], left(TG_OP, 1), txid_current()::text);
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION chain_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is evidence: rows are appended, never changed or deleted', TG_TABLE_NAME;
    END $$""",
]
_PG_DROP_FUNCTIONS = ["DROP FUNCTION IF EXISTS chain_capture()", "DROP FUNCTION IF EXISTS chain_immutable()"]
IMMUTABLE_EXTRA = ("chain_links",)  # the chain itself: appended only


def _sqlite_capture(table: str, key: str) -> list[str]:
    rows = {"INSERT": ("NEW", "I"), "UPDATE": ("NEW", "U"), "DELETE": ("OLD", "D")}
    return [f"CREATE TRIGGER IF NOT EXISTS chain_capture_{table}_{verb.lower()} AFTER {verb} ON {table} "
            f"BEGIN INSERT INTO chain_pending (kind, row_id, op, txn) "
            f"VALUES ('{table}', CAST({ref}.{key} AS TEXT), '{op}', mamori_txn()); END"
            for verb, (ref, op) in rows.items()]


def _pg_capture(table: str, key: str) -> list[str]:
    return [f"CREATE OR REPLACE TRIGGER chain_capture AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION chain_capture('{key}')"]


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
    """Install the triggers of every registered kind (after an upgrade); how many tables had none."""
    from server.evidence.chain import kinds

    registered = kinds()
    missing = set(registered) - installed(conn)
    if missing:  # only then: the server's own role may not create triggers (server/evidence/grants.py)
        install(conn, [(kind.name, kind.key.name, kind.immutable) for kind in registered.values()
                       if kind.name in missing])
    return len(missing)
