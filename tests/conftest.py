"""Shared fixtures: a real Mosquitto per test, and SQLite and PostgreSQL databases.

`database_url` is a database already at the newest schema (a copy of a template this pytest process
migrated once), so `upgrade()` on it finds nothing to do; `empty_database_url` is one with no tables,
for what tests a migration itself. Both follow `database_kind`: each test runs on both databases.
argon2 answers are remembered per process (tests/support/passwords.py): accounts are made over and over.
"""

from __future__ import annotations

from functools import cache

import pytest

from tests.support.broker import Mosquitto
from tests.support.databases import KINDS, postgres_available, throwaway_database
from tests.support.passwords import remember_argon2_answers

DATABASES = list(KINDS)
remember_argon2_answers()


@pytest.fixture
def broker(tmp_path):
    mosquitto = Mosquitto(tmp_path / "broker").start()
    yield mosquitto
    mosquitto.kill()


@pytest.fixture
def pins():
    """gpiozero's mock pins (the stand-in for a Raspberry Pi's), reset after the test."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    Device.pin_factory = MockFactory()
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = None


@pytest.fixture(params=DATABASES)
def database_kind(request) -> str:
    if request.param == "postgresql":
        require_postgres()
    return request.param


@cache
def require_postgres() -> None:
    """Asked once per process (a failure is not remembered); a server gone later fails the test that meets it."""
    problem = postgres_available()
    if problem:
        pytest.fail(f"PostgreSQL is needed for these tests and did not answer ({problem}); "
                    "start it, or set MAMORI_TEST_PG to a server where databases may be created")


@pytest.fixture
def database_url(database_kind, tmp_path):
    with throwaway_database(database_kind, tmp_path) as url:
        yield url


@pytest.fixture
def empty_database_url(database_kind, tmp_path):
    with throwaway_database(database_kind, tmp_path, migrated=False) as url:
        yield url
