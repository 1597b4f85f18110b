"""The evidence the ledgers hold for seed rules (2) to (6): counts of the period and every exception, each
linking to the ledger line that shows it. The existing report queries are reused where there is one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.alerts.models import Alert, AlertOccurrence
from server.cases import book
from server.cases.models import Case
from server.checkouts import register
from server.checkouts.models import Checkout
from server.config import Settings
from server.domain.erasure import erasure_late
from server.inspection.evidence import Count, Finding, Period, Section
from server.items.models import Item
from server.ledger.models import ScanRecord
from server.lost.models import LostItem
from server.people.models import Person
from server.readers.models import Reader
from server.stocktakes.models import Stocktake, StocktakeLine
from server.visits.models import Visit
from server.visits.queries import between

DIFFERENCES = ("missing", "unexpected")  # a stock-take line that is not where the register says


def _in(column, p: Period):
    return (column >= p.start, column < p.end)


def cabinet_denials(db: Session, p: Period) -> list[Finding]:
    """Every refused tap at a cabinet (not a repeat of the same tap), with its folded alert when it has one."""
    query = (select(ScanRecord.at, ScanRecord.reason, ScanRecord.uid, ScanRecord.person_id, Person.name, Item.label,
                    Reader.id, AlertOccurrence.alert_id)
             .join(Reader, Reader.id == ScanRecord.reader_id)
             .outerjoin(Person, Person.id == ScanRecord.person_id).outerjoin(Item, Item.id == ScanRecord.item_id)
             .outerjoin(AlertOccurrence, AlertOccurrence.scan_id == ScanRecord.id)
             .where(Reader.role == "cabinet", ScanRecord.result == "deny", ScanRecord.duplicate_of.is_(None),
                    *_in(ScanRecord.at, p))
             .order_by(ScanRecord.at, ScanRecord.id))
    return [Finding("cabinet_denial", at, name or label or "", f"alert.reason.{reason}",
                    f"/alerts/{alert_id}" if alert_id else f"/admin/readers/{reader_id}",
                    uid if name is None and label is None else None)
            for at, reason, uid, _pid, name, label, reader_id, alert_id in db.execute(query)]


def stocktake_differences(db: Session, p: Period) -> list[Finding]:
    query = (select(Stocktake.id, Stocktake.finished_at, StocktakeLine.outcome, Item.label)
             .join(StocktakeLine, StocktakeLine.stocktake_id == Stocktake.id)
             .join(Item, Item.id == StocktakeLine.item_id)
             .where(Stocktake.state == "finished", StocktakeLine.outcome.in_(DIFFERENCES),
                    *_in(Stocktake.finished_at, p))
             .order_by(Stocktake.finished_at, Stocktake.id, StocktakeLine.id))
    return [Finding("stocktake_difference", at, label, f"st.outcome.{outcome}", f"/stocktakes/{sid}")
            for sid, at, outcome, label in db.execute(query)]


def lost_items(db: Session, p: Period) -> list[Finding]:
    query = (select(LostItem.id, LostItem.marked_at, Item.label, LostItem.found_at)
             .join(Item, Item.id == LostItem.item_id).where(*_in(LostItem.marked_at, p))
             .order_by(LostItem.marked_at, LostItem.id))
    return [Finding("lost", at, label, "insp.lost.found" if found else "insp.lost.not_found", f"/lost/{lost_id}")
            for lost_id, at, label, found in db.execute(query)]


def rule2(db: Session, p: Period, settings: Settings) -> Section:
    """(2) 受託情報の保管: the locked cabinet, its key holders, the 受付簿, the stock-takes and losses."""
    denials, differences, lost = cabinet_denials(db, p), stocktake_differences(db, p), lost_items(db, p)
    cabinet_taps = db.scalar(select(func.count()).select_from(ScanRecord).join(Reader, Reader.id == ScanRecord.reader_id)
                             .where(Reader.role == "cabinet", *_in(ScanRecord.at, p))) or 0
    stocktakes = db.scalar(select(func.count()).select_from(Stocktake)
                           .where(Stocktake.state == "finished", *_in(Stocktake.finished_at, p))) or 0
    cases = book.count(db, book.BookFilter(since=p.first, until=p.last), p.today, settings.case_report_within_days)
    return Section("2", [Count("cabinet_taps", cabinet_taps), Count("cabinet_denials", len(denials)),
                         Count("cases_received", cases, f"/cases?{p.query()}"),
                         Count("stocktakes", stocktakes, "/stocktakes"), Count("lost", len(lost), "/lost")],
                   denials + differences + lost)


def _day(p: Period, moment: datetime) -> Period:
    """The office day of `moment`, for a link to the ledger on that day."""
    day = moment.astimezone(p.zone).date()
    return Period(day, day, p.zone, p.now)


def _register_link(p: Period, line: register.RegisterLine) -> str:
    """The 持ち出し管理簿 on the day of the take-out, narrowed to its item and holder."""
    return "/register?" + _day(p, line.out_at).query(report="transactions", item=line.item, person=line.person)


def late_take_outs(db: Session, p: Period, settings: Settings) -> list[Finding]:
    """Take-outs of the period not back by their due time (overdue), or still not back `escalate_after_min`
    after it (escalated), as the register's transactions report has them."""
    late = [line for state in ("late", "overdue")
            for line in register.transactions(db, p.start, p.end, register.RegisterFilter(state=state), p.now,
                                              limit=None)]
    late.sort(key=lambda line: (line.out_at, line.id))
    escalate = settings.escalate_after_min * 60
    return [Finding("escalated" if line.late_s(p.now) >= escalate else "overdue", line.due_at, line.item,
                    "insp.late.still_out" if line.returned_at is None else "insp.late.returned",
                    _register_link(p, line)) for line in late]


def rule3(db: Session, p: Period, settings: Settings) -> Section:
    """(3) 受託情報の持ち出し: every take-out in the 持ち出し管理簿, and those not back in time."""
    taken = db.scalar(select(func.count()).select_from(Checkout).where(*_in(Checkout.out_at, p))) or 0
    return Section("3", [Count("take_outs", taken, f"/register?{p.query(report='transactions')}")],
                   late_take_outs(db, p, settings))


def past_retention(db: Session, p: Period) -> list[Finding]:
    """Cases whose memos were kept past their retention date without being destroyed by the period's end."""
    query = (select(Case.id, Case.number, Case.retain_until)
             .where(Case.retain_until < p.last_seen, or_(Case.destroyed_at.is_(None), Case.destroyed_at >= p.end))
             .order_by(Case.retain_until, Case.id))
    return [Finding("past_retention", until, number, None, f"/cases/{case_id}")
            for case_id, number, until in db.execute(query)]


def rule4(db: Session, p: Period, settings: Settings) -> Section:
    """(4) 受託情報の廃棄: memos kept locked for the set period, then destroyed and recorded."""
    destroyed = len(book.destructions(db, p.first, p.last, p.zone))
    return Section("4", [Count("destroyed", destroyed, f"/cases/destructions/print?{p.query()}")],
                   past_retention(db, p))


def not_erased(db: Session, p: Period, settings: Settings) -> list[Finding]:
    """Devices returned in the period whose survey data was not confirmed erased within
    `erase_confirm_within_h`: confirmed late, or not confirmed at all by now."""
    within = timedelta(hours=settings.erase_confirm_within_h)
    query = (select(Checkout.returned_at, Checkout.erased_at, Item.label, Person.name)
             .join(Item, Item.id == Checkout.item_id).join(Person, Person.id == Checkout.person_id)
             .where(Checkout.erasure.is_not(None), *_in(Checkout.returned_at, p))
             .order_by(Checkout.returned_at, Checkout.id))
    return [Finding("not_erased", back, f"{label}（{name}）", "insp.erase.late" if erased else "insp.erase.never",
                    "/devices" if erased is None else "/register?" + _day(p, back).query(report="transactions",
                                                                                        item=label))
            for back, erased, label, name in db.execute(query) if erasure_late(back, erased or p.now, within)]


def rule5(db: Session, p: Period, settings: Settings) -> Section:
    """(5) 携帯電話・スマートフォンの使用: devices taken out and their data erased after the survey."""
    devices = db.scalar(select(func.count()).select_from(Checkout)
                        .where(Checkout.erasure.is_not(None), *_in(Checkout.out_at, p))) or 0
    return Section("5", [Count("device_take_outs", devices, f"/register?{p.query(report='transactions')}")],
                   not_erased(db, p, settings))


def closing_exceptions(db: Session, p: Period) -> list[Finding]:
    """Visitors not signed out and visitor badges not back, as closing time found them in the period."""
    query = (select(Alert.type, Alert.opened_at, Visit.visitor_name)
             .join(Visit, Visit.id == Alert.visit_id)
             .where(Alert.type.in_(("visitor_not_signed_out", "badge_not_returned")), *_in(Alert.opened_at, p))
             .order_by(Alert.opened_at, Alert.id))
    out = []
    for kind, at, name in db.execute(query):
        out.append(Finding(kind, at, name, None, "/entry-log?" + _day(p, at).query(who="visitor", q=name)))
    return out


def rule6(db: Session, p: Period, settings: Settings) -> Section:
    """(6) 施設の入退室管理: the 入退室記録簿, visitors signed out and badges back."""
    visits = db.scalar(select(func.count()).select_from(Visit).where(between(p.start, p.end))) or 0  # the log's lines
    return Section("6", [Count("visits", visits, f"/entry-log?{p.query(who='visitor')}")],
                   closing_exceptions(db, p))

