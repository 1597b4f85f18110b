"""Where the ingest's time goes in a burst: `IngestWorker.process` under cProfile, in-process, no broker.

    .venv/bin/python -m bench.ingest_profile [--scans 10000] [--batch 500] [--db sqlite postgresql] [--year SCALE]
        [--statements]

The batches `bench.throughput` makes the server take (entrance staff taps from 20 readers, up to
500 a batch), fed straight to the worker: scans per second of the worker alone, then the
functions that took the most time (own and cumulative) and a rough split: the database driver,
the chain's hashing, parsing, the rest. `--statements` first lists every statement one batch sends
(as `echo` would log them), with how many parameter sets each carried: the round trips of a batch.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from datetime import UTC, datetime

from sqlalchemy import event

from bench.common import SITE, bench_env, card_uid, database, seed
from bench.year import seed_year
from gateway import protocol
from gateway.simulator import new_id
from server.config import Settings
from server.db import make_engine, make_session_factory
from server.ingest.intake import Incoming
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from tests.support.ledger import NoWire

READERS = 20
# (label, the end of a function's file, its name): its cumulative time is that part's share.
PARTS = [("parse (intake.parse)", "ingest/intake.py", "parse"),
         ("load the ledger slice (BatchLedger.load)", "ingest/ledger_view.py", "load"),
         ("decide (IngestService.handle_scan)", "ingest/service.py", "handle_scan"),
         ("write back (BatchLedger.write)", "ingest/ledger_view.py", "write"),
         ("chain (evidence append, in the commit)", "evidence/chain.py", "append"),
         ("commit (Session.commit, chain included)", "orm/session.py", "commit"),
         ("every SQL statement (Connection._execute_context)", "engine/base.py", "_execute_context"),
         ("the driver: psycopg's execute", "psycopg/cursor.py", "execute"),
         ("the driver: psycopg's executemany", "psycopg/cursor.py", "executemany"),
         ("the driver: sqlite3's execute", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
         ("the driver: sqlite3's executemany", "~", "<method 'executemany' of 'sqlite3.Cursor' objects>"),
         ("publish decisions and acks", "ingest/worker.py", "_publish_decisions")]

def list_statements(engine, worker: IngestWorker, batch: list[Incoming]) -> None:
    """Process one batch, printing each statement it sent and how many rows of parameters it carried."""
    sent: list[tuple[str, int]] = []

    def note(_conn, _cursor, statement, parameters, _context, many) -> None:
        sent.append((" ".join(statement.split())[:110], len(parameters) if many else 1))

    event.listen(engine, "before_cursor_execute", note)
    worker.process(batch)
    event.remove(engine, "before_cursor_execute", note)
    print(f"  one batch of {len(batch)}: {len(sent)} statements, {sum(n for _s, n in sent)} parameter sets")
    for statement, rows in sent:
        print(f"    {rows:>5} × {statement}")


def run(url: str, scans: int, batch: int, year: float | None, statements: bool = False) -> None:
    readers = [(f"entrance-{r}", "entrance") for r in range(READERS)]
    seed(url, [*readers, ("cabinet-1", "cabinet")], scans)
    if year:
        seed_year(url, ["cabinet-1"], "entrance-0", scans, year)
    engine = make_engine(url, pre_ping=False)
    worker = IngestWorker(make_session_factory(engine), IngestService(Settings(database_url=url)), NoWire(),
                          clock=lambda: datetime.now(UTC))
    messages = []
    for n in range(scans):
        scan = protocol.Scan(v=1, id=new_id(), uid=card_uid(n), tech="felica", at=datetime.now(UTC))
        messages.append(Incoming(protocol.topic(SITE, f"entrance-{n % READERS}", "scan"), protocol.encode(scan),
                                 datetime.now(UTC), mid=n, qos=1))
    worker.process(messages[:1])  # warm-up: the reader directory, statement caches
    if statements:
        list_statements(engine, worker, messages[1:1 + batch])
        messages = messages[batch:]
        scans -= batch
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for start in range(1, scans, batch):
        worker.process(messages[start:start + batch])
    profile.disable()
    elapsed = time.perf_counter() - started
    engine.dispose()
    print(f"  worker alone: {scans - 1} scans in {elapsed:.2f} s → {(scans - 1) / elapsed:,.0f} scans/s "
          f"(batches of {batch}, under cProfile)")
    stats = pstats.Stats(profile)
    total = stats.total_tt
    for label, where, name in PARTS:
        cumulative = sum(ct for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
                         if file.endswith(where) and func == name)
        if not cumulative:
            continue
        print(f"  {label:<52} {cumulative:6.2f} s  {cumulative / total:5.0%}")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(18)
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--year", type=float, default=None)
    parser.add_argument("--statements", action="store_true", help="first list the statements of one batch")
    args = parser.parse_args()
    with bench_env() as (workdir, _broker):
        for kind in args.db:
            print(f"{kind}:")
            with database(kind, workdir) as url:
                run(url, args.scans, args.batch, args.year, args.statements)


if __name__ == "__main__":
    main()
