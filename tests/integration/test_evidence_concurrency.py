"""Writers at once — the ingest under a burst, people's requests, the periodic checkers — leave one
chain without a gap or a fork, and it verifies (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.alerts.actions import acknowledge
from server.alerts.models import Alert
from server.audit.service import record
from server.checkouts.chase import ChaseChecker
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.evidence.models import ChainLink
from server.evidence.runs import snapshot_verify
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from server.visits.closing import ClosingChecker
from tests.integration.test_arrival_order import RECEIVED, _day, _message, _stock
from tests.support.ledger import NoWire

pytestmark = pytest.mark.integration


def test_concurrent_writers_leave_one_chain_that_verifies(database_url):
    _stock(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    settings = Settings(database_url=database_url)
    worker = IngestWorker(factory, IngestService(settings), NoWire(), clock=lambda: RECEIVED)
    rng = random.Random(11)
    burst = [pair for _ in range(3) for pair in _day(rng)]  # three days' taps: a replayed outbox
    messages = [_message(reader, body, n) for n, (reader, body) in enumerate(sorted(burst, key=lambda p: p[1].at))]
    errors: list[BaseException] = []
    clock = lambda: RECEIVED + timedelta(days=2)  # noqa: E731  (everything is overdue: the chase writes)

    def guarded(work):
        def run():
            try:
                work()
            except BaseException as exc:  # noqa: BLE001  (reported by the test below)
                errors.append(exc)
        return threading.Thread(target=run)

    def ingest():
        for start in range(0, len(messages), 25):
            worker.process(messages[start:start + 25])

    def person(n: int):
        def work():
            for i in range(15):
                with unit_of_work(factory) as db:
                    record(db, datetime.now(UTC), "login", f"user{n}", {"i": i})
                    alert = db.scalar(select(Alert.id).where(Alert.state == "open").limit(1))
                    if alert is not None and i % 5 == 0:
                        acknowledge(db, alert, by=f"user{n}", at=clock(), zone=settings.zone)
        return work

    def checkers():
        chase, closing = ChaseChecker(factory, clock, settings), ClosingChecker(factory, clock, settings)
        for _ in range(10):
            chase.check()
            closing.check()

    threads = [guarded(ingest), guarded(checkers), *(guarded(person(n)) for n in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    try:
        assert not errors, errors
        with engine.connect() as conn:
            count, top = conn.execute(select(func.count(), func.max(ChainLink.seq))).one()
            kinds = set(conn.execute(select(ChainLink.kind).distinct()).scalars())
        assert count == top > len(messages)  # no gap, no seq twice
        assert {"scans", "checkouts", "audit_events", "alerts", "cabinet_sessions"} <= kinds
        report = snapshot_verify(engine, settings.zone)
        assert report.ok, [str(p) for p in report.problems]
    finally:
        engine.dispose()
