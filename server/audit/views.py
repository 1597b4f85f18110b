"""The ward's auditor reads: every page, download and API answer they open is in the audit log.

Called from the one place each request passes (the page guard in `server/web/deps.py`, the API's
`current_user`), so no route can forget it. The dashboard's own refreshes are not the person opening
anything, and are left out.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.audit.service import record

WATCHED = ("auditor",)
POLL_HEADER = "x-mamori-poll"


def download_of(path: str) -> str | None:
    """What a path hands over: a CSV file, a printout, or (None) a page."""
    if path.endswith(".csv"):
        return "csv"
    if path.endswith("/print"):
        return "print"
    return None


def record_view(db: Session, request: Request, user: User) -> None:
    """One entry per page, download or API answer the auditor reads (their only writes are the screen
    lock's keep-alive and logging out, which say nothing of what they saw)."""
    if user.role not in WATCHED or request.method not in ("GET", "HEAD") or request.headers.get(POLL_HEADER):
        return
    path = request.url.path
    facts: dict[str, object] = {"path": path}
    if request.url.query:
        facts["query"] = request.url.query
    if download := download_of(path):
        facts["download"] = download
    record(db, request.app.state.clock(), "auditor_viewed", user.name, facts,
           request.client.host if request.client else None)
