"""Starting, following, finishing and cancelling a stock-take; shared by the pages and the API.

While a stock-take is open, the ingest records its cabinet's item taps as `stocktake` scans
(server/ingest); finishing reconciles those scans with the cabinet's items (server/domain/stocktake.py)
and keeps the result as lines. Never commits: the request's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.audit.service import record
from server.checkouts.models import Checkout
from server.domain.stocktake import OUTCOMES, StockItem, StockLine, reconcile
from server.items.models import Item
from server.ledger.models import ScanRecord
from server.people.models import Person
from server.readers.models import Reader
from server.stocktakes.models import Stocktake, StocktakeLine


class NotACabinet(LookupError):
    pass


class StocktakeMissing(LookupError):
    pass


class AlreadyOpen(Exception):
    def __init__(self, stocktake: Stocktake):
        super().__init__(f"stock-take {stocktake.id} of {stocktake.cabinet_id} is still open (started by "
                         f"{stocktake.started_by}); finish or cancel it first")
        self.stocktake = stocktake


class NotOpen(Exception):
    def __init__(self, stocktake: Stocktake):
        super().__init__(f"stock-take {stocktake.id} is already {stocktake.state}")
        self.stocktake = stocktake


@dataclass(frozen=True)
class Tap:
    """One tap on the cabinet's reader during the stock-take (an unknown tag has no item)."""

    scan: ScanRecord
    item: Item | None


def open_stocktake(db: Session, cabinet_id: str) -> Stocktake | None:
    return db.scalar(select(Stocktake).where(Stocktake.cabinet_id == cabinet_id, Stocktake.state == "open"))


def get(db: Session, stocktake_id: int) -> Stocktake:
    stocktake = db.get(Stocktake, stocktake_id)
    if stocktake is None:
        raise StocktakeMissing(stocktake_id)
    return stocktake


def start(db: Session, cabinet_id: str, *, by: str, at: datetime, address: str | None = None) -> Stocktake:
    """Open a stock-take of `cabinet_id`: from now on its item taps are counted, not lent."""
    cabinet = db.get(Reader, cabinet_id)
    if cabinet is None or cabinet.role != "cabinet":
        raise NotACabinet(cabinet_id)
    if (running := open_stocktake(db, cabinet_id)) is not None:
        raise AlreadyOpen(running)
    stocktake = Stocktake(cabinet_id=cabinet_id, state="open", started_at=at, started_by=by)
    try:
        with db.begin_nested():  # two managers at once: the unique index lets one through
            db.add(stocktake)
    except IntegrityError:
        raise AlreadyOpen(open_stocktake(db, cabinet_id) or stocktake) from None
    record(db, at, "stocktake_started", by, {"stocktake": stocktake.id, "cabinet": cabinet.name}, address)
    return stocktake


def taps(db: Session, stocktake: Stocktake, until: datetime | None = None) -> list[Tap]:
    """Item taps counted by the stock-take, and unknown tags tapped meanwhile, oldest first."""
    end = stocktake.finished_at or until
    counted = or_(ScanRecord.action == "stocktake", and_(ScanRecord.result == "deny",
                                                          ScanRecord.reason == "unknown_tag"))
    query = (select(ScanRecord, Item).outerjoin(Item, Item.id == ScanRecord.item_id)
             .where(ScanRecord.reader_id == stocktake.cabinet_id, ScanRecord.at >= stocktake.started_at, counted)
             .order_by(ScanRecord.at, ScanRecord.id))
    if end is not None:
        query = query.where(ScanRecord.at <= end)
    return [Tap(scan, item) for scan, item in db.execute(query).all()]


def first_taps(tap_list: list[Tap]) -> dict[int, str]:
    """Each tapped item's first counted scan (a tag read again changes nothing)."""
    found: dict[int, str] = {}
    for tap in tap_list:
        if tap.item is not None and tap.scan.action == "stocktake":
            found.setdefault(tap.item.id, tap.scan.id)
    return found


def _stock(db: Session, cabinet_id: str, tapped: dict[int, str]) -> dict[int, tuple[Item, StockItem]]:
    """The cabinet's items and the tapped ones, each with who holds it if it is out."""
    where = Item.cabinet_id == cabinet_id
    if tapped:
        where = or_(where, Item.id.in_(list(tapped)))
    rows = db.execute(select(Item, Person.name).outerjoin(Checkout, and_(Checkout.item_id == Item.id,
                                                                        Checkout.returned_at.is_(None)))
                      .outerjoin(Person, Person.id == Checkout.person_id).where(where)).all()
    return {item.id: (item, StockItem(item.id, item.cabinet_id, item.status, holder)) for item, holder in rows}


def preview(db: Session, stocktake: Stocktake, tap_list: list[Tap]) -> list[tuple[StockLine, Item]]:
    """What finishing now would say, for the live page."""
    tapped = first_taps(tap_list)
    stock = _stock(db, stocktake.cabinet_id, tapped)
    return [(line, stock[line.item_id][0]) for line in
            reconcile(stocktake.cabinet_id, (facts for _item, facts in stock.values()), tapped)]


def _close(db: Session, stocktake_id: int, state: str, by: str, at: datetime) -> Stocktake:
    """One guarded UPDATE: a stock-take is finished or cancelled once, whoever clicks second."""
    changed = db.execute(update(Stocktake).where(Stocktake.id == stocktake_id, Stocktake.state == "open")
                         .values(state=state, finished_at=at, finished_by=by)
                         .execution_options(synchronize_session=False)).rowcount
    stocktake = db.get(Stocktake, stocktake_id, populate_existing=True)
    if stocktake is None:
        raise StocktakeMissing(stocktake_id)
    if not changed:
        raise NotOpen(stocktake)
    return stocktake


def finish(db: Session, stocktake_id: int, *, by: str, at: datetime, address: str | None = None) -> Stocktake:
    """Close the stock-take and keep its result: found, missing, unexpected, on loan."""
    stocktake = _close(db, stocktake_id, "finished", by, at)
    result = preview(db, stocktake, taps(db, stocktake))
    lines = [line for line, _item in result]
    db.add_all(StocktakeLine(stocktake_id=stocktake.id, item_id=line.item_id, outcome=line.outcome,
                             detail=line.stored_detail, scan_id=line.scan_id) for line in lines)
    cabinet = db.get(Reader, stocktake.cabinet_id)
    name = cabinet.name if cabinet else stocktake.cabinet_id
    db.add_all(Alert(type="stocktake_missing", severity="medium", state="open", opened_at=at,
                     subject=f"{name} #{stocktake.id}: {item.label}", reader_id=stocktake.cabinet_id,
                     item_id=line.item_id)
               for line, item in result if line.outcome == "missing")
    counts = {outcome: sum(1 for line in lines if line.outcome == outcome)
              for outcome in OUTCOMES}
    record(db, at, "stocktake_finished", by, {"stocktake": stocktake.id, "cabinet": name, **counts}, address)
    db.flush()
    return stocktake


def cancel(db: Session, stocktake_id: int, *, by: str, at: datetime, address: str | None = None) -> Stocktake:
    """Stop counting without a result; the cabinet's taps lend and return again."""
    stocktake = _close(db, stocktake_id, "cancelled", by, at)
    cabinet = db.get(Reader, stocktake.cabinet_id)
    record(db, at, "stocktake_cancelled", by,
           {"stocktake": stocktake.id, "cabinet": cabinet.name if cabinet else stocktake.cabinet_id}, address)
    return stocktake


def lines(db: Session, stocktake: Stocktake) -> list[tuple[StocktakeLine, Item]]:
    """A finished stock-take's result: missing first, then unexpected, on loan, found."""
    order = {outcome: rank for rank, outcome in enumerate(OUTCOMES)}
    rows = db.execute(select(StocktakeLine, Item).join(Item, Item.id == StocktakeLine.item_id)
                      .where(StocktakeLine.stocktake_id == stocktake.id)).all()
    return sorted(((line, item) for line, item in rows), key=lambda r: (order[r[0].outcome], r[1].label, r[1].id))


def listing(db: Session, limit: int = 100, offset: int = 0) -> list[Stocktake]:
    """Open stock-takes first, then the newest."""
    return list(db.scalars(select(Stocktake).order_by((Stocktake.state != "open"), Stocktake.started_at.desc(),
                                                      Stocktake.id.desc()).limit(limit).offset(offset)))
