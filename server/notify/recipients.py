"""Who a notice is for: the accounts of staff members, and whether an e-mail address looks deliverable."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.notify.kinds import kinds_for_role

# Deliberately plain: one @, no spaces or angle brackets, a dotted domain. The SMTP server has the
# last word; this only catches what a person mistyped.
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
EMAIL_MAX = 254


def email_problem(address: str) -> str | None:
    """None for an address that looks right, else a message key saying what is wrong."""
    if len(address) > EMAIL_MAX:
        return "notices.email_too_long"
    if not EMAIL.fullmatch(address) or ".." in address or address.startswith("."):
        return "notices.email_bad"
    return None


def accounts_of_people(db: Session, person_ids: Iterable[int | None]) -> list[User]:
    """The active accounts linked to these staff members (a visit's host, an item's holder)."""
    wanted = {pid for pid in person_ids if pid is not None}
    if not wanted:
        return []
    return list(db.scalars(select(User).where(User.person_id.in_(wanted), User.active.is_(True))
                           .order_by(User.id)))


def accounts_with_role(db: Session, roles: Iterable[str]) -> list[User]:
    """The active accounts of these roles (e.g. managers for an escalation)."""
    return list(db.scalars(select(User).where(User.role.in_(tuple(roles)), User.active.is_(True)).order_by(User.id)))


def kinds_turned_off(role: str, already_off: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The person's new `notices_off` after ticking `wanted` among the kinds their role may receive.

    Kinds the person could not see on the form (another role's) keep their old setting.
    """
    offered = {kind.name for kind in kinds_for_role(role)}
    return sorted((set(already_off) - offered) | (offered - set(wanted)))
