"""The 持ち出し管理簿's transactions page by page: every take-out of the period once, in order, whatever
the page size and the filter (a later page skips rows by their ids alone, then joins its own)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from server.checkouts.models import Checkout
from server.checkouts.register import RegisterFilter, transactions
from server.db import make_engine, make_session_factory
from server.items.models import Item
from server.migrate import upgrade
from server.people.models import Person
from server.readers.models import Reader

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, tzinfo=UTC)
NOW = T0 + timedelta(days=20)


@pytest.fixture
def session(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    rng = random.Random(19)
    with make_session_factory(engine)() as db:
        db.add(Reader(id="cabinet-1", site="ward", role="cabinet", name="書庫", created_at=T0))
        db.add_all(Person(id=n, name=f"職員 {n}", created_at=T0) for n in range(1, 6))
        db.flush()  # no relationships tell the session what goes first
        db.add_all(Item(id=n, label=f"物品 {n:03d}", kind=("folder", "media")[n % 2], tag_uid=f"T{n}",
                        cabinet_id="cabinet-1", created_at=T0) for n in range(1, 21))
        db.flush()
        for n in range(1, 121):
            out = T0 + timedelta(hours=rng.randrange(0, 400))  # many share one instant: the id decides
            back = out + timedelta(hours=rng.choice((1, 30))) if n > 10 else None  # one open checkout an item
            db.add(Checkout(id=n, item_id=n if n <= 10 else rng.randint(11, 20), person_id=rng.randint(1, 5), out_at=out,
                            due_at=out + timedelta(hours=8), returned_at=back, out_scan_id=f"o{n}"))
        db.commit()
        yield db
    engine.dispose()


FILTERS = [RegisterFilter(), RegisterFilter(kind="media"), RegisterFilter(state="late"),
           RegisterFilter(person="職員 3", item="物品 0")]


def test_pages_hold_every_take_out_once_in_order(session):
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=14)
    for f in FILTERS:
        everything = transactions(session, start, end, f, NOW, limit=None)
        assert len(everything) > 3, f
        assert [(line.out_at, line.id) for line in everything] == sorted((line.out_at, line.id) for line in everything)
        for size in (1, 4, 7, 200):
            pages, offset = [], 0
            while page := transactions(session, start, end, f, NOW, limit=size, offset=offset):
                assert len(page) <= size
                pages += page
                offset += size
            assert pages == everything, (f, size)
