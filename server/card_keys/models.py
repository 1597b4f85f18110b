"""What each authenticated tap proved: kept per scan, so a counter or challenge is accepted once, ever."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class CardCheck(Base):
    """One scan's proof (or the lack of one where it was required), judged once when the scan arrived.

    `counter` (NTAG 424 DNA) and `challenge` (FeliCa Lite-S) are stored only for a proof that held, and
    are unique per tag: the database itself refuses the same message accepted twice, whichever server
    process or batch gets there second (docs/card-auth.md, "Counters").
    """

    __tablename__ = "card_checks"
    __table_args__ = (
        Index("ux_card_checks_counter", "uid", "counter", unique=True),
        Index("ux_card_checks_challenge", "uid", "challenge", unique=True),
        Index("ix_card_checks_uid_at", "uid", "at"),
    )

    scan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uid: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(24))  # ntag424_sun | felica_lite_s_mac | None: nothing sent
    ok: Mapped[bool]
    why: Mapped[str | None] = mapped_column(String(32))  # why it failed: bad_mac, old_counter, missing, ...
    counter: Mapped[int | None] = mapped_column(default=None)
    challenge: Mapped[str | None] = mapped_column(String(32), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
