"""What the admin pages share: who may look and who may change, the form helpers, the audit call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from server.audit.service import record
from server.readers.models import Reader
from server.web.admin.validation import Problem
from server.web.i18n import translator

VIEW = ("admin", "manager", "auditor")  # auditors read everything and change nothing
EDIT = ("admin", "manager")
BADGE_VIEW = ("admin", "manager", "receptionist", "auditor")  # reception hands out and enrols badges
BADGE_EDIT = ("admin", "manager", "receptionist")
ENROL = BADGE_EDIT


async def _form(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(_form)]  # the posted form, for handlers that stay synchronous


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def audit(db: Session, request: Request, action: str, facts: dict[str, Any]) -> None:
    """Every change a page makes, with who and from where, in the same unit of work as the change."""
    record(db, request.app.state.clock(), action, request.state.user.name, facts, address(request))


def text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def ticked(form: Any, name: str) -> bool:
    """An HTML checkbox: present when ticked, absent when not."""
    return form.get(name) not in (None, "", "0", "false", "off")


def messages(request: Request, problems: dict[str, Problem]) -> dict[str, str]:
    """field -> the message to show next to it, in the viewer's language."""
    t = translator(getattr(request.state, "lang", "ja"))
    return {name: t(key, **values) for name, (key, values) in problems.items()}


NOTICES = {"added": "admin.added", "saved": "admin.saved", "unchanged": "admin.unchanged"}


def notice(saved: str | None) -> str | None:
    """The message key for a page's `?saved=` after a change (the redirect after a POST)."""
    return NOTICES.get(saved or "")


def readers(db: Session) -> list[Reader]:
    return list(db.scalars(select(Reader).order_by(Reader.role.desc(), Reader.id)))
