"""An alert's notes: one JSON line each (when, who, what was done, the person's words), worded when shown.

Lines written before notes were kept this way are plain text ("2026-11-27 09:05 sato (acknowledged): …");
they are shown as they are, with the step named in words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.door import open_for_words

# what: "acknowledged", "resolved", "door_closed"; why (the system's own reason): "reconnected", "erased",
# "marked_lost" (with lost=<record no.>), "door_closed" (with open_s=<seconds>); "revised" with why
# "unlock_arrived_late" (door_at=<when the door opened>)
_OLD = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) (.+?) \((acknowledged|resolved|door closed)\): (.*)$")


def line(at: datetime, by: str, what: str, note: str | None = None, why: str | None = None,
         **facts: object) -> str:
    """The stored line; `note` is the person's words, `why` the system's reason, worded when shown."""
    kept = {"at": at.isoformat(), "by": by, "what": what, "note": note or None, "why": why, **facts}
    return json.dumps({k: v for k, v in kept.items() if v is not None}, ensure_ascii=False)


def worded(stored: str | None, t: Callable[..., str], zone: ZoneInfo, lang: str) -> list[str]:
    """Each note as the reader reads it: 「2026/11/27 09:05 佐藤（確認）：本人に電話しました」."""
    return [_one(raw, t, zone, lang) for raw in (stored or "").splitlines() if raw.strip()]


def _one(raw: str, t: Callable[..., str], zone: ZoneInfo, lang: str) -> str:
    try:
        kept = json.loads(raw) if raw.startswith("{") else None
    except ValueError:
        kept = None
    if not isinstance(kept, dict):
        return _old(raw, t)
    at = datetime.fromisoformat(kept["at"]).astimezone(zone)
    words = [t(f"alert.why.{kept['why']}", **_why_values(kept, zone, lang))] if kept.get("why") else []
    words += [kept["note"]] if kept.get("note") else []
    return t("alert.note_line", at=f"{at:%Y/%m/%d %H:%M}", by=kept.get("by", ""),
             what=t(f"alert.what.{kept.get('what', 'resolved')}"), words=" ".join(words))


def _why_values(kept: dict, zone: ZoneInfo, lang: str) -> dict[str, object]:
    if "door_at" in kept:
        return {"door_at": f"{datetime.fromisoformat(kept['door_at']).astimezone(zone):%Y/%m/%d %H:%M:%S}"}
    if "open_s" in kept:
        opened = datetime.fromisoformat(kept["at"])
        return {"open_for": open_for_words(opened, opened + timedelta(seconds=int(kept["open_s"])), lang)}
    return {k: v for k, v in kept.items() if k in ("lost", "incident")}


def _old(raw: str, t: Callable[..., str]) -> str:
    match = _OLD.match(raw)
    if not match:
        return raw
    at, by, what, words = match.groups()
    return t("alert.note_line", at=at.replace("-", "/"), by=by, what=t(f"alert.what.{what.replace(' ', '_')}"),
             words=words)
