"""The 持ち出し管理簿's filters from the query string: the report, the period and the narrowing fields,
with a problem next to each field that is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from fastapi import Request

from server.accounts.models import User
from server.checkouts.register import STATES, RegisterFilter
from server.items.loan_rules import KINDS
from server.web.admin.validation import Problem
from server.web.period import parse_period

REPORTS = ("transactions", "out", "overdue", "access")
TEXT_MAX = 100


@dataclass(frozen=True)
class Query:
    report: str
    start: date
    end: date  # inclusive
    filter: RegisterFilter
    page: int  # 1-based

    def bounds(self, zone) -> tuple[datetime, datetime]:
        """The period as office days: from `start` 00:00 to the midnight after `end`."""
        return (datetime.combine(self.start, time(0), tzinfo=zone),
                datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone))


def _text(value: str | None) -> str:
    return (value or "").strip()[:TEXT_MAX]


def parse(request: Request, user: User, params: dict[str, str | None]) -> tuple[Query, dict[str, Problem],
                                                                            dict[str, str]]:
    """What the page was asked for; the period defaults to this month so far."""
    today = request.app.state.clock().astimezone(request.app.state.settings.zone).date()
    start_default = today.replace(day=1)
    values = {"report": params.get("report") if params.get("report") in REPORTS else "transactions",
              "from": _text(params.get("from")) or start_default.isoformat(),
              "to": _text(params.get("to")) or today.isoformat(),
              "person": _text(params.get("person")), "item": _text(params.get("item")),
              "kind": params.get("kind") if params.get("kind") in KINDS else "",
              "case": _text(params.get("case")),
              "state": params.get("state") if params.get("state") in STATES else ""}
    start, end, problems = parse_period(values, today)
    try:
        page = max(1, min(int(params.get("page") or 1), 100_000))
    except ValueError:
        page = 1
    own = user.role == "surveyor"
    narrowing = RegisterFilter(person=values["person"], item=values["item"], kind=values["kind"],
                               case=values["case"], state=values["state"], own_only=own,
                               holder_id=user.person_id if own else None)
    return Query(values["report"], start, end, narrowing, page), problems, values
