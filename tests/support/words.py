"""Reading what mamori keeps structured the way a person sees it: alert notes, audit facts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from server.alerts.notes import worded
from server.audit.service import facts_of
from server.web.i18n import translator

TOKYO = ZoneInfo("Asia/Tokyo")


def notes_ja(stored: str | None) -> str:
    """An alert's notes as the dashboard shows them in Japanese, one line per note."""
    return "\n".join(worded(stored, translator("ja"), TOKYO, "ja"))


def facts(detail: str) -> dict:
    """An audit entry's facts; fails the test on an entry kept as plain text."""
    found = facts_of(detail)
    assert found is not None, f"not structured: {detail!r}"
    return found
