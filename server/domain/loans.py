"""When a checked-out item is due back: the loan rule of its kind, or its own.

A rule is either a time of day ("folders back by 18:00 the same day") or a duration ("a key for
two hours"). The rule that applied is written on the checkout in words (`LoanRule.describe`),
so an auditor reading an old checkout sees the policy that governed it, whatever it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class LoanRule:
    due_time: time | None = None  # back by this time of day (the next one after the checkout)
    minutes: int | None = None  # or back this long after the checkout

    def __post_init__(self) -> None:
        if (self.due_time is None) == (self.minutes is None):
            raise ValueError("a loan rule is either a time of day or a number of minutes")
        if self.minutes is not None and not 1 <= self.minutes <= 60 * 24 * 60:
            raise ValueError("a loan lasts 1 minute to 60 days")

    def describe(self) -> str:
        """"due 18:00" or "due after 120 min": plain words kept on the checkout."""
        return f"due {self.due_time:%H:%M}" if self.due_time is not None else f"due after {self.minutes} min"


def due_at(out_at: datetime, rule: LoanRule | time, zone: ZoneInfo) -> datetime:
    """Due at the rule's time of day (office time) on the day of checkout, or the next day if taken
    out after it; or the rule's minutes after the checkout."""
    if isinstance(rule, time):
        rule = LoanRule(due_time=rule)
    if rule.minutes is not None:
        return (out_at + timedelta(minutes=rule.minutes)).astimezone(UTC)
    assert rule.due_time is not None
    local = out_at.astimezone(zone)
    due = datetime.combine(local.date(), rule.due_time, tzinfo=zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), rule.due_time, tzinfo=zone)
    return due.astimezone(UTC)


def applicable(kind_rule: LoanRule, item_rule: LoanRule | None, kind: str) -> tuple[LoanRule, str]:
    """The rule that governs a checkout and its words: the item's own, else its kind's."""
    if item_rule is not None:
        return item_rule, f"item: {item_rule.describe()}"
    return kind_rule, f"{kind}: {kind_rule.describe()}"
