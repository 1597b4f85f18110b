"""Which backups to keep: the newest of each of the last N days that have one, and of each of the last M months."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# mamori-20261203T174500Z.sqlite3 / .pgdump: the UTC time the backup was taken, sortable as text.
NAME = re.compile(r"^mamori-(\d{8}T\d{6}Z)\.(sqlite3|pgdump)$")


def backup_name(at: datetime, kind: str) -> str:
    return f"mamori-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}.{'sqlite3' if kind == 'sqlite' else 'pgdump'}"


def taken_at(name: str) -> datetime | None:
    """The time in a backup's file name, or None for a file that is not a mamori backup."""
    match = NAME.match(name)
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if match else None


def to_keep(names: list[str], *, daily: int, monthly: int, zone: ZoneInfo) -> set[str]:
    """Days and months are the office's (a 02:00 backup in Tokyo belongs to that Tokyo day). Files that are
    not mamori backups are kept: this only ever deletes what it made."""
    backups = sorted(((taken_at(n), n) for n in names if taken_at(n)), reverse=True)
    keep = {n for n in names if taken_at(n) is None}
    for period, count in ((lambda t: t.date(), daily), (lambda t: (t.year, t.month), monthly)):
        seen: list = []
        for at, name in backups:  # newest first: the first of each period is its newest
            key = period(at.astimezone(zone))
            if key not in seen:
                if len(seen) == count:
                    break
                seen.append(key)
                keep.add(name)
    return keep
