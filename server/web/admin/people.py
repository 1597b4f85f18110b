"""/admin/people: the staff list, adding a person with their card, and changing them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from server.accounts.models import User
from server.api.deps import Db
from server.api.schemas import RowId
from server.api.uids import registered_as
from server.domain.cabinet import training_current
from server.domain.roster import QUALIFICATIONS, ROSTER_ROLES, roster_role
from server.people import service
from server.people.models import Card, Person
from server.people.routes import PersonIn
from server.web.admin.common import (
    EDIT,
    VIEW,
    Posted,
    audit,
    messages,
    notice,
    readers,
    text,
    ticked,
)
from server.web.admin.csv_import import parse_date
from server.web.admin.validation import Problem, check
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.render import page

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "card_uid", "key_holder", "roster_role", "qualification", "registered_on", "active")


def _listing(request: Request, db: Session) -> dict[str, Any]:
    settings = request.app.state.settings
    today = request.app.state.clock().astimezone(settings.zone).date()
    people = list(db.scalars(select(Person).order_by(Person.active.desc(), Person.name, Person.id)))
    cards: dict[int, list[str]] = {p.id: [] for p in people}
    for card in db.scalars(select(Card).where(Card.active.is_(True)).order_by(Card.created_at)):
        cards.setdefault(card.person_id, []).append(card.uid)
    rows = [{"person": p, "cards": cards[p.id],
             "expired": p.key_holder and not training_current(p.training_on, today, settings.training_valid_days)}
            for p in people]
    return {"rows": rows, "can_edit": request.state.user.role in EDIT, "readers": readers(db), **_choices(request)}


def _choices(request: Request) -> dict[str, Any]:
    t = translator(request.state.lang)
    return {"valid_days": request.app.state.settings.training_valid_days,
            "roster_roles": [("", t("roster.role.none"))] + [(r, t(f"roster.role.{r}")) for r in ROSTER_ROLES],
            "qualifications": [("", t("roster.qualification.none"))]
            + [(q, t(f"roster.qualification.{q}")) for q in QUALIFICATIONS]}


def _from_form(form: FormData, roles: list[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what was typed, to refill the form; the data for the API's schema). The roster role replaces the
    person's other roster role in `roles`; `training_on` is not typed here: it comes from /training."""
    typed = {"name": text(form, "name"), "card_uid": text(form, "card_uid"), "key_holder": ticked(form, "key_holder"),
             "active": ticked(form, "active"), "roster_role": text(form, "roster_role"),
             "qualification": text(form, "qualification"), "registered_on": text(form, "registered_on")}
    try:
        registered_on: Any = parse_date(typed["registered_on"])
    except ValueError:
        registered_on = typed["registered_on"]  # the schema refuses it, with the date message
    kept = [r for r in roles or [] if r not in ROSTER_ROLES]
    chosen = [typed["roster_role"]] if typed["roster_role"] in ROSTER_ROLES else []
    data = {"name": typed["name"], "card_uid": typed["card_uid"] or None, "key_holder": typed["key_holder"],
            "active": typed["active"], "roles": chosen + kept, "qualification": typed["qualification"] or None,
            "registered_on": registered_on}
    return typed, data


def _uid_problem(db: Session, uid: str | None, person_id: int | None = None) -> Problem | None:
    if not uid:
        return None
    used = registered_as(db, uid)
    if used is None:
        return None
    if used == "card" and person_id is not None:
        card = db.get(Card, uid)
        if card is not None and card.person_id == person_id:
            return None  # this person's own card (or an old one of theirs, given back)
    return f"admin.err.uid_taken.{used}", {}


@router.get("/admin/people", response_class=HTMLResponse)
def people_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*VIEW))],
                saved: str | None = None) -> HTMLResponse:
    return page(request, "admin/people.html", {**_listing(request, db), "values": {"active": True}, "errors": {},
                                                "notice": notice(saved)})


@router.post("/admin/people", response_class=HTMLResponse)
def add_person(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EDIT))], form: Posted) -> Response:
    typed, data = _from_form(form)
    body, problems = check(PersonIn, data)
    if body is not None and (problem := _uid_problem(db, body.card_uid)):
        problems["card_uid"] = problem
    if problems:
        return page(request, "admin/people.html", {**_listing(request, db), "values": typed,
                                                    "errors": messages(request, problems)}, status_code=422)
    assert body is not None
    person = service.add_person(db, request.app.state.clock(), name=body.name, card_uid=body.card_uid,
                                key_holder=body.key_holder, active=body.active, roles=body.roles,
                                qualification=body.qualification, registered_on=body.registered_on, by=user.name)
    audit(db, request, "person_added", {"person": person.name, "card": body.card_uid, "key_holder": body.key_holder,
                                          "roles": body.roles, "qualification": body.qualification,
                                          "registered_on": body.registered_on, "active": body.active})
    return RedirectResponse(f"/admin/people?saved=added#person-{person.id}", status_code=303)


def _person(db: Session, person_id: int) -> Person:
    person = db.get(Person, person_id)
    if person is None:
        raise HTTPException(404, f"no person {person_id}")
    return person


@router.get("/admin/people/{person_id}", response_class=HTMLResponse)
def edit_person_page(request: Request, db: Db, person_id: RowId,
                     user: Annotated[User, Depends(require_page(*EDIT))]) -> HTMLResponse:
    person = _person(db, person_id)
    cards = service.card_uids(db, person.id, active_only=True)
    values = {"name": person.name, "card_uid": cards[0] if cards else "", "key_holder": person.key_holder,
              "roster_role": roster_role(person.roles) or "", "qualification": person.qualification or "",
              "registered_on": person.registered_on.isoformat() if person.registered_on else "",
              "active": person.active}
    return page(request, "admin/person_edit.html", {"person": person, "values": values, "errors": {},
                                                     "readers": readers(db), "other_cards": cards[1:],
                                                     **_choices(request)})


@router.post("/admin/people/{person_id}", response_class=HTMLResponse)
def edit_person(request: Request, db: Db, person_id: RowId, user: Annotated[User, Depends(require_page(*EDIT))],
                form: Posted) -> Response:
    person = _person(db, person_id)
    typed, data = _from_form(form, person.roles)
    body, problems = check(PersonIn, data)
    if body is not None and (problem := _uid_problem(db, body.card_uid, person.id)):
        problems["card_uid"] = problem
    if problems:
        cards = service.card_uids(db, person.id, active_only=True)
        return page(request, "admin/person_edit.html", {
            "person": person, "values": typed, "errors": messages(request, problems), "readers": readers(db),
            "other_cards": [c for c in cards if c != typed["card_uid"].upper()], **_choices(request)},
            status_code=422)
    assert body is not None
    name = person.name
    changes = service.change_person(db, person, {"name": body.name, "key_holder": body.key_holder,
                                                 "roles": body.roles, "qualification": body.qualification,
                                                 "registered_on": body.registered_on, "active": body.active},
                                    request.app.state.clock(), user.name)
    before = service.card_uids(db, person.id, active_only=True)
    if before != ([body.card_uid] if body.card_uid else []):
        service.replace_card(db, person, body.card_uid, request.app.state.clock())
        changes["card"] = (", ".join(before) or None, body.card_uid)
    if not changes:
        return RedirectResponse(f"/admin/people?saved=unchanged#person-{person.id}", status_code=303)
    audit(db, request, "person_changed", {"person": name, "changes": changes})
    return RedirectResponse(f"/admin/people?saved=saved#person-{person.id}", status_code=303)
