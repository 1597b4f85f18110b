"""The evidence for seed rules (1), (7), (8), (9) and training: the audit log's exports and logins, the
monthly self-inspection for what no tap can show, and each member of staff's training."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.actions import ACTIONS
from server.audit.models import AuditEvent
from server.config import Settings
from server.domain import self_inspection
from server.domain.cabinet import training_current
from server.inspection import self_check
from server.inspection.evidence import Count, Finding, Period, Section
from server.lost.models import LostItem
from server.people.models import Person

EXPORTS = tuple(sorted(a for a in ACTIONS if a.endswith(("_exported", "_printed", "_downloaded"))))
LOGIN_TROUBLE = ("login_failed", "lockout", "login_refused_locked", "login_throttled")


def _audited(db: Session, p: Period, actions: tuple[str, ...]) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action.in_(actions), AuditEvent.at >= p.start, AuditEvent.at < p.end)) or 0


def rule1(db: Session, p: Period, settings: Settings) -> Section:
    """(1) 守秘義務等: no resident's personal data is stored; every export and printout is in the audit log."""
    return Section("1", [Count("exports", _audited(db, p, EXPORTS), "/audit")])


def self_inspection_findings(db: Session, p: Period, rule: str) -> list[Finding]:
    """Months of the period without a self-inspection, and each いいえ of this rule in a month's latest answer."""
    months = self_inspection.months(p.first, p.last, p.today)
    latest = {month: self_check.answers_of(row) for month, row in self_check.latest(db, months).items()}
    link = f"/inspection/rules/{rule}?{p.query()}"
    return [Finding("self_inspection_missing" if what == "missing" else "self_inspection_no", month, "",
                    f"insp.q.{question}" if question else None, link)
            for month, what, question in self_inspection.findings(rule, months, latest)]


def rule7(db: Session, p: Period, settings: Settings) -> Section:
    """(7) なりすまし等の防止: answered in the monthly self-inspection."""
    return Section("7", [], self_inspection_findings(db, p, "7"), checklist=True)


def rule8(db: Session, p: Period, settings: Settings) -> Section:
    """(8) 情報システムでの作業: personal accounts and failed logins from the audit log; the rest answered in
    the monthly self-inspection."""
    return Section("8", [Count("logins", _audited(db, p, ("login",)), "/audit?action=login"),
                         Count("login_trouble", _audited(db, p, LOGIN_TROUBLE), "/audit?action=login_failed")],
                   self_inspection_findings(db, p, "8"), checklist=True)


def rule9(db: Session, p: Period, settings: Settings) -> Section:
    """(9) 事故等発生時の対応: items marked lost are what this system knows of incidents so far."""
    lost = db.scalar(select(func.count()).select_from(LostItem)
                     .where(LostItem.marked_at >= p.start, LostItem.marked_at < p.end)) or 0
    return Section("9", [Count("lost", lost, "/lost")])


def _lapse(training_on, day) -> str:
    """Why training did not count on `day`. Only the latest training date is kept: one after the period
    hides whether an earlier one covered it."""
    if training_on is None:
        return "training_missing"
    return "training_later" if training_on > day else "training_expired"


def training(db: Session, p: Period, settings: Settings) -> Section:
    """情報セキュリティ教育: every active member of staff trained within `training_valid_days` on the period's
    last day (today while it runs)."""
    day = p.last_seen
    people = db.execute(select(Person.id, Person.name, Person.training_on).where(Person.active)
                        .order_by(Person.name, Person.id)).all()
    lapsed = [Finding(_lapse(on, day), on, name, None, f"/admin/people/{person_id}")
              for person_id, name, on in people if not training_current(on, day, settings.training_valid_days)]
    return Section("training", [Count("staff", len(people), "/admin/people"),
                                Count("trained", len(people) - len(lapsed), "/register?report=access")], lapsed)
