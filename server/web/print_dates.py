"""Dates on paper: 和暦 in Japanese (令和8年11月27日), western in English (2026/11/27), office time.

Every printout's header, rows and footer take their dates from here, so a page never mixes the two.
"""

from __future__ import annotations

from datetime import date, datetime

from jinja2 import pass_context

from server.wareki import wareki


def print_date(day: date | None, lang: str) -> str:
    """令和8年11月27日 / 2026/11/27."""
    if day is None:
        return ""
    return wareki(day) if lang == "ja" else f"{day:%Y/%m/%d}"


def print_time(value: datetime | None, zone, lang: str, *, day_of: datetime | None = None) -> str:
    """A moment in office time; on the day of `day_of` only the time (17:00), within its year
    the month and day (11月28日 17:00 / 11/28 17:00), otherwise the whole date."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    if day_of is None:
        return f"{print_date(local.date(), lang)} {local:%H:%M}"
    anchor = day_of.astimezone(zone).date()
    if local.date() == anchor:
        return f"{local:%H:%M}"
    if local.year != anchor.year:
        return f"{print_date(local.date(), lang)} {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}" if lang == "ja" else f"{local:%m/%d %H:%M}"


@pass_context
def print_date_filter(context, day: date | None) -> str:
    """`{{ day | print_date }}` in the page's language."""
    return print_date(day, context.get("lang", "ja"))


@pass_context
def print_time_filter(context, value: datetime | None) -> str:
    """`{{ moment | print_time }}`: the whole date and the time, in the page's language and office time."""
    return print_time(value, context["settings"].zone, context.get("lang", "ja"))
