"""The 受付簿's rules for one survey request (調査依頼): its state, what may happen next, its retention
date and which deadline levels it has reached.

Pure: facts in, answer out. A case goes 受付 (received) → 調査済 (surveyed) → 提出済 (submitted) →
廃棄済 (destroyed); a request the ward takes back is 取下げ (withdrawn) and is destroyed the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

KINDS = ("new", "renewal", "change")  # 新規 / 更新 / 区分変更
METHODS = ("shredder", "dissolve", "erase")  # シュレッダー / 溶解 / データ消去
STATES = ("received", "surveyed", "submitted", "withdrawn", "destroyed")
ACTIONS = ("survey", "submit", "withdraw", "destroy")
# The deadline levels, each chased once per case.
LEVELS = ("deadline_near", "deadline_passed", "report_late", "retention_ended")
NUMBER_MAX = 64
NOTE_MAX = 1000
# The ward's case number: letters, digits and - _ / . only, so a name or an address cannot be one.
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]{0,63}")
# What a resident's personal data looks like in a free note: a postal code, a phone number, a 10-digit
# insured number (被保険者番号), an honorific after a name, an address.
_PERSONAL = (
    ("postal_code", re.compile(r"〒|\b\d{3}-\d{4}\b")),
    ("phone", re.compile(r"\b0\d{1,4}-\d{1,4}-\d{3,4}\b|\b0[5789]0\d{8}\b")),
    ("insured_number", re.compile(r"(?<!\d)\d{10}(?!\d)")),
    ("name", re.compile(r"様|さん|殿")),
    ("address", re.compile(r"丁目|番地|号室|(?<!\d)\d{1,3}-\d{1,3}-\d{1,3}(?!\d)")),
)


@dataclass(frozen=True)
class CaseFacts:
    received_on: date
    deadline: date | None = None
    surveyed_on: date | None = None
    submitted_on: date | None = None
    withdrawn_on: date | None = None
    retain_until: date | None = None
    destroyed: bool = False


@dataclass(frozen=True)
class ChaseRules:
    """Per-office: warn this many days before the survey deadline; the report is due this many days
    after the survey."""

    warn_before_days: int
    report_within_days: int


def state(case: CaseFacts) -> str:
    if case.destroyed:
        return "destroyed"
    if case.withdrawn_on:
        return "withdrawn"
    if case.submitted_on:
        return "submitted"
    if case.surveyed_on:
        return "surveyed"
    return "received"


def retain_until(closed_on: date, retention_days: int) -> date:
    """The memos are kept locked until this day (inclusive): the rule in force counted from the day the
    report was submitted or the request withdrawn."""
    return closed_on + timedelta(days=retention_days)


def refusal(action: str, case: CaseFacts, *, on: date, today: date, items_out: int) -> str | None:
    """Why `action` on day `on` cannot happen now ('wrong_state', 'items_out', 'before_received',
    'before_survey', 'in_future', 'retention_running'), or None when it may."""
    allowed = {"survey": ("received",), "submit": ("surveyed",), "withdraw": ("received", "surveyed"),
               "destroy": ("submitted", "withdrawn")}
    if state(case) not in allowed[action]:
        return "wrong_state"
    if on > today:
        return "in_future"
    if on < case.received_on:
        return "before_received"
    if action == "submit" and case.surveyed_on and on < case.surveyed_on:
        return "before_survey"
    if action in ("withdraw", "destroy") and items_out:
        return "items_out"
    if action == "destroy" and case.retain_until and on < case.retain_until:
        return "retention_running"
    return None


def witness_problem(destroyed_by: int, witness: int) -> str | None:
    """A destruction is witnessed by somebody else ('same_person'), or None."""
    return "same_person" if destroyed_by == witness else None


def levels_reached(case: CaseFacts, today: date, rules: ChaseRules) -> list[str]:
    """The deadline levels this case has reached today, in order."""
    reached = []
    now = state(case)
    if now == "received" and case.deadline:
        if case.deadline - timedelta(days=rules.warn_before_days) <= today <= case.deadline:
            reached.append("deadline_near")
        if today > case.deadline:
            reached.append("deadline_passed")
    if now == "surveyed" and case.surveyed_on and today > case.surveyed_on + timedelta(days=rules.report_within_days):
        reached.append("report_late")
    if now in ("submitted", "withdrawn") and case.retain_until and today > case.retain_until:
        reached.append("retention_ended")
    return reached


def papers_due_back(case: CaseFacts, today: date) -> bool:
    """After the survey day, or once the report is in, the case's papers belong in the cabinet."""
    return bool(case.submitted_on or case.withdrawn_on or (case.surveyed_on and today > case.surveyed_on))


def number_problem(number: str) -> str | None:
    """A case number is the ward's number, never a name ('empty', 'too_long', 'not_a_number')."""
    if not number:
        return "empty"
    if len(number) > NUMBER_MAX:
        return "too_long"
    return None if _NUMBER.fullmatch(number) else "not_a_number"


def personal_data_in(text: str) -> str | None:
    """What in a free note looks like a resident's personal data ('postal_code', 'phone',
    'insured_number', 'name', 'address'), or None."""
    for what, pattern in _PERSONAL:
        if pattern.search(text):
            return what
    return None
