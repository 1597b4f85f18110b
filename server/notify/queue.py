"""Making notices: rows in the caller's transaction, at most one per event, recipient and channel.

`notify()` is what a feature calls when something happened that people should hear about. It
never sends and never commits: the notices exist exactly when the caller's change does, and the
sender (`sender.py`) delivers them afterwards. The unique `dedupe_key` makes "once" the
database's promise: calling again with the same `key` — a second round of a checker, a second
process, a replayed scan — adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.config import Settings
from server.notify.kinds import KINDS
from server.notify.models import Notice

SUBJECT_MAX = 300  # the column's width
KEY_MAX = 150  # leaves room for ":email:<user id>" within the 200 of dedupe_key
RESERVED = frozenset({"v", "kind", "key", "at"})  # the webhook's own fields
INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}

Message = Callable[[str], tuple[str, str]]  # language ('ja' / 'en') -> (subject, body)


def wants_email(user: User, kind: str) -> bool:
    """An active account with an address, of a role the kind is for, that has not turned the kind off."""
    return (user.active and bool(user.email) and user.role in KINDS[kind].roles
            and kind not in (user.notices_off or []))


def notify(db: Session, now: datetime, *, settings: Settings, kind: str, key: str, users: Iterable[User],
           message: Message, payload: dict[str, Any], addresses: Iterable[str] = ()) -> int:
    """Queue the notices for one event (`key`, e.g. "visitor_arrived:42"); returns how many are new.

    `addresses`: e-mail addresses that are no account's (the ward's), written to in Japanese."""
    if kind not in KINDS:
        raise ValueError(f"notice kind {kind!r} is not one of {', '.join(KINDS)}; add it to server/notify/kinds.py")
    if not key or len(key) > KEY_MAX:
        raise ValueError(f"a notice key is 1 to {KEY_MAX} characters, got {len(key)}")
    if clash := RESERVED & payload.keys():
        raise ValueError(f"payload fields {sorted(clash)} are the webhook's own; name them differently")
    texts: dict[str, tuple[str, str]] = {}

    def text(lang: str) -> tuple[str, str]:
        if lang not in texts:
            subject, body = message(lang)
            texts[lang] = (subject[:SUBJECT_MAX], body)
        return texts[lang]

    def row(channel: str, dedupe_key: str, address: str, user_id: int | None, lang: str,
            body: dict[str, Any]) -> dict[str, Any]:
        subject, plain = text(lang)
        return {"kind": kind, "channel": channel, "user_id": user_id, "address": address, "subject": subject,
                "body": plain, "payload": body, "dedupe_key": dedupe_key, "created_at": now,
                "next_attempt_at": now, "attempts": 0}

    rows = []
    if settings.smtp_url:
        rows += [row("email", f"{key}:email:{user.id}", user.email, user.id, user.language, {})
                 for user in users if wants_email(user, kind)]
        rows += [row("email", f"{key}:email:{address}", address, None, "ja", {}) for address in addresses]
    if settings.webhook_url:
        event = {"v": 1, "kind": kind, "key": key, "at": now.isoformat(), **payload}
        rows.append(row("webhook", f"{key}:webhook", settings.webhook_url, None, "ja", event))
    return _insert_new(db, rows)


def _insert_new(db: Session, rows: list[dict[str, Any]]) -> int:
    # The same person twice in `users` is one recipient.
    rows = list({row["dedupe_key"]: row for row in rows}.values())
    if not rows:
        return 0
    dialect = db.get_bind().dialect.name
    if dialect not in INSERTS:
        raise RuntimeError(f"notices need SQLite or PostgreSQL, not {dialect}")
    statement = (INSERTS[dialect](Notice).values(rows)
                 .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Notice.id))
    return len(db.execute(statement).all())
