"""`/api/v1/scans` and `/api/v1/dead-letters`: every tap, and every payload refused."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select

from server.api.deps import MANAGE, READ, Db, Paging, require
from server.api.schemas import OfficeTime, Out
from server.ledger.models import DeadLetter, ScanRecord

router = APIRouter(tags=["ledger"])


class ScanOut(Out):
    id: str
    reader_id: str
    uid: str
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


class DeadLetterOut(Out):
    id: int
    topic: str
    payload: str
    reason: str
    detail: str
    received_at: OfficeTime


@router.get("/dead-letters", response_model=list[DeadLetterOut], dependencies=[Depends(require(*MANAGE, "auditor"))])
def list_dead_letters(db: Db, page: Paging) -> list[DeadLetterOut]:
    rows = db.scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(page.limit).offset(page.offset))
    return [DeadLetterOut(id=d.id, topic=d.topic, payload=d.payload.decode("utf-8", "replace"), reason=d.reason,
                          detail=d.detail, received_at=d.received_at) for d in rows]
