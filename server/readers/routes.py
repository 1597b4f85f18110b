"""`/api/v1/readers`: register entrance and cabinet readers; see their status."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import Field
from sqlalchemy import select

from gateway.protocol import NAME_PATTERN
from server.api.deps import MANAGE, READ, Db, Paging, require
from server.api.schemas import In, Name, OfficeTime, Out
from server.readers.models import Reader

router = APIRouter(prefix="/readers", tags=["readers"])

ReaderName = Annotated[str, Field(pattern=f"^{NAME_PATTERN}$", description="as in the MQTT topic")]


class ReaderIn(In):
    id: ReaderName
    site: ReaderName
    role: Literal["entrance", "cabinet"]
    name: Name


class ReaderOut(Out):
    id: str
    site: str
    role: str
    name: str
    online: bool | None
    last_seen_at: OfficeTime | None
    status_at: OfficeTime | None
    version: str | None
    queued: int | None
    created_at: OfficeTime


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReaderOut,
             dependencies=[Depends(require(*MANAGE))])
def register_reader(body: ReaderIn, db: Db, request: Request) -> Reader:
    if db.get(Reader, body.id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"reader {body.id} is already registered")
    reader = Reader(**body.model_dump(), created_at=request.app.state.clock())
    db.add(reader)
    db.flush()
    return reader


@router.get("", response_model=list[ReaderOut], dependencies=[Depends(require(*READ))])
def list_readers(db: Db, page: Paging) -> list[Reader]:
    return list(db.scalars(select(Reader).order_by(Reader.id).limit(page.limit).offset(page.offset)))


@router.get("/{reader_id}", response_model=ReaderOut, dependencies=[Depends(require(*READ))])
def get_reader(reader_id: str, db: Db) -> Reader:
    reader = db.get(Reader, reader_id)
    if reader is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reader {reader_id}")
    return reader

