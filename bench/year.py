"""A year of an office in the ingest's tables, in bulk, for the benchmarks that ask "flat with history?".

At scale 1.0, over the 365 days before now: 50,000 cabinet sessions (each opened by a key holder's
tap, its door opened and closed, four items taken out, each brought back an hour later), so
200,000 checkouts and 100,000 door events; 550,000 entrance taps with their entries and exits;
1,000,000 scans in all. Rows go in bulk (executemany on SQLite, COPY on PostgreSQL) with the
evidence triggers dropped meanwhile (a writer around the application, as docs/evidence.md says:
these rows are left out of the chain), then the triggers are put back and the tables analysed.

Used by `bench.latency --year`, `bench.throughput --year` and `bench.ingest_plans`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, text

from bench.common import card_uid
from server.checkouts.models import CabinetSession, Checkout
from server.db import make_engine
from server.evidence import capture
from server.evidence.chain import kinds
from server.items.models import Item
from server.ledger.models import ReaderEvent, ScanRecord
from server.migrate import start_chain
from server.visits import inside
from server.visits.models import PresenceEvent

SESSIONS, CHECKOUTS_PER_SESSION, ENTRANCE_TAPS, ITEMS_PER_CABINET = 50_000, 4, 550_000, 500
HISTORY_PEOPLE = 200  # the cards the history is spread over (the first ones the bench seeded)
CHUNK = 5_000


def item_uid(n: int) -> str:
    return f"{0x0400000000000000 + n:016X}"


def _load(engine: Engine, table, rows: Iterable[dict]) -> int:
    count = 0
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            columns = [c.name for c in table.columns]
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(tuple(row.get(c) for c in columns))
                    count += 1
            return count
        chunk: list[dict] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                conn.execute(insert(table), chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            conn.execute(insert(table), chunk)
            count += len(chunk)
    return count


def _scan(scan_id: str, reader: str, uid: str, at: datetime, result: str, action: str | None,
          person_id: int | None, item_id: int | None = None) -> dict:
    return {"id": scan_id, "reader_id": reader, "uid": uid, "tech": "felica", "at": at, "received_at": at,
            "fresh": True, "result": result, "action": action, "reason": None, "person_id": person_id,
            "item_id": item_id, "visit_id": None, "duplicate_of": None}


class _Year:
    def __init__(self, cabinets: list[str], entrance: str, people: int, scale: float, now: datetime):
        self.cabinets, self.entrance = cabinets, entrance
        self.people = max(1, min(people, HISTORY_PEOPLE))
        self.sessions = int(SESSIONS * scale)
        self.taps = int(ENTRANCE_TAPS * scale)
        self.end = now - timedelta(hours=2)
        self.start = self.end - timedelta(days=365)
        self.sessions_rows: list[dict] = []
        self.checkouts: list[dict] = []
        self.events: list[dict] = []

    def items(self) -> Iterator[dict]:
        for c, cabinet in enumerate(self.cabinets):
            for k in range(ITEMS_PER_CABINET):
                n = c * ITEMS_PER_CABINET + k
                yield {"id": n + 1, "label": f"ファイル {n}", "kind": "folder", "tag_uid": item_uid(n),
                       "cabinet_id": cabinet, "encrypted": False, "screen_locked": False, "case_number": None,
                       "status": "active", "due_time": None, "loan_minutes": None, "created_at": self.start}

    def cabinet_scans(self) -> Iterator[dict]:
        """Each session's scans; its session, checkouts and door events are kept for their own tables."""
        step = (self.end - self.start) / max(self.sessions, 1)
        cabinets = len(self.cabinets)
        for i in range(self.sessions):
            cabinet = self.cabinets[i % cabinets]
            person = i % self.people + 1
            opened = self.start + i * step
            opening = f"y-open-{i}"
            yield _scan(opening, cabinet, card_uid(person - 1), opened, "unlock", "session_open", person)
            closed = opened + timedelta(seconds=30)
            self.sessions_rows.append({"id": i + 1, "cabinet_id": cabinet, "person_id": person, "opened_at": opened,
                                       "last_scan_at": opened + timedelta(seconds=5), "closed_at": closed,
                                       "closed_reason": "door_closed", "scan_id": opening})
            self.events += [{"id": f"y-door-{i}-{kind}", "reader_id": cabinet, "type": kind, "at": at,
                             "received_at": at, "scan_id": opening if kind == "door_open" else None}
                            for kind, at in (("door_open", opened + timedelta(seconds=1)), ("door_closed", closed))]
            for q in range(CHECKOUTS_PER_SESSION):
                item = (i % cabinets) * ITEMS_PER_CABINET + (CHECKOUTS_PER_SESSION * (i // cabinets) + q) % ITEMS_PER_CABINET
                out_at, back_at = opened + timedelta(seconds=2 + q), opened + timedelta(hours=1, seconds=q)
                out_id, back_id = f"y-out-{i}-{q}", f"y-back-{i}-{q}"
                yield _scan(out_id, cabinet, item_uid(item), out_at, "accept", "checkout", person, item + 1)
                yield _scan(back_id, cabinet, item_uid(item), back_at, "accept", "return", person, item + 1)
                self.checkouts.append({
                    "id": len(self.checkouts) + 1, "item_id": item + 1, "person_id": person, "session_id": i + 1,
                    "out_at": out_at, "due_at": out_at + timedelta(hours=8), "loan_rule": None, "purpose": None,
                    "returned_at": back_at, "returned_by_id": person, "out_scan_id": out_id,
                    "return_scan_id": back_id, "erasure": None, "erased_at": None, "erased_by": None})

    def entrance_scans(self, presence: list[dict]) -> Iterator[dict]:
        step = (self.end - self.start) / max(self.taps, 1)
        for n in range(self.taps):
            person = n % self.people + 1
            kind = "entry" if (n // self.people) % 2 == 0 else "exit"
            at = self.start + n * step
            scan_id = f"y-gate-{n}"
            yield _scan(scan_id, self.entrance, card_uid(person - 1), at, "accept", kind, person)
            presence.append({"id": n + 1, "kind": kind, "at": at, "person_id": person, "visit_id": None,
                             "reader_id": self.entrance, "scan_id": scan_id})


def seed_year(url: str, cabinets: list[str], entrance: str, people: int, scale: float = 1.0) -> dict[str, int]:
    """A year of history for readers and people the bench has already seeded (bench.common.seed)."""
    engine = make_engine(url, pre_ping=False)
    year = _Year(cabinets, entrance, people, scale, datetime.now(UTC))
    evidence = list(kinds())
    started = time.perf_counter()
    with engine.begin() as conn:
        capture.uninstall(conn, evidence)
    counts: dict[str, int] = {}
    try:
        counts["items"] = _load(engine, Item.__table__, year.items())
        presence: list[dict] = []
        counts["scans"] = _load(engine, ScanRecord.__table__, year.cabinet_scans())
        counts["scans"] += _load(engine, ScanRecord.__table__, year.entrance_scans(presence))
        for name, table, rows in (("cabinet_sessions", CabinetSession.__table__, year.sessions_rows),
                                  ("checkouts", Checkout.__table__, year.checkouts),
                                  ("reader_events", ReaderEvent.__table__, year.events),
                                  ("presence_events", PresenceEvent.__table__, presence)):
            counts[name] = _load(engine, table, rows)
        with engine.begin() as conn:  # the stored "who is in", as the ingest would have kept it
            inside.rebuild(conn)
    finally:
        with engine.begin() as conn:
            capture.sync(conn)
    # An office's year was chained as it happened: chain the seeded one now, or `mamori serve` would at
    # start, and the huge write-ahead log it leaves would slow the measured commits (SQLite: 52 ms a tap).
    chained = start_chain(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("items", "cabinet_sessions", "checkouts", "presence_events"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
            conn.commit()
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM (ANALYZE)"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    print("  a year seeded and chained ({:,} links) in {:.0f} s: {}".format(
        chained, time.perf_counter() - started, ", ".join(f"{n:,} {name}" for name, n in counts.items())),
        flush=True)
    return counts
