"""The evidence chain's tables: the links, the head, the writes waiting to be chained, and the
verifications that were run (docs/evidence.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class ChainLink(Base):
    """One fact: an evidence row added, changed or withdrawn, chained to the fact before it."""

    __tablename__ = "chain_links"
    __table_args__ = (Index("ix_chain_links_row", "kind", "row_id", "seq"), Index("ix_chain_links_at", "at", "seq"))

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                      autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(64))  # the table
    row_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(9))  # added, changed, withdrawn
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the row's canonical bytes ('' when withdrawn)
    columns: Mapped[str] = mapped_column(Text, default="")  # per-column checksums: only to say what differs
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The newest link, one row: locked while a transaction appends, so two writers never fork."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class ChainPending(Base):
    """Evidence rows written in a transaction that is not chained yet (filled by triggers)."""

    __tablename__ = "chain_pending"
    __table_args__ = (Index("ix_chain_pending_txn", "txn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(1))  # I, U, D
    txn: Mapped[str] = mapped_column(String(32), default="")  # PostgreSQL: the writing transaction


class ChainVerification(Base):
    """One run of the verifier: who, when, the result, and the first problem in words."""

    __tablename__ = "chain_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(200))
    ok: Mapped[bool] = mapped_column(Boolean)
    links: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    head_seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=None)
    head_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    since: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    anchor: Mapped[str | None] = mapped_column(String(100), default=None)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    first_problem: Mapped[str | None] = mapped_column(Text, default=None)
