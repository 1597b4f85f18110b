"""A cabinet door's rules: was an opening explained by an unlock, was it open too long, for how long.

Pure: times in, verdicts out. The reader's own clock stamps door events, taps and offline
unlocks; a remote unlock carries the server's clock (kept in step by NTP, as the contract's
10-second freshness rule already assumes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

UNLOCK_EVENTS = frozenset({"offline_unlock", "exit_button"})  # reader events that open the lock
DOOR_EVENTS = ("door_open", "door_closed")


def unlock_window(opened_at: datetime, *, unlock_s: int, grace_s: float) -> tuple[datetime, datetime]:
    """The times an unlock must fall in to explain a door opened at `opened_at` (both ends included)."""
    return opened_at - timedelta(seconds=unlock_s + grace_s), opened_at


def door_forced(opened_at: datetime, unlocks: Iterable[datetime], *, unlock_s: int, grace_s: float) -> bool:
    """True when no unlock (granted tap, offline unlock, exit button, remote unlock) explains the opening."""
    earliest, latest = unlock_window(opened_at, unlock_s=unlock_s, grace_s=grace_s)
    return not any(earliest <= at <= latest for at in unlocks)


# A reader re-sending its outbox sends a door's closing right behind its opening: an opening heard of only
# this long ago may still be followed by its closing, whatever its own time says.
SETTLE = timedelta(seconds=15)


def held_open_too_long(newest_door_event: str | None, at: datetime | None, now: datetime, limit: timedelta,
                       heard_at: datetime | None = None) -> bool:
    """True when the door's newest event is an opening more than `limit` before `now`, and the server
    heard of it (`heard_at`) long enough ago for a re-sent closing to have followed it."""
    return (newest_door_event == "door_open" and at is not None and now - at > limit
            and (heard_at is None or now - heard_at > SETTLE))


def open_for_words(opened_at: datetime, closed_at: datetime, lang: str = "ja") -> str:
    """How long the door stood open, e.g. 「3分05秒」 / "3 min 05 s" (never negative)."""
    seconds = max(0, round((closed_at - opened_at).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if lang == "en":
        return (f"{hours} h {minutes:02d} min {secs:02d} s" if hours else
                f"{minutes} min {secs:02d} s" if minutes else f"{secs} s")
    return (f"{hours}時間{minutes:02d}分{secs:02d}秒" if hours else
            f"{minutes}分{secs:02d}秒" if minutes else f"{secs}秒")
