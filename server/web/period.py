"""A period of office days typed into a page's from/to fields, with a problem next to the wrong field."""

from __future__ import annotations

from datetime import date

from server.web.admin.validation import Problem

MAX_DAYS = 366  # a year, leap day included: an audit asks for a fiscal year at most


def parse_period(values: dict[str, str], today: date) -> tuple[date, date, dict[str, Problem]]:
    """`values["from"]` and `values["to"]` as dates (today where unreadable), and what is wrong with them."""
    problems: dict[str, Problem] = {}
    days: dict[str, date] = {}
    for name in ("from", "to"):
        try:
            days[name] = date.fromisoformat(values[name])
        except ValueError:
            problems[name] = ("admin.err.date", {})
            days[name] = today
    if not problems and days["from"] > days["to"]:
        problems["from"] = ("log.err.order", {})
    elif not problems and (days["to"] - days["from"]).days >= MAX_DAYS:
        problems["to"] = ("log.err.period", {"days": MAX_DAYS})
    return days["from"], days["to"], problems
