"""Sustained ingest: many readers publishing as fast as the broker takes them.

    .venv/bin/python -m bench.throughput [--readers 20] [--scans 20000] [--db sqlite postgresql]

Each of `--readers` simulated entrance readers publishes its share of `--scans` distinct staff
taps (QoS 1, no pause) to a real Mosquitto; `mamori serve` runs in its own process. The clock
runs from the first publish to the last `ack`, then the ledger is counted: it must hold every
scan exactly once. Target: ≥ 3,000 scans/s per server process.
"""

from __future__ import annotations

import argparse
import threading
import time

from sqlalchemy import func, select

from bench.common import SITE, bench_env, card_uid, database, seed, server
from gateway.simulator import SimulatedReader
from server.db import make_engine
from server.ledger.models import ScanRecord


def run(kind: str, readers: int, scans: int) -> None:
    per_reader = scans // readers
    total = per_reader * readers
    with bench_env() as (workdir, broker), database(kind, workdir) as url:
        seed(url, [(f"entrance-{r}", "entrance") for r in range(readers)], total)
        with server(url, broker.url, workdir):
            sims = [SimulatedReader(broker.url, SITE, f"entrance-{r}", resend_after=120).start()
                    for r in range(readers)]
            ids: list[list[str]] = [[] for _ in sims]

            def publish(r: int) -> None:
                for n in range(per_reader):
                    ids[r].append(sims[r].tap(card_uid(r * per_reader + n)))

            start = time.perf_counter()
            threads = [threading.Thread(target=publish, args=(r,)) for r in range(readers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            published = time.perf_counter() - start
            all_acked = all(sim.wait_acked(ids[r], timeout=600) for r, sim in enumerate(sims))
            elapsed = time.perf_counter() - start
            for sim in sims:
                sim.stop()
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(ScanRecord))
            distinct = conn.scalar(select(func.count(func.distinct(ScanRecord.id))))
        engine.dispose()
    print(f"{kind:<11} {total} scans from {readers} readers: published in {published:.2f} s, "
          f"all acked in {elapsed:.2f} s → {total / elapsed:,.0f} scans/s; "
          f"ledger holds {stored} ({distinct} distinct){'' if all_acked else '  NOT ALL ACKED'}")
    if stored != total or distinct != total:
        raise SystemExit(f"ledger count {stored} does not match {total} scans sent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--scans", type=int, default=20000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    for kind in args.db:
        run(kind, args.readers, args.scans)


if __name__ == "__main__":
    main()
