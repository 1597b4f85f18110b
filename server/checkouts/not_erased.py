"""A device back in the cabinet whose survey data nobody confirmed erased in time: one alert, one notice.

A returned phone, medium or laptop still `erasure = 'pending'` more than `erase_confirm_within_h`
hours after `returned_at` opens one `not_erased` alert (medium, `checkout_id` set, so the unique
(type, checkout_id) index keeps it to one, ever) and tells the holder and the managers once
(notice kind `not_erased`, key `not_erased:<checkout id>`). Run by the chase loop
(server/checkouts/chase.py); confirming the erasure resolves the alert (server/checkouts/erasure.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, exists, literal_column, select
from sqlalchemy.orm import Session, aliased

from server.alerts.models import Alert
from server.checkouts.models import Checkout
from server.config import Settings
from server.items.models import Item
from server.notify.kinds import MANAGERS
from server.notify.queue import notify
from server.notify.recipients import accounts_of_people, accounts_with_role
from server.people.models import Person

BATCH = 500  # alerts opened per round; the rest follow in the next
# A literal, not a bound parameter: a prepared statement's generic plan (psycopg prepares a query run
# often, and PostgreSQL may then plan it once for any value) can use the partial index
# ix_checkouts_erasure_pending only when the condition is written as the index's own.
PENDING = Checkout.erasure == literal_column("'pending'")


def waiting_too_long(now: datetime, settings: Settings):
    """The condition for a returned device past its confirmation time."""
    return PENDING, Checkout.returned_at < now - timedelta(hours=settings.erase_confirm_within_h)


def _subject(item: Item, holder: Person, returner: Person | None, checkout: Checkout, settings: Settings) -> str:
    back = checkout.returned_at.astimezone(settings.zone)
    by = f" by {returner.name}" if returner else ""
    return (f"{item.label} ({item.kind}) taken out by {holder.name} was returned{by} at {back:%Y-%m-%d %H:%M}; "
            f"its survey data is not confirmed erased after {settings.erase_confirm_within_h:g} h")


def _message(item: Item, holder: Person, checkout: Checkout, settings: Settings):
    back = checkout.returned_at.astimezone(settings.zone).strftime("%Y/%m/%d %H:%M")
    link = f"{settings.public_url.rstrip('/')}/devices"

    def message(lang: str) -> tuple[str, str]:
        if lang == "en":
            return ("[mamori] Survey data erasure not confirmed",
                    f"“{item.label}” taken out by {holder.name} came back at {back}, and nobody has confirmed its "
                    f"survey data erased yet.\nPlease erase it and confirm on the page:\n{link}\n")
        return ("【mamori】調査データの消去が確認されていません",
                f"{holder.name} さんが持ち出した「{item.label}」は {back} に返却されましたが、"
                f"調査データの消去がまだ確認されていません。\n消去して、次のページで確認してください:\n{link}\n")

    return message


def late_without_alert(now: datetime, settings: Settings, limit: int = BATCH) -> Select:
    """(checkout, item, holder, who returned it) for each device past its time with no alert yet."""
    returner = aliased(Person)
    already = exists().where(Alert.checkout_id == Checkout.id, Alert.type == "not_erased")
    return (select(Checkout, Item, Person, returner)
            .join(Item, Item.id == Checkout.item_id)
            .join(Person, Person.id == Checkout.person_id)
            .outerjoin(returner, returner.id == Checkout.returned_by_id)
            .where(*waiting_too_long(now, settings), ~already)
            .order_by(Checkout.returned_at, Checkout.id)
            .limit(limit))


def open_not_erased_alerts(db: Session, now: datetime, settings: Settings, *, limit: int = BATCH) -> list[Alert]:
    """Open the missing `not_erased` alerts and queue their notices (the caller commits)."""
    rows = db.execute(late_without_alert(now, settings, limit)).all()
    opened: list[Alert] = []
    managers = accounts_with_role(db, MANAGERS) if rows else []
    for checkout, item, holder, back_by in rows:
        alert = Alert(type="not_erased", severity="medium", state="open", opened_at=now,
                      subject=_subject(item, holder, back_by, checkout, settings), reader_id=item.cabinet_id,
                      person_id=holder.id, item_id=item.id, checkout_id=checkout.id)
        db.add(alert)
        opened.append(alert)
        users = accounts_of_people(db, [holder.id]) + managers
        notify(db, now, settings=settings, kind="not_erased", key=f"not_erased:{checkout.id}", users=users,
               message=_message(item, holder, checkout, settings),
               payload={"checkout_id": checkout.id, "item": item.label, "item_kind": item.kind,
                        "holder": holder.name, "returned_at": checkout.returned_at.isoformat()})
    db.flush()
    return opened
