"""What one tap costs the server, in-process: the ingest's unit of work for a single fresh scan
(parse, decide, write, commit), timed around `IngestWorker.process`, no broker.

    .venv/bin/python -m bench.scan_cost [--scans 1000] [--db sqlite postgresql] [--year SCALE] [--key-holder]

Wall time per tap (p50, p99) and the worker thread's CPU time per tap. CPU time is what to
compare between two commits on a busy machine (wall time there is mostly waiting for a core):
run it here and in an export of the other commit (`git archive <commit> | tar -x -C /tmp/x`,
then `cd /tmp/x && <this venv>/bin/python -m bench.scan_cost`).

`--year 1.0` seeds a year of history first (bench/year.py); `--key-holder` has one key holder tap
the same cabinet every time (each tap a new cabinet session) and prints the CPU per tap for each
200 taps: a tap whose cost grows with history shows as a rising line.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from bench.common import SITE, bench_env, card_uid, database, percentiles, seed
from bench.year import seed_year
from gateway import protocol
from gateway.simulator import new_id
from server.config import Settings
from server.db import make_engine, make_session_factory
from server.ingest.intake import Incoming
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from tests.support.ledger import NoWire

READERS = [("entrance-1", "entrance"), ("cabinet-1", "cabinet")]


def run(url: str, scans: int, year: float | None = None,
        key_holder: bool = False) -> tuple[dict[str, float], float, list[float]]:
    """Wall-time percentiles, CPU ms per tap, and CPU ms per tap of each 200 taps."""
    seed(url, READERS, cards=scans)
    if year:
        seed_year(url, ["cabinet-1"], "entrance-1", scans, year)
    engine = make_engine(url, pre_ping=False)
    worker = IngestWorker(make_session_factory(engine), IngestService(Settings(database_url=url)), NoWire(),
                          clock=lambda: datetime.now(UTC))
    walls, cpus = [], []
    for n in range(scans):
        # a staff entry, then a key holder opening the cabinet; or one key holder again and again
        reader, uid = (READERS[1][0], card_uid(0)) if key_holder else (READERS[n % 2][0], card_uid(n))
        scan = protocol.Scan(v=1, id=new_id(), uid=uid, tech="felica", at=datetime.now(UTC))
        msg = Incoming(protocol.topic(SITE, reader, "scan"), protocol.encode(scan), datetime.now(UTC), mid=n, qos=1)
        started, started_cpu = time.perf_counter(), time.thread_time()
        worker.process([msg])
        cpus.append((time.thread_time() - started_cpu) * 1000)
        walls.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    windows = [sum(cpus[start:start + 200]) / 200 for start in range(0, scans - 199, 200)]
    return percentiles(walls[scans // 10:]), sum(cpus) / scans, windows  # the first tenth warms caches up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--year", type=float, default=None, help="seed a year of history first (1.0: 1M scans)")
    parser.add_argument("--key-holder", action="store_true", help="one key holder taps one cabinet every time")
    args = parser.parse_args()
    with bench_env() as (workdir, _broker):
        for kind in args.db:
            with database(kind, workdir) as url:
                stats, cpu_ms, windows = run(url, args.scans, args.year, args.key_holder)
                print(f"{kind:<10} one tap{' over a year' if args.year else ''}: p50 {stats['p50']:.2f} ms  "
                      f"p99 {stats['p99']:.2f} ms  (wall)  cpu {cpu_ms:.2f} ms per tap; per 200 taps: "
                      + " ".join(f"{w:.2f}" for w in windows), flush=True)


if __name__ == "__main__":
    main()
