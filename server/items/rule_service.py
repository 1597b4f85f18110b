"""Reading and changing the loan rule of each kind: one path for the API and the admin page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.audit.service import record
from server.domain.loans import LoanRule
from server.items.loan_rules import DEFAULTS, KINDS, KindRule


def rule_of(db: Session, kind: str) -> KindRule:
    """The kind's row; a kind the migration did not seed gets its default, until someone sets one."""
    rule = db.get(KindRule, kind)
    if rule is None:
        default = DEFAULTS[kind]
        rule = KindRule(kind=kind, due_time=default.due_time, loan_minutes=default.minutes)
        db.add(rule)
    return rule


def all_rules(db: Session) -> list[KindRule]:
    return [rule_of(db, kind) for kind in KINDS]


def set_rule(db: Session, now: datetime, kind: str, new: LoanRule, actor: str,
             address: str | None = None) -> KindRule:
    """Applies to checkouts from now on (the ingest's RuleBook reads it within its ttl); a checkout
    keeps the rule it was made under. Audited in the caller's unit of work."""
    rule = rule_of(db, kind)
    before = _facts(rule.rule)
    rule.due_time, rule.loan_minutes, rule.changed_at, rule.changed_by = new.due_time, new.minutes, now, actor
    db.flush()
    record(db, now, "loan_rule_changed", actor, {"kind": kind, "changes": {"rule": (before, _facts(rule.rule))}},
           address)
    return rule


def _facts(rule: LoanRule) -> dict[str, object]:
    """{"due_time": "18:00"} or {"minutes": 90}: the rule for the audit log, which words it."""
    return {"due_time": f"{rule.due_time:%H:%M}"} if rule.due_time is not None else {"minutes": rule.minutes}
