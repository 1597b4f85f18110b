"""A device's checkout after the tap: its purpose chosen on the page, and "調査データ消去済み" once back.

The same for the page (`/devices`) and the API (`/api/v1/checkouts/{id}/erased`, `/purpose`). The
holder (the account linked to the staff member who took it out) or a manager may do either; every
change is audited in the caller's unit of work. Confirming the erasure also resolves the checkout's
`not_erased` alert, if one was opened (server/checkouts/not_erased.py).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.alerts import actions
from server.alerts.models import Alert
from server.audit.service import record
from server.checkouts.models import Checkout
from server.domain.erasure import clean_purpose, confirm_problem, may_act
from server.items.models import Item


class CheckoutMissing(LookupError):
    pass


class NotAllowed(PermissionError):
    """Only the holder or a manager may confirm or choose for a checkout."""


class CheckoutConflict(Exception):
    """The checkout is not in a state for this: 'not_device', 'not_returned' or 'already' (confirmed)."""

    def __init__(self, reason: str, checkout: Checkout):
        super().__init__(reason)
        self.reason, self.checkout = reason, checkout

    def describe(self, zone: ZoneInfo) -> str:
        c = self.checkout
        if self.reason == "already":
            return (f"checkout {c.id}: the survey data was already confirmed erased by {c.erased_by} at "
                    f"{c.erased_at.astimezone(zone):%Y-%m-%d %H:%M}")
        if self.reason == "not_returned":
            return f"checkout {c.id}: the device is not returned yet; confirm the erasure after it is back"
        return f"checkout {c.id} is not of a phone, medium or laptop: it has no survey data to erase"


class BadPurpose(ValueError):
    """`reason`: 'empty', 'too_long' or 'control' (see server/domain/erasure.py)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _checkout(db: Session, checkout_id: int, by: User, *, fresh: bool = False) -> Checkout:
    checkout = db.get(Checkout, checkout_id, populate_existing=fresh) if 0 < checkout_id < 2**31 else None
    if checkout is None:
        raise CheckoutMissing(checkout_id)
    if not may_act(by.role, by.person_id, checkout.person_id):
        raise NotAllowed(f"only the holder of checkout {checkout_id} or a manager may do this")
    return checkout


def _label(db: Session, checkout: Checkout) -> str | None:
    item = db.get(Item, checkout.item_id)
    return item.label if item else None


def confirm_erased(db: Session, checkout_id: int, *, by: User, at: datetime, zone: ZoneInfo,
                   address: str | None = None) -> Checkout:
    """Mark a returned device's survey data erased (once: a second confirmation is a conflict)."""
    checkout = _checkout(db, checkout_id, by)
    if problem := confirm_problem(checkout.erasure, checkout.returned_at):
        raise CheckoutConflict(problem, checkout)
    # Guarded in the database, so two people confirming at once cannot both succeed.
    changed = db.execute(update(Checkout)
                         .where(Checkout.id == checkout_id, Checkout.erasure == "pending",
                                Checkout.returned_at.is_not(None))
                         .values(erasure="done", erased_at=at, erased_by=by.name)
                         .execution_options(synchronize_session=False)).rowcount
    checkout = _checkout(db, checkout_id, by, fresh=True)
    if not changed:
        raise CheckoutConflict(confirm_problem(checkout.erasure, checkout.returned_at) or "already", checkout)
    record(db, at, "checkout_erased", by.name, {"item": _label(db, checkout), "returned": checkout.returned_at},
           address)
    open_alerts = db.scalars(select(Alert.id).where(Alert.type == "not_erased", Alert.checkout_id == checkout_id,
                                                    Alert.state != "resolved"))
    for alert_id in list(open_alerts):
        try:
            actions.resolve(db, alert_id, by=by.name, at=at, zone=zone, why="erased", address=address)
        except actions.AlertResolved:
            pass  # a manager resolved it by hand meanwhile
    return checkout


def set_purpose(db: Session, checkout_id: int, purpose: str, *, by: User, at: datetime,
                address: str | None = None) -> Checkout:
    """What a device was taken out for (a case number, 「訪問調査」 …), chosen after the tap."""
    checkout = _checkout(db, checkout_id, by)
    if checkout.erasure is None:
        raise CheckoutConflict("not_device", checkout)
    try:
        value = clean_purpose(purpose)
    except ValueError as exc:
        raise BadPurpose(str(exc)) from None
    before = checkout.purpose
    if before != value:
        checkout.purpose = value
        db.flush()
        record(db, at, "checkout_purpose", by.name,
               {"item": _label(db, checkout), "changes": {"purpose": (before, value)}}, address)
    return checkout
