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
from server.web.render import page

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "card_uid", "key_holder", "training_on", "active")


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
    return {"rows": rows, "can_edit": request.state.user.role in EDIT, "readers": readers(db),
            "valid_days": settings.training_valid_days}


def _from_form(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what was typed, to refill the form; the data for the API's schema)."""
    typed = {"name": text(form, "name"), "card_uid": text(form, "card_uid"), "training_on": text(form, "training_on"),
             "key_holder": ticked(form, "key_holder"), "active": ticked(form, "active")}
    try:
        training_on: Any = parse_date(typed["training_on"])
    except ValueError:
        training_on = typed["training_on"]  # the schema refuses it, with the date message
    data = {"name": typed["name"], "card_uid": typed["card_uid"] or None, "key_holder": typed["key_holder"],
            "training_on": training_on, "active": typed["active"]}
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
                                key_holder=body.key_holder, training_on=body.training_on, active=body.active)
    audit(db, request, "person_added", {"person": person.name, "card": body.card_uid, "key_holder": body.key_holder,
                                          "training_on": body.training_on, "active": body.active})
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
              "training_on": person.training_on.isoformat() if person.training_on else "", "active": person.active}
    return page(request, "admin/person_edit.html", {"person": person, "values": values, "errors": {},
                                                     "readers": readers(db), "other_cards": cards[1:],
                                                     "valid_days": request.app.state.settings.training_valid_days})


@router.post("/admin/people/{person_id}", response_class=HTMLResponse)
def edit_person(request: Request, db: Db, person_id: RowId, user: Annotated[User, Depends(require_page(*EDIT))],
                form: Posted) -> Response:
    person = _person(db, person_id)
    typed, data = _from_form(form)
    body, problems = check(PersonIn, data)
    if body is not None and (problem := _uid_problem(db, body.card_uid, person.id)):
        problems["card_uid"] = problem
    if problems:
        cards = service.card_uids(db, person.id, active_only=True)
        return page(request, "admin/person_edit.html", {
            "person": person, "values": typed, "errors": messages(request, problems), "readers": readers(db),
            "other_cards": [c for c in cards if c != typed["card_uid"].upper()],
            "valid_days": request.app.state.settings.training_valid_days}, status_code=422)
    assert body is not None
    name = person.name
    changes = service.change_person(db, person, {"name": body.name, "key_holder": body.key_holder,
                                                 "training_on": body.training_on, "active": body.active})
    before = service.card_uids(db, person.id, active_only=True)
    if before != ([body.card_uid] if body.card_uid else []):
        service.replace_card(db, person, body.card_uid, request.app.state.clock())
        changes["card"] = (", ".join(before) or None, body.card_uid)
    if not changes:
        return RedirectResponse(f"/admin/people?saved=unchanged#person-{person.id}", status_code=303)
    audit(db, request, "person_changed", {"person": name, "changes": changes})
    return RedirectResponse(f"/admin/people?saved=saved#person-{person.id}", status_code=303)
