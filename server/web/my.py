"""/my 「わたしの持ち出し」: a surveyor's own page, made for a phone on the road.

What they hold now and when each is due (overdue first, in red), their devices back in the cabinet
waiting for the "調査データ消去済み" confirmation (several at once, through /devices/erased), and
when their information-security training lapses. Only their own: the account's staff record.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.checkouts.models import Checkout
from server.checkouts.not_erased import PENDING
from server.domain.key_access import SOON_DAYS, training_expires_on
from server.items.models import Item
from server.people.models import Person
from server.web.deps import require_page
from server.web.devices import ACT, DONE
from server.web.render import page

router = APIRouter(include_in_schema=False)
PROBLEMS = {"none_chosen": "dev.err.none_chosen"}
SHOWN = 200


def _mine(db: Session, person_id: int) -> tuple[list, list]:
    base = select(Checkout, Item).join(Item, Item.id == Checkout.item_id).where(Checkout.person_id == person_id)
    held = db.execute(base.where(Checkout.returned_at.is_(None)).order_by(Checkout.due_at, Checkout.id)
                      .limit(SHOWN)).all()
    waiting = db.execute(base.where(PENDING, Checkout.returned_at.is_not(None))
                         .order_by(Checkout.returned_at, Checkout.id).limit(SHOWN)).all()
    return held, waiting


def _training(person: Person, request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    today = request.app.state.clock().astimezone(settings.zone).date()
    lapses = training_expires_on(person.training_on, settings.training_valid_days)
    return {"on": person.training_on, "lapses": lapses, "lapsed": lapses is None or lapses < today,
            "soon": lapses is not None and 0 <= (lapses - today).days < SOON_DAYS}


@router.get("/my", response_class=HTMLResponse)
def my_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*ACT))],
            done: str | None = None, problem: str | None = None) -> HTMLResponse:
    person = db.get(Person, user.person_id) if user.person_id else None
    now = request.app.state.clock()
    context: dict[str, Any] = {"person": person, "now": now, "notice": DONE.get(done or ""),
                               "problem": PROBLEMS.get(problem or ""), "held": [], "waiting": [], "training": None}
    if person is not None:
        held, waiting = _mine(db, person.id)
        context.update(held=[{"checkout": c, "item": i, "overdue": c.due_at <= now} for c, i in held],
                       waiting=[{"checkout": c, "item": i} for c, i in waiting],
                       training=_training(person, request))
    return page(request, "my.html", context)
