"""The rewritten visit and presence queries (three-armed between(), the entry log that stops at its
limit, the stored staff inside) answer exactly what the queries before them answered
(tests/support/visits_before.py), on a small office with the awkward cases: someone in since an
earlier day, an entry and an exit at the same instant, two entries in a row, an exit with no entry,
visits spanning days, names shared by two people. SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.db import make_engine, make_session_factory
from server.migrate import upgrade
from server.people.models import Person, VisitorBadge
from server.readers.models import Reader
from server.visits import inside
from server.visits.entry_log import LogLine, entry_log
from server.visits.models import PresenceEvent, Visit
from server.visits.presence import roll_call, staff_inside
from tests.support import visits_before as before

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Asia/Tokyo")
DAY0 = datetime(2026, 11, 16, tzinfo=ZONE)  # a Monday, office midnight
DAYS = 8
NOW = DAY0 + timedelta(days=DAYS - 1, hours=14)
NAMES = ("佐藤 花子", "鈴木 一郎", "田中 健", "高橋 恵")  # shared: the order among one name is free


def at(day: int, hours: float) -> datetime:
    return (DAY0 + timedelta(days=day, hours=hours)).astimezone(UTC)


def seed(db, rng: random.Random) -> None:
    db.add(Reader(id="entrance-1", site="ward", role="entrance", name="入口", created_at=at(0, 0)))
    db.add_all(VisitorBadge(uid=f"B{n}", label=f"来客 {n}", created_at=at(0, 0)) for n in range(40))
    people = [Person(id=n, name=NAMES[n % len(NAMES)], created_at=at(0, 0)) for n in range(1, 41)]
    db.add_all(people)
    db.flush()
    taps: list[tuple[str, datetime, int | None, int | None]] = []
    for person in people[:34]:  # the last six never tapped
        first = rng.randrange(DAYS)
        for day in range(first, DAYS if person.id % 5 else first + 1):  # a fifth last seen days ago
            for _ in range(rng.randint(1, 4)):  # not always entry then exit: a tap goes unseen
                moment = at(day, rng.uniform(7, 21))
                if moment < NOW.astimezone(UTC):
                    taps.append((rng.choice(("entry", "exit")), moment, person.id, None))
    # an entry and an exit at the same instant: the old query counts the person in
    taps += [("exit", at(DAYS - 1, 9), 35, None), ("entry", at(DAYS - 1, 9), 35, None),
             ("entry", at(DAYS - 2, 10), 36, None), ("exit", at(DAYS - 2, 10), 36, None),
             ("entry", at(1, 8), 37, None), ("entry", at(1, 9), 37, None)]  # in since an earlier day, twice
    visits = []
    for n in range(1, 61):
        day = rng.randrange(DAYS)
        moment = at(day, rng.uniform(8, 18))
        state = rng.choice(("expected", "in", "out", "out", "not_signed_out", "cancelled"))
        visit = Visit(id=n, visitor_name=f"来客 {n}", organisation=rng.choice(("ミナト商事", "さくら法律事務所")),
                      host=NAMES[n % len(NAMES)], state=state, registered_at=moment - timedelta(hours=rng.uniform(1, 40)),
                      expected_at=moment if rng.random() < 0.6 else None, badge_uid=f"B{n % 40}" if n <= 40 else None,
                      badge_returned_at=at(day, 23) if state != "in" else None,
                      valid_from=moment - timedelta(hours=1) if rng.random() < 0.8 else None,
                      valid_until=at(day, 18))
        if state in ("in", "out", "not_signed_out"):
            visit.entered_at = moment
            taps.append(("entry", moment, None, n))
        if state == "out":
            visit.left_at = moment + timedelta(hours=rng.choice((1, 30, 60)))  # some stay into later days
            taps.append(("exit", visit.left_at, None, n))
        if state in ("not_signed_out", "cancelled"):
            visit.closed_at, visit.closed_by = at(day, 18), "受付"
        visits.append(visit)
    db.add_all(visits)
    db.flush()
    db.add_all(PresenceEvent(kind=kind, at=moment, person_id=person, visit_id=visit, reader_id="entrance-1",
                             scan_id=f"s{n}") for n, (kind, moment, person, visit) in enumerate(taps))
    db.flush()
    inside.rebuild(db.connection())  # written by hand, not by the ingest: the stored "who is in" from the taps


@pytest.fixture
def session(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with factory() as db:
        seed(db, random.Random(6))
        db.commit()
        yield db
    engine.dispose()


def who(present) -> list[tuple]:
    return [(p.kind, p.name, p.since, p.person_id, p.visit_id, p.unconfirmed) for p in present]


def by_name(present) -> list[tuple]:
    """Ordered by name as both answer, and among one name by person: their order there is free."""
    return sorted(who(present), key=lambda p: (p[0] != "staff", p[1], p[3] or 0, p[4] or 0))


def test_staff_inside_is_what_every_tap_says(session):
    old = by_name(before.staff_inside(session))
    assert {p[3] for p in old} >= {35, 36, 37}  # the same instant either way round; in since an earlier day
    assert by_name(staff_inside(session)) == old
    assert [p[1] for p in who(staff_inside(session))] == sorted(p[1] for p in old)


def test_staff_inside_follows_a_refresh_of_the_people_whose_taps_changed(session):
    """Taps added and taken away by hand; refreshing only those people gives what the taps say."""
    rng = random.Random(11)
    changed = set()
    for person in range(1, 41, 3):
        mine = session.query(PresenceEvent).filter_by(person_id=person).order_by(PresenceEvent.at.desc()).first()
        if mine is not None and rng.random() < 0.5:
            session.delete(mine)
        else:
            session.add(PresenceEvent(kind=rng.choice(("entry", "exit")), at=NOW.astimezone(UTC), person_id=person,
                                      reader_id="entrance-1", scan_id=f"late{person}"))
        changed.add(person)
    session.flush()
    assert by_name(staff_inside(session)) != by_name(before.staff_inside(session))  # not refreshed yet
    inside.refresh(session.connection(), changed)
    assert by_name(staff_inside(session)) == by_name(before.staff_inside(session))


def test_roll_call_is_the_same(session):
    for now in (NOW, NOW - timedelta(days=3, hours=5), NOW + timedelta(days=2)):
        assert by_name(roll_call(session, now, ZONE)) == by_name(before.roll_call(session, now, ZONE))


def canonical(lines: list[LogLine]) -> list[LogLine]:
    return sorted(lines, key=lambda line: (line.moment, repr(line)))


@pytest.mark.parametrize("who_", ["all", "visitor", "staff"])
def test_entry_log_gives_the_same_lines(session, who_):
    periods = [(DAY0 + timedelta(days=d), DAY0 + timedelta(days=d + n)) for d in range(DAYS) for n in (1, 3)]
    checked = 0
    for start, end in periods:
        for q in ("", "佐藤", "ミナト"):
            old = before.entry_log(session, start, end, NOW, who=who_, q=q)
            new = entry_log(session, start, end, NOW, who=who_, q=q)
            assert canonical(new) == canonical(old)
            assert [line.moment for line in new] == sorted(line.moment for line in new)
            for limit in (1, 3, 7, 501):
                assert canonical(entry_log(session, start, end, NOW, who=who_, q=q, limit=limit)) == \
                    canonical(before.entry_log(session, start, end, NOW, who=who_, q=q, limit=limit))
            checked += len(old)
    assert checked > 200
