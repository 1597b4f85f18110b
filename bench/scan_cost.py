"""What one tap costs the server, in-process: the ingest's unit of work for a single fresh scan
(parse, decide, write, commit), timed around `IngestWorker.process`, no broker.

    .venv/bin/python -m bench.scan_cost [--scans 1000] [--db sqlite postgresql]

Wall time per tap (p50, p99) and the worker thread's CPU time per tap. CPU time is what to
compare between two commits on a busy machine (wall time there is mostly waiting for a core):
run it here and in an export of the other commit (`git archive <commit> | tar -x -C /tmp/x`,
then `cd /tmp/x && <this venv>/bin/python -m bench.scan_cost`).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from bench.common import SITE, bench_env, card_uid, database, percentiles, seed
from gateway import protocol
from gateway.simulator import new_id
from server.config import Settings
from server.db import make_engine, make_session_factory
from server.ingest.intake import Incoming
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from tests.support.ledger import NoWire

READERS = [("entrance-1", "entrance"), ("cabinet-1", "cabinet")]


def run(url: str, scans: int) -> tuple[dict[str, float], float]:
    seed(url, READERS, cards=scans)
    engine = make_engine(url, pre_ping=False)
    worker = IngestWorker(make_session_factory(engine), IngestService(Settings(database_url=url)), NoWire(),
                          clock=lambda: datetime.now(UTC))
    walls, cpu = [], 0.0
    for n in range(scans):
        reader = READERS[n % 2][0]  # a staff entry, then a key holder opening the cabinet
        scan = protocol.Scan(v=1, id=new_id(), uid=card_uid(n), tech="felica", at=datetime.now(UTC))
        msg = Incoming(protocol.topic(SITE, reader, "scan"), protocol.encode(scan), datetime.now(UTC), mid=n, qos=1)
        started, started_cpu = time.perf_counter(), time.thread_time()
        worker.process([msg])
        cpu += time.thread_time() - started_cpu
        walls.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return percentiles(walls[scans // 10:]), cpu * 1000 / scans  # the first tenth warms caches up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    with bench_env() as (workdir, _broker):
        for kind in args.db:
            with database(kind, workdir) as url:
                stats, cpu_ms = run(url, args.scans)
                print(f"{kind:<10} one tap: p50 {stats['p50']:.2f} ms  p99 {stats['p99']:.2f} ms  "
                      f"(wall)  cpu {cpu_ms:.2f} ms per tap")


if __name__ == "__main__":
    main()
