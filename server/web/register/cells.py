"""A 持ち出し管理簿 line as the screen, the CSV and the printout show it, in the viewer's language.

Screen and paper are compact (a due or return time on the day of the take-out shows as 17:00);
paper dates are 和暦 in Japanese; the CSV has the full western date on every time, so Excel can
sort and filter it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.checkouts.register import AccessLine, RegisterLine
from server.grants.rights import Right
from server.web.grant_words import hours_words
from server.web.print_dates import print_date, print_time
from server.web.render import duration, office_date

COLUMNS = {
    "transactions": ("out_at", "item", "kind", "case", "person", "purpose", "due_at", "returned_at", "returned_by",
                     "loan_rule", "erasure", "state"),
    "out": ("out_at", "item", "kind", "case", "person", "purpose", "due_at", "loan_rule", "state"),
    "overdue": ("due_at", "late", "item", "kind", "case", "person", "purpose", "out_at", "loan_rule"),
    "access": ("name", "can_open", "reason", "training_on", "expires_on", "cards", "cabinets"),
}
_RULE = re.compile(r"^(?P<whose>\w+): due (?:after (?P<minutes>\d+) min|(?P<time>\d{2}:\d{2}))$")


@dataclass(frozen=True)
class Cells:
    zone: object
    t: Callable[..., str]
    lang: str
    now: datetime
    full: bool  # the CSV: every time with its date
    paper: bool = False  # a printout: dates as print_dates has them

    def headers(self, report: str) -> list[str]:
        return [self.t(f"reg.col.{c}") for c in COLUMNS[report]]

    def when(self, value: datetime | None, day_of: datetime | None = None) -> str:
        if value is None:
            return ""
        if self.paper:
            return print_time(value, self.zone, self.lang, day_of=day_of)
        local = value.astimezone(self.zone)  # type: ignore[arg-type]
        if self.full or day_of is None:
            return local.strftime("%Y/%m/%d %H:%M")
        if local.date() == day_of.astimezone(self.zone).date():  # type: ignore[arg-type]
            return local.strftime("%H:%M")
        return local.strftime("%m/%d %H:%M")

    def day(self, value) -> str:
        if value is None:
            return ""
        if self.paper:
            return print_date(value, self.lang)
        return value.strftime("%Y/%m/%d") if self.full else office_date(value, self.lang)

    def loan_rule(self, words: str | None) -> str:
        """The stored words ("folder: due 18:00", "item: due after 120 min") in the viewer's language."""
        match = _RULE.match(words or "")
        if match is None:
            return words or ""
        whose = self.t("reg.rule.item") if match["whose"] == "item" else self.t(f"dash.kind.{match['whose']}")
        if match["time"]:
            return self.t("reg.rule.time", whose=whose, time=match["time"])
        return self.t("reg.rule.minutes", whose=whose, length=duration(int(match["minutes"]) * 60, self.lang))

    def erasure(self, line: RegisterLine) -> str:
        if line.erasure == "done":
            return self.t("reg.erasure.done", by=line.erased_by or "", at=self.when(line.erased_at))
        if line.erasure == "pending":
            return self.t("reg.erasure.pending" if line.returned_at else "reg.erasure.after_return")
        return self.t("reg.erasure.none")

    def state(self, line: RegisterLine) -> str:
        state = line.state(self.now)
        if state in ("overdue", "late"):
            return self.t(f"reg.state.{state}_by", late=duration(line.late_s(self.now), self.lang))
        return self.t(f"reg.state.{state}")

    def line(self, report: str, line: RegisterLine) -> list[str]:
        values = {
            "out_at": self.when(line.out_at), "item": line.item, "kind": self.t(f"dash.kind.{line.kind}"),
            "case": line.case_number or "", "person": line.person, "purpose": line.purpose or "",
            "due_at": self.when(line.due_at, None if report == "overdue" else line.out_at),
            "returned_at": self.when(line.returned_at, line.out_at), "returned_by": line.returned_by or "",
            "loan_rule": self.loan_rule(line.loan_rule), "erasure": self.erasure(line), "state": self.state(line),
            "late": duration(line.late_s(self.now), self.lang),
        }
        return [values[c] for c in COLUMNS[report]]

    def right(self, right: Right) -> str:
        """「書類キャビネット（月〜金 08:00〜19:00、2027/03/31 まで）」: a cabinet, when, and until when."""
        when = hours_words(list(right.hours), self.t, self.lang)
        if right.expires_at is not None:
            last_day = (right.expires_at.astimezone(self.zone) - timedelta(microseconds=1)).date()  # type: ignore[arg-type]
            when = self.t("reg.access.until", hours=when, day=self.day(last_day))
        return self.t("reg.access.cabinet", cabinet=right.cabinet, when=when)

    def access(self, line: AccessLine) -> list[str]:
        access = line.access
        expires = self.day(access.expires_on)
        if access.expires_soon:
            expires = self.t("reg.access.soon", date=expires)
        values = {
            "name": line.name + ("" if line.active else self.t("reg.access.inactive_mark")),
            "can_open": self.t("reg.access.yes" if access.can_open else "reg.access.no"),
            "reason": self.t(f"reg.access.reason.{access.reason}") if access.reason else "",
            "training_on": self.day(line.training_on) if line.training_on else self.t("reg.access.never"),
            "expires_on": expires, "cards": str(line.cards),
            "cabinets": ("、" if self.lang == "ja" else "; ").join(self.right(r) for r in line.rights)
            if access.can_open else "",
        }
        return [values[c] for c in COLUMNS["access"]]
