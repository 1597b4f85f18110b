"""What the inspection pages share: the period from the query string, and a section and its findings in the
viewer's words (screen, CSV and paper)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import Request

from server.api.uid_view import shown
from server.domain import self_inspection
from server.inspection import self_check
from server.inspection.evidence import Finding, Period, Section
from server.wareki import wareki
from server.web.admin.validation import Problem
from server.web.i18n import translator
from server.web.period import parse_period
from server.web.print_dates import print_date, print_time
from server.web.render import office_date, office_time

FINDING_KEYS = ("kind", "at", "subject", "detail")


@dataclass(frozen=True)
class Asked:
    period: Period
    values: dict[str, str]
    problems: dict[str, Problem]


def asked(request: Request, start: str | None, end: str | None) -> Asked:
    """The period typed in; this month so far when none is."""
    now = request.app.state.clock()
    zone = request.app.state.settings.zone
    today = now.astimezone(zone).date()
    values = {"from": (start or today.replace(day=1).isoformat()).strip()[:20],
              "to": (end or today.isoformat()).strip()[:20]}
    first, last, problems = parse_period(values, today)
    return Asked(Period(first, last, zone, now), values, problems)


def month_words(month: str, t) -> str:
    return t("insp.month", year=int(month[:4]), month=int(month[5:]))


@dataclass(frozen=True)
class Words:
    """Findings and dates in one viewer's language, for the screen (`paper` False) or for paper and CSV."""

    t: Any
    lang: str
    zone: Any
    role: str | None
    paper: bool = False

    def when(self, value: datetime | date | str | None) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return month_words(value, self.t)
        if isinstance(value, datetime):
            return print_time(value, self.zone, self.lang) if self.paper else office_time(value, self.zone, self.lang)
        return print_date(value, self.lang) if self.paper else office_date(value, self.lang)

    def finding(self, f: Finding) -> list[str]:
        subject = f.subject or (shown(f.uid, self.role) or "" if f.uid else "")
        return [self.t(f"insp.kind.{f.kind}"), self.when(f.at), subject, self.t(f.detail) if f.detail else ""]

    def counts(self, section: Section) -> list[tuple[str, int, str | None]]:
        return [(self.t(f"insp.count.{c.key}"), c.n, c.link) for c in section.counts]

    def not_yet(self, section: Section) -> str | None:
        if not section.not_yet:
            return None
        sep = "、" if self.lang == "ja" else ", "
        return self.t("insp.not_yet", what=sep.join(self.t(f"insp.not_yet.{s}") for s in section.not_yet))


def words(request: Request, *, paper: bool = False) -> Words:
    lang = request.state.lang
    return Words(translator(lang), lang, request.app.state.settings.zone, request.state.user.role, paper)


def period_text(p: Period, lang: str) -> tuple[str, str]:
    def label(day: date) -> str:
        return f"{wareki(day)}（{office_date(day, lang)}）" if lang == "ja" else office_date(day, lang)

    return label(p.first), label(p.last)


def checklist_context(request: Request, db, p: Period) -> dict[str, Any]:
    """The self-inspection block of rules (7) and (8): each month's latest answer and every answer so far."""
    t = translator(request.state.lang)
    months = self_inspection.months(p.first, p.last, p.today)
    latest = self_check.latest(db, months)
    return {"months": [(m, month_words(m, t)) for m in months], "latest": latest,
            "history": self_check.history(db, months), "questions": self_inspection.QUESTIONS,
            "can_answer": request.state.user.role == "manager"}
