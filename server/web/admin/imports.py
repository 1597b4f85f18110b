"""/admin/import: staff and items from the office's Excel lists, previewed, then all or nothing.

The preview carries the uploaded bytes (base64, at most `csv_import.MAX_BYTES`) in the confirm
form, never the table: on confirm the same bytes are parsed and checked against the database
again, so an edited or stale form cannot slip a bad row in. All rows go in one unit of work.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.api.uids import registered_uids
from server.cases import service as cases
from server.cases.models import Case
from server.cases.service import Actor
from server.items import service as items
from server.people import service as people
from server.people.models import Person
from server.web.admin import csv_import
from server.web.admin.common import EDIT, Posted, audit, messages, text
from server.web.deps import require_page
from server.web.render import page

NAMES_KEPT = 50  # the audit entry names the first rows; the count says how many there were
router = APIRouter(include_in_schema=False)

SAMPLES = {
    "people": "氏名,カードID,鍵を持つ職員,教育受講日,区分,資格,登録日\r\n"
              "佐藤 花子,0123456789ABCDEF,はい,2026/04/01,認定調査員,看護師,2024/10/01\r\n"
              "田中 一郎,04A1B2C3D4E5F6,いいえ,令和8年4月1日,管理責任者,介護支援専門員,令和2年4月1日\r\n",
    "items": "品名,種別,タグID,キャビネット,暗号化,画面ロック,ケース番号\r\n"
             "調査ファイル R8-00123,ファイル,04A1B2C3D4E5F7,cabinet-1,いいえ,,R8-00123\r\n"
             "調査用携帯電話 1,携帯電話,04A1B2C3D4E5F8,cabinet-1,はい,はい,\r\n",
    "cases": "ケース番号,依頼受理日,調査区分,担当調査員,調査期限,備考\r\n"
             "R8-00123,令和8年4月1日,更新,佐藤 花子,令和8年4月20日,\r\n"
             "R8-00124,2026/04/02,区分変更,,2026/04/25,再調査\r\n",
}


def _form_context(request: Request, **extra: Any) -> dict[str, Any]:
    return {"columns": csv_import.COLUMNS, "heading": csv_import.heading, "kinds": csv_import.KINDS,
            "values": {"kind": "people"}, "errors": {}, "max_bytes": csv_import.MAX_BYTES, **extra}


@router.get("/admin/import", response_class=HTMLResponse)
def import_page(request: Request, user: Annotated[User, Depends(require_page(*EDIT))],
                done: Annotated[int | None, Query(ge=0, le=csv_import.MAX_ROWS)] = None,
                kind: str = "people") -> HTMLResponse:
    context = _form_context(request, done=done)
    if kind in csv_import.KINDS:
        context["values"] = {"kind": kind}
    return page(request, "admin/import.html", context)


@router.get("/admin/import/sample-{kind}.csv")
def sample(kind: str, user: Annotated[User, Depends(require_page(*EDIT))]) -> Response:
    if kind not in SAMPLES:
        raise HTTPException(404, "no such record")
    # BOM: Japanese Excel opens a UTF-8 file without one as Shift_JIS, and garbles it.
    return Response(SAMPLES[kind].encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="mamori-{kind}-sample.csv"'})


def examine(db: Session, kind: str, data: bytes, today: date | None = None) -> csv_import.Parsed:
    """Parse the file and check it against what is registered now."""
    parsed = csv_import.parse(kind, data)
    if parsed.problems:
        return parsed
    if kind == "cases":
        numbers = set(db.scalars(select(Case.number).where(
            Case.number.in_([row.values["number"] for row in parsed.rows if row.values]))))
        staff = {csv_import.normal(name): person_id
                 for person_id, name in db.execute(select(Person.id, Person.name).where(Person.active))}
        csv_import.check_cases_against(parsed, numbers=numbers, staff=staff)
        return parsed
    uid_field = "card_uid" if kind == "people" else "tag_uid"
    registered = registered_uids(db, [row.values[uid_field] for row in parsed.rows
                                      if row.values and row.values.get(uid_field)])
    if kind == "people":
        names = {csv_import.normal(name) for name in db.scalars(select(Person.name))}
        csv_import.check_against(parsed, registered=registered, names=names, today=today)
    else:
        cabinets: dict[str, str] = {}
        for reader in items.cabinets(db):
            cabinets.setdefault(csv_import.normal(reader.name), reader.id)
        for reader in items.cabinets(db):
            cabinets[csv_import.normal(reader.id)] = reader.id  # an id wins over another reader's name
        csv_import.check_against(parsed, registered=registered, cabinets=cabinets)
    return parsed


def _preview(request: Request, parsed: csv_import.Parsed, data: bytes, filename: str, *,
             status_code: int = 200) -> HTMLResponse:
    return page(request, "admin/import_preview.html", _form_context(
        request, parsed=parsed, filename=filename, data=base64.b64encode(data).decode("ascii") if parsed.ok else "",
        values={"kind": parsed.kind}), status_code=status_code)


@router.post("/admin/import/preview", response_class=HTMLResponse)
def preview(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EDIT))],
            form: Posted) -> HTMLResponse:
    kind = text(form, "kind")
    upload = form.get("file")
    problems: dict[str, tuple[str, dict]] = {}
    if kind not in csv_import.KINDS:
        problems["kind"] = ("admin.err.choice", {})
    if upload is None or isinstance(upload, str) or not upload.filename:
        problems["file"] = ("admin.err.required", {})
    if problems:
        return page(request, "admin/import.html", _form_context(
            request, values={"kind": kind}, errors=messages(request, problems)), status_code=422)
    data = upload.file.read(csv_import.MAX_BYTES + 1)
    parsed = examine(db, kind, data, _today(request))
    return _preview(request, parsed, data if parsed.ok else b"", upload.filename,
                    status_code=200 if parsed.ok else 422)


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(request.app.state.settings.zone).date()


@router.post("/admin/import/confirm", response_class=HTMLResponse)
def confirm(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EDIT))],
            form: Posted) -> Response:
    kind, filename = text(form, "kind"), text(form, "filename")[:200]
    try:
        encoded = text(form, "data")
        if len(encoded) > (csv_import.MAX_BYTES * 4) // 3 + 4 or kind not in csv_import.KINDS:
            raise ValueError("too large or not a kind")
        data = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        return page(request, "admin/import.html", _form_context(request, bad_data=True), status_code=422)
    parsed = examine(db, kind, data, _today(request))
    if not parsed.ok:  # something changed since the preview (or the form was tampered with): nothing is written
        return _preview(request, parsed, b"", filename, status_code=409)
    now = request.app.state.clock()
    for row in parsed.rows:
        v = row.values
        if kind == "cases":
            cases.receive(db, now, Actor.of(user), number=v["number"], received_on=v["received_on"], kind=v["kind"],
                          retention_days=request.app.state.settings.case_retention_days,
                          surveyor_id=v["surveyor_id"], deadline=v["deadline"], note=v["note"],
                          reason=f"CSV: {filename or '-'}")
        elif kind == "people":
            # A training date in the office's list is an earlier training on paper: a carried-over session.
            people.add_person(db, now, name=v["name"], card_uid=v["card_uid"], key_holder=v["key_holder"],
                              training_on=v["training_on"], roles=v["roles"], active=v["active"], by=user.name,
                              qualification=v["qualification"], registered_on=v["registered_on"],
                              today=_today(request))
        else:
            items.add_item(db, now, label=v["label"], kind=v["kind"], tag_uid=v["tag_uid"], cabinet=v["cabinet"],
                           encrypted=v["encrypted"], screen_locked=v["screen_locked"], case=v["case"])
    names = [row.values[{"people": "name", "items": "label", "cases": "number"}[kind]] for row in parsed.rows]
    audit(db, request, f"import_{kind}", {"rows": len(names), "file": filename, "names": names[:NAMES_KEPT]})
    return RedirectResponse(f"/admin/import?done={len(parsed.rows)}&kind={kind}", status_code=303)
