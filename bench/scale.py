"""Scale: the lists people wait for, at the issue's sizes, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.scale [--scale 1.0] [--repeat 50] [--only sqlite|postgresql]
        [--sqlite PATH] [--pg URL] [--pg-database NAME] [--keep] [--now ISO] [--analyze] [--no-analyze]
        [--select WORD ...] [--explain [all]] [--try-index SQL ...] [--no-before]

At scale 1.0 it seeds 10,000 people (with cards), 2 entrance and 18 cabinet readers, 100,000 items,
1,000,000 checkouts and 1,000,000 visits over three years, about 4,000,000 presence events (staff
twice a working day for the last 115 working days, visitors at each entry and exit), 200 visitor
badges and 5,000 alerts. The schema is built by the real migrations; rows go in bulk (the
driver's executemany on SQLite, COPY on PostgreSQL; each table's plain indexes built after its rows); then ANALYZE (PostgreSQL: VACUUM (ANALYZE)), as a
database in use has them (the app runs ANALYZE after an upgrade and daily; --no-analyze to see SQLite without).

Then it times the app's own query functions, each call in a fresh Session as a request has, after
one warm-up and gc.freeze() as `mamori serve` does: p50 / p95 / p99 over `--repeat` calls. The office
clock stands at 14:00 (Asia/Tokyo) of the latest weekday, so runs on the same day see the same office.
Target: p95 ≤ 50 ms. A given --sqlite file or --pg-database is reused if it is there (same --now), brought
to the newest migration first (its seeded rows are not chained).

"before" first checks that the app gives the very same lines as the queries it replaced (kept in
tests/support/visits_before.py) and then times those, with the indexes of migration 0009 dropped for
the while (--no-before skips it); "after" is the app as it is. --try-index creates an index by hand in
the benchmark database (never in the models or the migrations), runs ANALYZE, times everything again
and drops it; prefix the statement with `sqlite:` or `postgresql:` to try it on one database only.
--explain prints the plan of every statement of a query over the target (SQLite EXPLAIN QUERY PLAN,
PostgreSQL EXPLAIN ANALYZE).
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json as jsonlib
import random
import re
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import psycopg
from alembic import command
from psycopg.types.json import Json
from sqlalchemy import (
    JSON,
    Engine,
    event,
    select,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from bench.common import SITE, percentiles
from server.alerts.models import Alert
from server.alerts.overdue import open_overdue_alerts
from server.api.deps import Page
from server.checkouts.models import Checkout
from server.checkouts.register import RegisterFilter, transactions
from server.checkouts.routes import list_checkouts
from server.db import make_engine
from server.domain.alerts import cabinet_denial_severity
from server.items.models import Item
from server.migrate import alembic_config, current_revision, upgrade
from server.migrate import analyze as migrate_analyze
from server.people.models import Card, Person, VisitorBadge
from server.readers.models import Reader
from server.visits import entry_log as entry_log_module
from server.visits import inside
from server.visits import presence as presence_module
from server.visits import queries as visit_queries
from server.visits.entry_log import LogLine
from server.visits.models import PresenceEvent, Visit
from server.visits.retention import ANONYMOUS
from server.visits.routes import list_visits
from server.web.dashboard import overdue_rows, panels_context
from server.web.reception.desk import _desk
from server.web.reception.entry_log import SHOWN
from server.web.register.pages import PER_PAGE
from tests.support import visits_before as before
from tests.support.databases import PG_ADMIN_URL

ZONE = ZoneInfo("Asia/Tokyo")
TOKYO = 9 * 3600  # Tokyo keeps no summer time: office midnight is always 15:00 UTC the day before
DAY = 86_400
HOUR = 3600
TARGET_MS = 50.0
CHUNK = 20_000  # rows per executemany on SQLite
HISTORY_DAYS = 3 * 365
STAFF_DAYS = 115  # working days of staff entries and exits
CLOSING = 18 * HOUR

SURNAMES = ("佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水 "
            "山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本").split()
GIVEN = "太郎 花子 健一 美咲 翔太 陽子 大輔 由美 直樹 恵 拓也 彩 誠 裕子 亮 真由美 健太 智子 隆 愛 翼 結衣".split()
COMPANIES = ("株式会社ミナト商事 東都建設株式会社 さくら法律事務所 北斗運輸株式会社 練馬区役所 合同会社ひかり "
             "丸川電機株式会社 青葉監査法人 株式会社ナカノ設備 東京リース株式会社").split()
PURPOSES = ("打合せ", "設備点検", "書類受領", "面談", "納品", "監査", "複合機保守")
KINDS = (("folder", 0.60), ("media", 0.15), ("phone", 0.10), ("laptop", 0.10), ("key", 0.05))
KIND_WORDS = {"folder": "事件記録", "media": "USBメモリ", "phone": "携帯電話", "laptop": "ノートPC", "key": "鍵"}
LONG_LOANS = {"media": 7 * DAY, "laptop": 14 * DAY}  # an item's own rule; the rest back by 18:00, keys in 2 h
DENIALS = ("unknown_card", "not_key_holder", "training_expired", "no_session", "unknown_tag", "wrong_cabinet")


# ------------------------------------------------------------------ sizes and the office clock


@dataclass(frozen=True)
class Sizes:
    people: int
    items: int
    checkouts: int
    open_checkouts: int  # 1.5 % of checkouts: each a different item
    overdue: int  # of the open ones, past due
    visits: int
    alerts: int
    badges: int = 200
    cabinets: int = 18
    entrances: int = 2

    @classmethod
    def at(cls, scale: float) -> Sizes:
        checkouts = round(1_000_000 * scale)
        return cls(people=max(20, round(10_000 * scale)), items=max(100, round(100_000 * scale)),
                   checkouts=checkouts, open_checkouts=max(2, round(checkouts * 0.015)),
                   overdue=max(1, round(checkouts * 0.001)), visits=round(1_000_000 * scale),
                   alerts=max(20, round(5_000 * scale)))


def office_now(real: datetime) -> datetime:
    """14:00 office time of the latest weekday that has reached it."""
    local = real.astimezone(ZONE)
    day = local.date() - timedelta(days=1 if local.time() < clock_time(14) else 0)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, clock_time(14), tzinfo=ZONE).astimezone(UTC)


def midnight(ts: float) -> float:
    """The office day's midnight of the instant `ts`, as a POSIX time."""
    return (ts + TOKYO) // DAY * DAY - TOKYO


def utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class Office:
    """Random moments of office life before `now`, over the last three years."""

    def __init__(self, now: datetime, rng: random.Random):
        self.now, self.rng = now.timestamp(), rng
        self.today = midnight(self.now)
        days = (self.today - n * DAY for n in range(HISTORY_DAYS, -1, -1))
        self.weekdays = [m for m in days if datetime.fromtimestamp(m, ZONE).weekday() < 5]
        self.past_weekdays = [m for m in self.weekdays if m < self.today]

    def working_moment(self, start_h: float = 8.5, end_h: float = 18.0, days: list[float] | None = None) -> float:
        """A moment of the working day on a random weekday, before now."""
        while True:
            ts = self.rng.choice(days or self.weekdays) + self.rng.uniform(start_h, end_h) * HOUR
            if ts < self.now:
                return ts

    def recent_moment(self, mean_days: float) -> float:
        """A working moment some weekdays ago, most of them lately."""
        back = min(len(self.past_weekdays), 1 + int(self.rng.expovariate(1 / mean_days)))
        return self.past_weekdays[-back] + self.rng.uniform(8.5, 18.0) * HOUR


def due_for(kind: str, out: float) -> float:
    """Back by 18:00 the same office day (the next one after 18:00); keys in two hours; long loans."""
    if kind == "key":
        return out + 2 * HOUR
    if kind in LONG_LOANS:
        return out + LONG_LOANS[kind]
    due = midnight(out) + CLOSING
    return due if due > out else due + DAY


# ------------------------------------------------------------------ rows


@dataclass(frozen=True)
class Seeded:
    """What later tables need to know about earlier ones."""

    key_holders: list[int]
    item_kind: list[str]  # by item id - 1
    item_cabinet: list[str]
    overdue: list[tuple[int, int, int, float]]  # open checkouts past due: id, item, person, due
    late: list[tuple[int, int, int, float, float]]  # returned late: id, item, person, due, returned
    not_signed_out: list[tuple[int, float]]  # visit id, closed at


def name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"


def people_rows(sizes: Sizes, office: Office) -> Iterator[tuple]:
    rng, start = office.rng, utc(office.weekdays[0])
    for pid in range(1, sizes.people + 1):
        key_holder = rng.random() < 0.3
        training = date.today() - timedelta(days=rng.randint(0, 500)) if key_holder else None
        yield pid, name(rng), rng.random() < 0.95, key_holder, training, [], start


def card_rows(sizes: Sizes, office: Office) -> Iterator[tuple]:
    start = utc(office.weekdays[0])
    for pid in range(1, sizes.people + 1):
        yield f"01{pid:014X}", pid, True, start
        if pid % 5 == 0:  # one in five has an older, withdrawn card
            yield f"02{pid:014X}", pid, False, start


def reader_ids(sizes: Sizes) -> tuple[list[str], list[str]]:
    return ([f"entrance-{n}" for n in range(1, sizes.entrances + 1)],
            [f"cabinet-{n:02d}" for n in range(1, sizes.cabinets + 1)])


def reader_rows(sizes: Sizes, office: Office) -> Iterator[tuple]:
    now, start = utc(office.now), utc(office.weekdays[0])
    entrances, cabinets = reader_ids(sizes)
    for rid in entrances + cabinets:
        role = "entrance" if rid.startswith("entrance") else "cabinet"
        online = rid != cabinets[-1]  # one cabinet offline, as there usually is
        yield rid, SITE, role, rid, online, now, now if online else now - timedelta(hours=3), "1.4.2", 0, start


def badge_rows(sizes: Sizes, office: Office) -> Iterator[tuple]:
    for n in range(sizes.badges):
        yield badge_uid(n), f"来客 {n + 1:03d}", True, utc(office.weekdays[0])


def badge_uid(n: int) -> str:
    return f"0A{n:014X}"


def item_rows(sizes: Sizes, office: Office, item_kind: list[str], item_cabinet: list[str]) -> Iterator[tuple]:
    rng, start = office.rng, utc(office.weekdays[0])
    _, cabinets = reader_ids(sizes)
    kinds, weights = zip(*KINDS)
    for iid in range(1, sizes.items + 1):
        kind = rng.choices(kinds, weights)[0]
        cabinet = rng.choice(cabinets)
        item_kind.append(kind)
        item_cabinet.append(cabinet)
        case = f"R{rng.randint(4, 8)}-{iid:06d}" if kind == "folder" else None
        status = rng.choices(("active", "lost", "retired"), (98, 1, 1))[0]
        encrypted = kind in ("media", "laptop")
        yield (iid, f"{KIND_WORDS[kind]} {iid:06d}", kind, f"E0{iid:014X}", cabinet, encrypted, encrypted, case, status,
               start)


def checkout_rows(sizes: Sizes, office: Office, seeded: Seeded, active_items: list[int]) -> Iterator[tuple]:
    """Returned checkouts over three years in time order, then the open ones (one per item)."""
    rng, now = office.rng, office.now
    returned = sorted(office.working_moment() for _ in range(sizes.checkouts - sizes.open_checkouts))
    cid = 0
    for out in returned:
        cid += 1
        item = rng.randint(1, sizes.items)
        kind, person = seeded.item_kind[item - 1], rng.choice(seeded.key_holders)
        due = due_for(kind, out)
        if rng.random() < 0.03:
            back = due + rng.expovariate(1 / (6 * HOUR))
        else:
            back = out + rng.uniform(0.05, 1.0) * (due - out)
        if back >= now:
            back = out + rng.uniform(0.1, 0.9) * (now - out)
        elif back > due:
            seeded.late.append((cid, item, person, due, back))
        by = person if rng.random() < 0.95 else rng.choice(seeded.key_holders)
        yield cid, item, person, utc(out), utc(due), utc(back), by, f"co-{cid}", f"ret-{cid}"
    open_items = rng.sample(active_items, sizes.open_checkouts)
    short = [i for i in open_items[:sizes.overdue * 3] if seeded.item_kind[i - 1] not in LONG_LOANS]
    overdue = set(short[:sizes.overdue])
    for item in open_items:
        cid += 1
        kind, person = seeded.item_kind[item - 1], rng.choice(seeded.key_holders)
        if item in overdue:  # taken out on an earlier day (or a key this morning) and never brought back
            out = office.recent_moment(mean_days=10)
            due = due_for(kind, out)
            seeded.overdue.append((cid, item, person, due))
        else:  # still within its loan: out today, or a long loan within its days
            window = LONG_LOANS.get(kind, 2 * HOUR if kind == "key" else now - office.today - 8.5 * HOUR)
            out = now - rng.uniform(0.02, 0.98) * window
            due = due_for(kind, out)
        yield cid, item, person, utc(out), utc(due), None, None, f"co-{cid}", None


def visit_rows(sizes: Sizes, office: Office, seeded: Seeded, events: list[tuple]) -> Iterator[tuple]:
    """Three years of visits in time order, ending with today's: out, in (badge lent) and expected.

    Each entry and exit becomes a (time, kind, visit id) in `events`.
    """
    rng, now = office.rng, office.now
    per_day = sizes.visits / len(office.weekdays)
    todays = min(sizes.visits, round(per_day))
    moments = sorted(office.working_moment(9, 17, office.past_weekdays) for _ in range(sizes.visits - todays))
    moments += sorted(office.today + rng.uniform(9, 17) * HOUR for _ in range(todays))
    spare_badges = iter(range(sizes.badges))  # badges not back yet must all differ
    still_in = min(sizes.badges // 2, max(1, round(per_day * 0.08)))
    recent_nso = 0
    for vid, moment in enumerate(moments, 1):
        pre = rng.random() < 0.6
        day = midnight(moment)
        expected = moment if pre else None
        registered = moment - rng.uniform(HOUR, 10 * DAY) if pre else moment - rng.uniform(60, 300)
        valid_from = expected - HOUR if pre else registered - 300
        valid_until = max(day + CLOSING, (expected or 0) + 2 * HOUR)
        entered = left = closed = closed_by = badge = badge_back = None
        state, r = "out", rng.random()
        if moment >= now:  # later today
            state = "expected"
            if rng.random() < 0.1:
                badge = next(spare_badges, None)
        elif day == office.today and moment > now - 2 * HOUR and still_in > 0:
            state, entered, badge = "in", moment, next(spare_badges)  # fewer than half the badges: never runs out
            still_in -= 1
        elif pre and r < 0.02:
            state, closed, closed_by = "cancelled", min(now, registered + rng.uniform(0, expected - registered)), "受付"
        elif pre and r < 0.04:
            state = "expected"  # never came
        elif r < 0.05 and day < office.today:  # closing time has not come yet today
            state, entered, closed, closed_by = "not_signed_out", moment, day + CLOSING, "closing time"
            badge = rng.randrange(sizes.badges)
            badge_back = day + DAY + 8.75 * HOUR
            if day >= office.today - 7 * DAY and recent_nso < 5:  # the desk's "badges not back"
                badge, badge_back, recent_nso = next(spare_badges, badge), None, recent_nso + 1
            badge_back = min(badge_back, now - 60) if badge_back else None
            seeded.not_signed_out.append((vid, closed))
        if state == "out":
            entered = moment + rng.uniform(-900, 900) if pre else moment
            left = min(entered + rng.uniform(1200, 4 * HOUR), now - 60)
            badge, badge_back = rng.randrange(sizes.badges), min(left + rng.uniform(0, 180), now - 30)
            if rng.random() < 0.05:
                closed_by = "受付"  # signed out at the desk: no exit tap
        if entered is not None:
            events.append((entered, "entry", vid))
        if left is not None and closed_by is None:
            events.append((left, "exit", vid))
        host_id = rng.randint(1, sizes.people) if rng.random() < 0.7 else None
        ended = left or closed or valid_until
        anonymised = ended + 366 * DAY if ended + 366 * DAY < now and state != "in" else None
        visitor = (ANONYMOUS, "", "") if anonymised else (name(rng), rng.choice(COMPANIES), rng.choice(PURPOSES))
        yield (vid, *visitor, f"総務課 {name(rng)}", host_id, None if badge is None else badge_uid(badge), state,
               utc(registered), "受付", utc(expected), utc(valid_from), utc(valid_until), utc(entered), utc(left),
               utc(closed), closed_by, utc(badge_back), utc(anonymised))


def presence_rows(sizes: Sizes, office: Office, visitor_events: list[tuple]) -> Iterator[tuple]:
    """Staff twice a working day for the last STAFF_DAYS days, merged in time order with the visitors'."""
    rng, now = office.rng, office.now
    entrances, _ = reader_ids(sizes)

    def staff() -> Iterator[tuple]:
        for day in office.weekdays[-STAFF_DAYS:]:
            taps = []
            for pid in range(1, sizes.people + 1):
                if rng.random() < 0.9:
                    taps.append((day + rng.uniform(7.5, 10) * HOUR, "entry", pid))
                    taps.append((day + rng.uniform(16.5, 21) * HOUR, "exit", pid))
            yield from sorted(t for t in taps if t[0] < now)

    visitors = ((at, kind, -vid) for at, kind, vid in sorted(visitor_events))
    for eid, (at, kind, who) in enumerate(heapq.merge(staff(), visitors), 1):
        person, visit = (who, None) if who > 0 else (None, -who)
        yield eid, kind, utc(at), person, visit, rng.choice(entrances), f"pe-{eid}"


def alert_rows(sizes: Sizes, office: Office, seeded: Seeded) -> Iterator[tuple]:
    """One open overdue alert per overdue checkout; the rest resolved, with a few other open ones."""
    rng, now = office.rng, office.now
    _, cabinets = reader_ids(sizes)
    rows = []
    for cid, item, person, due in seeded.overdue:
        state = "open" if rng.random() < 0.8 else "acknowledged"
        ack = due + HOUR if state == "acknowledged" and due + HOUR < now else None
        rows.append((due + 30, "overdue", "medium", "open" if ack is None else state, "overdue: not returned", None,
                     seeded.item_cabinet[item - 1], person, item, cid, None, ack, None))
    resolved = max(0, sizes.alerts - len(rows))
    for cid, item, person, due, back in rng.sample(seeded.late, min(len(seeded.late), resolved * 6 // 10)):
        rows.append((due + 30, "overdue", "medium", "resolved", "overdue: returned late", None,
                     seeded.item_cabinet[item - 1], person, item, cid, None, back, min(now - 1, back + HOUR)))
    for vid, closed in rng.sample(seeded.not_signed_out, min(len(seeded.not_signed_out), resolved // 10)):
        rows.append((closed, "visitor_not_signed_out", "medium", "resolved", "visitor not signed out", None,
                     None, None, None, None, vid, None, min(now - 1, closed + 15 * HOUR)))
    while len(rows) < sizes.alerts:
        opened = office.working_moment()
        reason = rng.choice(DENIALS)
        fresh = opened > now - 3 * DAY and rng.random() < 0.5
        rows.append((opened, "cabinet_denied", cabinet_denial_severity(reason), "open" if fresh else "resolved",
                     f"denied: {reason}", reason, rng.choice(cabinets), rng.randint(1, sizes.people), None, None, None, None,
                     None if fresh else min(now - 1, opened + DAY)))
    for aid, (opened, type_, severity, state, subject, reason, reader, person, item, cid, vid, ack, done) in \
            enumerate(sorted(rows, key=lambda row: row[0]), 1):
        yield (aid, type_, severity, state, utc(opened), subject, reason, reader, person, item, f"al-{aid}", cid, vid,
               None, utc(ack), "管理者" if ack else None, utc(done), "管理者" if done else None, utc(opened))


# ------------------------------------------------------------------ loading


COLUMNS = {
    "people": ("id", "name", "active", "key_holder", "training_on", "roles", "created_at"),
    "cards": ("uid", "person_id", "active", "created_at"),
    "readers": ("id", "site", "role", "name", "online", "status_at", "last_seen_at", "version", "queued",
                "created_at"),
    "visitor_badges": ("uid", "label", "active", "created_at"),
    "items": ("id", "label", "kind", "tag_uid", "cabinet_id", "encrypted", "screen_locked", "case_number", "status",
              "created_at"),
    "checkouts": ("id", "item_id", "person_id", "out_at", "due_at", "returned_at", "returned_by_id", "out_scan_id",
                  "return_scan_id"),
    "visits": ("id", "visitor_name", "organisation", "purpose", "host", "host_person_id", "badge_uid", "state",
               "registered_at", "registered_by", "expected_at", "valid_from", "valid_until", "entered_at", "left_at",
               "closed_at", "closed_by", "badge_returned_at", "anonymised_at"),
    "presence_events": ("id", "kind", "at", "person_id", "visit_id", "reader_id", "scan_id"),
    "alerts": ("id", "type", "severity", "state", "opened_at", "subject", "reason", "reader_id", "person_id",
               "item_id", "scan_id", "checkout_id", "visit_id", "note", "acknowledged_at", "acknowledged_by",
               "resolved_at", "resolved_by", "last_at"),  # last_at: the model's default, applied by no bulk load
}
TABLES = {"people": Person, "cards": Card, "readers": Reader, "visitor_badges": VisitorBadge, "items": Item,
          "checkouts": Checkout, "visits": Visit, "presence_events": PresenceEvent, "alerts": Alert}


def chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load(engine: Engine, table: str, rows: Iterable[tuple]) -> int:
    """Bulk-insert `rows` (tuples in COLUMNS order) in one transaction; returns how many.

    The table's plain (not unique) indexes are dropped first and built again after, in one sorted
    pass each; PostgreSQL takes the rows by COPY, SQLite by the driver's executemany with values
    already in the form SQLAlchemy stores (no per-value type processing), without foreign-key checks."""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        indexes = plain_indexes(raw, engine.dialect.name, table)
        for index, _ in indexes:
            raw.execute(f"DROP INDEX {index}")
        if engine.dialect.name == "postgresql":
            count = _copy(raw, table, rows)
        else:
            count = _executemany(raw, table, rows)
        for _, statement in indexes:
            raw.execute(statement)
    if engine.dialect.name == "sqlite":
        engine.dispose()  # no pooled connection keeps foreign_keys off
    return count


def plain_indexes(raw, dialect: str, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's indexes that are neither unique nor a key."""
    if dialect == "postgresql":
        found = raw.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (table,)).fetchall()
    else:
        found = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                            "AND sql IS NOT NULL", (table,)).fetchall()
    return [(name, sql) for name, sql in found if not sql.upper().startswith("CREATE UNIQUE")]


def _copy(raw, table: str, rows: Iterable[tuple]) -> int:
    columns, count = COLUMNS[table], 0
    json = [n for n, c in enumerate(columns) if isinstance(TABLES[table].__table__.c[c].type, JSON)]
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            if json:
                row = tuple(Json(v) if n in json else v for n, v in enumerate(row))
            copy.write_row(row)
            count += 1
    return count


def _sqlite_converters(table: str) -> list[tuple[int, Callable[[object], object]]]:
    """(column, how) for the columns whose values SQLite stores as SQLAlchemy writes them: UtcDateTime
    as naive UTC with microseconds, dates as ISO, JSON as text."""
    converters = []
    for n, column in enumerate(COLUMNS[table]):
        kind = TABLES[table].__table__.c[column].type
        kind = getattr(kind, "impl_instance", kind)  # UtcDateTime: its DateTime
        if isinstance(kind, JSON):
            converters.append((n, jsonlib.dumps))
        elif kind.python_type is datetime:  # the rows' datetimes are aware UTC already
            converters.append((n, lambda v: v.isoformat(" ", "microseconds")[:26]))
        elif kind.python_type is date:
            converters.append((n, date.isoformat))
    return converters


def _executemany(raw, table: str, rows: Iterable[tuple]) -> int:
    columns, count = COLUMNS[table], 0
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    converters = _sqlite_converters(table)

    def stored(row: tuple) -> list:
        values = list(row)
        for n, how in converters:
            if values[n] is not None:
                values[n] = how(values[n])
        return values

    raw.execute("PRAGMA foreign_keys = OFF")  # before the first INSERT opens the transaction; load() disposes it
    for chunk in chunks(rows, CHUNK):
        raw.executemany(statement, [stored(row) for row in chunk])
        count += len(chunk)
    return count


def seed(engine: Engine, sizes: Sizes, now: datetime, rng: random.Random) -> None:
    office = Office(now, rng)
    seeded = Seeded([], [], [], [], [], [])
    visitor_events: list[tuple] = []

    def people():
        for row in people_rows(sizes, office):
            if row[3]:
                seeded.key_holders.append(row[0])
            yield row

    steps: list[tuple[str, Callable[[], Iterable[tuple]]]] = [
        ("people", people), ("cards", lambda: card_rows(sizes, office)),
        ("readers", lambda: reader_rows(sizes, office)), ("visitor_badges", lambda: badge_rows(sizes, office)),
        ("items", lambda: item_rows(sizes, office, seeded.item_kind, seeded.item_cabinet)),
        ("checkouts", lambda: checkout_rows(sizes, office, seeded, active_items(engine))),
        ("visits", lambda: visit_rows(sizes, office, seeded, visitor_events)),
        ("presence_events", lambda: presence_rows(sizes, office, visitor_events)),
        ("alerts", lambda: alert_rows(sizes, office, seeded)),
    ]
    started = time.perf_counter()
    for table, rows in steps:
        t0 = time.perf_counter()
        count = load(engine, table, rows())
        print(f"  {table:<16} {count:>10,} rows in {time.perf_counter() - t0:6.1f} s", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # explicit ids leave the sequences behind
            for table in ("people", "items", "checkouts", "visits", "presence_events", "alerts"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
    t0 = time.perf_counter()
    with engine.begin() as conn:  # the stored "who is in", as the ingest would have kept it
        inside.rebuild(conn)
    print(f"  staff_inside rebuilt in {time.perf_counter() - t0:6.1f} s", flush=True)
    print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)


def active_items(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.scalars(select(Item.id).where(Item.status == "active").order_by(Item.id)))


def analyze(engine: Engine) -> float:
    """ANALYZE; on PostgreSQL VACUUM (ANALYZE), as autovacuum leaves a table that has settled (visibility map)."""
    t0 = time.perf_counter()
    with engine.connect() as conn:
        statement = "VACUUM (ANALYZE)" if engine.dialect.name == "postgresql" else "ANALYZE"
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(statement))
    engine.dispose()  # SQLite reads the statistics when a connection loads the schema
    return time.perf_counter() - t0


def drop_sqlite_statistics(path: Path) -> None:
    with sqlite3.connect(path) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%'").fetchall():
            db.execute(f"DELETE FROM {table}")


# ------------------------------------------------------------------ the queries


def stub_request(now: datetime) -> SimpleNamespace:
    """What the route functions read from a Request: the clock, the office's zone, the user's role."""
    state = SimpleNamespace(clock=lambda: now, settings=SimpleNamespace(zone=ZONE))
    return SimpleNamespace(app=SimpleNamespace(state=state), state=SimpleNamespace(user=SimpleNamespace(role="admin")))


def last_full_weekday(now: datetime) -> datetime:
    day = now.astimezone(ZONE).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, clock_time(0), tzinfo=ZONE)


def last_full_month(now: datetime) -> tuple[datetime, datetime]:
    first = now.astimezone(ZONE).date().replace(day=1)
    start = (first - timedelta(days=1)).replace(day=1)
    return datetime.combine(start, clock_time(0), tzinfo=ZONE), datetime.combine(first, clock_time(0), tzinfo=ZONE)


def queries(now: datetime) -> list[tuple[str, Callable[[Session], str]]]:
    """(label, call) for what the app runs; each call returns the rows it got, in words."""
    request = stub_request(now)
    day = last_full_weekday(now)
    month = last_full_month(now)

    def overdue(db: Session) -> str:
        rows, total = overdue_rows(db, now)
        return f"{len(rows)} of {total}"

    def panels(db: Session) -> str:
        c = panels_context(request, db)
        return f"{len(c['overdue'])}+{len(c['alerts'])}+{len(c['present'])}+{len(c['readers'])}"

    def desk(db: Session) -> str:
        c = _desk(request, db, {}, {})
        return f"{len(c['today'])} today, {len(c['inside'])} in"

    def log(start: datetime, end: datetime, limit: int | None) -> Callable[[Session], str]:
        return lambda db: str(len(entry_log_module.entry_log(db, start, end, now, limit=limit)))  # late: see proposals

    return [
        ("yardstick: SELECT 1", lambda db: str(db.scalar(text("SELECT 1")))),  # the machine's pace in this run
        ("overdue list (dashboard)", overdue),
        ("GET /checkouts?state=open", lambda db: str(len(list_checkouts(db, Page(), request, state="open")))),
        ("GET /checkouts?state=overdue", lambda db: str(len(list_checkouts(db, Page(), request, state="overdue")))),
        ("GET /checkouts, page 1", lambda db: str(len(list_checkouts(db, Page(), request)))),
        ("GET /checkouts?state=returned, offset 500,000",
         lambda db: str(len(list_checkouts(db, Page(offset=500_000), request, state="returned")))),
        ("GET /checkouts, offset 500,000", lambda db: str(len(list_checkouts(db, Page(offset=500_000), request)))),
        ("GET /visits, page 1", lambda db: str(len(list_visits(db, Page(), request)))),
        ("GET /visits, offset 500,000", lambda db: str(len(list_visits(db, Page(offset=500_000), request)))),
        ("roll call (GET /presence)", lambda db: str(len(presence_module.roll_call(db, now, ZONE)))),
        ("dashboard panels", panels),
        ("reception desk", desk),
        ("入退室記録簿, 1 day (screen)", log(day, day + timedelta(days=1), SHOWN + 1)),
        ("入退室記録簿, 1 month (screen)", log(*month, SHOWN + 1)),
        ("入退室記録簿, 1 day (CSV)", log(day, day + timedelta(days=1), None)),
        ("入退室記録簿, 1 month (CSV)", log(*month, None)),
        ("overdue alerts check", lambda db: str(len(open_overdue_alerts(db, now, ZONE)))),
        ("持ち出し管理簿, 12 months, page 1", register_page(now, 1)),
        ("持ち出し管理簿, 12 months, page 50", register_page(now, 50)),
        ("持ち出し管理簿, 12 months, page 500", register_page(now, 500)),
    ]


def register_page(now: datetime, number: int) -> Callable[[Session], str]:
    """The /register page's query for every take-out of the 12 months before this one (200 a page)."""
    start = last_full_month(now)[1] - timedelta(days=365)

    def call(db: Session) -> str:
        return str(len(transactions(db, start, start + timedelta(days=365), RegisterFilter(), now, limit=PER_PAGE + 1,
                                    offset=(number - 1) * PER_PAGE)))
    return call


# ------------------------------------------------------------------ before: what the scale work replaced


SCALE_INDEXES = ("ix_visits_moment", "ix_visits_ended", "ix_visits_in", "ix_visits_not_signed_out")  # 0009
APP = {"roll_call": presence_module.roll_call, "between": visit_queries.between, "entry_log": entry_log_module.entry_log}


@contextmanager
def previous_queries() -> Iterator[None]:
    """The app's functions, with the queries of before migration 0009 (tests/support/visits_before.py)
    in place of the ones that replaced them."""
    presence_module.roll_call = before.roll_call
    visit_queries.between = before.between  # for_day (the desk) reads it from there
    entry_log_module.entry_log = before.entry_log
    try:
        yield
    finally:
        presence_module.roll_call = APP["roll_call"]
        visit_queries.between = APP["between"]
        entry_log_module.entry_log = APP["entry_log"]


@contextmanager
def without_scale_indexes(engine: Engine, analyzed: bool) -> Iterator[None]:
    """The database as migration 0008 left it: the indexes of 0009 dropped (and made again after)."""
    indexes = [index for index in Visit.__table__.indexes if index.name in SCALE_INDEXES]
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    if analyzed:
        analyze(engine)
    try:
        yield
    finally:
        with engine.begin() as conn:
            for index in indexes:
                index.create(conn)
        if analyzed:
            analyze(engine)


def check_same(factory: sessionmaker[Session], now: datetime) -> None:
    """The app must answer what it answered before: compare every line at this size."""
    day, month = last_full_weekday(now), last_full_month(now)

    def people(present) -> list[tuple]:  # ordered by name, and many share one: the order among them is free
        return sorted((p.kind, p.name, p.since, p.person_id, p.visit_id, p.unconfirmed) for p in present)

    def lines(found: list[LogLine]) -> list[LogLine]:
        return sorted(found, key=lambda line: (line.moment, repr(line)))

    checks = {
        "roll call": lambda db: people(presence_module.roll_call(db, now, ZONE)),
        "desk, today": lambda db: [v.id for v in _desk(stub_request(now), db, {}, {})["today"]],
        "entry log, day (screen)": lambda db: lines(entry_log_module.entry_log(
            db, day, day + timedelta(days=1), now, limit=SHOWN + 1)),
        "entry log, month (screen)": lambda db: lines(entry_log_module.entry_log(db, *month, now, limit=SHOWN + 1)),
        "entry log, day (CSV)": lambda db: lines(entry_log_module.entry_log(db, day, day + timedelta(days=1), now)),
    }
    for label, call in checks.items():
        with factory() as db:
            now_answer = call(db)
            with previous_queries():
                then = call(db)
        same = now_answer == then
        print(f"  check, {label}: {'same' if same else 'DIFFERENT'} ({len(now_answer)} / {len(then)} lines)",
              flush=True)
        if not same:
            raise SystemExit(f"the app no longer answers what it answered before: {label}")


# ------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class Figure:
    label: str
    rows: str
    stats: dict[str, float]


def measure(factory: sessionmaker[Session], calls: Sequence[tuple[str, Callable[[Session], str]]],
            repeat: int) -> list[Figure]:
    gc.collect()
    gc.freeze()  # as `mamori serve` does after start-up: the collector leaves the long-lived heap alone
    figures = []
    for label, call in calls:
        with factory() as db:
            rows = call(db)  # warm-up
            db.rollback()
        samples = []
        for _ in range(repeat):
            with factory() as db:
                t0 = time.perf_counter()
                call(db)
                samples.append((time.perf_counter() - t0) * 1000)
                db.rollback()
        figure = Figure(label, rows, percentiles(samples))
        mark = "✔" if figure.stats["p95"] <= TARGET_MS else "✘"
        print(f"  {label:<30} {rows:>22}  p50 {figure.stats['p50']:8.1f}  p95 {figure.stats['p95']:8.1f}  "
              f"p99 {figure.stats['p99']:8.1f} ms {mark}", flush=True)
        figures.append(figure)
    return figures


def explain(engine: Engine, factory: sessionmaker[Session], label: str, call: Callable[[Session], str]) -> None:
    """Every statement `call` sends, with its plan."""
    sent: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with factory() as db:
            call(db)
            db.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    print(f"\n  --- {label} ({engine.dialect.name}): {len(sent)} statements")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, parameters in sent:
            print("  " + " ".join(statement.split())[:600])
            if engine.dialect.name == "postgresql":
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = [row[0] for row in cur.fetchall()]
            else:
                cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = [detail for *_ids, detail in cur.fetchall()]
            print("\n".join(f"      {line}" for line in plan))
        raw.rollback()
    finally:
        raw.close()


INDEX_NAME = re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)


def tried_indexes(statements: Sequence[str], dialect: str) -> list[tuple[str, str]]:
    """(name, SQL) of the --try-index statements meant for `dialect`."""
    chosen = []
    for statement in statements:
        prefix, _, rest = statement.partition(":")
        if prefix in ("sqlite", "postgresql"):
            if prefix != dialect:
                continue
            statement = rest.strip()
        found = INDEX_NAME.match(statement.strip())
        if not found:
            raise SystemExit(f"--try-index wants a CREATE INDEX statement, not {statement!r}")
        chosen.append((found.group(1), statement))
    return chosen


# ------------------------------------------------------------------ databases


@contextmanager
def sqlite_database(path: str | None) -> Iterator[tuple[str, bool]]:
    """(URL, fresh): a given file is kept (and reused if it holds a schema); a temp one is removed."""
    if path:
        file = Path(path)
        fresh = not file.exists()
        yield f"sqlite:///{file}", fresh
        return
    with tempfile.TemporaryDirectory(prefix="mamori-scale-") as workdir:
        yield f"sqlite:///{Path(workdir) / 'scale.db'}", True


@contextmanager
def postgres_database(admin_url: str, name: str | None, keep: bool) -> Iterator[tuple[str, bool]]:
    """(URL, fresh): a named database is used as it is; else a throwaway one, dropped unless `keep`."""
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    if name:
        yield f"{base}/{name}", False
        return
    name = f"mamori_scale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}", True
    finally:
        if keep:
            print(f"  kept PostgreSQL database {name} (--pg-database {name} to reuse it)")
        else:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def to_head(url: str) -> None:
    """The schema of the newest migration, statistics gathered again if that changed it."""
    before = current_revision(url)
    command.upgrade(alembic_config(url), "head")
    if current_revision(url) != before:
        print(f"  migrated {before} -> {current_revision(url)}; ANALYZE in {migrate_analyze(url):.1f} s", flush=True)


def size_of(engine: Engine, url: str) -> str:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return f"{conn.scalar(text('SELECT pg_database_size(current_database())')) / 2**20:,.0f} MiB"
    return f"{Path(url.removeprefix('sqlite:///')).stat().st_size / 2**20:,.0f} MiB"


# ------------------------------------------------------------------ the run


def run(kind: str, args: argparse.Namespace, now: datetime) -> dict[str, list[Figure]]:
    """Seed (or reuse) one database, check that the app answers what it answered before, and time the
    calls: before (the queries and indexes the scale work replaced), after (the app), then after with
    the tried indexes."""
    sizes = Sizes.at(args.scale)
    place = sqlite_database(args.sqlite) if kind == "sqlite" else postgres_database(args.pg, args.pg_database,
                                                                                    args.keep)
    results: dict[str, list[Figure]] = {}
    with place as (url, fresh):
        print(f"\n{kind}: {'seeding' if fresh else 'reusing'} {url.rsplit('/', 1)[-1]}", flush=True)
        if fresh:
            upgrade(url)
        else:  # later migrations (0027 fills staff_inside from its taps); the seeded rows stay unchained
            to_head(url)
        engine = make_engine(url)
        if fresh:
            seed(engine, sizes, now, random.Random(2026))
        if args.no_analyze and kind == "sqlite":
            engine.dispose()
            drop_sqlite_statistics(Path(url.removeprefix("sqlite:///")))
            print("  no statistics (the app never runs ANALYZE on SQLite)")
        elif fresh or args.analyze:
            print(f"  {'VACUUM (ANALYZE)' if kind == 'postgresql' else 'ANALYZE'} in {analyze(engine):.1f} s",
                  flush=True)
        print(f"  database size {size_of(engine, url)}", flush=True)
        factory = sessionmaker(engine, expire_on_commit=False)
        calls = [(label, call) for label, call in queries(now)
                 if not args.select or any(word in label for word in args.select)]

        def phase(name: str) -> None:
            print(f"  -- {name}", flush=True)
            results[name] = measure(factory, calls, args.repeat)
            for (label, call), figure in zip(calls, results[name]):
                if args.explain == "all" or (args.explain and figure.stats["p95"] > TARGET_MS):
                    explain(engine, factory, label, call)

        analyzed = not (args.no_analyze and kind == "sqlite")
        if not args.no_before:
            check_same(factory, now)
            with without_scale_indexes(engine, analyzed), previous_queries():
                phase("before")
        phase("after")
        indexes = tried_indexes(args.try_index, kind)
        if indexes:
            try:
                with engine.begin() as conn:
                    for index, statement in indexes:
                        t0 = time.perf_counter()
                        conn.execute(text(statement))
                        print(f"  + {index} in {time.perf_counter() - t0:.1f} s: {statement}", flush=True)
                if analyzed:
                    print(f"  ANALYZE in {analyze(engine):.1f} s", flush=True)
                phase("after + tried indexes")
            finally:
                with engine.begin() as conn:
                    for index, _ in indexes:
                        conn.execute(text(f"DROP INDEX {index}"))
        engine.dispose()
    return results


def table(results: dict[str, dict[str, list[Figure]]]) -> None:
    """The figures as the Markdown table docs/performance.md shows."""
    kinds = list(results)
    print("\n| query | rows | " + " | ".join(f"{k} {phase} p50 / p95 / p99 (ms)" for k in kinds
                                             for phase in results[k]) + " |")
    print("|---|---|" + "---|" * sum(len(results[k]) for k in kinds))
    first = next(iter(results[kinds[0]].values()))
    for n, figure in enumerate(first):
        cells = []
        for k in kinds:
            for figures in results[k].values():
                s = figures[n].stats
                mark = "✔" if s["p95"] <= TARGET_MS else "✘"
                cells.append(f"{s['p50']:.1f} / **{s['p95']:.1f}** / {s['p99']:.1f} {mark}")
        print(f"| {figure.label} | {figure.rows} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = the issue's sizes; 0.01 for a quick run")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--sqlite", help="SQLite file to seed (kept), or to reuse if it exists")
    parser.add_argument("--pg", default=PG_ADMIN_URL, help="a PostgreSQL server's URL (its database is not touched)")
    parser.add_argument("--pg-database", help="reuse this seeded database on the server instead of a throwaway one")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway PostgreSQL database")
    parser.add_argument("--now", type=datetime.fromisoformat, help="the office clock (aware ISO time) when reusing "
                        "a database seeded on another day; default 14:00 Asia/Tokyo of the latest weekday")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE on a reused database too")
    parser.add_argument("--no-analyze", action="store_true", help="SQLite: measure without statistics")
    parser.add_argument("--explain", nargs="?", const="slow", choices=("slow", "all"))
    parser.add_argument("--try-index", action="append", default=[], metavar="SQL")
    parser.add_argument("--select", nargs="+", metavar="WORD", help="only the queries whose label holds a word")
    parser.add_argument("--no-before", action="store_true", help="time the app only, not the queries it replaced")
    args = parser.parse_args()
    now = args.now.astimezone(UTC) if args.now else office_now(datetime.now(UTC))
    sizes = Sizes.at(args.scale)
    print(f"scale {args.scale}: {sizes}; office clock {now.astimezone(ZONE):%Y-%m-%d %H:%M %Z}; "
          f"{args.repeat} calls each; target p95 ≤ {TARGET_MS:.0f} ms")
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    results = {kind: run(kind, args, now) for kind in kinds}
    table(results)


if __name__ == "__main__":
    main()
