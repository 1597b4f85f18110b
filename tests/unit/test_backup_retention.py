"""Which backups `mamori backup` keeps: the newest of each of the last N days and M months (office time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.backup.retention import backup_name, taken_at, to_keep

TOKYO = ZoneInfo("Asia/Tokyo")


def names(*times: datetime) -> list[str]:
    return [backup_name(t, "sqlite") for t in times]


def test_the_name_carries_the_utc_time_and_reads_back():
    at = datetime(2026, 12, 3, 2, 30, tzinfo=TOKYO)
    assert backup_name(at, "postgresql") == "mamori-20261202T173000Z.pgdump"
    assert taken_at(backup_name(at, "sqlite")) == at
    assert taken_at("notes.txt") is None and taken_at("mamori-20261202T173000Z.sqlite3.partial") is None


def test_the_newest_of_each_recent_day_and_month_is_kept():
    start = datetime(2026, 9, 20, 17, 30, tzinfo=UTC)  # 02:30 in Tokyo, the timer's time
    nightly = [start + timedelta(days=d) for d in range(75)]  # 21 Sept to 4 Dec (Tokyo)
    extra = start + timedelta(days=74, hours=6)  # a second backup by hand on the last day
    every = names(*nightly, extra)
    keep = to_keep(every, daily=3, monthly=3, zone=TOKYO)
    assert keep == set(names(extra, nightly[73], nightly[72],  # the last three days (the hand one is newest)
                             start + timedelta(days=70),  # 30 Nov: November's newest
                             start + timedelta(days=40)))  # 31 Oct: October's newest (December's is `extra`)


def test_days_are_the_offices_and_other_files_are_never_deleted():
    late = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # 00:30 on 3 Dec in Tokyo
    early = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)  # 23:30 on 2 Dec in Tokyo
    keep = to_keep([*names(late, early), "README.txt"], daily=2, monthly=0, zone=TOKYO)
    assert keep == {*names(late, early), "README.txt"}
    assert to_keep(names(late, early), daily=1, monthly=0, zone=TOKYO) == set(names(late))
