"""Telling the managers about an alert a machine raised (a cabinet door, a reader): one notice per key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.config import Settings
from server.notify.kinds import MANAGERS
from server.notify.queue import notify
from server.notify.recipients import accounts_with_role


def tell_managers(db: Session, now: datetime, settings: Settings, *, kind: str, key: str,
                  ja: tuple[str, str], en: tuple[str, str], payload: dict[str, Any]) -> int:
    """Queue `kind` for the managers who chose it, and the webhook; `ja`/`en` are (subject, what happened)."""
    if not (settings.smtp_url or settings.webhook_url):
        return 0  # nowhere to send: spare the query for the recipients
    link = f"{settings.public_url.rstrip('/')}/dashboard"

    def message(lang: str) -> tuple[str, str]:
        subject, what = en if lang == "en" else ja
        return subject, f"{what}\n{link}\n"

    return notify(db, now, settings=settings, kind=kind, key=key, users=accounts_with_role(db, MANAGERS),
                  message=message, payload=payload)
