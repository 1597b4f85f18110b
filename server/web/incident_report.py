"""The 事故報告書 of an incident: the A4 page (the shared print layout) and the PDF for the ward's e-mail,
both with the facts, the process log, the timeline and the head of the evidence chain. Each is audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import Db
from server.api.schemas import RowId
from server.evidence.chain import head
from server.web.admin.common import audit
from server.web.i18n import translator
from server.web.incident_pdf import ReportPdf, render
from server.web.incidents import Viewer, incident_context, the_incident
from server.web.printout import printout, stamp_labels
from server.web.render import office_time

router = APIRouter(include_in_schema=False)


def _context(request: Request, db, incident) -> dict:
    """The page's context, and the evidence chain's head now: every line above it is chained before it."""
    return {**incident_context(request, db, incident), "chain_head": head(db), "on_paper": True}


@router.get("/incidents/{incident_id}/print", response_class=HTMLResponse)
def report_print(request: Request, db: Db, user: Viewer, incident_id: RowId) -> HTMLResponse:
    incident = the_incident(request, db, incident_id)
    if isinstance(incident, HTMLResponse):
        return incident
    audit(db, request, "incident_report_printed", {"incident": incident.id})
    return printout(request, "incidents/print.html", _context(request, db, incident))


def _facts(t, context: dict) -> list[tuple[str, str]]:
    incident, w, subjects = context["incident"], context["w"], context["subjects"]
    alert = context["alert"]
    source = {"lost_item": lambda: t("inc.source.lost_item", id=incident.lost_item_id),
              "alert": lambda: t("inc.source.alert", what=t(f"alert.type.{alert.type}") if alert else incident.alert_id),
              "hand": lambda: t("inc.source.hand")}[incident.source]()
    scope = [t("inc.form.scope_line", start=w.time(incident.period_from), end=w.time(incident.period_to))]
    scope += [t(f"inc.f.{key}", names="、".join(names)) for key, names in subjects.items() if names]
    state = t("inc.state.closed", at=w.time(incident.closed_at), name=incident.closed_by) if incident.closed_at \
        else t("inc.state.open")
    head = context["chain_head"]
    return [
        (t("inc.f.kind"), t(f"inc.kind.{incident.kind}")), (t("inc.f.summary"), incident.summary),
        (t("inc.f.discovered"), t("inc.f.discovered_line", at=w.time(incident.discovered_at),
                                  name=incident.discovered_by)),
        (t("inc.f.source"), source),
        (t("inc.f.opened"), t("inc.f.discovered_line", at=w.time(incident.opened_at), name=incident.opened_by)),
        (t("inc.f.first_aid"), incident.first_aid or t("inc.not_yet")),
        (t("inc.f.manager"), w.time(incident.manager_reported_at) if incident.manager_reported_at else t("inc.not_yet")),
        (t("inc.f.ward"), w.time(incident.ward_reported_at) if incident.ward_reported_at else t("inc.ward_missing")),
        (t("inc.f.cause"), incident.cause or t("inc.not_yet")),
        (t("inc.f.prevention"), incident.prevention or t("inc.not_yet")),
        (t("inc.f.scope"), "\n".join(scope)), (t("inc.f.state"), state),
        (t("inc.report.chain"), t("inc.report.chain_line", seq=head.seq, hash=head.hash) if head
         else t("inc.report.chain_none")),
    ]


def report_pdf(request: Request, context: dict) -> ReportPdf:
    t, lang = translator(request.state.lang), request.state.lang
    settings, incident = request.app.state.settings, context["incident"]
    made = office_time(request.app.state.clock(), settings.zone, lang)
    log = [[s["when"], s["who"], s["what"] + (f"\n{s['text']}" if s["text"] else "")] for s in context["log"]]
    lines = [[line["when"], line["what"], line["who"], line["detail"], line["source"]] for line in context["lines"]]
    return ReportPdf(
        title=f"{t('inc.report')}　{t('inc.no', id=incident.id)}", office=settings.office_name,
        made=t("inc.report.printed", time=made, name=request.state.user.name),
        page_words=t("inc.report.page", page="{page}", pages="{pages}"),
        stamps=stamp_labels(settings.print_stamps, lang), facts=_facts(t, context),
        sections=[(t("inc.log"), [t("inc.log.when"), t("inc.log.who"), t("inc.log.what")], log, [0.2, 0.15, 0.65]),
                  (f"{t('inc.timeline')}（{t('inc.report.lines', count=len(lines))}）",
                   [t("inc.tl.when"), t("inc.tl.what"), t("inc.tl.who"), t("inc.tl.detail"), t("inc.tl.source")],
                   lines, [0.17, 0.12, 0.13, 0.38, 0.2])])


@router.get("/incidents/{incident_id}/report.pdf")
def report_download(request: Request, db: Db, user: Viewer, incident_id: RowId) -> Response:
    incident = the_incident(request, db, incident_id)
    if isinstance(incident, HTMLResponse):
        return incident
    audit(db, request, "incident_report_downloaded", {"incident": incident.id})
    data = render(report_pdf(request, _context(request, db, incident)))
    name = f"incident-report-{incident.id}.pdf"
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})
