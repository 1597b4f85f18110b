"""Reading what mamori keeps structured the way a person sees it: alert notes, audit facts, a page's text."""

from __future__ import annotations

import re
from html import unescape
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


SNAKE_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # checkout_register_printed, visit_registered
RAW_UID = re.compile(r"\b(?=[0-9A-F]*[A-F])(?=[0-9A-F]*[0-9])[0-9A-F]{8,20}\b")  # 04A1B2C3D4E5F6


def visible_text(html: str) -> str:
    """What a person reads on the page: no scripts, styles, tags or attributes."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return unescape(re.sub(r"<[^>]+>", " ", html))
