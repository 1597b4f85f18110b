"""The grants as the ingest and the allowlist publisher read them from the database (role grants, one-offs,
the office's closed days), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from server.db import make_engine, make_session_factory, unit_of_work
from server.domain.grants import Slot
from server.grants import service
from server.grants.allowlist import ANY_TIME, cabinet_cards
from server.grants.facts import GrantBook
from server.people.models import Card, Person
from server.readers.models import Reader

pytestmark = pytest.mark.integration
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # Thursday 10:00 in Tokyo


@pytest.fixture
def factory(database_url):
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as db:
        for cabinet in ("folders", "keys", "spare"):
            db.add(Reader(id=cabinet, site="nerima", role="cabinet", name=cabinet, created_at=NOW))
        for pid, roles, uid in ((1, ["surveyor"], "0A00000001"), (2, ["receptionist"], "0A00000002")):
            db.add(Person(id=pid, name=f"p{pid}", key_holder=True, roles=roles, created_at=NOW))
            db.flush()
            db.add(Card(uid=uid, person_id=pid, created_at=NOW))
        role = service.add_grant(db, cabinet_id="folders", role="surveyor", slots=[Slot(d, time(8), time(19))
                                                                                    for d in range(5)], now=NOW, by="t")
        service.add_one_off(db, role, day=date(2026, 12, 5), starts=time(9), ends=time(12), reason="整理", now=NOW,
                            by="t")
        service.add_grant(db, cabinet_id="keys", person_id=2, now=NOW, by="t")
        service.add_closed_day(db, date(2026, 12, 4), "庁舎停電", now=NOW, by="t")
    yield factory
    engine.dispose()


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=TOKYO)


def test_the_ingest_reads_role_grants_one_offs_and_the_offices_closed_days(factory):
    moments = [at(3, 10), at(4, 10), at(5, 10), at(5, 13)]
    with factory() as db:
        book = GrantBook.load(db.connection(), ["folders", "keys", "spare"], [1, 2], moments, TOKYO)
    assert [book.refusal("folders", 1, m) for m in moments] == [None, "outside_hours", None, "outside_hours"]
    assert book.refusal("folders", 2, at(3, 10)) == "no_grant"  # a receptionist: not a surveyor
    assert book.refusal("keys", 1, at(3, 10)) == "no_grant" and book.refusal("keys", 2, at(5, 23)) is None
    assert book.refusal("spare", 1, at(5, 23)) is None  # no grant at all: every key holder, as before


def test_the_publisher_gives_each_cabinet_its_cards_and_their_hours(factory):
    with factory() as db:
        cards = cabinet_cards(db, ["folders", "keys", "spare"], ["0A00000001", "0A00000002"], now=NOW,
                              until=datetime(2026, 12, 5, 3, tzinfo=UTC), zone=TOKYO)
    [(uid, [window])] = [(u, list(w)) for u, w in cards["folders"].cards]
    assert uid == "0A00000001" and window.week[0] == "1 08:00-19:00" and window.extra == ("2026-12-05 09:00-12:00",)
    assert cards["folders"].closed == ("2026-12-04",)
    assert cards["keys"].cards == (("0A00000002", ANY_TIME),) and cards["keys"].closed == ()
    assert [u for u, _w in cards["spare"].cards] == ["0A00000001", "0A00000002"]
