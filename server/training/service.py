"""Recording 情報セキュリティ教育: sessions, attendance and withdrawals, and the one place that writes
`people.training_on` (the latest attended session), in the same transaction. The caller commits.

Nothing here changes or deletes an attendance record: a mistake is withdrawn by a new record naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, aliased

from server.alerts.models import Alert
from server.audit.service import record
from server.people.models import Person
from server.training.models import MATERIALS, Attendance, TrainingSession

TITLE_MAX, NAME_MAX, REASON_MAX, MINUTES_MAX = 200, 200, 500, 24 * 60
CARRIED_OVER_TITLE = "紙の記録からの引継ぎ（情報セキュリティ教育）"
LAPSE_ALERTS = ("training_due", "training_lapsed")


class TrainingError(Exception):
    """A step that cannot be taken: `reason` is a code the pages and the API put into words."""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason, self.field = reason, field


@dataclass(frozen=True)
class SessionFacts:
    held_on: date
    title: str
    material: str | None
    instructor: str | None = None
    minutes: int | None = None


def _check(facts: SessionFacts, today: date, attendees: list[int], db: Session) -> None:
    if facts.held_on > today:
        raise TrainingError("future", "held_on")
    if not facts.title.strip() or len(facts.title) > TITLE_MAX:
        raise TrainingError("title", "title")
    if facts.material is not None and facts.material not in MATERIALS:
        raise TrainingError("material", "material")
    if facts.instructor is not None and len(facts.instructor) > NAME_MAX:
        raise TrainingError("instructor", "instructor")
    if facts.minutes is not None and not 0 < facts.minutes <= MINUTES_MAX:
        raise TrainingError("minutes", "minutes")
    if not attendees:
        raise TrainingError("no_attendees", "attendees")
    known = set(db.scalars(select(Person.id).where(Person.id.in_(attendees))))
    if known != set(attendees):
        raise TrainingError("unknown_person", "attendees")


def record_session(db: Session, now: datetime, today: date, by: str, facts: SessionFacts, attendees: Iterable[int],
                   *, carried_over: bool = False) -> TrainingSession:
    """A session held and who attended; their training dates follow. Audited."""
    people = sorted(set(attendees))
    _check(facts, today, people, db)
    session = TrainingSession(held_on=facts.held_on, title=facts.title.strip(), material=facts.material,
                              instructor=(facts.instructor or "").strip() or None, minutes=facts.minutes,
                              carried_over=carried_over, by_name=by, created_at=now)
    db.add(session)
    db.flush()
    db.add_all([Attendance(session_id=session.id, person_id=p, action="attended", at=now, by_name=by) for p in people])
    db.flush()
    refresh_training_on(db, people, now, by)
    names = list(db.scalars(select(Person.name).where(Person.id.in_(people)).order_by(Person.name)))
    record(db, now, "training_carried_over" if carried_over else "training_recorded", by,
           {"held_on": facts.held_on, "title": session.title, "attendees": names})
    return session


def carry_over(db: Session, now: datetime, by: str, person: Person, trained_on: date,
               today: date | None = None) -> TrainingSession:
    """An earlier training from paper (the API's and the CSV import's `training_on`): a session of its own,
    marked carried over, with who entered it. A date after `today` is refused (`today` None: not checked)."""
    today = trained_on if today is None else today
    return record_session(db, now, today, by, SessionFacts(trained_on, CARRIED_OVER_TITLE, None), [person.id],
                          carried_over=True)


def add_attendees(db: Session, now: datetime, by: str, session: TrainingSession, people: Iterable[int]) -> list[int]:
    """Someone left off the list: added to the session (those already attending are skipped)."""
    here = set(attending(db, session.id))
    new = sorted(set(people) - here)
    if not new:
        raise TrainingError("no_attendees", "attendees")
    _check(SessionFacts(session.held_on, session.title, session.material), session.held_on, new, db)
    db.add_all([Attendance(session_id=session.id, person_id=p, action="attended", at=now, by_name=by) for p in new])
    db.flush()
    refresh_training_on(db, new, now, by)
    names = list(db.scalars(select(Person.name).where(Person.id.in_(new)).order_by(Person.name)))
    record(db, now, "training_attendee_added", by, {"held_on": session.held_on, "title": session.title,
                                                   "attendees": names})
    return new


def withdraw(db: Session, now: datetime, by: str, attendance_id: int, reason: str) -> Attendance:
    """An attendance recorded by mistake: withdrawn by a new record with the reason; the date follows."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise TrainingError("reason", "reason")
    standing_row = db.get(Attendance, attendance_id)
    if standing_row is None or standing_row.action != "attended" or db.scalars(
            select(Attendance.id).where(Attendance.withdraws_id == attendance_id)).first() is not None:
        raise TrainingError("not_standing")
    withdrawal = Attendance(session_id=standing_row.session_id, person_id=standing_row.person_id, action="withdrawn",
                            withdraws_id=attendance_id, reason=reason, at=now, by_name=by)
    db.add(withdrawal)
    db.flush()
    refresh_training_on(db, [standing_row.person_id], now, by)
    session = db.get(TrainingSession, standing_row.session_id)
    person = db.get(Person, standing_row.person_id)
    assert session is not None and person is not None
    record(db, now, "training_withdrawn", by, {"held_on": session.held_on, "title": session.title,
                                              "person": person.name, "note": reason})
    return withdrawal


def _standing_query():
    withdrawal = aliased(Attendance)
    return (select(Attendance)
            .outerjoin(withdrawal, withdrawal.withdraws_id == Attendance.id)
            .where(Attendance.action == "attended", withdrawal.id.is_(None)))


def attending(db: Session, session_id: int) -> list[int]:
    """The people whose attendance of a session stands."""
    return list(db.scalars(_standing_query().where(Attendance.session_id == session_id)
                           .with_only_columns(Attendance.person_id)))


def standing_attendance(db: Session, session_id: int) -> list[tuple[Attendance, Person]]:
    return list(db.execute(_standing_query().add_columns(Person).join(Person, Person.id == Attendance.person_id)
                           .where(Attendance.session_id == session_id).order_by(Person.name, Person.id)))


def latest_attended(db: Session, person_ids: Iterable[int]) -> dict[int, date | None]:
    """Each person's latest session whose attendance stands (None: never trained)."""
    people = list(person_ids)
    latest = (_standing_query().join(TrainingSession, TrainingSession.id == Attendance.session_id)
              .where(Attendance.person_id.in_(people))
              .with_only_columns(Attendance.person_id, func.max(TrainingSession.held_on))
              .group_by(Attendance.person_id))
    found = dict(db.execute(latest).all())
    return {p: found.get(p) for p in people}


def trained_by(db: Session, day: date) -> dict[int, TrainingSession]:
    """Each person's latest session held on or before `day` whose attendance stands (the inspection pack)."""
    rows = db.execute(_standing_query().join(TrainingSession, TrainingSession.id == Attendance.session_id)
                      .with_only_columns(Attendance.person_id, TrainingSession)
                      .where(TrainingSession.held_on <= day)
                      .order_by(TrainingSession.held_on, TrainingSession.id))
    return dict(rows.all())  # the latest last


def refresh_training_on(db: Session, person_ids: Iterable[int], now: datetime, by: str) -> None:
    """The one writer of `people.training_on`; a person whose lapse moves later has their lapse alerts resolved."""
    for person_id, latest in latest_attended(db, person_ids).items():
        person = db.get(Person, person_id)
        assert person is not None
        if person.training_on == latest:
            continue
        earlier = person.training_on
        person.training_on = latest
        if latest is not None and (earlier is None or latest > earlier):
            db.execute(update(Alert).where(
                and_(Alert.person_id == person_id, Alert.type.in_(LAPSE_ALERTS), Alert.state != "resolved"))
                .values(state="resolved", resolved_at=now, resolved_by=by, note="情報セキュリティ教育の受講を記録")
                .execution_options(synchronize_session=False))
    db.flush()
