"""`/api/v1/readers`: register entrance and cabinet readers; see their status."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from gateway.protocol import NAME_PATTERN
from server.accounts.models import User
from server.api.deps import MANAGE, READ, Db, Paging, require
from server.api.schemas import In, Name, OfficeTime, Out
from server.readers import degraded, service, unlock
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
    degraded: list[str] = Field([], description="what the reader's last status said does not work, e.g. "
                                "card_reader_unavailable; [] when all is well")
    created_at: OfficeTime

    @field_validator("degraded", mode="before")
    @classmethod
    def _codes(cls, value: object) -> object:
        return degraded.codes(value) if value is None or isinstance(value, str) else value


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReaderOut,
             dependencies=[Depends(require(*MANAGE))])
def register_reader(body: ReaderIn, db: Db, request: Request) -> Reader:
    if db.get(Reader, body.id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"reader {body.id} is already registered")
    try:
        return service.register_reader(db, request.app.state.clock(), request.app.state.settings,
                                       **body.model_dump())
    except service.ReservedReaderId as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None


@router.get("", response_model=list[ReaderOut], dependencies=[Depends(require(*READ))])
def list_readers(db: Db, page: Paging) -> list[Reader]:
    return list(db.scalars(select(Reader).order_by(Reader.id).limit(page.limit).offset(page.offset)))


@router.get("/{reader_id}", response_model=ReaderOut, dependencies=[Depends(require(*READ))])
def get_reader(reader_id: str, db: Db) -> Reader:
    reader = db.get(Reader, reader_id)
    if reader is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reader {reader_id}")
    return reader


class UnlockIn(In):
    confirm: Literal[True] = Field(description="must be true: a remote unlock is never sent by an empty or stray request")
    note: str | None = Field(None, max_length=500, description="why, for the audit log")


class CommandOut(BaseModel):
    """The contract's `command` as sent (never retained), and the cabinet it went to."""

    id: str
    reader_id: str
    type: str
    unlock_s: int
    by: str
    at: OfficeTime


@router.post("/{reader_id}/unlock", status_code=status.HTTP_202_ACCEPTED, response_model=CommandOut)
def unlock_cabinet(reader_id: str, body: UnlockIn, request: Request, db: Db,
                   user: Annotated[User, Depends(require(*MANAGE))]) -> CommandOut:
    """Open a cabinet's lock for `unlock_s` seconds through the contract's `command` (audited as
    remote_unlock). 202: sent to the broker; the reader acts on it if it gets it within 10 s.
    409 if the reader is not a cabinet; 503 if the server is not connected to the broker."""
    ingest = getattr(request.app.state, "ingest", None)
    settings = request.app.state.settings
    try:
        command = unlock.remote_unlock(db, ingest.link if ingest else None, reader_id, by=user.name,
                                       at=request.app.state.clock(), zone=settings.zone, unlock_s=settings.unlock_s,
                                       note=body.note, address=request.client.host if request.client else None)
    except unlock.ReaderMissing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reader {reader_id}") from None
    except unlock.NotACabinet as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except unlock.BrokerAway:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "the server is not connected to the MQTT broker; try again when it is") from None
    return CommandOut(id=command.id, reader_id=reader_id, type=command.type, unlock_s=command.unlock_s,
                      by=command.by, at=command.at)
