"""`/api/v1/stocktakes`: counting a cabinet by tapping its items, and the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from server.accounts.models import User
from server.api.deps import MANAGE, READ, Db, Paging, require
from server.api.schemas import In, OfficeTime, Out, RowId
from server.checkouts.routes import ItemRef
from server.stocktakes import service
from server.stocktakes.models import Stocktake

router = APIRouter(prefix="/stocktakes", tags=["stocktakes"])


class StocktakeIn(In):
    cabinet: str = Field(min_length=1, max_length=32, description="id of the cabinet reader to count")


class LineOut(BaseModel):
    item: ItemRef
    outcome: str = Field(description="found | missing | unexpected | on_loan")
    detail: str | None = Field(description="why:what — elsewhere:<home cabinet>, on_loan:<holder>, lost:, retired:")
    scan_id: str | None = Field(description="the tap that found it")


class StocktakeOut(Out):
    id: int
    cabinet: str
    state: str = Field(description="open | finished | cancelled")
    started_at: OfficeTime
    started_by: str
    finished_at: OfficeTime | None
    finished_by: str | None


class StocktakeDetailOut(StocktakeOut):
    lines: list[LineOut] = Field(description="the result, once finished: missing, unexpected, on loan, found")


def _out(stocktake: Stocktake) -> StocktakeOut:
    return StocktakeOut(id=stocktake.id, cabinet=stocktake.cabinet_id, state=stocktake.state,
                        started_at=stocktake.started_at, started_by=stocktake.started_by,
                        finished_at=stocktake.finished_at, finished_by=stocktake.finished_by)


def _detail(db: Db, stocktake: Stocktake) -> StocktakeDetailOut:
    lines = [LineOut(item=ItemRef(id=item.id, label=item.label, kind=item.kind, case=item.case_number),
                     outcome=line.outcome, detail=line.detail, scan_id=line.scan_id)
             for line, item in service.lines(db, stocktake)]
    return StocktakeDetailOut(**_out(stocktake).model_dump(), lines=lines)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("", response_model=list[StocktakeOut], dependencies=[Depends(require(*READ))])
def list_stocktakes(db: Db, page: Paging) -> list[StocktakeOut]:
    return [_out(s) for s in service.listing(db, page.limit, page.offset)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=StocktakeOut)
def start_stocktake(body: StocktakeIn, request: Request, db: Db,
                    user: Annotated[User, Depends(require(*MANAGE))]) -> StocktakeOut:
    """From now on, item taps on this cabinet's reader are counted (`stocktake`), not lent. 409 if one is open."""
    try:
        stocktake = service.start(db, body.cabinet, by=user.name, at=request.app.state.clock(),
                                  address=_address(request))
    except service.NotACabinet:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"{body.cabinet!r} is not a registered cabinet reader") from None
    except service.AlreadyOpen as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _out(stocktake)


@router.get("/{stocktake_id}", response_model=StocktakeDetailOut, dependencies=[Depends(require(*READ))])
def get_stocktake(stocktake_id: RowId, db: Db) -> StocktakeDetailOut:
    try:
        return _detail(db, service.get(db, stocktake_id))
    except service.StocktakeMissing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no stock-take {stocktake_id}") from None


def _close(action: Callable, stocktake_id: int, request: Request, db: Db, user: User) -> StocktakeDetailOut:
    try:
        stocktake = action(db, stocktake_id, by=user.name, at=request.app.state.clock(), address=_address(request))
    except service.StocktakeMissing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no stock-take {stocktake_id}") from None
    except service.NotOpen as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _detail(db, stocktake)


@router.post("/{stocktake_id}/finish", response_model=StocktakeDetailOut)
def finish_stocktake(stocktake_id: RowId, request: Request, db: Db,
                     user: Annotated[User, Depends(require(*MANAGE))]) -> StocktakeDetailOut:
    """Close it and keep the result as lines; a missing item raises a `stocktake_missing` alert. 409 if closed."""
    return _close(service.finish, stocktake_id, request, db, user)


@router.post("/{stocktake_id}/cancel", response_model=StocktakeDetailOut)
def cancel_stocktake(stocktake_id: RowId, request: Request, db: Db,
                     user: Annotated[User, Depends(require(*MANAGE))]) -> StocktakeDetailOut:
    """Stop counting without a result. 409 if it was already closed."""
    return _close(service.cancel, stocktake_id, request, db, user)
