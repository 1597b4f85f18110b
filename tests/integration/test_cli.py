"""The `mamori` console entry point, run as an operator would: a subprocess with MAMORI_* in its environment."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from server.config import Settings
from server.db import make_engine
from server.main import create_app

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GOOD_PASSWORD = "Kanri-2026-pass"


def mamori(database_url: str, *args: str, stdin: str | None = None, **settings: str) -> subprocess.CompletedProcess:
    """`settings`: more MAMORI_* variables, e.g. MAMORI_MQTT_USERNAME="…"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env["MAMORI_DATABASE_URL"] = database_url
    env.update(settings)
    return subprocess.run([sys.executable, "-m", "server.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)


def add_user(database_url: str, name: str = "kanri", password: str = GOOD_PASSWORD, role: str = "manager"):
    return mamori(database_url, "users", "add", name, "--role", role, "--password-stdin", stdin=password + "\n")


def query(database_url: str, sql: str) -> list[tuple]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """For refusals that never reach a database-specific code path."""
    return f"sqlite:///{tmp_path / 'cli.db'}"


# ------------------------------------------------------------------------------------------ db


def test_db_upgrade_brings_a_new_database_to_the_newest_schema_and_can_run_again(empty_database_url):
    for _ in range(2):
        run = mamori(empty_database_url, "db", "upgrade")
        assert run.returncode == 0, run.stderr
        assert "newest schema" in run.stdout
    [(version,)] = query(empty_database_url, "SELECT version_num FROM alembic_version")
    assert version == _head_revision()
    assert query(empty_database_url, "SELECT count(*) FROM users") == [(0,)]


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from server.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


# --------------------------------------------------------------------------------------- users


def test_a_user_added_with_a_good_password_is_stored_with_an_argon2_hash(database_url):
    run = add_user(database_url)
    assert run.returncode == 0, run.stderr
    assert "kanri" in run.stdout and "manager" in run.stdout
    [(name, role, password_hash, active)] = query(database_url,
                                                  "SELECT name, role, password_hash, active FROM users")
    assert (name, role, bool(active)) == ("kanri", "manager", True)
    assert password_hash.startswith("$argon2id$") and GOOD_PASSWORD not in password_hash


@pytest.mark.parametrize("password, missing", [
    ("short1A!", ["at least 10 characters", "has 8"]),
    ("alllowercase1", ["3 of 4 kinds", "an upper-case letter", "a symbol"]),
    ("ALLUPPERCASEONLY", ["3 of 4 kinds", "a lower-case letter", "a digit", "a symbol"]),
    ("", ["at least 10 characters"]),
], ids=["too short", "two kinds", "one kind", "empty"])
def test_a_password_that_breaks_the_rule_is_refused_naming_what_is_missing(sqlite_url, password, missing):
    run = add_user(sqlite_url, password=password)
    assert run.returncode != 0
    for words in missing:
        assert words in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert query(sqlite_url, "SELECT count(*) FROM users") == [(0,)]


def test_a_second_user_with_the_same_name_is_refused(database_url):
    assert add_user(database_url).returncode == 0
    run = add_user(database_url, password="Another-2026-pass", role="admin")
    assert run.returncode != 0
    assert "already exists" in run.stderr and "Traceback" not in run.stderr
    assert query(database_url, "SELECT name, role FROM users") == [("kanri", "manager")]


def test_an_unknown_role_is_refused_by_the_argument_parser(sqlite_url):
    run = add_user(sqlite_url, role="superuser")
    assert run.returncode == 2
    assert "invalid choice" in run.stderr and "superuser" in run.stderr


def test_users_add_without_password_stdin_refuses_and_adds_nobody(sqlite_url):
    run = mamori(sqlite_url, "users", "add", "kanri", "--role", "manager", stdin=GOOD_PASSWORD + "\n")
    assert run.returncode != 0
    assert "--password-stdin" in run.stderr
    assert mamori(sqlite_url, "db", "upgrade").returncode == 0
    assert query(sqlite_url, "SELECT count(*) FROM users") == [(0,)]


def test_a_blank_user_name_is_refused(sqlite_url):
    """`mamori users add ""` (or a name of spaces) is refused: an account nobody can name; names are
    stripped, so "kanri" and " kanri " are one person."""
    for name in ("", "   "):
        run = add_user(sqlite_url, name=name)
        assert run.returncode != 0, (name, run.stdout)
    assert query(sqlite_url, "SELECT count(*) FROM users") == [(0,)]


def test_a_user_name_longer_than_the_column_is_refused_cleanly(database_url):
    """A name longer than the 100-character column is refused with a message on both databases,
    not stored on one and a traceback on the other."""
    run = add_user(database_url, name="n" * 101)
    assert run.returncode != 0, run.stdout
    assert "Traceback" not in run.stderr, run.stderr[-500:]
    assert query(database_url, "SELECT count(*) FROM users") == [(0,)]


# -------------------------------------------------------------------------------------- tokens


def test_a_created_token_is_printed_once_and_opens_the_api(database_url, broker):
    assert add_user(database_url).returncode == 0
    run = mamori(database_url, "tokens", "create", "--user", "kanri")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 1, run.stdout
    token = lines[0]
    assert token.startswith("mamori_") and len(token) > len("mamori_") + 30
    assert token not in run.stderr  # the warning goes to stderr, the token only to stdout

    app = create_app(Settings(database_url=database_url, mqtt_url=broker.url))
    with TestClient(app) as client:
        assert client.get("/api/v1/readers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.get("/api/v1/readers", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
        assert client.get("/api/v1/readers").status_code == 401


def test_only_the_hash_of_a_token_is_stored(database_url):
    assert add_user(database_url).returncode == 0
    tokens = [mamori(database_url, "tokens", "create", "--user", "kanri").stdout.strip() for _ in range(2)]
    assert tokens[0] != tokens[1]
    rows = query(database_url, "SELECT token_hash, prefix FROM api_tokens ORDER BY id")
    assert [h for h, _prefix in rows] == [hashlib.sha256(t.encode()).hexdigest() for t in tokens]
    # The prefix (to tell tokens apart in a list) is the first 12 characters; the rest is never stored.
    assert [prefix for _hash, prefix in rows] == [t[:12] for t in tokens]
    stored = [value for row in query(database_url, "SELECT * FROM api_tokens") for value in row]
    for token in tokens:
        assert not any(isinstance(value, str) and token[12:] in value for value in stored), stored


def test_a_token_for_an_unknown_user_is_refused(database_url):
    run = mamori(database_url, "tokens", "create", "--user", "nobody")
    assert run.returncode != 0
    assert run.stdout == ""
    assert "nobody" in run.stderr and "Traceback" not in run.stderr
    assert query(database_url, "SELECT count(*) FROM api_tokens") == [(0,)]


# ----------------------------------------------------------------------------- which database


def test_every_write_says_which_database_it_writes_and_hides_the_password(tmp_path):
    """`mamori users add` beside the demo once wrote a different SQLite file without a word."""
    url = f"sqlite:///{tmp_path / 'office.db'}"
    run = add_user(url)
    assert run.returncode == 0, run.stderr
    assert f"database: {url} ({tmp_path / 'office.db'}, a new file)" in run.stderr
    token = mamori(url, "tokens", "create", "--user", "kanri")
    assert token.stdout.count("\n") == 1 and "database" not in token.stdout  # stdout stays the token alone
    assert f"database: {url} ({tmp_path / 'office.db'})\n" in token.stderr


def test_the_default_database_is_named_as_the_default_with_its_full_path(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    run = subprocess.run([sys.executable, "-m", "server.cli", "users", "add", "kanri", "--role", "manager",
                          "--password-stdin"], input=GOOD_PASSWORD + "\n", capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    assert (f"database: sqlite:///mamori.db ({tmp_path / 'mamori.db'}, a new file); "
            "MAMORI_DATABASE_URL is not set, so this is the default") in run.stderr


def test_a_postgresql_password_never_reaches_the_terminal():
    from server.cli import describe_database

    assert describe_database("postgresql+psycopg://mamori:s3cret@db.example/mamori").startswith(
        "postgresql+psycopg://mamori:***@db.example/mamori")
