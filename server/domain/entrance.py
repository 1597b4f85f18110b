"""What a tap on the entrance reader means (CONTRACT.md, "What a scan means")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain.facts import Identity, ItemTag, PriorTap, StaffCard, UnknownUid, VisitorCard
from server.domain.taps import is_double_tap
from server.domain.verdict import Verdict, accept, deny
from server.domain.visits import in_window


@dataclass(frozen=True, slots=True)
class EntranceOutcome:
    verdict: Verdict
    duplicate_of: str | None = None  # a double tap: answered like the first, recorded once


def decide_entrance(
    identity: Identity,
    *,
    at: datetime,
    person_inside: bool,
    prior: PriorTap | None,
    duplicate_window: timedelta,
) -> EntranceOutcome:
    """Entry or exit for staff and registered visitors; deny for anything else.

    A visitor badge lets its visitor in only within the visit's window; leaving always works.
    A refused tap is not a double tap: nothing changed, so a second try is judged afresh (the
    receptionist taps a badge to pick it, and the visitor taps it to come in a moment later).
    """
    if is_double_tap(prior, at, duplicate_window) and prior is not None and prior.result != "deny":
        return EntranceOutcome(Verdict(prior.result, prior.action, prior.reason), duplicate_of=prior.scan_id)
    match identity:
        case StaffCard(person_active=False) | StaffCard(card_active=False):
            return EntranceOutcome(deny("inactive"))
        case StaffCard():
            return EntranceOutcome(accept("exit" if person_inside else "entry"))
        case VisitorCard(badge_active=False):
            return EntranceOutcome(deny("inactive"))
        case VisitorCard(visit_state="expected", valid_from=start, valid_until=end):
            return EntranceOutcome(accept("entry") if in_window(at, start, end) else deny("visitor_not_registered"))
        case VisitorCard(visit_state="in"):
            return EntranceOutcome(accept("exit"))
        case VisitorCard():
            return EntranceOutcome(deny("visitor_not_registered"))
        case ItemTag() | UnknownUid():
            return EntranceOutcome(deny("unknown_card"))
    raise TypeError(f"unexpected identity {identity!r}")
