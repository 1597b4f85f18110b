"""`/api/v1/card-auth`: which cards can prove they are no copy, and which readers and people require it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status

from server.accounts.models import User
from server.api.deps import MANAGE, Db, require
from server.api.schemas import In
from server.card_keys import service

router = APIRouter(prefix="/card-auth", tags=["card-auth"])


class KindIn(In):
    kind: Literal["ntag424_sun", "felica_lite_s_mac"] | None


class RequiredIn(In):
    required: bool


def _found(change, *args) -> dict:
    try:
        change(*args)
    except service.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return {"ok": True}


@router.put("/cards/{uid}")
def set_card_kind(uid: str, body: KindIn, db: Db, request: Request,
                  user: Annotated[User, Depends(require(*MANAGE))]) -> dict:
    """What kind of card a staff card is (null: a plain card, known by its number only)."""
    return _found(service.mark_card, db, request.app.state.clock(), user.name, uid, body.kind)


@router.put("/readers/{reader_id}")
def require_at_reader(reader_id: str, body: RequiredIn, db: Db, request: Request,
                      user: Annotated[User, Depends(require(*MANAGE))]) -> dict:
    """Whether cards that can prove they are no copy must, at this reader (takes effect within 30 s)."""
    return _found(service.require_at_reader, db, request.app.state.clock(), user.name, reader_id, body.required)


@router.put("/people/{person_id}")
def require_for_person(person_id: int, body: RequiredIn, db: Db, request: Request,
                       user: Annotated[User, Depends(require(*MANAGE))]) -> dict:
    """Whether every tap of this person's cards must carry a valid proof."""
    return _found(service.require_for_person, db, request.app.state.clock(), user.name, person_id, body.required)
