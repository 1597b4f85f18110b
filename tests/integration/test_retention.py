"""Visitor data retention: `mamori visits anonymise` blanks who the visitor was once the retention
period is over, keeps the times, host and badge, leaves recent and unfinished visits alone, and
records what it did in the audit log. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.alerts.models import Alert
from server.audit.models import AuditEvent
from server.cli import main
from server.db import make_engine, make_session_factory, unit_of_work
from server.migrate import upgrade
from server.notify.models import Notice
from server.people.models import VisitorBadge
from server.visits.models import Visit
from server.visits.retention import ANONYMOUS, anonymise_visits
from tests.support.words import facts

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def visit(name: str, state: str, ended_days_ago: float | None, **extra) -> Visit:
    ended = NOW - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    fields = {"visitor_name": name, "organisation": f"{name}の会社", "purpose": "打合せ", "host": "佐藤 花子",
              "state": state, "registered_at": (ended or NOW) - timedelta(hours=2)}
    if state == "out":
        fields.update(entered_at=ended - timedelta(hours=1), left_at=ended, badge_uid="11223344",
                      badge_returned_at=ended)
    elif state == "not_signed_out":
        fields.update(entered_at=ended - timedelta(hours=1), closed_at=ended, badge_uid="55667788")
    elif state == "in":
        fields.update(entered_at=NOW - timedelta(hours=1))
    return Visit(**{**fields, **extra})


@pytest.fixture
def factory(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as db:
        db.add_all([VisitorBadge(uid=uid, label=uid, created_at=NOW) for uid in ("11223344", "55667788")])
        db.flush()
        old = visit("古い 来所者", "out", 400)
        unsure = visit("未確認 来所者", "not_signed_out", 366)
        db.add_all([old, unsure, visit("最近の 来所者", "out", 30), visit("在館 来所者", "in", None),
                    visit("取消 来所者", "cancelled", 500, closed_at=NOW - timedelta(days=500))])
        db.flush()
        db.add_all([Notice(kind="visitor_arrived", channel="webhook", address="http://hook", subject="来所者 古い",
                           body="古い 来所者", payload={"visitor_name": "古い 来所者"}, dedupe_key=f"k{n}",
                           created_at=NOW - timedelta(days=days), next_attempt_at=NOW, attempts=1)
                    for n, days in ((1, 400), (2, 10))])
        db.add(Alert(type="visitor_not_signed_out", severity="medium", state="resolved", opened_at=unsure.closed_at,
                     subject="visitor not signed out: 未確認 来所者 (未確認 来所者の会社)", visit_id=unsure.id))
    yield factory
    engine.dispose()


def names(factory) -> list[str]:
    with factory() as db:
        return list(db.scalars(select(Visit.visitor_name).order_by(Visit.id)))


def test_visits_past_retention_lose_who_the_visitor_was_and_nothing_else(factory):
    with unit_of_work(factory) as db:
        done = anonymise_visits(db, NOW, days=365, actor="test")
    assert (done.visits, done.alerts, done.notices) == (3, 1, 1)
    with factory() as db:
        rows = {v.id: v for v in db.scalars(select(Visit))}
        kept = sorted(v.visitor_name for v in rows.values() if v.anonymised_at is None)
        assert kept == ["在館 来所者", "最近の 来所者"]
        old = next(v for v in rows.values() if v.state == "out" and v.anonymised_at is not None)
        assert (old.visitor_name, old.organisation, old.purpose) == (ANONYMOUS, "", "")
        assert old.host == "佐藤 花子" and old.badge_uid == "11223344" and old.left_at is not None
        [alert] = db.scalars(select(Alert)).all()
        assert "未確認" not in alert.subject
        old_notice, new_notice = db.scalars(select(Notice).order_by(Notice.id)).all()
        assert (old_notice.body, old_notice.payload) == ("", {}) and new_notice.body == "古い 来所者"
        [entry] = db.scalars(select(AuditEvent).where(AuditEvent.action == "visits_anonymised")).all()
        assert facts(entry.detail)["visits"] == 3 and facts(entry.detail)["cutoff"].startswith("2025-11-27")
        assert "来所者" not in entry.detail
    with unit_of_work(factory) as db:  # a second run finds nothing more
        assert anonymise_visits(db, NOW, days=365, actor="test").visits == 0


def test_the_command_has_a_dry_run_and_refuses_a_zero_period(factory, database_url, monkeypatch, capsys):
    monkeypatch.setenv("MAMORI_DATABASE_URL", database_url)
    assert main(["visits", "anonymise", "--days", "0"]) == 2
    assert main(["visits", "anonymise", "--dry-run", "--days", "1"]) == 0
    assert "would anonymise 4 visits" in capsys.readouterr().out
    assert "古い 来所者" in names(factory)
    assert main(["visits", "anonymise"]) == 0
    out = capsys.readouterr().out
    assert "anonymised 3 visits" in out and "recorded in the audit log" in out
