"""The dashboard's alert list: each problem once, the most severe first, in words.

- Repeats are already folded into one alert (server/alerts/fold.py): an entry shows its count, first
  and last time, and how often it happened since someone acknowledged it.
- An overdue checkout is one entry at its highest unresolved level (返却期限超過 → 督促 → 紛失の疑い).
- Order: severity (high first), then the newest occurrence; acknowledged alerts stay in their group.
- Notes are worded from what they keep by `server/alerts/notes.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, aliased

from server.alerts.models import Alert, AlertOccurrence
from server.checkouts.models import Checkout
from server.domain.alerts import CHASE_LEVELS
from server.items.models import Item
from server.people.models import Person, VisitorBadge
from server.readers.models import Reader
from server.visits.models import Visit

SHOWN = 100  # the most severe and newest; the count says how many more
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class AlertEntry:
    alert: Alert
    item: Item | None
    person: Person | None
    reader: Reader | None
    due_at: datetime | None  # an overdue alert's checkout: when it was due,
    returned_at: datetime | None  # and when it came back, if it has
    visit: Visit | None  # a closing-time alert's visit,
    badge: str | None  # and its badge's label
    since_acknowledged: int = 0  # occurrences after the acknowledgement

    @property
    def last_at(self) -> datetime:
        return self.alert.last_at or self.alert.opened_at

    @property
    def chase_level(self) -> int | None:
        """0, 1, 2 for 返却期限超過, 督促, 紛失の疑い; None for any other alert."""
        return CHASE_LEVELS.index(self.alert.type) if self.alert.type in CHASE_LEVELS else None


def _level(alert) -> case:
    return case({level: n for n, level in enumerate(CHASE_LEVELS)}, value=alert.type, else_=-1)


_higher = aliased(Alert)
# A lower level of a checkout whose higher level is not resolved yet is shown through that one.
_SUPERSEDED = exists().where(_higher.type.in_(CHASE_LEVELS), _higher.checkout_id == Alert.checkout_id,
                             _higher.state != "resolved", _level(_higher) > _level(Alert))
WHERE = (Alert.state.in_(("open", "acknowledged")), ~(Alert.type.in_(CHASE_LEVELS) & _SUPERSEDED))


def open_entries(db: Session) -> tuple[list[AlertEntry], int]:
    """Open and acknowledged alerts, one entry per problem, and how many entries there are."""
    severity = case(SEVERITY_RANK, value=Alert.severity, else_=len(SEVERITY_RANK))
    order = (severity, func.coalesce(Alert.last_at, Alert.opened_at).desc(), Alert.id.desc())
    # The entries shown chosen from `alerts` alone, with the count in the same pass, then joined:
    # joining every open alert (a thousand overdue at scale) before the sort cost 25-75 ms.
    chosen = db.execute(select(Alert.id, func.count().over()).where(*WHERE).order_by(*order).limit(SHOWN)).all()
    shown = [alert_id for alert_id, _total in chosen]
    total = chosen[0][1] if chosen else 0
    checkout = aliased(Checkout)
    rows = db.execute(
        select(Alert, Item, Person, Reader, checkout.due_at, checkout.returned_at, Visit, VisitorBadge.label)
        .outerjoin(Item, Item.id == Alert.item_id).outerjoin(Person, Person.id == Alert.person_id)
        .outerjoin(Visit, Visit.id == Alert.visit_id).outerjoin(VisitorBadge, VisitorBadge.uid == Visit.badge_uid)
        .outerjoin(Reader, Reader.id == Alert.reader_id).outerjoin(checkout, checkout.id == Alert.checkout_id)
        .where(Alert.id.in_(shown)).order_by(*order)
    ).all() if shown else []
    since = _since_acknowledged(db, [row[0] for row in rows if row[0].state == "acknowledged" and row[0].count > 1])
    return [AlertEntry(*row, since_acknowledged=since.get(row[0].id, 0)) for row in rows], total


def _since_acknowledged(db: Session, alerts: list[Alert]) -> dict[int, int]:
    if not alerts:
        return {}
    return dict(db.execute(
        select(AlertOccurrence.alert_id, func.count()).join(Alert, Alert.id == AlertOccurrence.alert_id)
        .where(AlertOccurrence.alert_id.in_([a.id for a in alerts]), AlertOccurrence.at > Alert.acknowledged_at)
        .group_by(AlertOccurrence.alert_id)).all())


