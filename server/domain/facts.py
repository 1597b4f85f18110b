"""What the ingest knows about a tapped uid, as plain values the decisions can read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class StaffCard:
    person_id: int
    person_active: bool
    card_active: bool
    key_holder: bool
    training_on: date | None


@dataclass(frozen=True, slots=True)
class VisitorCard:
    badge_active: bool
    visit_id: int | None  # the visit this badge is lent to now, if any
    visit_state: str | None  # "expected", "in" or "not_signed_out"
    valid_from: datetime | None = None  # the visit's window for entering
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemTag:
    item_id: int
    kind: str
    cabinet_id: str
    encrypted: bool
    status: str  # active | lost | retired
    out: bool  # an open checkout exists
    screen_locked: bool = False
    case_number: str | None = None  # a folder's ward case number


@dataclass(frozen=True, slots=True)
class UnknownUid:
    pass


Identity = StaffCard | VisitorCard | ItemTag | UnknownUid


@dataclass(frozen=True, slots=True)
class PriorTap:
    """The last tap of the same card on the same reader, to spot a double tap."""

    scan_id: str
    at: datetime
    result: str
    action: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class OpenSession:
    """The cabinet session still open on a cabinet when a scan arrives."""

    session_id: int
    person_id: int
    opened_at: datetime
    last_scan_at: datetime
