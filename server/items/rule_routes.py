"""`/api/v1/loan-rules`: how long each kind of item may stay out (the office's policy)."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field, model_validator

from server.accounts.models import User
from server.api.deps import MANAGE, READ, Db, require
from server.api.schemas import In, OfficeTime, Out
from server.audit.service import record
from server.items.loan_rules import DEFAULTS, KINDS, KindRule

router = APIRouter(prefix="/loan-rules", tags=["items"])
Kind = Literal["folder", "phone", "media", "laptop", "key"]


class RuleIn(In):
    due_time: time | None = Field(None, description="back by this time of day (the next one after the checkout) …")
    loan_minutes: int | None = Field(None, ge=1, le=60 * 24 * 60, description="… or after this many minutes")

    @model_validator(mode="after")
    def _one_rule(self) -> RuleIn:
        if (self.due_time is None) == (self.loan_minutes is None):
            raise ValueError("give exactly one of due_time and loan_minutes")
        return self


class RuleOut(Out):
    kind: str
    due_time: time | None
    loan_minutes: int | None
    changed_at: OfficeTime | None
    changed_by: str | None


def _rule(db, kind: str) -> KindRule:
    rule = db.get(KindRule, kind)
    if rule is None:  # a kind the migration did not seed: its default, until someone sets one
        default = DEFAULTS[kind]
        rule = KindRule(kind=kind, due_time=default.due_time, loan_minutes=default.minutes)
        db.add(rule)
    return rule


@router.get("", response_model=list[RuleOut], dependencies=[Depends(require(*READ))])
def list_rules(db: Db) -> list[KindRule]:
    return [_rule(db, kind) for kind in KINDS]


@router.put("/{kind}", response_model=RuleOut)
def set_rule(kind: Kind, body: RuleIn, db: Db, request: Request,
             user: Annotated[User, Depends(require(*MANAGE))]) -> KindRule:
    """Applies to checkouts from now on; a checkout keeps the rule it was made under."""
    rule = _rule(db, kind)
    before = rule.rule.describe()
    now = request.app.state.clock()
    rule.due_time, rule.loan_minutes, rule.changed_at, rule.changed_by = body.due_time, body.loan_minutes, now, user.name
    db.flush()
    record(db, now, "loan_rule_changed", user.name, f"{kind}: {before} → {rule.rule.describe()}")
    return rule
