"""The evidence chain's own figures: appending in bulk, and verifying a chain of N links.

    .venv/bin/python -m bench.chain [--links 1000000] [--batch 5000] [--db sqlite postgresql]

The chain is built by the real path: audit entries inserted in units of work of `--batch` rows,
each chained by the commit hook (triggers → chain_pending → links). Then `mamori ledger verify`'s
code walks it and compares every row. Figures, not verdicts; the cost of the chain on the scan
path is `bench.latency` and `bench.throughput` run on this commit and on its parent.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bench.common import bench_env, database
from server.audit.models import AuditEvent
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.evidence.runs import snapshot_verify
from server.migrate import upgrade


def build(url: str, links: int, batch: int) -> float:
    """Append `links` audit entries through the chain; returns links per second."""
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    start, at = time.perf_counter(), datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(0, links, batch):
        rows = [{"at": at + timedelta(seconds=n), "actor": f"user{n % 50}", "action": "login",
                 "detail": f'{{"n": {n}}}', "address": "192.0.2.1"} for n in range(first, min(links, first + batch))]
        with unit_of_work(factory) as db:
            db.execute(insert(AuditEvent), rows)
    engine.dispose()
    return links / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    with bench_env() as (workdir, _broker):
        for kind in args.db:
            with database(kind, workdir) as url:
                rate = build(url, args.links, args.batch)
                engine = make_engine(url)
                started = time.perf_counter()
                report = snapshot_verify(engine, Settings().zone)
                took = time.perf_counter() - started
                engine.dispose()
                assert report.ok, [str(p) for p in report.problems]
                print(f"{kind}: appended {args.links:,} links at {rate:,.0f}/s (batches of {args.batch}); "
                      f"verified {report.links:,} links and rows in {took:.1f} s "
                      f"({report.links / took:,.0f} links/s)")


if __name__ == "__main__":
    main()
