"""Nothing lost, nothing wrong, nobody in: thousands of scans through a crashing broker, server and gateway.

Staff tap in and out at the entrance, key holders open two cabinets and take and return folders, a
phone and a laptop (an untrained holder, a card without a key, an unknown tag, tags held at the
antenna, sessions that time out, doors closing), and a real gateway process on a side door reads
staff fobs. Everything but the gateway's taps is planned up front with its event time. While it is
delivered, the broker is SIGKILLed three times (persistence on), `mamori serve` three times, the
gateway once, and one cabinet's outbox of an hour ago arrives in the middle of the run.

Then: every scan and event a reader produced is stored once, nothing in the ledger is counted
twice, and the ledger is the one the same scans build when fed in event-time order to a fresh
database. `MAMORI_CHAOS_FULL=1` runs 10,000 planned scans; the default is 2,000.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pprint
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway import protocol
from gateway.simulator import SimulatedReader
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.evidence.runs import snapshot_verify
from server.ingest.intake import Incoming
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from server.items.service import add_item
from server.ledger.models import ScanRecord
from server.migrate import upgrade
from server.people.service import add_person
from server.readers.service import register_reader
from tests.support.broker import Mosquitto, free_port, wait_port
from tests.support.databases import throwaway_postgres
from tests.support.gateway import GatewayProcess, derived_yaml, outbox_size, rdm6300, wait_for
from tests.support.ledger import NoWire, snapshot
from tests.support.office import SITE
from tests.support.rdm6300 import FobField

pytestmark = pytest.mark.integration

FULL = os.environ.get("MAMORI_CHAOS_FULL") == "1"
SCANS = 10_000 if FULL else 2_000
PUBLISH_S = 60 if FULL else 25  # the planned scans are spread over this long
SHARE = {"entrance": 0.3, "cabinet-1": 0.35, "cabinet-2": 0.35}
LATE_READER = "cabinet-2"  # its outbox of an hour ago arrives in the middle of the run
SIDE_DOOR = "side-door"  # the real gateway process

KEY_HOLDERS = [f"01234567890A{n:04X}" for n in range(8)]
UNTRAINED, NO_KEY, UNKNOWN_CARD = "01234567890B0001", "01234567890B0002", "01234567890BFFFF"
DESK_STAFF = [f"01234567890C{n:04X}" for n in range(12)]  # never at a cabinet
FOBS = [f"0C{n:08X}" for n in range(40)]  # staff who use the side door (EM4100 fobs)
ITEMS = {"cabinet-1": [f"04C10000000{n:03X}" for n in range(12)],
         "cabinet-2": [f"04C20000000{n:03X}" for n in range(8)]}
PHONE, LAPTOP, UNKNOWN_TAG = "04C2000000F001", "04C2000000F002", "04DEADBEEF0001"

Message = protocol.Scan | protocol.Event


def _stock(database_url: str) -> None:
    """The office both databases start from, made in the same order so that row ids match."""
    upgrade(database_url)
    now = datetime.now(UTC)
    trained = date.today() - timedelta(days=60)
    with unit_of_work(make_session_factory(make_engine(database_url))) as db:
        register_reader(db, now, Settings(), id="entrance", site=SITE, role="entrance", name="受付")
        register_reader(db, now, Settings(), id=SIDE_DOOR, site=SITE, role="entrance", name="通用口")
        for cabinet in ITEMS:
            register_reader(db, now, Settings(), id=cabinet, site=SITE, role="cabinet", name=f"保管庫 {cabinet[-1]}")
        for n, uid in enumerate(KEY_HOLDERS):
            add_person(db, now, name=f"調査員 {n}", card_uid=uid, key_holder=True, training_on=trained)
        add_person(db, now, name="研修切れ", card_uid=UNTRAINED, key_holder=True, training_on=date(2024, 1, 1))
        add_person(db, now, name="鍵なし", card_uid=NO_KEY, key_holder=False)
        for n, uid in enumerate(DESK_STAFF + FOBS):
            add_person(db, now, name=f"事務 {n}", card_uid=uid)
        for cabinet, tags in ITEMS.items():
            for n, tag in enumerate(tags):
                add_item(db, now, label=f"ケースファイル {cabinet[-1]}-{n}", kind="folder", tag_uid=tag,
                         cabinet=cabinet, case=f"R8-{cabinet[-1]}{n:04d}")
        add_item(db, now, label="携帯電話", kind="phone", tag_uid=PHONE, cabinet="cabinet-2", encrypted=True,
                 screen_locked=True)
        add_item(db, now, label="ノートPC", kind="laptop", tag_uid=LAPTOP, cabinet="cabinet-2", encrypted=True)


# ------------------------------------------------------------ the plan


def _cabinet_day(rng: random.Random, cabinet: str, count: int) -> list[tuple[float, str, str | None]]:
    """(seconds from the start, kind, uid or event type) for one cabinet, in its own order."""
    tags = ITEMS[cabinet] + ([PHONE, LAPTOP] if cabinet == "cabinet-2" else [])
    out: list[tuple[float, str, str | None]] = []
    t = 0.0
    while sum(1 for _t, kind, _u in out if kind == "scan") < count:
        out.append((t, "scan", rng.choice([*KEY_HOLDERS, *KEY_HOLDERS, *KEY_HOLDERS, UNTRAINED, NO_KEY])))
        for _tap in range(rng.randrange(0, 4)):
            t += rng.choice([1, 3, 8, 20, 45])
            tag = rng.choice([*tags, *tags, UNKNOWN_TAG])
            out.append((t, "scan", tag))
            if rng.random() < 0.15:  # held at the antenna: read again a moment later
                out.append((t + rng.uniform(0.2, 1.8), "scan", tag))
                t += 2
        if rng.random() < 0.4:
            t += rng.randrange(2, 30)
            out.append((t, "event", "door_closed"))
        t += rng.choice([5, 30, 70, 300, 900])  # some sessions time out
        if rng.random() < 0.1:  # a tap with nobody at the cabinet
            out.append((t, "scan", rng.choice(tags)))
            t += rng.randrange(5, 100)
    return out


def _entrance_day(rng: random.Random, count: int) -> list[tuple[float, str, str | None]]:
    out: list[tuple[float, str, str | None]] = []
    t = 0.0
    staff = [*KEY_HOLDERS, UNTRAINED, NO_KEY, *DESK_STAFF]
    while len(out) < count:
        t += rng.choice([1, 4, 20, 60, 200])
        card = UNKNOWN_CARD if rng.random() < 0.03 else rng.choice(staff)
        out.append((t, "scan", card))
        if rng.random() < 0.1:  # tapped twice
            t += rng.uniform(0.3, 3)
            out.append((t, "scan", card))
    return out


def _plan(rng: random.Random, end: datetime) -> dict[str, list[Message]]:
    """Each planned reader's scans and events in its own order, the last of them at `end`."""
    serial = itertools.count()
    days = {"entrance": _entrance_day(rng, round(SCANS * SHARE["entrance"]))}
    for cabinet in ITEMS:
        days[cabinet] = _cabinet_day(rng, cabinet, round(SCANS * SHARE[cabinet]))
    plan: dict[str, list[Message]] = {}
    for reader, day in days.items():
        last = day[-1][0]
        plan[reader] = []
        for t, kind, what in day:
            at = end - timedelta(seconds=last - t)
            msg_id = f"chaos-{reader}-{next(serial):06d}"
            if kind == "scan":
                plan[reader].append(protocol.Scan(v=1, id=msg_id, uid=what, at=at,
                                                  tech="iso14443a" if what.startswith("04") else "felica"))
            else:
                plan[reader].append(protocol.Event(v=1, id=msg_id, type=what, at=at))
    return plan


def merge_streams(rng: random.Random, queues: dict[str, list[Message]]) -> list[tuple[str, Message]]:
    """Readers' streams interleaved as they would be sent together, each in its own order (emptied)."""
    merged: list[tuple[str, Message]] = []
    while queues:
        reader = rng.choices(sorted(queues), weights=[len(queues[r]) for r in sorted(queues)])[0]
        merged.append((reader, queues[reader].pop(0)))
        if not queues[reader]:
            del queues[reader]
    return merged


def _arrival(rng: random.Random, plan: dict[str, list[Message]], hour_ago: datetime) -> list[tuple[str, Message]]:
    """The readers' streams merged as they would be sent together, each in its own order; the late
    reader's hour-old stretch held back and sent when half of the rest has gone."""
    late = [m for m in plan[LATE_READER] if hour_ago - timedelta(hours=1) <= m.at < hour_ago]
    assert len(late) >= 20, "the plan should give the late reader an hour of scans an hour ago"
    held = {m.id for m in late}
    merged = merge_streams(rng, {reader: [m for m in messages if m.id not in held] for reader, messages in plan.items()})
    middle = len(merged) // 2
    return merged[:middle] + [(LATE_READER, m) for m in late] + merged[middle:]


def _send(reader: SimulatedReader, message: Message) -> None:
    if isinstance(message, protocol.Scan):
        reader.tap(message.uid, tech=message.tech, at=message.at, scan_id=message.id)
    else:
        reader.event(message.type, at=message.at, event_id=message.id)


# ------------------------------------------------------------ the processes


class Server:
    """`mamori serve` in its own process, on one database and one fixed MQTT client id."""

    def __init__(self, database_url: str, broker: Mosquitto, log: Path):
        self.env = dict(os.environ, MAMORI_DATABASE_URL=database_url, MAMORI_MQTT_URL=broker.url,
                        MAMORI_MQTT_CLIENT_ID=f"mamori-chaos-{uuid.uuid4().hex[:6]}")
        self.port = free_port()
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)],
                                         env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        wait_port(self.port, timeout=60)
        assert self.proc.poll() is None, f"mamori serve stopped at start: see {self.log}"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


class SideDoor:
    """The real gateway on a side door, staff fobs tapped at it until told to stop."""

    def __init__(self, broker: Mosquitto, workdir: Path):
        self.fobs = FobField()
        self.config = derived_yaml("entrance.yaml", workdir, broker_url=broker.url,
                                   card_reader=rdm6300(self.fobs.port), reader=SIDE_DOOR)
        self.outbox = workdir / "entrance-outbox.sqlite3"
        self.processes: list[GatewayProcess] = []
        self.tapped: list[str] = []
        self._done = threading.Event()
        self._tapper = threading.Thread(target=self._tap, daemon=True, name="side-door-fobs")

    def start(self) -> SideDoor:
        self.processes.append(GatewayProcess(self.config))
        wait_for(lambda: self.processes[-1].logged(r"(RDM6300 on)"), timeout=30, what="the gateway to open its port")
        return self

    def kill_and_restart(self) -> None:
        self.processes[-1].kill()
        self.start()

    def begin_tapping(self) -> None:
        self._tapper.start()

    def _tap(self) -> None:
        for n in itertools.count():
            if self._done.wait(0.15):
                return
            fob = FOBS[n % len(FOBS)]  # a person comes back past the entrance's duplicate window
            self.fobs.tap(fob)
            self.tapped.append(fob)

    def stop_tapping(self) -> None:
        self._done.set()
        self._tapper.join(5)

    def kept(self) -> set[str]:
        return {scan_id for process in self.processes for scan_id in process.kept()}

    def close(self) -> None:
        self.stop_tapping()
        for process in self.processes:
            process.stop()
        self.fobs.close()


# ------------------------------------------------------------ the in-order replay


@contextlib.contextmanager
def _fresh_database(database_url: str, tmp_path: Path):
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'in-order.db'}"
    else:
        with throwaway_postgres() as url:
            yield url


def _in_order(database_url: str, messages: list[tuple[str, Message]]) -> dict:
    """The ledger the same scans and events build when they arrive in event-time order."""
    _stock(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    received = datetime.now(UTC)
    worker = IngestWorker(factory, IngestService(Settings(database_url=database_url)), NoWire(),
                          clock=lambda: received)
    ordered = sorted(messages, key=lambda pair: (pair[1].at, pair[1].id))
    incoming = [Incoming(protocol.topic(SITE, reader, "scan" if isinstance(body, protocol.Scan) else "event"),
                         protocol.encode(body), received, mid=n, qos=1) for n, (reader, body) in enumerate(ordered)]
    for start in range(0, len(incoming), 200):
        worker.process(incoming[start:start + 200])
    try:
        return snapshot(factory)
    finally:
        engine.dispose()


# ------------------------------------------------------------ the test


def _is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(any(x == y for y in rest) for x in part)


def _differences(got: dict, expected: dict) -> dict[str, dict[str, list]]:
    """Per part of the ledger, the rows only the run has and the rows only the in-order replay has."""
    out = {}
    for part in expected:
        extra, missing = sorted(set(got[part]) - set(expected[part])), sorted(set(expected[part]) - set(got[part]))
        if extra or missing or len(got[part]) != len(expected[part]):
            out[part] = {"only in the run": extra[:10], "only in order": missing[:10],
                         "rows": [len(got[part]), len(expected[part])]}
    return out


def _counted_twice(ledger: dict) -> dict[str, list]:
    """Scans that made two presence rows, two checkouts, two returns, two sessions or two alerts."""
    uses = {
        "presence": [row[-1] for row in ledger["presence"]],
        "checkouts": [row[10] for row in ledger["checkouts"]],
        "returns": [row[11] for row in ledger["checkouts"] if row[11] is not None],
        "sessions": [row[-1] for row in ledger["sessions"]],
        "denials": [row[0] for row in ledger["denials"]],
    }
    return {kind: twice for kind, ids in uses.items() if (twice := [i for i, n in Counter(ids).items() if n > 1])}


@pytest.mark.timeout(600 if FULL else 300)
def test_nothing_is_lost_or_counted_twice_and_the_ledger_is_the_in_order_one_through_crashes(
        database_url, tmp_path):
    rng = random.Random(20261203)
    now = datetime.now(UTC)
    plan = _plan(rng, end=now - timedelta(minutes=5))
    arrival = _arrival(rng, plan, hour_ago=now - timedelta(hours=1))
    _stock(database_url)

    # Mosquitto saves its sessions on a clean stop or every autosave: SIGKILLed, it comes back with
    # the server's session as saved up to a second before (what it held since is the readers' to re-send).
    broker = Mosquitto(tmp_path / "broker", extra_config="autosave_interval 1").start()
    server = Server(database_url, broker, tmp_path / "serve.log")
    side_door = SideDoor(broker, tmp_path)
    readers: dict[str, SimulatedReader] = {}
    published = 0
    progress = threading.Condition()

    def when(fraction: float, action) -> None:
        with progress:
            progress.wait_for(lambda: published >= fraction * len(arrival))
        action()

    def restart_broker() -> None:
        broker.kill()
        broker.start()

    def restart_server() -> None:
        server.kill()
        server.start()

    chaos = threading.Thread(target=lambda: [when(f, a) for f, a in [
        (0.08, restart_broker), (0.2, restart_server), (0.3, side_door.kill_and_restart),
        (0.4, restart_broker), (0.55, restart_server), (0.7, restart_broker), (0.85, restart_server)]],
        daemon=True, name="chaos")
    started = time.monotonic()
    try:
        server.start()
        side_door.start().begin_tapping()
        for reader in plan:
            readers[reader] = SimulatedReader(broker.url, SITE, reader, resend_after=5.0).start()
        chaos.start()
        for reader, message in arrival:
            _send(readers[reader], message)
            with progress:
                published += 1
                progress.notify_all()
            time.sleep(PUBLISH_S / len(arrival))
        chaos.join(120)
        assert not chaos.is_alive(), "the crashes did not all happen"
        side_door.stop_tapping()

        for reader, messages in plan.items():
            assert readers[reader].wait_acked([m.id for m in messages], timeout=180), \
                f"{reader}: {readers[reader].queued} scans and events never acknowledged"
        wait_for(lambda: outbox_size(side_door.outbox) == 0, timeout=120, what="the gateway's outbox to drain")
        print(f"\n{SCANS} planned scans, {len(side_door.tapped)} fob taps: all acknowledged after "
              f"{time.monotonic() - started:.0f} s")
    finally:
        for reader in readers.values():
            reader.stop()
        side_door.close()
        server.stop()
        broker.kill()

    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    ledger = snapshot(factory)
    with factory() as db:
        fob_scans = db.execute(select(ScanRecord.id, ScanRecord.uid, ScanRecord.tech, ScanRecord.at)
                               .where(ScanRecord.reader_id == SIDE_DOOR).order_by(ScanRecord.at)).all()
    chain = snapshot_verify(engine, ZoneInfo("Asia/Tokyo"))  # killed mid-batch or not: no half-chained commit
    engine.dispose()
    assert chain.ok and chain.links > len(fob_scans), [str(p) for p in chain.problems]

    produced = {m.id for messages in plan.values() for m in messages}
    stored = set(ledger["scans"]) | set(ledger["events"])
    assert produced - stored == set(), "lost"
    assert side_door.kept() - stored == set(), "kept by the gateway and lost"
    assert stored - produced == {row.id for row in fob_scans}, "a scan from nowhere"
    assert _is_subsequence([row.uid for row in fob_scans], side_door.tapped), "a fob tap doubled or reordered"
    assert _counted_twice(ledger) == {}

    fob_messages = [(SIDE_DOOR, protocol.Scan(v=1, id=row.id, uid=row.uid, tech=row.tech, at=row.at))
                    for row in fob_scans]
    planned = [(reader, m) for reader, messages in plan.items() for m in messages]
    with _fresh_database(database_url, tmp_path) as replay_url:
        replayed = time.monotonic()
        expected = _in_order(replay_url, planned + fob_messages)
        print(f"in-order replay into a fresh database: {time.monotonic() - replayed:.0f} s")
    differences = _differences(ledger, expected)
    assert not differences, pprint.pformat(differences, width=150)
