"""Staff, their cards, and the pool of visitor badges."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class Person(Base):
    __tablename__ = "people"
    # By name without a sort: the roll call and the desk's host list (10,000 people at scale).
    __table_args__ = (Index("ix_people_name", "name", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    key_holder: Mapped[bool] = mapped_column(default=False)
    # The latest attended 情報セキュリティ教育 session: written only by server/training/service.py.
    training_on: Mapped[date | None] = mapped_column(default=None)
    qualification: Mapped[str | None] = mapped_column(String(24), default=None)  # 資格 (server/domain/roster.py)
    registered_on: Mapped[date | None] = mapped_column(default=None)  # 登録日: registered with the ward
    # Every tap of this person's cards must carry a valid proof (docs/card-auth.md).
    card_auth_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Card(Base):
    """A staff badge; a person may hold several over time."""

    __tablename__ = "cards"

    uid: Mapped[str] = mapped_column(String(20), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A card that can prove it is no copy: ntag424_sun (NTAG 424 DNA) or felica_lite_s_mac (FeliCa Lite-S).
    auth_kind: Mapped[str | None] = mapped_column(String(24), default=None)


class VisitorBadge(Base):
    """A card in the reception's pool, lent to one visit at a time."""

    __tablename__ = "visitor_badges"

    uid: Mapped[str] = mapped_column(String(20), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
