"""The 要介護認定調査員名簿: who is on it, their 資格, and what a change to a person means for the 変更届."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# 資格 the ward's form asks of a surveyor (介護保険法施行規則: 介護支援専門員 and the health and welfare
# professions), kept as codes and shown as words (server/web/messages/training.py).
QUALIFICATIONS = ("care_manager", "public_health_nurse", "nurse", "assoc_nurse", "social_worker",
                  "care_worker", "psychiatric_sw", "physical_therapist", "occupational_therapist", "other")
# A person's job roles that put them on the roster, in the order the roster lists them.
ROSTER_ROLES = ("manager", "surveyor")
ROSTER_FIELDS = ("name", "qualification", "registered_on", "roster_role", "active")


def roster_role(roles: Iterable[str]) -> str | None:
    """管理責任者 before 認定調査員 for someone who is both; None: not on the roster."""
    held = set(roles or ())
    return next((role for role in ROSTER_ROLES if role in held), None)


def on_roster(fields: Mapping[str, Any]) -> bool:
    return bool(fields.get("active")) and fields.get("roster_role") is not None


def change_kind(fields: Mapping[str, list[Any]]) -> str | None:
    """What a stored change (field -> [before, after]) is on the 変更届: added, removed, changed, or None
    (nothing the roster shows: a change to someone who was on it neither before nor after)."""
    if "added" in fields:
        after = {key: value[1] for key, value in fields.items()}
        return "added" if on_roster(after) else None
    was = {key: value[0] for key, value in fields.items()}
    now = {key: value[1] for key, value in fields.items()}
    before_on, after_on = on_roster(was), on_roster(now)
    if before_on != after_on:
        return "added" if after_on else "removed"
    return "changed" if after_on else None
