"""Shared fixtures: a real Mosquitto per test, and SQLite and PostgreSQL databases."""

from __future__ import annotations

import pytest

from tests.support.broker import Mosquitto
from tests.support.databases import postgres_available, throwaway_postgres

DATABASES = ["sqlite", "postgresql"]


@pytest.fixture
def broker(tmp_path):
    mosquitto = Mosquitto(tmp_path / "broker").start()
    yield mosquitto
    mosquitto.kill()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mamori.db'}"
        return
    problem = postgres_available()
    if problem:
        pytest.fail(f"PostgreSQL is needed for these tests and did not answer ({problem}); "
                    "start it, or set MAMORI_TEST_PG to a server where databases may be created")
    with throwaway_postgres() as url:
        yield url
