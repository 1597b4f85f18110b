"""Overdue checkouts become alerts: one "overdue" alert per checkout, ever.

Every `overdue_check_s` seconds (and once at start-up) the checker looks for checkouts that are
still out (`returned_at IS NULL`) past their `due_at` and that have no overdue alert yet, and opens
one for each: severity medium, naming the item and the person, with `item_id`, `person_id`,
`reader_id` (the item's cabinet) and `checkout_id` set. The alert points at its checkout, and a
unique index on `checkout_id` for overdue alerts makes "never twice" the database's promise, not
only this loop's: a second round, a second server process or a replayed stream cannot open
another. (Matching by item and time instead would go wrong when a reader replays an old return
and a new checkout of the same item after the alert was opened.)

Whether a checkout is overdue is decided from `due_at` and `returned_at` at the time of asking,
never from a stored flag: the dashboard and `GET /checkouts?state=overdue` do the same, and agree.

An item brought back late leaves its alert open on purpose: the item was out past its due time,
perhaps overnight, and a manager should see that and resolve it with a note, not find it tidied
away before the office opened. The dashboard shows such an alert as returned (and when), from its
checkout; nothing here resolves alerts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.checkouts.models import Checkout
from server.items.models import Item
from server.people.models import Person

log = logging.getLogger("mamori.overdue")

BATCH = 500  # alerts opened per transaction; the rest follow in the next round


def overdue_subject(item: Item, person: Person, checkout: Checkout, zone: ZoneInfo) -> str:
    case = f", case {item.case_number}" if item.case_number else ""
    return (f"{item.label} ({item.kind}{case}) taken out by {person.name} on "
            f"{checkout.out_at.astimezone(zone):%Y-%m-%d %H:%M} was due back {checkout.due_at.astimezone(zone):%Y-%m-%d %H:%M}"
            " and is not returned")


def open_overdue_alerts(db: Session, now: datetime, zone: ZoneInfo, *, limit: int = BATCH) -> list[Alert]:
    """Open the missing overdue alerts in `db` (the caller commits); returns the new ones."""
    return open_level_alerts(db, now, zone, "overdue", timedelta(0), "medium", limit=limit)


def open_level_alerts(db: Session, now: datetime, zone: ZoneInfo, level: str, after_due: timedelta, severity: str,
                      *, limit: int = BATCH) -> list[Alert]:
    """One `level` alert (overdue, escalated, lost_prompt) for each checkout still out `after_due` past its due time."""
    already = exists().where(Alert.checkout_id == Checkout.id, Alert.type == level)
    rows = db.execute(
        select(Checkout, Item, Person)
        .join(Item, Item.id == Checkout.item_id)
        .join(Person, Person.id == Checkout.person_id)
        # An item marked lost has its own record now; chasing its holder further would be noise.
        .where(Checkout.returned_at.is_(None), Checkout.due_at < now - after_due, ~already, Item.status != "lost")
        .order_by(Checkout.due_at, Checkout.id)
        .limit(limit)
    ).all()
    opened = [Alert(type=level, severity=severity, state="open", opened_at=now,
                    subject=overdue_subject(item, person, checkout, zone), reader_id=item.cabinet_id,
                    person_id=person.id, item_id=item.id, checkout_id=checkout.id)
              for checkout, item, person in rows]
    db.add_all(opened)
    db.flush()
    return opened
