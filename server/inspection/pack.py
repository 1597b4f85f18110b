"""The whole pack: every rule section's evidence for a period, in the seed's order."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from server.config import Settings
from server.inspection import checks, ledgers
from server.inspection.evidence import RULES, Period, Section

SECTIONS: dict[str, Callable[[Session, Period, Settings], Section]] = {
    "1": checks.rule1, "2": ledgers.rule2, "3": ledgers.rule3, "4": ledgers.rule4, "5": ledgers.rule5,
    "6": ledgers.rule6, "7": checks.rule7, "8": checks.rule8, "9": checks.rule9, "training": checks.training,
}
assert tuple(SECTIONS) == RULES


def section(db: Session, rule: str, p: Period, settings: Settings) -> Section:
    return SECTIONS[rule](db, p, settings)


def sections(db: Session, p: Period, settings: Settings) -> list[Section]:
    return [build(db, p, settings) for build in SECTIONS.values()]
