"""An information-security incident (情報セキュリティ事故等): its current state, its append-only process
log, and the timeline frozen from the ledger when it was opened (and extended since)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class Incident(Base):
    """The incident as its events add up; changed only together with the event that changes it."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("kind IN ('loss_theft', 'leak', 'virus', 'missing', 'misdisposal')", name="kind"),
        CheckConstraint("source IN ('hand', 'lost_item', 'alert')", name="source"),
        Index("ix_incidents_closed_discovered", "closed_at", "discovered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(200))
    discovered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    discovered_by: Mapped[str] = mapped_column(String(200))  # who found it, as the manager was told
    source: Mapped[str] = mapped_column(String(16))
    lost_item_id: Mapped[int | None] = mapped_column(ForeignKey("lost_items.id"), default=None)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), default=None)
    # What the timeline covers: the items, people and cabinets involved, and the period.
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    person_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    reader_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_from: Mapped[datetime] = mapped_column(UtcDateTime)
    period_to: Mapped[datetime] = mapped_column(UtcDateTime)
    first_aid: Mapped[str | None] = mapped_column(Text, default=None)
    manager_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    ward_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)  # the 第一報
    cause: Mapped[str | None] = mapped_column(Text, default=None)
    prevention: Mapped[str | None] = mapped_column(Text, default=None)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    closed_by: Mapped[str | None] = mapped_column(String(200), default=None)


class IncidentEvent(Base):
    """One step of the process log (対応の過程の記録), never changed or deleted."""

    __tablename__ = "incident_events"
    __table_args__ = (
        CheckConstraint("action IN ('opened', 'first_aid', 'manager_reported', 'ward_reported', 'note', 'cause', "
                        "'prevention', 'timeline', 'closed')", name="action"),
        Index("ix_incident_events_incident_at", "incident_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)  # when it was written down
    action: Mapped[str] = mapped_column(String(16))
    happened_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)  # e.g. when the ward was told
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    by_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text, default=None)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TimelineLine(Base):
    """One ledger row as it stood when the timeline was taken: which table and row, when, what, in facts.

    Never changed or deleted; an extension adds the lines not yet taken. `chain_seq`/`chain_hash` are
    the row's position in the evidence chain when it has one.
    """

    __tablename__ = "incident_timeline"
    __table_args__ = (
        UniqueConstraint("incident_id", "source_table", "source_id", "kind"),
        Index("ix_incident_timeline_incident_at", "incident_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("incident_events.id"))  # the opening or extension that took it
    source_table: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    chain_seq: Mapped[int | None] = mapped_column(Integer, default=None)
    chain_hash: Mapped[str | None] = mapped_column(String(128), default=None)


@event.listens_for(IncidentEvent, "before_update")
@event.listens_for(IncidentEvent, "before_delete")
@event.listens_for(TimelineLine, "before_update")
@event.listens_for(TimelineLine, "before_delete")
def _evidence_is_append_only(_mapper, _connection, target) -> None:
    raise PermissionError(f"{target.__tablename__} row {target.id} is evidence: append a new step instead")
