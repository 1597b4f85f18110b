"""Training about to lapse, and lapsed: one alert and one notice per person and lapse, in the chase round.

Who must be trained: active key holders and everyone on the roster (surveyors and the manager). A
reminder (`training_due`, low) once fewer than `training_remind_days` days are left, told to the person
and the managers; on the day after the last, `training_lapsed` (medium) — the cabinet already refuses them.
The unique (type, person, lapse date) alert index makes "once" the database's promise; a new
session moves the lapse date and resolves both (server/training/service.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.config import Settings
from server.domain.training import must_be_trained, training_stage
from server.notify.kinds import MANAGERS
from server.notify.queue import notify
from server.notify.recipients import accounts_of_people, accounts_with_role
from server.people.models import Person

BATCH = 500
LEVELS = {"due_soon": ("training_due", "low"), "lapsed": ("training_lapsed", "medium")}
WORDS = {
    "training_due": (("【mamori】情報セキュリティ教育の有効期限が近づいています",
                      "{person} さんの情報セキュリティ教育は {day} まで有効です。期限までに受講してください。"),
                     ("[mamori] Information-security training lapses soon",
                      "{person}'s information-security training counts until {day}. Please attend a session before then.")),
    "training_lapsed": (("【mamori】情報セキュリティ教育の有効期限が切れました",
                         "{person} さんの情報セキュリティ教育は {day} で期限が切れました。受講を記録するまで"
                         "キャビネットは開きません。"),
                        ("[mamori] Information-security training lapsed",
                         "{person}'s information-security training lapsed after {day}. The cabinet stays shut for "
                         "them until a session is recorded.")),
}


def chase_training(db: Session, now: datetime, settings: Settings) -> list[Alert]:
    """Open the missing reminders and lapse alerts, with their notices (the caller commits)."""
    today = now.astimezone(settings.zone).date()
    # Trained on or before this day: lapsing within the reminder window (or lapsed).
    horizon = today - timedelta(days=settings.training_valid_days - settings.training_remind_days)
    # An office has tens of people: the ones already told are skipped one query each.
    people = db.scalars(select(Person).where(Person.active.is_(True), Person.training_on.is_not(None),
                                             Person.training_on <= horizon).order_by(Person.training_on, Person.id))
    opened: list[Alert] = []
    managers = None
    for person in people:
        if not must_be_trained(active=person.active, key_holder=person.key_holder, roles=person.roles):
            continue
        stage = training_stage(person.training_on, today, valid_days=settings.training_valid_days,
                               remind_days=settings.training_remind_days)
        if stage.stage not in LEVELS or stage.lapses_on is None:
            continue
        kind, severity = LEVELS[stage.stage]
        if db.scalars(select(Alert.id).where(Alert.type == kind, Alert.person_id == person.id,
                                             Alert.training_lapses_on == stage.lapses_on)).first() is not None:
            continue
        day = f"{stage.lapses_on:%Y/%m/%d}"
        alert = Alert(type=kind, severity=severity, state="open", opened_at=now, person_id=person.id,
                      training_lapses_on=stage.lapses_on, subject=WORDS[kind][0][1].format(person=person.name, day=day))
        db.add(alert)
        opened.append(alert)
        if kind == "training_lapsed":  # the reminder is overtaken: one entry per problem on the dashboard
            db.execute(update(Alert).where(Alert.type == "training_due", Alert.person_id == person.id,
                                           Alert.state != "resolved")
                       .values(state="resolved", resolved_at=now, resolved_by="mamori")
                       .execution_options(synchronize_session=False))
        if managers is None:
            managers = accounts_with_role(db, MANAGERS)
        _tell(db, now, settings, kind, person, day, accounts_of_people(db, [person.id]) + managers)
        if len(opened) >= BATCH:
            break
    db.flush()
    return opened


def _tell(db: Session, now: datetime, settings: Settings, kind: str, person: Person, day: str, users) -> None:
    link = f"{settings.public_url.rstrip('/')}/training"

    def message(lang: str) -> tuple[str, str]:
        subject, line = WORDS[kind][0 if lang == "ja" else 1]
        return subject, f"{line.format(person=person.name, day=day)}\n{link}\n"

    notify(db, now, settings=settings, kind=kind, key=f"{kind}:{person.id}:{day}", users=users, message=message,
           payload={"person": person.name, "lapses_on": day})
