"""Enrolment the way an office does it: "tap the new card (or tag) on reader X now".

No state is kept: starting a wait answers the server's time, and the page then asks for the
first scan on that reader received since then whose uid is not registered as a staff card,
a visitor badge or an item tag. The scan is in the ledger anyway (an unknown card is refused
and recorded), so nothing needs to listen to MQTT and nothing is lost if the page reloads.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from server.accounts.models import User
from server.api.deps import Db
from server.api.uids import registered_uids
from server.ledger.models import ScanRecord
from server.readers.models import Reader
from server.visits.service import free_badges
from server.web.admin.common import ENROL, Posted, text
from server.web.deps import require_page

router = APIRouter(include_in_schema=False)
WAIT_S = 60  # how long the page keeps asking
OLDEST = timedelta(minutes=5)  # a wait cannot reach further back than this


@router.post("/admin/enrol")
def start_wait(request: Request, db: Db, user: Annotated[User, Depends(require_page(*ENROL))],
               form: Posted) -> JSONResponse:
    reader = db.get(Reader, text(form, "reader"))
    if reader is None:
        return JSONResponse({"detail": "no such reader"}, status_code=404)
    now = request.app.state.clock()
    return JSONResponse({"reader": reader.id, "reader_name": reader.name, "since": now.isoformat(),
                         "until": (now + timedelta(seconds=WAIT_S)).isoformat(), "poll_s": 1})


def next_unknown_uid(db, reader_id: str, since: datetime) -> str | None:
    """The uid of the first fresh scan on `reader_id` received at or after `since` that is not registered."""
    seen: set[str] = set()
    offset = 0
    while True:
        scans = db.execute(select(ScanRecord.uid).where(
            ScanRecord.reader_id == reader_id, ScanRecord.received_at >= since, ScanRecord.fresh.is_(True))
            .order_by(ScanRecord.received_at, ScanRecord.at, ScanRecord.id).limit(50).offset(offset)).scalars().all()
        if not scans:
            return None
        fresh = [uid for uid in scans if uid not in seen]
        known = registered_uids(db, fresh)
        for uid in fresh:
            if uid not in known:
                return uid
        seen.update(fresh)
        offset += len(scans)


@router.get("/admin/enrol/{reader_id}")
def poll(request: Request, db: Db, reader_id: str, since: str,
         user: Annotated[User, Depends(require_page(*ENROL))],
         want: Literal["unknown", "free_badge"] = "unknown") -> JSONResponse:
    """`want=unknown`: a card to register; `want=free_badge`: a visitor badge reception may lend now."""
    try:
        start = datetime.fromisoformat(since)
    except ValueError:
        return JSONResponse({"detail": "since is an RFC 3339 time with an offset"}, status_code=422)
    if start.tzinfo is None:
        return JSONResponse({"detail": "since needs an offset, e.g. +09:00"}, status_code=422)
    if request.app.state.clock() - start > OLDEST:
        return JSONResponse({"detail": "this wait is too old; start a new one"}, status_code=422)
    if db.get(Reader, reader_id) is None:
        return JSONResponse({"detail": "no such reader"}, status_code=404)
    found = next_free_badge(db, reader_id, start) if want == "free_badge" else next_unknown_uid(db, reader_id, start)
    return JSONResponse({"uid": found})


def next_free_badge(db, reader_id: str, since: datetime) -> str | None:
    """The uid of the first fresh scan on `reader_id` since `since` that is a visitor badge free to lend."""
    free = {badge.uid for badge in free_badges(db)}
    scans = db.scalars(select(ScanRecord.uid).where(
        ScanRecord.reader_id == reader_id, ScanRecord.received_at >= since, ScanRecord.fresh.is_(True))
        .order_by(ScanRecord.received_at, ScanRecord.at, ScanRecord.id).limit(200))
    return next((uid for uid in scans if uid in free), None)
