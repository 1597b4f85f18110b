"""Closing time (閉庁時刻): visitors still in and visitor badges not back become alerts.

Every `closing_check_s` seconds the checker looks at visits whose office day has closed:
- a visitor still in (no exit tap) gets one `visitor_not_signed_out` alert; with
  `auto_sign_out` the visit is also closed as `not_signed_out` at closing time — never as left,
  because nobody saw them leave — and its badge stays marked as not returned;
- an expected visitor given a badge who never tapped in gets one `badge_not_returned` alert, once
  the day has closed and the badge's window is over.

A unique index on (type, visit_id) makes "one alert per visit" the database's promise, so a
second round, a restart or a second process cannot open another. Checking from `now` backwards
means a server that was down at 18:00 catches up when it starts.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from server.alerts.models import Alert
from server.clock import Clock
from server.config import Settings
from server.domain.visits import first_closing_after
from server.notify.queue import notify
from server.notify.recipients import accounts_with_role
from server.people.models import VisitorBadge
from server.periodic import Periodic
from server.visits.models import Visit

log = logging.getLogger("mamori.closing")


def _subject(visit: Visit, badge: str | None, what: str) -> str:
    org = f" ({visit.organisation})" if visit.organisation else ""
    return f"{what}: {visit.visitor_name}{org}, host {visit.host or '—'}, badge {badge or '—'}"


def close_the_day(db: Session, now: datetime, *, closing: time, zone: ZoneInfo, auto_sign_out: bool) -> list[Alert]:
    """Open the missing closing-time alerts (and sign out, if configured) in `db`; the caller commits."""
    opened: list[Alert] = []
    for alert_type, state in (("visitor_not_signed_out", "in"), ("badge_not_returned", "expected")):
        already = exists().where(Alert.visit_id == Visit.id, Alert.type == alert_type)
        query = (select(Visit, VisitorBadge.label).outerjoin(VisitorBadge, VisitorBadge.uid == Visit.badge_uid)
                 .where(Visit.state == state, ~already))
        if state == "expected":
            query = query.where(Visit.badge_uid.is_not(None), Visit.badge_returned_at.is_(None))
        for visit, badge in db.execute(query.order_by(Visit.id)).all():
            if state == "in":
                closed = first_closing_after(visit.entered_at, closing, zone)
            else:  # the day closed and the badge's window is over: they are not coming
                closed = first_closing_after(visit.valid_from or visit.registered_at, closing, zone)
                if visit.valid_until is not None:
                    closed = max(closed, visit.valid_until)
            if closed > now:
                continue
            what = "visitor not signed out" if state == "in" else "visitor badge not returned"
            alert = Alert(type=alert_type, severity="medium", state="open", opened_at=closed,
                          subject=_subject(visit, badge, what), visit_id=visit.id)
            opened.append(alert)
            db.add(alert)
            if state == "in" and auto_sign_out:
                visit.state, visit.closed_at, visit.closed_by = "not_signed_out", closed, "closing time"
    db.flush()
    return opened


def tell_the_desk(db: Session, now: datetime, settings: Settings, alerts: list[Alert]) -> None:
    """Reception and managers get one notice per visitor not signed out (those who chose to)."""
    desk = accounts_with_role(db, ("admin", "manager", "receptionist"))
    for alert in alerts:
        if alert.type != "visitor_not_signed_out":
            continue
        subject = alert.subject

        def message(lang: str, subject: str = subject) -> tuple[str, str]:
            if lang == "en":
                return "[mamori] A visitor has not signed out", f"{subject}\n{settings.public_url}/dashboard\n"
            return "【mamori】退室未確認の来所者がいます", f"{subject}\n{settings.public_url}/dashboard\n"

        notify(db, now, settings=settings, kind="visitor_not_signed_out", key=f"visitor_not_signed_out:{alert.visit_id}",
               users=desk, message=message, payload={"visit_id": alert.visit_id, "subject": subject})


class ClosingChecker(Periodic):
    """The background loop that `Ingest` starts and stops."""

    name = "closing"

    def __init__(self, factory: sessionmaker[Session], clock: Clock, settings: Settings):
        super().__init__(settings.closing_check_s)
        self.factory, self.clock, self.settings = factory, clock, settings

    def check(self) -> int:
        """One round; returns how many alerts it opened."""
        try:
            with self.factory.begin() as db:
                now, settings = self.clock(), self.settings
                opened = close_the_day(db, now, closing=settings.closing_time, zone=settings.zone,
                                       auto_sign_out=settings.auto_sign_out)
                tell_the_desk(db, now, settings, opened)
                subjects = [alert.subject for alert in opened]
        except IntegrityError:
            log.info("a closing-time alert was opened elsewhere meanwhile; checking again next round")
            return 0
        for subject in subjects:
            log.warning("closing time: %s", subject)
        return len(subjects)
