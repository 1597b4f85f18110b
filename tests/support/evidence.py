"""Going around the evidence chain on purpose: a test's reset, and the tampering the verifier must name."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import psycopg
from sqlalchemy import text


def around_evidence_guards(db) -> None:
    """For the rest of this transaction, triggers stay silent on PostgreSQL (a superuser's bypass):
    immutable evidence may be deleted and nothing is noted for the chain."""
    if db.connection().dialect.name == "postgresql":
        db.execute(text("SET LOCAL session_replication_role = replica"))


def tamper(database_url: str, *statements: str) -> None:
    """Change the database behind the application's back, the way a person with the file or a
    superuser's login would: triggers silenced, nothing noted for the chain."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        with closing(sqlite3.connect(path)) as conn:
            conn.create_function("mamori_txn", 0, lambda: "intruder")
            for statement in statements:
                conn.execute(statement)
            conn.execute("DELETE FROM chain_pending WHERE txn = 'intruder'")
            conn.commit()
        return
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement)


def write_around(database_url: str, statement: str) -> None:
    """A write by a client that is not the application, with the triggers in place."""
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(database_url.split(":///", 1)[1])) as conn:
            conn.create_function("mamori_txn", 0, lambda: "intruder")
            conn.execute(statement)
            conn.commit()
        return
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        conn.execute(statement)
