"""The 受付簿 at 100,000 cases: how long the page, its CSV and one case's page take, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.cases [--cases 100000] [--repeat 20] [--csv-repeat 3] [--only sqlite|postgresql]

Seeds `--cases` requests received over the last 365 days (a third of them destroyed, a third
submitted and kept, the rest received or surveyed; 40 surveyors), each with its history events,
through the real migrations and in bulk; runs ANALYZE as the app does after an upgrade. Then it asks
the real app (FastAPI's TestClient, logged in through the real login as a manager) for the pages a
person waits for, and prints p50 / p95 / max per page. Prints figures; never passes or fails on time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.common import database, percentiles
from server.accounts.service import add_user
from server.cases.models import Case, CaseEvent
from server.config import Settings
from server.db import make_engine, make_session_factory
from server.main import create_app
from server.migrate import analyze, upgrade
from server.people.models import Person
from tests.support.web import logged_in, page_client

SURVEYORS = 40
PASSWORD = "Kanri-Bench-2026"
BATCH = 5000
CRLF = b"\r\n"


def _case(n: int, total: int, today: date, now: datetime) -> tuple[dict, dict]:
    received = today - timedelta(days=365 - (n * 365) // total)
    row = {"id": n + 1, "number": f"R8-{n:06d}", "received_on": received, "kind": ("new", "renewal", "change")[n % 3],
           "surveyor_id": n % SURVEYORS + 1, "deadline": received + timedelta(days=20), "retention_days": 30,
           "surveyed_on": None, "submitted_on": None, "withdrawn_on": None, "retain_until": None,
           "destroyed_at": None, "destroy_method": None, "destroyed_by_id": None, "witness_id": None,
           "note": "再調査" if n % 50 == 0 else None, "created_at": now}
    stage = n % 6
    if stage >= 1 and received + timedelta(days=10) <= today:
        row["surveyed_on"] = received + timedelta(days=10)
    if stage >= 2 and row["surveyed_on"] and received + timedelta(days=15) <= today:
        row["submitted_on"] = received + timedelta(days=15)
        row["retain_until"] = row["submitted_on"] + timedelta(days=30)
    if stage >= 4 and row["retain_until"] and row["retain_until"] < today:
        row.update(destroyed_at=now - timedelta(days=(today - row["retain_until"]).days - 1), destroy_method="shredder",
                   destroyed_by_id=1, witness_id=2)
    event = {"case_id": n + 1, "at": now, "action": "received", "by_user_id": None, "by_name": "bench",
             "changes": {"number": row["number"]}, "corrects_id": None, "reason": None}
    return row, event


def seed(url: str, cases: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    now, today = datetime.now(UTC), datetime.now(UTC).date()
    with engine.begin() as conn:
        conn.execute(insert(Person), [{"id": n + 1, "name": f"調査員 {n + 1:02d}", "active": True, "key_holder": True,
                                       "training_on": today, "roles": [], "created_at": now}
                                      for n in range(SURVEYORS)])
    for start in range(0, cases, BATCH):
        rows = [_case(n, cases, today, now) for n in range(start, min(cases, start + BATCH))]
        with engine.begin() as conn:
            conn.execute(insert(Case), [row for row, _ in rows])
            conn.execute(insert(CaseEvent), [event for _, event in rows])
    with make_session_factory(engine)() as db, db.begin():
        add_user(db, "bench", "manager", PASSWORD, now)
    engine.dispose()
    analyze(url)


def timed(call, repeat: int) -> tuple[list[float], object]:
    call()  # warm-up
    seconds, response = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        seconds.append(time.perf_counter() - started)
    return seconds, response


def run(kind: str, cases: int, repeat: int, csv_repeat: int) -> None:
    with tempfile.TemporaryDirectory() as workdir, database(kind, Path(workdir)) as url:
        started = time.perf_counter()
        seed(url, cases)
        print(f"\n{kind}: {cases:,} cases seeded in {time.perf_counter() - started:.1f} s")
        app = create_app(Settings(database_url=url), with_ingest=False)
        today = datetime.now(UTC).date()
        year = f"from={today - timedelta(days=365)}&to={today}"
        with page_client(app):
            client, _ = logged_in(app, "bench", PASSWORD)
            pages = [("受付簿, a year (first 200 of all)", f"/cases?{year}", repeat),
                     ("受付簿, a year, overdue only", f"/cases?{year}&overdue=1", repeat),
                     ("受付簿, a year, one surveyor, surveyed", f"/cases?{year}&surveyor=7&state=surveyed", repeat),
                     ("one case's page", f"/cases/{cases // 2}", repeat),
                     ("API: GET /api/v1/cases?limit=100", f"/api/v1/cases?limit=100&since={today - timedelta(days=365)}",
                      repeat),
                     ("CSV, a year (every case)", f"/cases.csv?{year}", csv_repeat)]
            for name, path, times in pages:
                seconds, response = timed(lambda path=path: client.get(path), times)
                assert response.status_code == 200, (path, response.status_code)
                ms = percentiles([s * 1000 for s in seconds] * (2 if len(seconds) == 1 else 1))
                lines = response.content.count(CRLF) - 1
                extra = f", {lines:,} lines, {len(response.content) / 1e6:.1f} MB" if path.startswith("/cases.csv") else ""
                print(f"  {name:<44} p50 {ms['p50']:8.1f} ms  p95 {ms['p95']:8.1f} ms  max {ms['max']:8.1f} ms{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--csv-repeat", type=int, default=3)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    for kind in (args.only,) if args.only else ("sqlite", "postgresql"):
        run(kind, args.cases, args.repeat, args.csv_repeat)


if __name__ == "__main__":
    main()
