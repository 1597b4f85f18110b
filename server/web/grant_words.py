"""A grant's hours in words (「月〜金 08:00〜19:00」), for its page, the access-rights report and the audit log."""

from __future__ import annotations

from collections.abc import Callable

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _days(weekdays: list[int], t: Callable[..., str], lang: str) -> str:
    """Consecutive days as a span (月〜金), the others one by one (月・水)."""
    runs: list[list[int]] = []
    for day in sorted(set(weekdays)):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    words: list[str] = []
    for run in runs:
        names = [t(f"grants.day.{WEEKDAYS[d]}") for d in run]
        words += [t("grants.day_span", first=names[0], last=names[-1])] if len(run) > 2 else names
    return ("・" if lang == "ja" else ", ").join(words)


def hours_words(hours: list, t: Callable[..., str], lang: str) -> str:
    """Stored hours ([[weekday, "08:00", "19:00"], …]) in words; none is 「いつでも」."""
    if not hours:
        return t("grants.any_time")
    by_span: dict[tuple[str, str], list[int]] = {}
    for weekday, start, end in hours:
        by_span.setdefault((start, end), []).append(int(weekday))
    parts = [t("grants.hours_span", days=_days(days, t, lang), start=start, end=end)
             for (start, end), days in by_span.items()]
    return ("、" if lang == "ja" else "; ").join(parts)
