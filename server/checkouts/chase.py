"""Chasing an item that is not back, one step at a time and each step once per checkout.

Before due: a reminder to the holder (`remind_before_min`). At due: an `overdue` alert, told to the
holder and the managers. `escalate_after_min` later: an `escalated` alert (high), told to the
managers. `lost_prompt_after_h` later: a `lost_prompt` alert asking a manager whether to mark the
item lost. Alerts are unique per (type, checkout) in the database and notices per key, so a
second round, a restart or a second process never repeats a step: no daily flood.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from server.alerts.models import Alert
from server.alerts.overdue import open_level_alerts
from server.cases.chase import chase_cases
from server.checkouts.models import Checkout
from server.checkouts.not_erased import open_not_erased_alerts
from server.clock import Clock
from server.config import Settings
from server.incidents.chase import open_report_late_alerts
from server.items.models import Item
from server.notify.queue import notify
from server.notify.recipients import accounts_of_people, accounts_with_role
from server.people.models import Person
from server.periodic import Periodic
from server.training.lapses import chase_training

log = logging.getLogger("mamori.chase")

MANAGERS = ("admin", "manager")


def levels(settings: Settings) -> list[tuple[str, timedelta, str]]:
    """(alert type, how long after due, severity), in order."""
    return [("overdue", timedelta(0), "medium"),
            ("escalated", timedelta(minutes=settings.escalate_after_min), "high"),
            ("lost_prompt", timedelta(hours=settings.lost_prompt_after_h), "high")]


def _words(item: Item, person: Person, checkout: Checkout, settings: Settings, lang: str) -> tuple[str, str]:
    due = checkout.due_at.astimezone(settings.zone).strftime("%Y/%m/%d %H:%M")
    case = (f"（ケース番号 {item.case_number}）" if lang == "ja" else f" (case {item.case_number})") \
        if item.case_number else ""
    link = f"{settings.public_url.rstrip('/')}/dashboard"
    if lang == "en":
        return f"“{item.label}”{case} taken out by {person.name}, due back {due}", link
    return f"{person.name} さんが持ち出した「{item.label}」{case}（返却期限 {due}）", link


def _tell(db: Session, now: datetime, settings: Settings, kind: str, checkout: Checkout, item: Item, person: Person,
          *, holder: bool, managers: bool) -> None:
    users = (accounts_of_people(db, [person.id]) if holder else []) + \
        (accounts_with_role(db, MANAGERS) if managers else [])
    heads = {"due_soon": ("【mamori】返却期限が近づいています", "[mamori] Due back soon"),
             "overdue": ("【mamori】返却期限を過ぎています", "[mamori] Overdue"),
             "escalated": ("【mamori】返却期限超過が続いています（督促）", "[mamori] Still overdue (escalated)")}

    def message(lang: str) -> tuple[str, str]:
        what, link = _words(item, person, checkout, settings, lang)
        return heads[kind][0 if lang == "ja" else 1], f"{what}\n{link}\n"

    notify(db, now, settings=settings, kind=kind, key=f"{kind}:{checkout.id}", users=users, message=message,
           payload={"checkout_id": checkout.id, "item": item.label, "case": item.case_number,
                    "holder": person.name, "due_at": checkout.due_at.isoformat()})


def remind(db: Session, now: datetime, settings: Settings) -> int:
    """A reminder to each holder whose item is due within `remind_before_min` (made once per checkout)."""
    soon = now + timedelta(minutes=settings.remind_before_min)
    rows = db.execute(select(Checkout, Item, Person).join(Item, Item.id == Checkout.item_id)
                      .join(Person, Person.id == Checkout.person_id)
                      .where(Checkout.returned_at.is_(None), Checkout.due_at > now, Checkout.due_at <= soon)
                      .order_by(Checkout.due_at)).all()
    for checkout, item, person in rows:
        _tell(db, now, settings, "due_soon", checkout, item, person, holder=True, managers=False)
    return len(rows)


def chase(db: Session, now: datetime, settings: Settings) -> list[Alert]:
    """One round of every step; returns the alerts it opened (the caller commits)."""
    remind(db, now, settings)
    opened: list[Alert] = []
    for level, after_due, severity in levels(settings):
        for alert in open_level_alerts(db, now, settings.zone, level, after_due, severity):
            opened.append(alert)
            if level == "lost_prompt":
                continue  # a question on the dashboard; the managers were told at escalation
            checkout, item, person = db.get(Checkout, alert.checkout_id), db.get(Item, alert.item_id), \
                db.get(Person, alert.person_id)
            _tell(db, now, settings, level, checkout, item, person, holder=level == "overdue", managers=True)
    opened += open_not_erased_alerts(db, now, settings)  # a device back but its survey data not confirmed erased
    opened += chase_cases(db, now, settings)  # the 受付簿's deadlines, and case papers still out after the survey
    opened += chase_training(db, now, settings)  # 情報セキュリティ教育 about to lapse, and lapsed
    opened += open_report_late_alerts(db, now, settings)  # incidents the ward has not been told of (第一報)
    return opened


class ChaseChecker(Periodic):
    """The background loop that `Ingest` starts and stops, every `overdue_check_s` seconds."""

    name = "chase"

    def __init__(self, factory: sessionmaker[Session], clock: Clock, settings: Settings):
        super().__init__(settings.overdue_check_s)
        self.factory, self.clock, self.settings = factory, clock, settings

    def check(self) -> int:
        """One round; returns how many alerts it opened."""
        try:
            with self.factory.begin() as db:
                subjects = [f"{a.type}: {a.subject}" for a in chase(db, self.clock(), self.settings)]
        except IntegrityError:
            # Another process opened one of them first; the unique index kept it to one. Next round.
            log.info("a checkout alert was opened elsewhere meanwhile; checking again next round")
            return 0
        for subject in subjects:
            log.warning(subject)
        return len(subjects)
