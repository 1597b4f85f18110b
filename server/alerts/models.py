"""Alerts a manager must see: open → acknowledged → resolved.

A repeated problem (the same `fold_key`) is one alert while it is not resolved: it counts up and
keeps each occurrence (`AlertOccurrence`) as evidence; see server/alerts/fold.py.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


def _opened_at(context) -> datetime | None:
    return context.get_current_parameters().get("opened_at")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_state_opened", "state", "opened_at"),
        # One alert of each level (overdue, escalated, lost?) per checkout, ever: the checker may run
        # twice (or in two processes).
        Index("uq_alerts_type_checkout", "type", "checkout_id", unique=True,
              sqlite_where=text("checkout_id IS NOT NULL"), postgresql_where=text("checkout_id IS NOT NULL")),
        # One closing-time alert of each type per visit.
        Index("uq_alerts_type_visit", "type", "visit_id", unique=True,
              sqlite_where=text("visit_id IS NOT NULL"), postgresql_where=text("visit_id IS NOT NULL")),
        # One unresolved alert per repeated problem: repeats fold into it (server/alerts/fold.py).
        Index("uq_alerts_open_fold_key", "fold_key", unique=True,
              sqlite_where=text("fold_key IS NOT NULL AND state != 'resolved'"),
              postgresql_where=text("fold_key IS NOT NULL AND state <> 'resolved'")),
        # One door alert of each type per door event (held open, forced).
        Index("uq_alerts_type_event", "type", "event_id", unique=True,
              sqlite_where=text("event_id IS NOT NULL"), postgresql_where=text("event_id IS NOT NULL")),
        # One 受付簿 alert of each level per case (deadline near or passed, report late, retention ended).
        Index("uq_alerts_type_case", "type", "case_id", unique=True,
              sqlite_where=text("case_id IS NOT NULL"), postgresql_where=text("case_id IS NOT NULL")),
        # One training alert of each level (due soon, lapsed) per person and lapse date.
        Index("uq_alerts_type_person_lapse", "type", "person_id", "training_lapses_on", unique=True,
              sqlite_where=text("training_lapses_on IS NOT NULL"),
              postgresql_where=text("training_lapses_on IS NOT NULL")),
        # One alert of each type per incident (the late 第一報).
        Index("uq_alerts_type_incident", "type", "incident_id", unique=True,
              sqlite_where=text("incident_id IS NOT NULL"), postgresql_where=text("incident_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    subject: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    reader_id: Mapped[str | None] = mapped_column(ForeignKey("readers.id"), default=None)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), default=None)
    scan_id: Mapped[str | None] = mapped_column(String(64), default=None)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id"), default=None)  # overdue alerts
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), default=None)  # closing-time alerts
    event_id: Mapped[str | None] = mapped_column(String(64), default=None)  # door alerts: the reader event
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None)  # 受付簿 alerts
    training_lapses_on: Mapped[date | None] = mapped_column(default=None)  # training alerts: the lapse they are about
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", use_alter=True), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    # Folding: how many times it happened, the newest time (opened_at is the first), and the key of
    # "the same problem" (type and subject), set only for alerts that fold.
    count: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    last_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=_opened_at)
    fold_key: Mapped[str | None] = mapped_column(String(160), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(200), default=None)

    @property
    def first_at(self) -> datetime:
        return self.opened_at


class AlertOccurrence(Base):
    """One time a folded alert's problem happened: when, where, why, and the scan or event behind it."""

    __tablename__ = "alert_occurrences"
    __table_args__ = (Index("ix_alert_occurrences_alert_at", "alert_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    reader_id: Mapped[str | None] = mapped_column(ForeignKey("readers.id"), default=None)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    scan_id: Mapped[str | None] = mapped_column(String(64), default=None)
    event_id: Mapped[str | None] = mapped_column(String(64), default=None)
