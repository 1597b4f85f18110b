"""Loan rules per kind of item (the office's policy), and the table that holds them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from time import monotonic

from sqlalchemy import CheckConstraint, Connection, String, select
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime
from server.domain.loans import LoanRule

KINDS = ("folder", "phone", "media", "laptop", "key")
# The office's starting policy: papers and devices back by closing time the same day, a key in two hours.
DEFAULTS = {"folder": LoanRule(due_time=time(18, 0)), "phone": LoanRule(due_time=time(18, 0)),
            "media": LoanRule(due_time=time(18, 0)), "laptop": LoanRule(due_time=time(18, 0)),
            "key": LoanRule(minutes=120)}

RULES_TTL_S = 30.0  # the ingest reads the rules again this often: a change applies from the next checkout after it


class KindRule(Base):
    """How long an item of one kind may stay out, and how its holder is chased."""

    __tablename__ = "loan_rules"
    __table_args__ = (
        CheckConstraint("kind IN ('folder', 'phone', 'media', 'laptop', 'key')", name="kind"),
        CheckConstraint("(due_time IS NULL) != (loan_minutes IS NULL)", name="one_rule"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_time: Mapped[time | None] = mapped_column(default=None)
    loan_minutes: Mapped[int | None] = mapped_column(default=None)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    changed_by: Mapped[str | None] = mapped_column(String(100), default=None)

    @property
    def rule(self) -> LoanRule:
        return LoanRule(due_time=self.due_time, minutes=self.loan_minutes)


class RuleBook:
    """The kinds' rules as the ingest needs them at every checkout: read again after `ttl` seconds,
    so a manager's change applies within that without a query per scan."""

    def __init__(self, ttl: float = RULES_TTL_S, clock: Callable[[], float] = monotonic):
        self.ttl, self.clock = ttl, clock
        self._rules: dict[str, LoanRule] = {}
        self._read_at: float | None = None

    def for_kind(self, conn: Connection, kind: str) -> LoanRule:
        now = self.clock()
        if self._read_at is None or now - self._read_at > self.ttl:
            rows = conn.execute(select(KindRule.kind, KindRule.due_time, KindRule.loan_minutes)).all()
            self._rules = {k: LoanRule(due_time=t, minutes=m) for k, t, m in rows}
            self._read_at = now
        return self._rules.get(kind, DEFAULTS[kind])
