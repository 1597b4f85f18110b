"""Writing alerts that fold: a problem that repeats while its alert is not resolved counts up that
alert and keeps the occurrence, instead of opening another.

An alert row to write carries a `fold_key` (server/domain/alerts.py) and what its occurrence needs
(`at`, `reader_id`, `reason`, `scan_id`, `event_id`). One batch costs one query for the open alerts
with its keys, one insert for the new ones, one update for the repeats and one insert for the
occurrences, however many alerts it raised. An acknowledged alert counts up too (the dashboard shows
how often since the acknowledgement); once resolved, the next occurrence opens a new alert. The
database keeps one unresolved alert per key (`uq_alerts_open_fold_key`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from server.alerts.models import Alert, AlertOccurrence
from server.bulk import among
from server.db import UtcDateTime

_OPEN_WITH_KEYS = select(Alert.fold_key, Alert.id).where(among(Alert.fold_key, "keys"),
                                                          Alert.state != "resolved")
_t = Alert.__table__.c
_first, _last = bindparam("first", type_=UtcDateTime()), bindparam("last", type_=UtcDateTime())
# A replayed stream may bring an older occurrence after a newer one: first and last only widen.
_REPEAT = (update(Alert.__table__).where(_t.id == bindparam("alert_id"))
           .values(count=_t.count + bindparam("n"),
                   opened_at=case((_t.opened_at > _first, _first), else_=_t.opened_at),
                   last_at=case((_t.last_at.is_(None) | (_t.last_at < _last), _last), else_=_t.last_at)))
OCCURRENCE_FIELDS = ("reader_id", "reason", "scan_id", "event_id")
_occ = aliased(AlertOccurrence)
# An alert that lost occurrences: counted and spanned again from those left.
_RECOUNT = (update(Alert.__table__).where(_t.id == bindparam("alert_id"))
            .values(count=select(func.count()).where(_occ.alert_id == _t.id).scalar_subquery(),
                    opened_at=func.coalesce(select(func.min(_occ.at)).where(_occ.alert_id == _t.id)
                                            .scalar_subquery(), _t.opened_at),
                    last_at=select(func.max(_occ.at)).where(_occ.alert_id == _t.id).scalar_subquery()))


def write(conn: Connection | Session, alerts: list[dict]) -> None:
    """Write a batch's alerts (dicts of Alert columns with `fold_key` and `opened_at` = when it happened)."""
    if not alerts:
        return
    by_key: dict[str, list[dict]] = {}
    for row in alerts:
        by_key.setdefault(row["fold_key"], []).append(row)
    for rows in by_key.values():
        rows.sort(key=lambda r: r["opened_at"])
    open_ids = dict(conn.execute(_OPEN_WITH_KEYS, {"keys": list(by_key)}).all())
    new = [key for key in by_key if key not in open_ids]
    if new:
        conn.execute(insert(Alert), [{**by_key[key][0], "count": len(by_key[key]),
                                      "last_at": by_key[key][-1]["opened_at"]} for key in new])
        open_ids.update(conn.execute(_OPEN_WITH_KEYS, {"keys": new}).all())
    repeats = [{"alert_id": open_ids[key], "n": len(rows), "first": rows[0]["opened_at"],
                "last": rows[-1]["opened_at"]} for key, rows in by_key.items() if key not in new]
    if repeats:
        conn.execute(_REPEAT, repeats)
    conn.execute(insert(AlertOccurrence), [
        {"alert_id": open_ids[key], "at": row["opened_at"], **{f: row.get(f) for f in OCCURRENCE_FIELDS}}
        for key, rows in by_key.items() for row in rows])


def withdraw(conn: Connection | Session, occurrences: dict[int, int], now: datetime, by: str) -> None:
    """Take back occurrences ({occurrence id: alert id}) that a later-arriving record shows never happened:
    their alerts are counted again from those left, and resolved (by `by`) when none are."""
    if not occurrences:
        return
    alert_ids = sorted(set(occurrences.values()))
    conn.execute(delete(AlertOccurrence).where(AlertOccurrence.id.in_(list(occurrences))))
    conn.execute(_RECOUNT, [{"alert_id": alert} for alert in alert_ids])
    conn.execute(update(Alert).where(Alert.id.in_(alert_ids), Alert.count == 0)
                 .values(state="resolved", resolved_at=now, resolved_by=by))
