"""Readiness (`/api/v1/ready`): may this server take traffic now? Liveness (`/api/v1/health`) only says
the process answers.

Ready means: the database answers and is at the newest schema (a server started against an old one
would fail on its first write), and, where the ingest runs, the broker is connected and the worker
thread is alive. Each problem is one line a person can act on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from server.migrate import alembic_config


@lru_cache(maxsize=1)
def newest_schema() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def readiness_problems(engine: Engine, ingest: Any) -> list[str]:
    problems = []
    try:
        with engine.connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
        if current != newest_schema():
            problems.append(f"database: schema {', '.join(sorted(current)) or 'empty'} is not the newest "
                            f"({', '.join(sorted(newest_schema()))}); run `mamori db upgrade`")
    except Exception as exc:  # whatever the driver raises, the answer is the same: not ready
        problems.append(f"database: does not answer ({exc.__class__.__name__}: {str(exc).splitlines()[0][:200]})")
    if ingest is not None:
        if not ingest.link.connected:
            problems.append(f"broker: not connected to {ingest.link.host}:{ingest.link.port}")
        if not ingest.worker.alive:
            problems.append("ingest: the worker thread is not running")
    return problems
