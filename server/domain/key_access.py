"""May this key holder open the cabinets today? The cabinet's own rule, asked of a person, not a tap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from server.domain.cabinet import training_current

SOON_DAYS = 30  # training that lapses within this many days is flagged, so it is renewed in time


@dataclass(frozen=True, slots=True)
class KeyAccess:
    can_open: bool
    reason: str | None  # why not: inactive | no_card | not_key_holder | no_training | training_expired
    expires_on: date | None  # the last day the training counts
    expires_soon: bool = False


def training_expires_on(training_on: date | None, valid_days: int) -> date | None:
    """The last day `training_current` holds: `valid_days` days after the training."""
    return training_on + timedelta(days=valid_days) if training_on is not None else None


def key_access(*, person_active: bool, key_holder: bool, active_cards: int, training_on: date | None,
               today: date, valid_days: int) -> KeyAccess:
    """In the order the cabinet checks a tap (server/domain/cabinet.py): active, key holder, training."""
    expires = training_expires_on(training_on, valid_days)
    if not person_active:
        return KeyAccess(False, "inactive", expires)
    if active_cards == 0:
        return KeyAccess(False, "no_card", expires)
    if not key_holder:
        return KeyAccess(False, "not_key_holder", expires)
    if not training_current(training_on, today, valid_days):
        return KeyAccess(False, "no_training" if training_on is None else "training_expired", expires)
    assert expires is not None
    return KeyAccess(True, None, expires, expires_soon=(expires - today).days < SOON_DAYS)
