"""Signing off the access-rights report each quarter (kept, append-only), and the overdue-review alert."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from server.alerts.models import Alert
from server.clock import Clock
from server.config import Settings
from server.domain.reviews import overdue_quarter, quarter_of
from server.grants.models import AccessReview, CabinetGrant
from server.people.models import Person
from server.periodic import Periodic

log = logging.getLogger("mamori.access_review")
ALERT = "access_review_overdue"


def digest(csv_bytes: bytes) -> str:
    """What was signed off: the SHA-256 of the report's CSV, as the CSV download gives it."""
    return hashlib.sha256(csv_bytes).hexdigest()


def sign(db: Session, *, quarter: str, report_digest: str, lines: int, by: str, now: datetime,
         note: str | None) -> AccessReview:
    """A new sign-off (an earlier one of the same quarter stays), and the quarter's overdue alert resolved."""
    review = AccessReview(quarter=quarter, signed_at=now, signed_by=by, digest=report_digest, lines=lines,
                          note=note or None)
    db.add(review)
    db.execute(update(Alert).where(Alert.fold_key == f"{ALERT}:{quarter}", Alert.state != "resolved")
               .values(state="resolved", resolved_at=now, resolved_by=by))
    return review


def sign_offs(db: Session, limit: int = 40) -> list[AccessReview]:
    return list(db.scalars(select(AccessReview).order_by(AccessReview.signed_at.desc()).limit(limit)))


def open_overdue_alert(db: Session, now: datetime, settings: Settings) -> Alert | None:
    """The previous quarter unsigned: one alert for it, ever (its fold key names the quarter)."""
    today = now.astimezone(settings.zone).date()
    # Reviews are owed from the quarter grants came in (the upgrade stamps them), or the first person.
    since = db.scalar(select(func.min(CabinetGrant.created_at))) or db.scalar(select(func.min(Person.created_at)))
    if since is None:  # an office with nobody registered has nothing to review
        return None
    signed = set(db.scalars(select(AccessReview.quarter).distinct()))
    quarter = overdue_quarter(today, signed, since.astimezone(settings.zone).date())
    if quarter is None or db.scalar(select(Alert.id).where(Alert.fold_key == f"{ALERT}:{quarter}")) is not None:
        return None
    alert = Alert(type=ALERT, severity="medium", state="open", opened_at=now, last_at=now, count=1,
                  fold_key=f"{ALERT}:{quarter}",
                  subject=f"the access review of {quarter} is not signed off (it was due by the quarter's end)")
    db.add(alert)
    return alert


class ReviewChecker(Periodic):
    """Checks once in a while (hourly by default) whether the last quarter's access review is overdue."""

    name = "access_review"

    def __init__(self, factory: sessionmaker[Session], clock: Clock, settings: Settings):
        super().__init__(settings.access_review_check_s)
        self.factory, self.clock, self.settings = factory, clock, settings

    def check(self) -> int:
        with self.factory.begin() as db:
            alert = open_overdue_alert(db, self.clock(), self.settings)
            if alert is None:
                return 0
            log.warning(alert.subject)
        return 1


def this_quarter(now: datetime, settings: Settings) -> str:
    return quarter_of(now.astimezone(settings.zone).date())
