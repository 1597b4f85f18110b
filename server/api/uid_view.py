"""Who may read a card or tag uid: a full uid is what a cloner needs, so only admins and managers see one."""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Annotated

from pydantic import PlainSerializer

SEE_UIDS = ("admin", "manager")
# Set by the API's role guard for the request; unset (a new context) means masked.
_uids_visible: ContextVar[bool] = ContextVar("uids_visible", default=False)
_UID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z-])[0-9A-Fa-f]{8,20}(?![0-9A-Za-z-])")


def show_uids_to(role: str) -> None:
    """Called once per API request by the role guard."""
    _uids_visible.set(role in SEE_UIDS)


def mask_uid(uid: str) -> str:
    """The last four hex digits only: enough to tell two cards apart at the desk, not to clone one."""
    return "****" + uid[-4:]


def mask_uids_in(text: str) -> str:
    """Free text (an alert's subject, a refused payload) with every uid-looking hex run masked."""
    return _UID_IN_TEXT.sub(lambda m: mask_uid(m.group(0)), text)


def shown(uid: str | None, role: str | None) -> str | None:
    """A uid as a person of `role` may see it."""
    if uid is None or role in SEE_UIDS:
        return uid
    return mask_uid(uid)


def _serialize_uid(uid: str) -> str:
    return uid if _uids_visible.get() else mask_uid(uid)


def _serialize_text(text: str) -> str:
    return text if _uids_visible.get() else mask_uids_in(text)


ShownUid = Annotated[str, PlainSerializer(_serialize_uid, return_type=str)]
TextWithUids = Annotated[str, PlainSerializer(_serialize_text, return_type=str)]
