"""A lost badge or card, revoked in one action on the person's page: it opens nothing from the commit on,
and every cabinet's allowlist is republished at once (not at the publisher's next round)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.accounts.models import User
from server.allowlists.nudge import republish_after_commit
from server.api.deps import Db
from server.api.schemas import RowId
from server.grants import service
from server.grants.service import GrantProblem
from server.people.models import Card, Person
from server.web.admin.common import EDIT, Posted, audit
from server.web.deps import require_page

router = APIRouter(include_in_schema=False)


@router.post("/admin/people/{person_id}/cards/{uid}/revoke", response_class=HTMLResponse)
def revoke_card(request: Request, db: Db, person_id: RowId, uid: str,
                user: Annotated[User, Depends(require_page(*EDIT))], form: Posted) -> Response:
    person, card = db.get(Person, person_id), db.get(Card, uid.upper())
    if person is None or card is None or card.person_id != person.id:
        raise HTTPException(404, "no such card of this person")
    try:
        service.revoke_card(db, card.uid)
    except GrantProblem:  # revoked already: nothing to do, and nothing to audit
        return RedirectResponse(f"/admin/people/{person.id}?revoked=1", status_code=303)
    audit(db, request, "card_revoked", {"person": person.name, "card": card.uid})
    republish_after_commit(request, db)
    return RedirectResponse(f"/admin/people/{person.id}?revoked=1", status_code=303)
