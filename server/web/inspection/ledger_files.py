"""Every ledger of a period as the CSV files of the inspection pack's ZIP, in the viewer's language.

The ledgers that have a CSV of their own (入退室記録簿, 持ち出し管理簿 and its reports, 受付簿 and 廃棄記録,
操作記録) are made by their pages' own code; alerts, stock-takes, lost items, self-inspections, incidents,
training sessions and the pack's exceptions get theirs here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.api.uid_view import SEE_UIDS, mask_uids_in
from server.audit.models import AuditEvent
from server.cases import book
from server.checkouts.register import RegisterFilter
from server.domain import self_inspection
from server.incidents.models import Incident
from server.inspection import checks, self_check
from server.inspection.evidence import Period, Section
from server.items.models import Item
from server.lost.models import LostItem
from server.people.models import Person
from server.readers.models import Reader
from server.stocktakes.models import Stocktake, StocktakeLine
from server.training.models import Attendance, TrainingSession
from server.visits.entry_log import entry_log
from server.web.admin import audit_log
from server.web.cases import book as book_page
from server.web.csv_export import to_csv
from server.web.i18n import translator
from server.web.inspection.views import FINDING_KEYS, Words, month_words
from server.web.reception import entry_log as entry_log_page
from server.web.register import pages as register_page
from server.web.register.filters import REPORTS, Query


@dataclass(frozen=True)
class LedgerFile:
    name: str  # in the ZIP
    data: bytes
    rows: int  # lines below the header


def _file(word: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> LedgerFile:
    kept = list(rows)
    return LedgerFile(f"{word}.csv", to_csv(headers, kept), len(kept))


class Builder:
    """One ZIP's files: each method is one ledger."""

    def __init__(self, request: Request, db: Session, p: Period, sections: list[Section]):
        self.request, self.db, self.p, self.sections = request, db, p, sections
        self.lang = request.state.lang
        self.t = translator(self.lang)
        self.zone = request.app.state.settings.zone
        self.words = Words(self.t, self.lang, self.zone, request.state.user.role)

    def stamp(self, value) -> str:
        return value.astimezone(self.zone).strftime("%Y/%m/%d %H:%M:%S") if value else ""

    def name(self, key: str) -> str:
        return self.t(f"insp.zip.{key}")

    def files(self) -> list[LedgerFile]:
        makers: list[Callable[[], list[LedgerFile]]] = [
            self.entry_log, self.register, self.cases, self.alerts, self.audit_log, self.stocktakes, self.lost,
            self.self_inspections, self.incidents, self.training, self.findings]
        return [f for make in makers for f in make()]

    def entry_log(self) -> list[LedgerFile]:
        lines = entry_log(self.db, self.p.start, self.p.end, self.p.now)
        return [_file(self.name("entry_log"), [self.t(f"log.col.{c}") for c in entry_log_page.COLUMNS],
                      (entry_log_page.cells(line, self.zone, self.t) for line in lines))]

    def register(self) -> list[LedgerFile]:
        out = []
        for report in REPORTS:
            q = Query(report, self.p.first, self.p.last, RegisterFilter(), 1)
            cells = register_page.cells_for(self.request, self.db, q, full=True)
            lines = register_page.fetch(self.request, self.db, q, None)
            out.append(_file(self.name(f"register_{report}"), cells.headers(report),
                             register_page.rows_of(cells, q, lines)))
        return out

    def cases(self) -> list[LedgerFile]:
        settings = self.request.app.state.settings
        f = book.BookFilter(since=self.p.first, until=self.p.last)
        received = (book_page.cells(line, self.t, self.zone)
                    for line in book.stream(self.db, f, self.p.today, settings.case_report_within_days))
        keys = book_page.DESTRUCTION_COLUMNS
        destroyed = (book_page.cells(line, self.t, self.zone, keys=keys)
                     for line in book.destructions(self.db, self.p.first, self.p.last, self.zone))
        return [_file(self.name("cases"), [self.t(f"cases.col.{c}") for c in book_page.COLUMNS], received),
                _file(self.name("destructions"), [self.t(f"cases.col.{c}") for c in keys], destroyed)]

    def alerts(self) -> list[LedgerFile]:
        masked = self.request.state.user.role not in SEE_UIDS
        rows = self.db.scalars(select(Alert).where(Alert.opened_at >= self.p.start, Alert.opened_at < self.p.end)
                               .order_by(Alert.opened_at, Alert.id))
        t = self.t
        headers = [t("insp.col.at"), t("insp.col.kind"), t("insp.col.severity"), t("insp.col.subject"),
                   t("insp.col.count"), t("insp.col.alert_state"), t("insp.col.acknowledged"), t("insp.col.resolved")]
        return [_file(self.name("alerts"), headers, (
            [self.stamp(a.opened_at), t(f"alert.type.{a.type}"), t(f"alert.severity.{a.severity}"),
             mask_uids_in(a.subject) if masked else a.subject, a.count, t(f"alert.state.{a.state}"),
             " ".join(filter(None, [self.stamp(a.acknowledged_at), a.acknowledged_by or ""])),
             " ".join(filter(None, [self.stamp(a.resolved_at), a.resolved_by or ""]))] for a in rows))]

    def audit_log(self) -> list[LedgerFile]:
        events = list(self.db.scalars(select(AuditEvent)
                                      .where(AuditEvent.at >= self.p.start, AuditEvent.at < self.p.end)
                                      .order_by(AuditEvent.at, AuditEvent.id)))
        return [_file(self.name("audit"), audit_log.headers_of(self.request), audit_log.rows_of(self.request, events))]

    def stocktakes(self) -> list[LedgerFile]:
        query = (select(Stocktake.id, Reader.name, Stocktake.finished_at, Item.label, StocktakeLine.outcome,
                        StocktakeLine.detail)
                 .join(Reader, Reader.id == Stocktake.cabinet_id)
                 .join(StocktakeLine, StocktakeLine.stocktake_id == Stocktake.id)
                 .join(Item, Item.id == StocktakeLine.item_id)
                 .where(Stocktake.state == "finished", Stocktake.finished_at >= self.p.start,
                        Stocktake.finished_at < self.p.end)
                 .order_by(Stocktake.finished_at, Stocktake.id, StocktakeLine.id))
        t = self.t
        headers = [t("insp.col.stocktake"), t("insp.col.cabinet"), t("insp.col.finished"), t("insp.col.item"),
                   t("insp.col.outcome"), t("insp.col.detail")]
        return [_file(self.name("stocktakes"), headers,
                      ([sid, cabinet, self.stamp(at), label, t(f"st.outcome.{outcome}"), detail or ""]
                       for sid, cabinet, at, label, outcome, detail in self.db.execute(query)))]

    def lost(self) -> list[LedgerFile]:
        query = (select(LostItem, Item.label).join(Item, Item.id == LostItem.item_id)
                 .where(LostItem.marked_at >= self.p.start, LostItem.marked_at < self.p.end)
                 .order_by(LostItem.marked_at, LostItem.id))
        t = self.t
        headers = [t("insp.col.marked_at"), t("insp.col.item"), t("insp.col.marked_by"), t("insp.self.col.note"),
                   t("insp.col.found_at"), t("insp.col.found_by")]
        return [_file(self.name("lost"), headers,
                      ([self.stamp(lost.marked_at), label, lost.marked_by, lost.note or "", self.stamp(lost.found_at),
                        lost.found_by or ""] for lost, label in self.db.execute(query)))]

    def self_inspections(self) -> list[LedgerFile]:
        t = self.t
        months = self_inspection.months(self.p.first, self.p.last, self.p.today)
        headers = [t(f"insp.self.col.{c}") for c in ("month", "answered_at", "answered_by", "question", "answer",
                                                        "note")]
        rows = [[month_words(row.month, t), self.stamp(row.answered_at), row.answered_by, t(f"insp.q.{key}"),
                 t("insp.self.yes" if answer.ok else "insp.self.no"), answer.note]
                for row in reversed(self_check.history(self.db, months))
                for key, answer in self_check.answers_of(row).items()]
        return [_file(self.name("self_inspections"), headers, rows)]

    def incidents(self) -> list[LedgerFile]:
        t = self.t
        headers = [t("inc.col.no"), t("inc.col.kind"), t("inc.col.summary"), t("inc.col.discovered"),
                   t("insp.col.discovered_by"), t("inc.f.manager"), t("inc.col.ward"), t("inc.f.cause"),
                   t("inc.f.prevention"), t("inc.col.state")]

        def state(i: Incident) -> str:
            return t("inc.state.closed", at=self.stamp(i.closed_at), name=i.closed_by) if i.closed_at else \
                t("inc.state.open")

        return [_file(self.name("incidents"), headers, (
            [i.id, t(f"inc.kind.{i.kind}"), i.summary, self.stamp(i.discovered_at), i.discovered_by,
             self.stamp(i.manager_reported_at), self.stamp(i.ward_reported_at), i.cause or "", i.prevention or "",
             state(i)] for i in checks.incidents_of(self.db, self.p)))]

    def training(self) -> list[LedgerFile]:
        """The sessions held in the period and each attendance recorded for them, withdrawals included."""
        t = self.t
        headers = [t("training.col.held_on"), t("training.col.title"), t("training.col.instructor"),
                   t("training.col.minutes"), t("insp.col.person"), t("insp.col.attendance"), t("insp.col.recorded"),
                   t("insp.self.col.note")]
        query = (select(TrainingSession, Attendance, Person.name)
                 .join(Attendance, Attendance.session_id == TrainingSession.id)
                 .join(Person, Person.id == Attendance.person_id)
                 .where(TrainingSession.held_on >= self.p.first, TrainingSession.held_on <= self.p.last)
                 .order_by(TrainingSession.held_on, TrainingSession.id, Attendance.id))
        return [_file(self.name("training"), headers, (
            [session.held_on.isoformat(), session.title, session.instructor or "", session.minutes or "", name,
             t(f"insp.attendance.{row.action}"), " ".join([self.stamp(row.at), row.by_name]), row.reason or ""]
            for session, row, name in self.db.execute(query)))]

    def findings(self) -> list[LedgerFile]:
        t = self.t
        headers = [t("insp.col.rule")] + [t(f"insp.col.{k}") for k in FINDING_KEYS]
        rows = [[t(f"insp.rule.{s.rule}"), *self.words.finding(f)] for s in self.sections for f in s.findings]
        return [_file(self.name("findings"), headers, rows)]
