"""/admin/grants (キャビネットの利用権限): who may open which cabinet and when, one-off openings, the office's closed days.

Every change is audited and wakes the allowlist publisher after the commit, so an offline cabinet
learns it at once (server/allowlists/nudge.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.allowlists.nudge import republish_after_commit
from server.api.deps import Db
from server.api.schemas import RowId
from server.domain.grants import YEAR_END, Slot, public_holiday_names
from server.grants import service
from server.grants.models import CabinetGrant, ClosedDay, GrantOneOff
from server.grants.service import GrantProblem
from server.people.models import Person
from server.readers.models import Reader
from server.web.admin.common import EDIT, VIEW, Posted, audit, notice, text
from server.web.deps import require_page
from server.web.grant_words import hours_words
from server.web.i18n import translator
from server.web.render import page

router = APIRouter(include_in_schema=False)
JOB_ROLES = ("surveyor", "manager", "receptionist")
HOLIDAYS_AHEAD = timedelta(days=120)  # the public holidays listed on the page, for the manager's information


@dataclass
class Shown:
    grant: CabinetGrant
    who: str
    hours: str
    one_offs: list[GrantOneOff]


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(request.app.state.settings.zone).date()


def _who(grant: CabinetGrant, names: dict[int, str], t) -> str:
    if grant.person_id is not None:
        return names.get(grant.person_id, "—")
    return t("grants.everyone_with", role=t(f"role.{grant.role}"))


def _context(request: Request, db: Session, errors: dict[str, str] | None = None,
             values: dict[str, Any] | None = None) -> dict[str, Any]:
    lang = request.state.lang
    t, today = translator(lang), _today(request)
    cabinets = list(db.scalars(select(Reader).where(Reader.role == "cabinet").order_by(Reader.id)))
    people = list(db.execute(select(Person.id, Person.name).where(Person.active, Person.key_holder)
                             .order_by(Person.name)).all())
    names = dict(db.execute(select(Person.id, Person.name)).all())
    one_offs: dict[int, list[GrantOneOff]] = {}
    for one_off in db.scalars(select(GrantOneOff).where(GrantOneOff.day >= today).order_by(GrantOneOff.day)):
        one_offs.setdefault(one_off.grant_id, []).append(one_off)
    grants: dict[str, list[Shown]] = {}
    for grant in db.scalars(select(CabinetGrant).order_by(CabinetGrant.cabinet_id, CabinetGrant.id)):
        grants.setdefault(grant.cabinet_id, []).append(
            Shown(grant, _who(grant, names, t), hours_words(grant.hours, t, lang), one_offs.get(grant.id, [])))
    holidays = public_holiday_names(today, today + HOLIDAYS_AHEAD, "ja" if lang == "ja" else "en_US")
    return {"cabinets": cabinets, "grants": grants, "people": people, "roles": JOB_ROLES,
            "closed_days": list(db.scalars(select(ClosedDay).where(ClosedDay.day >= today).order_by(ClosedDay.day))),
            "holidays": sorted(holidays.items()), "year_end": YEAR_END, "today": today,
            "can_edit": request.state.user.role in EDIT, "errors": errors or {}, "values": values or {},
            "expired": lambda g: g.expires_at is not None and g.expires_at <= request.app.state.clock()}


def _again(request: Request, db: Session, problems: dict[str, str], values: dict[str, Any]) -> HTMLResponse:
    t = translator(request.state.lang)
    errors = {field: t(key) for field, key in problems.items()}
    return page(request, "admin/grants.html", {**_context(request, db, errors, values), "notice": None},
                status_code=422)


def _clock_time(typed: str) -> time | None:
    try:
        return time.fromisoformat(unicodedata.normalize("NFKC", typed).strip()) if typed else None
    except ValueError:
        return None


def _day(typed: str) -> date | None:
    try:
        return date.fromisoformat(unicodedata.normalize("NFKC", typed).strip().replace("/", "-")) if typed else None
    except ValueError:
        return None


def _hours(form: Any, problems: dict[str, str], prefix: str = "") -> tuple[list[Slot], date | None]:
    """The weekly hours (days ticked, from–to) and the expiry typed in a grant's form."""
    days = sorted({int(d) for d in form.getlist("days") if str(d) in "0123456"})
    starts, ends = _clock_time(text(form, "starts")), _clock_time(text(form, "ends"))
    slots: list[Slot] = []
    if days:
        if starts is None or ends is None:
            problems[prefix + "starts"] = "grants.err.time"
        elif not starts < ends:
            problems[prefix + "ends"] = "grants.err.order"
        else:
            slots = [Slot(d, starts, ends) for d in days]
    typed_expiry = text(form, "expires_on")
    expiry = _day(typed_expiry)
    if typed_expiry and expiry is None:
        problems[prefix + "expires_on"] = "grants.err.date"
    return slots, expiry


def _expires_at(request: Request, last_day: date | None) -> datetime | None:
    """Valid through its last day: it ends at midnight office time."""
    if last_day is None:
        return None
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=request.app.state.settings.zone)


def _done(request: Request, db: Session, anchor: str) -> RedirectResponse:
    republish_after_commit(request, db)
    return RedirectResponse(f"/admin/grants?saved=saved#{anchor}", status_code=303)


def _grant(db: Session, grant_id: int) -> CabinetGrant:
    grant = db.get(CabinetGrant, grant_id)
    if grant is None:
        raise HTTPException(404, f"no grant {grant_id}")
    return grant


def _facts(grant: CabinetGrant, db: Session) -> dict[str, Any]:
    person = db.get(Person, grant.person_id) if grant.person_id is not None else None
    return {"cabinet": grant.cabinet_id, "person": person.name if person else None, "job_role": grant.role}


@router.get("/admin/grants", response_class=HTMLResponse)
def grants_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*VIEW))],
                saved: str | None = None) -> HTMLResponse:
    return page(request, "admin/grants.html", {**_context(request, db), "notice": notice(saved)})


@router.post("/admin/grants", response_class=HTMLResponse)
def add_grant(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EDIT))], form: Posted) -> Response:
    problems: dict[str, str] = {}
    cabinet = db.get(Reader, text(form, "cabinet"))
    if cabinet is None or cabinet.role != "cabinet":
        problems["cabinet"] = "grants.err.cabinet"
    kind, _, value = text(form, "who").partition(":")
    person_id = int(value) if kind == "person" and value.isdigit() and db.get(Person, int(value)) else None
    role = value if kind == "role" and value in JOB_ROLES else None
    if person_id is None and role is None:
        problems["who"] = "grants.err.who"
    slots, expiry = _hours(form, problems)
    if problems:
        return _again(request, db, problems, {**dict(form), "days": [int(d) for d in form.getlist("days")
                                                                      if str(d).isdigit()]})
    assert cabinet is not None
    grant = service.add_grant(db, cabinet_id=cabinet.id, person_id=person_id, role=role, slots=slots,
                              expires_at=_expires_at(request, expiry), now=request.app.state.clock(), by=user.name)
    audit(db, request, "grant_added", {**_facts(grant, db), "hours": grant.hours, "until": grant.expires_at})
    return _done(request, db, f"cabinet-{cabinet.id}")


@router.post("/admin/grants/{grant_id}", response_class=HTMLResponse)
def change_grant(request: Request, db: Db, grant_id: RowId, user: Annotated[User, Depends(require_page(*EDIT))],
                 form: Posted) -> Response:
    grant = _grant(db, grant_id)
    problems: dict[str, str] = {}
    slots, expiry = _hours(form, problems, f"g{grant.id}-")
    if problems:
        return _again(request, db, problems, {})
    changes = service.set_hours(db, grant, slots, _expires_at(request, expiry))
    if not changes:
        return RedirectResponse(f"/admin/grants?saved=unchanged#grant-{grant.id}", status_code=303)
    audit(db, request, "grant_changed", {**_facts(grant, db), "changes": changes})
    return _done(request, db, f"grant-{grant.id}")


@router.post("/admin/grants/{grant_id}/remove", response_class=HTMLResponse)
def remove_grant(request: Request, db: Db, grant_id: RowId, user: Annotated[User, Depends(require_page(*EDIT))],
                 form: Posted) -> Response:
    grant = _grant(db, grant_id)
    facts = {**_facts(grant, db), "hours": grant.hours}
    try:
        service.remove_grant(db, grant)
    except GrantProblem as problem:
        return _again(request, db, {f"g{grant.id}-": problem.key}, {})
    audit(db, request, "grant_removed", facts)
    return _done(request, db, f"cabinet-{facts['cabinet']}")


@router.post("/admin/grants/{grant_id}/one-offs", response_class=HTMLResponse)
def add_one_off(request: Request, db: Db, grant_id: RowId, user: Annotated[User, Depends(require_page(*EDIT))],
                form: Posted) -> Response:
    grant = _grant(db, grant_id)
    prefix, problems = f"o{grant.id}-", {}
    day, starts, ends = _day(text(form, "day")), _clock_time(text(form, "starts")), _clock_time(text(form, "ends"))
    if day is None:
        problems[prefix + "day"] = "grants.err.date"
    elif day < _today(request):
        problems[prefix + "day"] = "grants.err.past"
    if starts is None or ends is None:
        problems[prefix + "starts"] = "grants.err.time"
    if problems:
        return _again(request, db, problems, {})
    assert day is not None and starts is not None and ends is not None
    try:
        one_off = service.add_one_off(db, grant, day=day, starts=starts, ends=ends, reason=text(form, "reason"),
                                      now=request.app.state.clock(), by=user.name)
    except GrantProblem as problem:
        return _again(request, db, {prefix + ("reason" if problem.key == "grants.err.reason" else "ends"):
                                    problem.key}, {})
    audit(db, request, "grant_one_off_added", {**_facts(grant, db), "day": one_off.day.isoformat(),
                                               "hours": [[day.weekday(), f"{starts:%H:%M}", f"{ends:%H:%M}"]],
                                               "note": one_off.reason})
    return _done(request, db, f"grant-{grant.id}")


@router.post("/admin/closed-days", response_class=HTMLResponse)
def add_closed_day(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EDIT))],
                   form: Posted) -> Response:
    day, label = _day(text(form, "day")), text(form, "label")
    problems = {}
    if day is None:
        problems["closed-day"] = "grants.err.date"
    if not label or len(label) > 100:
        problems["closed-label"] = "grants.err.label"
    if not problems:
        assert day is not None
        try:
            service.add_closed_day(db, day, label, now=request.app.state.clock(), by=user.name)
        except GrantProblem as problem:
            problems["closed-day"] = problem.key
    if problems:
        return _again(request, db, problems, {"closed-day": text(form, "day"), "closed-label": label})
    audit(db, request, "closed_day_added", {"day": day.isoformat() if day else None, "note": label})
    return _done(request, db, "closed-days")


@router.post("/admin/closed-days/{day}/remove", response_class=HTMLResponse)
def remove_closed_day(request: Request, db: Db, day: date, user: Annotated[User, Depends(require_page(*EDIT))],
                      form: Posted) -> Response:
    closed = db.get(ClosedDay, day)
    if closed is None:
        raise HTTPException(404, f"no closed day {day}")
    audit(db, request, "closed_day_removed", {"day": day.isoformat(), "note": closed.label})
    db.delete(closed)
    return _done(request, db, "closed-days")
