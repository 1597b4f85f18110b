"""What an inspection pack is made of: the period, a rule section's counts and exceptions (findings), and
the chain heads a pack's manifest names, and the sources no part of the system records.

One function per seed rule section (server/inspection/ledgers.py, server/inspection/checks.py) returns a
`Section`; `SECTIONS` lists them in the seed's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

RULES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "training")

# What the pack cannot show because no part of this system records it: source -> the rule section it would
# serve. The pack names each as "not recorded in this system yet" on that rule's page, in the print and in
# the ZIP's manifest. Empty since incidents (rule 9) and the evidence chain (the manifest) are recorded.
NOT_YET: dict[str, str] = {}

# The evidence chain's head (server/evidence/chain.py: head) for the ZIP's manifest: name -> the moment it is
# taken at (None: the newest link now). An auditor who kept a pack can check a later one still holds it.
CHAIN_HEADS: dict[str, Callable[[Period], datetime | None]] = {
    "period_end": lambda p: p.end,
    "now": lambda p: None,
}


@dataclass(frozen=True)
class Period:
    """Office days `first`..`last` (inclusive), in the office's zone, seen at `now`."""

    first: date
    last: date
    zone: ZoneInfo
    now: datetime

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    @property
    def last_seen(self) -> date:
        """The period's last day, or today while the period is still running."""
        return min(self.last, self.today)

    def query(self, **more: str) -> str:
        """The period (and `more`) as a page's query string."""
        return urlencode({"from": self.first.isoformat(), "to": self.last.isoformat(), **more})


@dataclass(frozen=True)
class Finding:
    """One exception, with a link to the ledger line or page that shows it."""

    kind: str  # insp.kind.<kind>
    at: datetime | date | str | None  # a moment, a day, or a month ("2026-11")
    subject: str  # the name, label or case number as the ledger has it
    detail: str | None = None  # a message key
    link: str | None = None
    uid: str | None = None  # an unknown card's uid (shown as the viewer may see it)


@dataclass(frozen=True)
class Count:
    key: str  # insp.count.<key>
    n: int
    link: str | None = None


@dataclass(frozen=True)
class Section:
    rule: str
    counts: list[Count] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    checklist: bool = False  # answered by the monthly self-inspection

    @property
    def not_yet(self) -> list[str]:
        return [source for source, rule in NOT_YET.items() if rule == self.rule]

    @property
    def clean(self) -> bool:
        return not self.findings
