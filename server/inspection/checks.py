"""The evidence for seed rules (1), (7), (8), (9) and training: the audit log's exports and logins, the
monthly self-inspection for what no tap can show, the incidents, and each member of staff's training sessions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.audit.actions import ACTIONS
from server.audit.models import AuditEvent
from server.config import Settings
from server.domain import incidents as incident_rules
from server.domain import self_inspection
from server.domain.cabinet import training_current
from server.incidents.models import Incident
from server.incidents.service import facts
from server.inspection import self_check
from server.inspection.evidence import Count, Finding, Period, Section
from server.lost.models import LostItem
from server.people.models import Person
from server.training.service import trained_by

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


def incidents_of(db: Session, p: Period) -> list[Incident]:
    """The incidents of the period: discovered before its end and not closed before its start."""
    return list(db.scalars(select(Incident).where(
        Incident.discovered_at < p.end, or_(Incident.closed_at.is_(None), Incident.closed_at >= p.start))
        .order_by(Incident.discovered_at, Incident.id)))


def rule9(db: Session, p: Period, settings: Settings) -> Section:
    """(9) 事故等発生時の対応: the period's incidents, each open one or one whose 第一報 was late a finding;
    items marked lost besides."""
    lost = db.scalar(select(func.count()).select_from(LostItem)
                     .where(LostItem.marked_at >= p.start, LostItem.marked_at < p.end)) or 0
    within = timedelta(minutes=settings.incident_ward_report_within_min)
    incidents = incidents_of(db, p)
    findings = [Finding(kind, incident.discovered_at, incident.summary, f"inc.kind.{incident.kind}",
                        f"/incidents/{incident.id}")
                for incident in incidents
                if (kind := incident_rules.inspection_finding(facts(incident), p.now, within)) is not None]
    return Section("9", [Count("incidents", len(incidents), "/incidents"), Count("lost", lost, "/lost")], findings)


def training(db: Session, p: Period, settings: Settings) -> Section:
    """情報セキュリティ教育: every active member of staff trained within `training_valid_days` on the period's
    last day (today while it runs), by the latest session they attended by then (withdrawals left out)."""
    day = p.last_seen
    people = db.execute(select(Person.id, Person.name).where(Person.active).order_by(Person.name, Person.id)).all()
    sessions = trained_by(db, day)
    lapsed = []
    for person_id, name in people:
        session = sessions.get(person_id)
        if not training_current(session.held_on if session else None, day, settings.training_valid_days):
            lapsed.append(Finding("training_expired" if session else "training_missing",
                                  session.held_on if session else None, name, None,
                                  f"/training/{session.id}" if session else f"/admin/people/{person_id}"))
    return Section("training", [Count("staff", len(people), "/admin/people"),
                                Count("trained", len(people) - len(lapsed), "/training")], lapsed)
