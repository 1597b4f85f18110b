"""Rendering a page: the template, the person's language, office time, and the CSRF token."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from server.alerts import notes
from server.api.uid_view import SEE_UIDS, mask_uids_in, shown
from server.wareki import wareki
from server.web.i18n import translator
from server.web.menu import EVERYONE as EVERYONE  # re-exported: the pages' guards import them from here
from server.web.menu import OVERSIGHT as OVERSIGHT
from server.web.menu import menu_for
from server.web.print_dates import print_date_filter, print_time_filter

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(print_date=print_date_filter, print_time=print_time_filter)


@pass_context
def shown_uid(context, uid: str | None) -> str | None:
    """A uid as the viewer may see it: whole for admins and managers, else its last four digits."""
    return shown(uid, getattr(context.get("user"), "role", None))


@pass_context
def uids_masked(context, text: str | None) -> str | None:
    """Free text (an alert's subject, an audit entry) with the uids in it as the viewer may see them."""
    if text is None or getattr(context.get("user"), "role", None) in SEE_UIDS:
        return text
    return mask_uids_in(text)


templates.env.globals["shown_uid"] = templates.env.filters["shown_uid"] = shown_uid
templates.env.filters["uids_masked"] = uids_masked
WEEKDAYS_JA = "月火水木金土日"


def office_time(value: datetime | None, zone, lang: str = "ja", *, with_date: bool = True) -> str:
    """As an office prints it: 2026/11/27(金) 09:05, in office time."""
    if value is None:
        return "—"
    local = value.astimezone(zone)
    if not with_date:
        return local.strftime("%H:%M")
    weekday = WEEKDAYS_JA[local.weekday()] if lang == "ja" else local.strftime("%a")
    return f"{local:%Y/%m/%d}({weekday}) {local:%H:%M}"


def office_date(value: date | None, lang: str = "ja") -> str:
    if value is None:
        return "—"
    weekday = WEEKDAYS_JA[value.weekday()] if lang == "ja" else value.strftime("%a")
    return f"{value:%Y/%m/%d}({weekday})"


def duration(seconds: float, lang: str = "ja") -> str:
    """How late, in the largest sensible units: 2日3時間, 45分 / 2 d 3 h, 45 min."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "ja":
        parts = [f"{days}日" if days else "", f"{hours}時間" if hours else "", f"{mins}分" if not days else ""]
    else:
        parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if not days else ""]
    return (" " if lang == "en" else "").join(p for p in parts if p) or ("0分" if lang == "ja" else "0 min")


def uid_tail(uid: str | None) -> str:
    """A card or tag as a page shows it outside the registers: its last four characters (…E5F6)."""
    return f"…{uid.strip()[-4:]}" if uid else "—"


def page(request: Request, name: str, context: dict | None = None, *, status_code: int = 200) -> HTMLResponse:
    """Render `name` with what every page needs: `t`, `lang`, `user`, `csrf`, the menu, time formatting."""
    state = request.state
    lang = getattr(state, "lang", "ja")
    zone = request.app.state.settings.zone
    user = getattr(state, "user", None)
    base = {
        "t": translator(lang), "lang": lang, "user": user, "csrf": getattr(state, "csrf", ""),
        "settings": request.app.state.settings, "path": request.url.path,
        "menu": menu_for(getattr(user, "role", None), request.url.path),
        "idle_lock_s": int(request.app.state.settings.idle_lock_min * 60),
        "otime": lambda v, **kw: office_time(v, zone, lang, **kw),
        "odate": lambda v: office_date(v, lang), "duration": lambda s: duration(s, lang), "wareki": wareki,
        "uid_tail": uid_tail, "alert_notes": lambda stored: notes.worded(stored, translator(lang), zone, lang),
    }
    return templates.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status_code)
