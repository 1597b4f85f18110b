"""The visitor form, shared by the reception desk (walk-ins) and hosts expecting a visitor."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import Field
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from server.api.schemas import CardUid, In, Line, Name
from server.people.models import Person
from server.web.admin.common import text
from server.web.admin.validation import Problem, check

FIELDS = ("visitor_name", "organisation", "purpose", "host_person_id", "badge_uid", "day", "expected_time")


class VisitForm(In):
    visitor_name: Name
    organisation: Line = Field("", max_length=200)
    purpose: Line = Field("", max_length=500)
    host_person_id: int | None = Field(None, ge=1)
    badge_uid: CardUid | None = None
    day: date | None = None
    expected_time: time | None = None


def read(form: Any) -> dict[str, str]:
    return {name: text(form, name) for name in FIELDS}


def validate(db: Session, typed: dict[str, str], today: date, *,
             future_only: bool) -> tuple[VisitForm | None, dict[str, Problem]]:
    body, problems = check(VisitForm, {k: v for k, v in typed.items() if v != ""})
    if "expected_time" in problems:
        problems["expected_time"] = ("visit.err.time", {})
    if "host_person_id" in problems:
        problems["host_person_id"] = ("visit.err.host", {})
    if body is not None and body.host_person_id is not None and db.get(Person, body.host_person_id) is None:
        problems["host_person_id"] = ("visit.err.host", {})
    if future_only and "day" not in problems and typed.get("day"):
        # Checked even when another field is wrong, so every problem shows at once.
        if date.fromisoformat(typed["day"]) < today:
            problems["day"] = ("visit.err.past_day", {})
    return (None if problems else body), problems


def hosts(db: Session) -> list[tuple[str, str]]:
    """(value, label) for the host select: active staff by name."""
    return list(db.execute(select(cast(Person.id, String), Person.name).where(Person.active.is_(True))
                           .order_by(Person.name)).tuples())


def time_of(value: datetime | None, zone) -> str:
    return value.astimezone(zone).strftime("%H:%M") if value else ""
