"""Every statement the ingest sends, with its plan and its time, over an empty database and a year.

    .venv/bin/python -m bench.ingest_plans [--db sqlite postgresql] [--scale 1.0] [--repeat 20]

Runs `IngestWorker.process` in-process (no broker) on the paths a tap takes: a key holder opening
a cabinet, an item out and back in that session, the door opened and closed, an entrance entry,
a late cabinet tap and a late entrance tap (the rewind). Every distinct SELECT is then run again
`--repeat` times with the parameters it had (median time; on PostgreSQL the execution time EXPLAIN
ANALYZE reports), and its plan printed (SQLite EXPLAIN QUERY PLAN, PostgreSQL EXPLAIN (ANALYZE, BUFFERS)). A statement whose time or plan differs between
the empty database and the year is one whose cost grows with history.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from bench.common import SITE, bench_env, card_uid, database, seed
from bench.year import item_uid, seed_year
from gateway import protocol
from gateway.simulator import new_id
from server.config import Settings
from server.db import make_engine, make_session_factory
from server.ingest.intake import Incoming
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from tests.support.ledger import NoWire

CABINETS = ["cabinet-1", "cabinet-2", "cabinet-3", "cabinet-4"]
READERS = [("entrance-1", "entrance"), *((c, "cabinet") for c in CABINETS)]
PEOPLE = 300


def _message(reader: str, body) -> Incoming:
    return Incoming(protocol.topic(SITE, reader, "event" if isinstance(body, protocol.Event) else "scan"),
                    protocol.encode(body), datetime.now(UTC), mid=1, qos=1)


def _scan(uid: str, at: datetime) -> protocol.Scan:
    return protocol.Scan(v=1, id=new_id(), uid=uid, tech="felica", at=at)


def taps(now: datetime) -> list[tuple[str, list[Incoming]]]:
    """The paths of a tap, one batch each, in the order an office makes them."""
    key = card_uid(0)
    opening = _scan(key, now)
    return [
        ("cabinet: key holder opens", [_message("cabinet-1", opening)]),
        ("cabinet: door opens", [_message("cabinet-1", protocol.Event(v=1, id=new_id(), type="door_open",
                                                                       at=now + timedelta(milliseconds=100),
                                                                       scan=opening.id))]),
        ("cabinet: item out", [_message("cabinet-1", _scan(item_uid(1), now + timedelta(milliseconds=200)))]),
        ("cabinet: item back", [_message("cabinet-1", _scan(item_uid(2), now + timedelta(milliseconds=300))),
                                _message("cabinet-1", _scan(item_uid(1), now + timedelta(milliseconds=400)))]),
        ("cabinet: door closes", [_message("cabinet-1", protocol.Event(v=1, id=new_id(), type="door_closed",
                                                                        at=now + timedelta(milliseconds=500)))]),
        ("cabinet: next key holder", [_message("cabinet-1", _scan(card_uid(1), now + timedelta(milliseconds=800)))]),
        ("entrance: staff entry", [_message("entrance-1", _scan(card_uid(2), now + timedelta(milliseconds=900)))]),
        ("cabinet: a late tap (rewind)", [_message("cabinet-1", _scan(card_uid(3), now + timedelta(milliseconds=600)))]),
        ("entrance: a late tap (rewind)", [_message("entrance-1", _scan(card_uid(2), now + timedelta(milliseconds=700)))]),
    ]


class Recorder:
    """The statements a piece of work sends, each once, with the parameters it first had."""

    def __init__(self, engine):
        self.seen: dict[str, tuple[str, object]] = {}
        self.label = ""
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, executemany) -> None:
        if executemany:
            parameters = parameters[0] if parameters else parameters
        self.seen.setdefault(statement, (self.label, parameters))


def _timed(raw, statement: str, parameters, repeat: int) -> float:
    cursor = raw.cursor()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        cursor.execute(statement, parameters)
        cursor.fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    raw.rollback()
    return statistics.median(samples)


def _plan(raw, dialect: str, statement: str, parameters) -> list[str]:
    cursor = raw.cursor()
    if dialect == "sqlite":
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        lines = [row[-1] for row in cursor.fetchall()]
    else:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters)
        lines = [row[0] for row in cursor.fetchall()]
    raw.rollback()
    return lines


def run(url: str, repeat: int, scale: float | None) -> dict[str, tuple[str, float, list[str]]]:
    """statement -> (the path that sent it, median ms, plan); with a year of history when `scale` is given."""
    seed(url, READERS, PEOPLE)
    if scale is not None:
        seed_year(url, CABINETS, "entrance-1", PEOPLE, scale)
    engine = make_engine(url, pre_ping=False)
    worker = IngestWorker(make_session_factory(engine), IngestService(Settings(database_url=url)), NoWire(),
                          clock=lambda: datetime.now(UTC))
    recorder = Recorder(engine)
    for label, batch in taps(datetime.now(UTC) - timedelta(milliseconds=300)):
        recorder.label = label
        worker.process(batch)
    event.remove(engine, "before_cursor_execute", recorder._record)
    found: dict[str, tuple[str, float, list[str]]] = {}
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, (label, parameters) in recorder.seen.items():
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = _plan(raw, engine.dialect.name, statement, parameters)
            # PostgreSQL's own execution time: the client's clock on a loaded machine mostly times the wait.
            server_ms = [float(line.split(":")[1].split()[0]) for line in plan if line.startswith("Execution Time")]
            found[statement] = (label, server_ms[0] if server_ms else _timed(raw, statement, parameters, repeat), plan)
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--scale", type=float, default=1.0, help="the year's size (1.0: a million scans)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--all", action="store_true", help="print every statement, not only those over 0.2 ms")
    args = parser.parse_args()
    with bench_env() as (workdir, _broker):
        for kind in args.db:
            with database(kind, workdir) as url:
                empty = run(url, args.repeat, None)
            (workdir / "bench.db").unlink(missing_ok=True)
            with database(kind, workdir) as url:
                year = run(url, args.repeat, args.scale)
            print(f"\n===== {kind}: median ms per statement, empty → a year =====")
            for statement, (label, ms, plan) in sorted(year.items(), key=lambda kv: -kv[1][1]):
                before = empty.get(statement)
                if not args.all and ms < 0.2:
                    continue
                print(f"\n[{label}] {before[1] if before else float('nan'):.3f} ms → {ms:.3f} ms\n  "
                      + " ".join(statement.split())[:400])
                for line in plan:
                    print("    " + line)


if __name__ == "__main__":
    main()
