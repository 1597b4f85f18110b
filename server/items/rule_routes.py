"""`/api/v1/loan-rules`: how long each kind of item may stay out (the office's policy)."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field, model_validator

from server.accounts.models import User
from server.api.deps import MANAGE, READ, Db, require
from server.api.schemas import In, OfficeTime, Out
from server.domain.loans import LoanRule
from server.items import rule_service
from server.items.loan_rules import KindRule

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


@router.get("", response_model=list[RuleOut], dependencies=[Depends(require(*READ))])
def list_rules(db: Db) -> list[KindRule]:
    return rule_service.all_rules(db)


@router.put("/{kind}", response_model=RuleOut)
def set_rule(kind: Kind, body: RuleIn, db: Db, request: Request,
             user: Annotated[User, Depends(require(*MANAGE))]) -> KindRule:
    """Applies to checkouts from now on; a checkout keeps the rule it was made under."""
    return rule_service.set_rule(db, request.app.state.clock(), kind,
                                 LoanRule(due_time=body.due_time, minutes=body.loan_minutes), user.name)
