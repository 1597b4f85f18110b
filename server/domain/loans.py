"""When a checked-out item is due back."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def due_at(out_at: datetime, due_time: time, zone: ZoneInfo) -> datetime:
    """Due at `due_time` office time on the day of checkout, or the next day if taken out after it."""
    local = out_at.astimezone(zone)
    due = datetime.combine(local.date(), due_time, tzinfo=zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), due_time, tzinfo=zone)
    return due.astimezone(UTC)
