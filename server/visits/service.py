"""Reception's changes to visits, shared by the API and the pages; inside the caller's unit of work.

The callers validate the input and say who acts; these functions check the state a change needs
and raise `VisitProblem` (a message key for the pages, and a sentence for the API) when it is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.people.models import Person, VisitorBadge
from server.visits.models import Visit


@dataclass
class VisitProblem(Exception):
    field: str  # the form field it concerns ("" for the whole visit)
    key: str  # message key for the pages
    detail: str  # the API's words
    conflict: bool = False  # 409 rather than 422


def lent_to(db: Session, badge_uid: str) -> Visit | None:
    """The visit a badge is lent to now, if any."""
    return db.scalars(select(Visit).where(Visit.badge_uid == badge_uid, Visit.badge_returned_at.is_(None))).first()


def free_badges(db: Session) -> list[VisitorBadge]:
    """Active badges in the pool that are not lent out, in label order."""
    lent = select(Visit.badge_uid).where(Visit.badge_uid.is_not(None), Visit.badge_returned_at.is_(None))
    return list(db.scalars(select(VisitorBadge).where(VisitorBadge.active.is_(True), VisitorBadge.uid.not_in(lent))
                           .order_by(VisitorBadge.label, VisitorBadge.uid)))


def _check_badge(db: Session, badge_uid: str) -> None:
    badge = db.get(VisitorBadge, badge_uid)
    if badge is None or not badge.active:
        raise VisitProblem("badge_uid", "visit.err.badge_unknown",
                           f"badge {badge_uid} is not in the visitor badge pool; add it first")
    if (other := lent_to(db, badge_uid)) is not None:
        raise VisitProblem("badge_uid", "visit.err.badge_lent",
                           f"badge {badge.label} is lent to visit {other.id} ({other.state}); choose another",
                           conflict=True)


def register(db: Session, now: datetime, *, visitor_name: str, organisation: str = "", purpose: str = "",
             host: str = "", host_person: Person | None = None, badge_uid: str | None = None,
             expected_at: datetime | None = None, valid_from: datetime | None = None,
             valid_until: datetime | None = None, by: str | None = None) -> Visit:
    """An expected visitor; with a badge, the badge is lent from now."""
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise VisitProblem("valid_until", "visit.err.window", "valid_until must be after valid_from")
    if badge_uid:
        _check_badge(db, badge_uid)
    visit = Visit(visitor_name=visitor_name, organisation=organisation, purpose=purpose,
                  host=host_person.name if host_person is not None and not host else host,
                  host_person_id=host_person.id if host_person is not None else None, badge_uid=badge_uid or None,
                  state="expected", registered_at=now, registered_by=by, expected_at=expected_at,
                  valid_from=valid_from, valid_until=valid_until)
    db.add(visit)
    db.flush()
    return visit


def lend_badge(db: Session, visit: Visit, badge_uid: str) -> None:
    """Give an expected visitor a badge (or swap the one they had before coming in)."""
    if visit.state != "expected":
        raise VisitProblem("badge_uid", "visit.err.not_expected", f"visit {visit.id} is {visit.state}", conflict=True)
    if visit.badge_uid == badge_uid:
        return
    _check_badge(db, badge_uid)
    visit.badge_uid = badge_uid
    db.flush()


def badge_back(db: Session, visit: Visit, now: datetime, by: str) -> str:
    """The badge is back at reception. A visitor still in is signed out at the desk now.

    Returns what happened: "signed_out" (was in), "returned" (not signed out, or expected).
    """
    if visit.badge_uid is None or visit.badge_returned_at is not None:
        raise VisitProblem("", "visit.err.no_badge_out", f"visit {visit.id} has no badge out", conflict=True)
    visit.badge_returned_at = now
    outcome = "returned"
    if visit.state == "in":
        visit.state, visit.left_at, visit.closed_by = "out", now, by
        outcome = "signed_out"
    elif visit.state == "expected":
        visit.badge_uid = None  # never used: the badge simply goes back to the pool
    db.flush()
    return outcome


def cancel(db: Session, visit: Visit, now: datetime, by: str) -> None:
    """An expected visitor who will not come; a badge they were given goes back to the pool."""
    if visit.state != "expected":
        raise VisitProblem("", "visit.err.not_expected", f"visit {visit.id} is {visit.state}", conflict=True)
    visit.state, visit.closed_at, visit.closed_by = "cancelled", now, by
    if visit.badge_uid is not None and visit.badge_returned_at is None:
        visit.badge_uid = None
    db.flush()


def mark_in(db: Session, visit: Visit, now: datetime, by: str) -> None:
    """A visitor without a badge comes in: the receptionist marks it, so the roll call counts them."""
    if visit.state != "expected":
        raise VisitProblem("", "visit.err.not_expected", f"visit {visit.id} is {visit.state}", conflict=True)
    if visit.badge_uid is not None:
        raise VisitProblem("", "visit.err.has_badge", f"visit {visit.id} has a badge: the visitor taps in with it",
                           conflict=True)
    visit.state, visit.entered_at, visit.entered_by = "in", now, by
    db.flush()


def mark_out(db: Session, visit: Visit, now: datetime, by: str) -> None:
    """A visitor without a badge leaves, seen at the desk (one with a badge gives it back instead)."""
    if visit.state != "in":
        raise VisitProblem("", "visit.err.not_in", f"visit {visit.id} is {visit.state}, not in", conflict=True)
    if visit.badge_uid is not None and visit.badge_returned_at is None:
        raise VisitProblem("", "visit.err.has_badge_out", f"visit {visit.id} has a badge out: record it returned",
                           conflict=True)
    visit.state, visit.left_at, visit.closed_by = "out", now, by
    db.flush()
