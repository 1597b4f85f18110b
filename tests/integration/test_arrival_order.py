"""The ledger is a function of the set of scans and events, not of the order the network delivers them in.

A day of an office (an entrance and two cabinets; key holders, one untrained, one without a key;
folders, a phone, a tag held at the antenna, timeouts, exit buttons, door openings and closings) is
delivered once live, in event-time order one message at a time, and then interleaved (each reader's own
order kept, as a reader's outbox sends it) and fully shuffled, in random batches. Every delivery must build
the same sessions, checkouts, returns, presence, denial and door_forced alerts.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from gateway import protocol
from server.alerts.models import Alert, AlertOccurrence
from server.checkouts.models import CabinetSession, Checkout
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.ingest.intake import Incoming
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from server.items.service import add_item
from server.ledger.models import ReaderEvent, ScanRecord
from server.migrate import upgrade
from server.people.service import add_badge, add_person
from server.readers.service import register_reader
from server.visits.models import PresenceEvent, StaffInside, Visit
from server.visits.service import register
from tests.support.evidence import around_evidence_guards
from tests.support.ledger import NoWire, inside_as_derived, snapshot

pytestmark = pytest.mark.integration

SITE = "nerima"
DAY = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
RECEIVED = DAY + timedelta(hours=14)  # everything arrives after the day: stale, so no decisions
KEY_HOLDERS = ["0123456789ABCD01", "0123456789ABCD02", "0123456789ABCD03"]
UNTRAINED, NO_KEY = "0123456789ABCD04", "0123456789ABCD05"
CARDS = [*KEY_HOLDERS, UNTRAINED, NO_KEY]
ITEMS = {"cabinet-1": ["04A1B2C3D4E501", "04A1B2C3D4E502", "04A1B2C3D4E503"],
         "cabinet-2": ["04A1B2C3D4E511", "04A1B2C3D4E512"]}
PHONE = "04A1B2C3D4E513"  # cabinet-2's phone, encrypted and screen-locked
STRANGER = "DEADBEEF"
BADGES = ["E0040150AB000001", "E0040150AB000002", "E0040150AB000003"]  # visitor badges, lent for the day


def _stock(database_url: str) -> None:
    upgrade(database_url)
    now = datetime.now(UTC)
    trained = date(2026, 6, 1)
    with unit_of_work(make_session_factory(make_engine(database_url))) as db:
        register_reader(db, now, Settings(), id="entrance", site=SITE, role="entrance", name="入口")
        for cabinet in ITEMS:
            register_reader(db, now, Settings(), id=cabinet, site=SITE, role="cabinet", name=cabinet)
        for n, uid in enumerate(KEY_HOLDERS):
            add_person(db, now, name=f"職員 {n}", card_uid=uid, key_holder=True, training_on=trained)
        add_person(db, now, name="研修切れ", card_uid=UNTRAINED, key_holder=True, training_on=date(2024, 1, 1))
        add_person(db, now, name="鍵なし", card_uid=NO_KEY, key_holder=False)
        for cabinet, tags in ITEMS.items():
            for n, tag in enumerate(tags):
                add_item(db, now, label=f"{cabinet} ファイル {n}", kind="folder", tag_uid=tag, cabinet=cabinet,
                         case=f"R8-{cabinet[-1]}{n:04d}")
        add_item(db, now, label="携帯電話", kind="phone", tag_uid=PHONE, cabinet="cabinet-2", encrypted=True,
                 screen_locked=True)
        for n, badge in enumerate(BADGES):
            add_badge(db, now, uid=badge, label=f"来訪者 {n + 1}")
            register(db, now, visitor_name=f"来訪者 {n}", badge_uid=badge, valid_from=DAY - timedelta(hours=1),
                     valid_until=DAY + timedelta(hours=10))


def _day(rng: random.Random) -> list[tuple[str, protocol.Scan | protocol.Event]]:
    """(reader, message) for one day, in each reader's own order."""
    out: list[tuple[str, protocol.Scan | protocol.Event]] = []
    serial = iter(range(1_000_000))

    def scan(reader: str, uid: str, at: datetime) -> None:
        out.append((reader, protocol.Scan(v=1, id=f"s{next(serial):06d}-{rng.randrange(10**6):06d}", uid=uid,
                                          tech="felica" if uid in CARDS else "iso14443a", at=at)))

    for cabinet, tags in ITEMS.items():
        at = DAY + timedelta(seconds=rng.randrange(60))
        for _visit in range(rng.randrange(6, 12)):
            scan(cabinet, rng.choice([*KEY_HOLDERS, *KEY_HOLDERS, UNTRAINED, NO_KEY]), at)
            for _tap in range(rng.randrange(0, 4)):
                at += timedelta(seconds=rng.choice([1, 3, 8, 20, 45]))
                tag = rng.choice([*tags, PHONE, STRANGER] if cabinet == "cabinet-2" else [*tags, STRANGER])
                scan(cabinet, tag, at)
                if rng.random() < 0.2:  # held at the antenna: read again a moment later
                    scan(cabinet, tag, at + timedelta(milliseconds=rng.randrange(200, 1800)))
            if rng.random() < 0.3:  # let out by the exit button, or the door forced: door_forced either way round
                if rng.random() < 0.6:
                    out.append((cabinet, protocol.Event(v=1, id=f"e{next(serial):06d}-exit", type="exit_button",
                                                        at=at + timedelta(seconds=1))))
                out.append((cabinet, protocol.Event(v=1, id=f"e{next(serial):06d}-open", type="door_open",
                                                    at=at + timedelta(seconds=rng.choice([2, 4, 9, 15])))))
            if rng.random() < 0.4:
                at += timedelta(seconds=rng.randrange(16, 30))
                out.append((cabinet, protocol.Event(v=1, id=f"e{next(serial):06d}-door", type="door_closed", at=at)))
            at += timedelta(seconds=rng.choice([5, 30, 70, 600, 3600]))  # some sessions time out
            if rng.random() < 0.3:  # a tap with nobody at the cabinet
                scan(cabinet, rng.choice(tags), at)
                at += timedelta(seconds=rng.randrange(5, 100))
    for cabinet in ITEMS:  # a door surely forced, and surely let out by its button
        at = DAY + timedelta(hours=13)
        out += [(cabinet, protocol.Event(v=1, id=f"e{next(serial):06d}-open", type="door_open", at=at)),
                (cabinet, protocol.Event(v=1, id=f"e{next(serial):06d}-exit", type="exit_button",
                                         at=at + timedelta(minutes=1))),
                (cabinet, protocol.Event(v=1, id=f"e{next(serial):06d}-open", type="door_open",
                                         at=at + timedelta(minutes=1, seconds=3)))]
    scan("entrance", BADGES[0], DAY + timedelta(minutes=10))  # one visitor surely comes and goes
    scan("entrance", BADGES[0], DAY + timedelta(hours=2))
    at = DAY
    for _tap in range(rng.randrange(10, 20)):
        at += timedelta(seconds=rng.choice([2, 30, 300, 1800]))
        scan("entrance", rng.choice([*KEY_HOLDERS, NO_KEY, UNTRAINED]), at)
        if rng.random() < 0.3:  # a visitor comes in, or goes out, or taps twice
            scan("entrance", rng.choice(BADGES), at + timedelta(seconds=rng.randrange(1, 20)))
    return out


def _message(reader: str, body: protocol.Scan | protocol.Event, mid: int) -> Incoming:
    channel = "scan" if isinstance(body, protocol.Scan) else "event"
    return Incoming(protocol.topic(SITE, reader, channel), protocol.encode(body), RECEIVED, mid=mid, qos=1)


def _deliver(worker: IngestWorker, batches: list[list[Incoming]]) -> None:
    for batch in batches:
        worker.process(batch)


def _forget(factory) -> None:
    with unit_of_work(factory) as db:
        around_evidence_guards(db)  # a test's reset, not the application: scans are immutable evidence
        for model in (AlertOccurrence, Alert, Checkout, CabinetSession, StaffInside, PresenceEvent, ScanRecord,
                      ReaderEvent):
            db.execute(delete(model))
        db.execute(update(Visit).values(state="expected", entered_at=None, left_at=None, badge_returned_at=None))


def _batches(rng: random.Random, messages: list[Incoming]) -> list[list[Incoming]]:
    batches, at = [], 0
    while at < len(messages):
        size = rng.choice([1, 1, 2, 3, 5, 8, 20])
        batches.append(messages[at:at + size])
        at += size
    return batches


def _interleave(rng: random.Random, day: list[tuple[str, protocol.Scan | protocol.Event]]) -> list:
    """Each reader's own order kept; the readers' streams merged at random."""
    queues: dict[str, list] = {}
    for reader, body in day:
        queues.setdefault(reader, []).append((reader, body))
    merged = []
    while queues:
        reader = rng.choice(sorted(queues))
        merged.append(queues[reader].pop(0))
        if not queues[reader]:
            del queues[reader]
    return merged


@pytest.fixture
def stocked(database_url):
    _stock(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    settings = Settings(database_url=database_url)
    worker = IngestWorker(factory, IngestService(settings), NoWire(), clock=lambda: RECEIVED)
    yield worker, factory
    engine.dispose()


@pytest.mark.parametrize("order", ["per_reader", "shuffled", "newest_first"])
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_arrival_order_builds_the_ledger_of_the_live_day(stocked, order, seed):
    worker, factory = stocked
    rng = random.Random(seed)
    day = _day(rng)
    live = sorted(day, key=lambda pair: (pair[1].at, pair[1].id))
    _forget(factory)
    _deliver(worker, [[_message(reader, body, n)] for n, (reader, body) in enumerate(live)])
    expected = snapshot(factory)
    assert expected["checkouts"] and expected["sessions"] and expected["presence"]
    assert any(state == "out" for _id, state, *_times in expected["visits"])
    assert any(key.startswith("door_forced:") for key, *_counts in expected["alerts"])

    if order == "per_reader":
        arrival = _interleave(rng, day)
    elif order == "shuffled":
        arrival = rng.sample(day, len(day))
    else:
        arrival = list(reversed(live))
    _forget(factory)
    messages = [_message(reader, body, n) for n, (reader, body) in enumerate(arrival)]
    _deliver(worker, _batches(rng, messages))
    assert snapshot(factory) == expected
    kept, rebuilt, grouped = inside_as_derived(factory)
    assert kept == rebuilt
    assert [(person, since) for person, since, _reader, _scan in kept] == grouped


def test_a_repeat_sent_with_a_late_scan_is_still_applied_in_its_place(stocked):
    """A stored scan sent again (the broker's copy after a crash) in the batch that brings an older
    one is part of the stretch applied again: it must not vanish from the ledger."""
    worker, factory = stocked
    folder_a, folder_b, folder_c = ITEMS["cabinet-1"]
    serial = iter(range(1000))

    def tap(reader: str, uid: str, seconds: int) -> tuple[str, protocol.Scan]:
        return reader, protocol.Scan(v=1, id=f"repeat-{next(serial):04d}", uid=uid, at=DAY + timedelta(seconds=seconds),
                                     tech="felica" if uid in CARDS else "iso14443a")

    opened, out_a, out_b, later = (tap("cabinet-1", KEY_HOLDERS[0], 0), tap("cabinet-1", folder_a, 45),
                                   tap("cabinet-1", folder_b, 90), tap("cabinet-1", folder_c, 1000))
    came, went, came_again, late = (tap("entrance", NO_KEY, 0), tap("entrance", NO_KEY, 600),
                                    tap("entrance", NO_KEY, 900), tap("entrance", NO_KEY, 300))
    arrival = [[opened, out_a, came, went, came_again], [later], [out_a, out_b, went, late]]
    _forget(factory)
    _deliver(worker, [[_message(reader, body, n) for n, (reader, body) in enumerate(batch)] for batch in arrival])
    got = snapshot(factory)

    _forget(factory)
    live = sorted({body.id: (reader, body) for batch in arrival for reader, body in batch}.values(),
                  key=lambda pair: pair[1].at)
    _deliver(worker, [[_message(reader, body, n)] for n, (reader, body) in enumerate(live)])
    assert got == snapshot(factory)
    assert len(got["checkouts"]) == 2 and len(got["presence"]) == 4
    assert got["staff_inside"] == []  # in, out, in, out: the late tap at 300 s is the first exit


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_the_stored_who_is_in_is_what_the_taps_say_whatever_their_order(stocked, seed):
    """Staff come and go through the day; their taps arrive shuffled, in random batches. The stored
    "who is in" the rewinds kept is the live day's, and the one every tap, grouped by person, says."""
    worker, factory = stocked
    rng = random.Random(seed)
    day = []
    for n, card in enumerate(CARDS):
        count = rng.randrange(1, 12) | (1 if n == 0 else 0)  # the first one surely ends the day in
        for minute in rng.sample(range(600), count):  # a minute apart at least: no double taps
            day.append(("entrance", protocol.Scan(v=1, id=f"in-{n}-{minute:03d}", uid=card, tech="felica",
                                                  at=DAY + timedelta(minutes=minute))))
    live = sorted(day, key=lambda pair: pair[1].at)
    _forget(factory)
    _deliver(worker, [[_message(reader, body, n)] for n, (reader, body) in enumerate(live)])
    expected = snapshot(factory)
    assert expected["staff_inside"]

    _forget(factory)
    _deliver(worker, _batches(rng, [_message(reader, body, n) for n, (reader, body) in
                                    enumerate(rng.sample(day, len(day)))]))
    assert snapshot(factory) == expected
    kept, rebuilt, grouped = inside_as_derived(factory)
    assert kept == rebuilt
    assert [(person, since) for person, since, _reader, _scan in kept] == grouped
