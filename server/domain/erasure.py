"""Survey data on a device that came back: who may confirm it erased, when, and when it is late.

Pure: facts in, answer out. Phones, media and laptops (`needs_erasure`) come back with
`erasure = 'pending'`; the holder or a manager confirms "調査データ消去済み" on the page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MANAGERS = frozenset({"admin", "manager"})
PURPOSE_MAX = 200  # the column's width


def may_act(role: str, account_person_id: int | None, holder_id: int) -> bool:
    """The holder (the account linked to the staff member who took it out) or a manager."""
    return role in MANAGERS or (account_person_id is not None and account_person_id == holder_id)


def confirm_problem(erasure: str | None, returned_at: datetime | None) -> str | None:
    """Why an erasure cannot be confirmed now ('not_device', 'not_returned', 'already'), or None."""
    if erasure is None:
        return "not_device"
    if returned_at is None:
        return "not_returned"
    if erasure == "done":
        return "already"
    return None


def clean_purpose(text: str) -> str:
    """The purpose as stored: one line, trimmed, 1–200 characters; ValueError('empty' | 'too_long' |
    'control') otherwise (PostgreSQL cannot store NUL, and a purpose is printed in the ledger)."""
    value = " ".join(text.split())
    if not value:
        raise ValueError("empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control")
    if len(value) > PURPOSE_MAX:
        raise ValueError("too_long")
    return value


def erasure_late(returned_at: datetime, now: datetime, within: timedelta) -> bool:
    """True once a returned device has waited longer than `within` for its confirmation."""
    return now - returned_at > within
