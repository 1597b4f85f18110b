"""Japanese era dates (和暦), as an office prints them on a ledger: 令和8年11月27日（金）."""

from __future__ import annotations

from datetime import date

# (offset to the western year, first day, last day), newest first
ERAS = {
    "令和": (2018, date(2019, 5, 1), None),
    "平成": (1988, date(1989, 1, 8), date(2019, 4, 30)),
    "昭和": (1925, date(1926, 12, 25), date(1989, 1, 7)),
}
WEEKDAYS = "月火水木金土日"


def era_year(day: date) -> tuple[str, int]:
    """("令和", 8) for 2026-11-27."""
    for era, (offset, first, _last) in ERAS.items():
        if day >= first:
            return era, day.year - offset
    raise ValueError(f"{day} is before the 昭和 era")


def wareki(day: date, *, weekday: bool = False) -> str:
    """令和8年11月27日; the first year of an era is 元年, as printed (令和元年5月1日)."""
    era, year = era_year(day)
    text = f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    return f"{text}（{WEEKDAYS[day.weekday()]}）" if weekday else text
