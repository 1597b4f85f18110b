"""GET /inspection.zip: the pack an auditor takes away — every ledger's CSV for the period and manifest.json
naming each file with its number of lines and SHA-256, the period, when and by whom it was made, the evidence
chain's head at the period's end and now, and what this system does not record (nothing, today). Audited."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from server.accounts.models import User
from server.api.deps import Db
from server.evidence import chain
from server.inspection import pack
from server.inspection.evidence import CHAIN_HEADS, NOT_YET, Period
from server.web.admin.common import audit, messages
from server.web.csv_export import download
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.inspection.ledger_files import Builder, LedgerFile
from server.web.inspection.views import asked
from server.web.render import OVERSIGHT, page

router = APIRouter(include_in_schema=False)
Reader = Annotated[User, Depends(require_page(*OVERSIGHT))]
MANIFEST = "manifest.json"


def manifest(p: Period, files: list[LedgerFile], *, made_by: str, office: str, lang: str,
             chain_heads: dict[str, Any]) -> dict[str, Any]:
    return {
        "office": office, "language": lang,
        "period": {"from": p.first.isoformat(), "to": p.last.isoformat(), "zone": str(p.zone)},
        "made_at": p.now.astimezone(p.zone).isoformat(timespec="seconds"), "made_by": made_by,
        "files": [{"name": f.name, "rows": f.rows, "bytes": len(f.data), "sha256": hashlib.sha256(f.data).hexdigest()}
                  for f in files],
        "chain_heads": chain_heads,
        "not_recorded_yet": sorted(NOT_YET),
    }


def zipped(files: list[LedgerFile], about: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.writestr(f.name, f.data)
        archive.writestr(MANIFEST, json.dumps(about, ensure_ascii=False, indent=2).encode("utf-8"))
    return out.getvalue()


def _head(db, at) -> dict[str, Any] | None:
    """The chain's last link by `at` as the manifest gives it; None when nothing was chained by then."""
    found = chain.head(db, at)
    return None if found is None else {"seq": found.seq, "hash": found.hash,
                                       "at": found.at.astimezone(UTC).isoformat(timespec="microseconds")}


@router.get("/inspection.zip")
def pack_zip(request: Request, db: Db, user: Reader, start: Annotated[str | None, Query(alias="from", max_length=20)] = None,
             to: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    a = asked(request, start, to)
    if a.problems:
        return page(request, "inspection/summary.html",
                    {"values": a.values, "errors": messages(request, a.problems), "sections": []}, status_code=422)
    settings, p = request.app.state.settings, a.period
    files = Builder(request, db, p, pack.sections(db, p, settings)).files()
    heads = {name: _head(db, at(p)) for name, at in CHAIN_HEADS.items()}
    about = manifest(p, files, made_by=user.name, office=settings.office_name, lang=request.state.lang,
                     chain_heads=heads)
    audit(db, request, "inspection_pack_downloaded", {"from": p.first, "to": p.last, "files": len(files),
                                                      "lines": sum(f.rows for f in files)})
    name = f"{translator(request.state.lang)('insp.zip.name')}_{p.first:%Y%m%d}-{p.last:%Y%m%d}.zip"
    return download(zipped(files, about), name, "application/zip")
