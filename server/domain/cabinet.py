"""What a tap on a cabinet reader means (CONTRACT.md, "What a scan means")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.domain.facts import Identity, ItemTag, OpenSession, PriorTap, StaffCard, UnknownUid, VisitorCard
from server.domain.taps import is_double_tap
from server.domain.verdict import Verdict, accept, deny, unlock

ENCRYPTION_REQUIRED = frozenset({"phone", "media", "laptop"})
SCREEN_LOCK_REQUIRED = frozenset({"phone"})


@dataclass(frozen=True, slots=True)
class CabinetOutcome:
    verdict: Verdict
    ends_session: bool = False  # a card was tapped: whoever was at the cabinet is done
    touches_session: bool = False  # an item tap inside the session keeps it alive
    duplicate_of: str | None = None  # a tag read twice in a moment: answered like the first, changes nothing


def training_current(training_on: date | None, today: date, valid_days: int) -> bool:
    """Training counts if it was completed within the last `valid_days` days."""
    return training_on is not None and training_on <= today and (today - training_on).days <= valid_days


def live_session(session: OpenSession | None, at: datetime, idle: timedelta) -> OpenSession | None:
    """The session a scan at `at` belongs to, or None if it has timed out."""
    if session is None or at < session.opened_at or at - session.last_scan_at > idle:
        return None
    return session


def decide_cabinet(
    identity: Identity,
    *,
    cabinet_id: str,
    session: OpenSession | None,
    today: date,
    training_valid_days: int,
    at: datetime,
    prior: PriorTap | None,
    duplicate_window: timedelta,
    stocktake_open: bool = False,
) -> CabinetOutcome:
    """Unlock for a current key holder; checkout or return of items inside a session.

    A tag that stays near the antenna is read again and again; without the double-tap rule a
    folder would go out and straight back in. While a stock-take of this cabinet is open an item
    tag is only counted (`stocktake`), with or without a session: nothing goes out or comes back.
    """
    if isinstance(identity, ItemTag) and is_double_tap(prior, at, duplicate_window):
        assert prior is not None
        return CabinetOutcome(Verdict(prior.result, prior.action, prior.reason), touches_session=True,
                              duplicate_of=prior.scan_id)
    match identity:
        case StaffCard():
            return CabinetOutcome(_staff_at_cabinet(identity, today, training_valid_days), ends_session=True)
        case VisitorCard():
            return CabinetOutcome(deny("not_key_holder"), ends_session=True)
        case ItemTag():
            if stocktake_open:
                return CabinetOutcome(accept("stocktake"), touches_session=session is not None)
            if session is None:
                return CabinetOutcome(deny("no_session"))
            return CabinetOutcome(_item_in_session(identity, cabinet_id), touches_session=True)
        case UnknownUid():
            # Inside a session (or a stock-take) someone is tapping items, so an unknown uid is an unknown tag.
            if stocktake_open:
                return CabinetOutcome(deny("unknown_tag"), touches_session=session is not None)
            if session is None:
                return CabinetOutcome(deny("unknown_card"))
            return CabinetOutcome(deny("unknown_tag"), touches_session=True)
    raise TypeError(f"unexpected identity {identity!r}")


def _staff_at_cabinet(card: StaffCard, today: date, valid_days: int) -> Verdict:
    if not (card.person_active and card.card_active):
        return deny("inactive")
    if not card.key_holder:
        return deny("not_key_holder")
    if not training_current(card.training_on, today, valid_days):
        return deny("training_expired")
    return unlock("session_open")


def _item_in_session(item: ItemTag, cabinet_id: str) -> Verdict:
    if item.cabinet_id != cabinet_id:
        return deny("wrong_cabinet")
    if item.out:  # always take it back, even if it was marked lost or retired meanwhile
        return Verdict("accept", action="return")
    if item.status != "active":
        return deny("item_not_loanable")
    if item.kind in ENCRYPTION_REQUIRED and not item.encrypted:
        return deny("not_encrypted")
    if item.kind in SCREEN_LOCK_REQUIRED and not item.screen_locked:
        return deny("not_encrypted")  # the contract's one reason for "this device is not protected"
    return Verdict("accept", action="checkout")


def needs_erasure(kind: str) -> bool:
    """Devices that hold survey data come back waiting for a "survey data erased" confirmation."""
    return kind in ENCRYPTION_REQUIRED
