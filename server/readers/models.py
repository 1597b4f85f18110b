"""Readers registered with the server: each is an entrance or a cabinet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, false
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class Reader(Base):
    __tablename__ = "readers"
    __table_args__ = (CheckConstraint("role IN ('entrance', 'cabinet')", name="role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    site: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    online: Mapped[bool | None] = mapped_column(default=None)
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    version: Mapped[str | None] = mapped_column(String(64), default=None)
    queued: Mapped[int | None] = mapped_column(default=None)
    # The last unlock a manager sent from the page: a door opened just after it was not forced.
    remote_unlock_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # HMAC key of a cabinet's offline allowlist: given to the reader out of band, never published.
    allowlist_key: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # How far the reader's clock ran ahead (+) or behind (-) the server's at its last live status, or
    # ahead by at its last scan stamped after it arrived (server/readers/clock.py).
    clock_offset_s: Mapped[float | None] = mapped_column(default=None)
    # What the reader's last status said does not work, comma-separated (e.g. card_reader_unavailable);
    # None: all well, or a reader that does not say (server/readers/degraded.py).
    degraded: Mapped[str | None] = mapped_column(String(400), default=None)
    # Cards that can prove they are no copy must prove it on this reader (docs/card-auth.md).
    card_auth_required: Mapped[bool] = mapped_column(default=False, server_default=false())
