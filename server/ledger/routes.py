"""`/api/v1/scans`, `/api/v1/reader-events` and `/api/v1/dead-letters`: every tap, door event and refused payload."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import Field
from sqlalchemy import select

from server.api.deps import MANAGE, READ, Db, Paging, require
from server.api.schemas import OfficeTime, Out
from server.api.uid_view import ShownUid, TextWithUids
from server.ledger.models import DeadLetter, ReaderEvent, ScanRecord

router = APIRouter(tags=["ledger"])


class ScanOut(Out):
    id: str
    reader_id: str
    uid: ShownUid
    tech: str
    at: OfficeTime
    received_at: OfficeTime
    fresh: bool
    result: str
    action: str | None
    reason: str | None
    person_id: int | None
    item_id: int | None
    visit_id: int | None
    duplicate_of: str | None


@router.get("/scans", response_model=list[ScanOut], dependencies=[Depends(require(*READ))])
def list_scans(db: Db, page: Paging, reader: str | None = None) -> list[ScanRecord]:
    query = select(ScanRecord).order_by(ScanRecord.at.desc(), ScanRecord.id)
    if reader:
        query = query.where(ScanRecord.reader_id == reader)
    return list(db.scalars(query.limit(page.limit).offset(page.offset)))


class ReaderEventOut(Out):
    id: str
    reader_id: str
    type: str
    at: OfficeTime
    received_at: OfficeTime
    scan_id: str | None


@router.get("/reader-events", response_model=list[ReaderEventOut], dependencies=[Depends(require(*READ))])
def list_reader_events(db: Db, page: Paging, reader: str | None = None, type: str | None = None) -> list[ReaderEvent]:
    query = select(ReaderEvent).order_by(ReaderEvent.at.desc(), ReaderEvent.id)
    if reader:
        query = query.where(ReaderEvent.reader_id == reader)
    if type:
        query = query.where(ReaderEvent.type == type)
    return list(db.scalars(query.limit(page.limit).offset(page.offset)))


class DeadLetterOut(Out):
    id: int
    topic: str
    payload: TextWithUids
    reason: str
    detail: str
    received_at: OfficeTime = Field(description="the first refusal of this row")
    last_received_at: OfficeTime = Field(description="the last refusal folded into it")
    count: int = Field(description="refusals of this reader for this reason from received_at to last_received_at")


@router.get("/dead-letters", response_model=list[DeadLetterOut], dependencies=[Depends(require(*MANAGE, "auditor"))])
def list_dead_letters(db: Db, page: Paging) -> list[DeadLetterOut]:
    rows = db.scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(page.limit).offset(page.offset))
    return [DeadLetterOut(id=d.id, topic=d.topic, payload=d.payload.decode("utf-8", "replace"), reason=d.reason,
                          detail=d.detail, received_at=d.received_at, last_received_at=d.last_received_at,
                          count=d.count) for d in rows]
