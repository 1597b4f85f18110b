"""What a stock-take of one cabinet found: the cabinet's items and the tapped ones, reconciled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

OUTCOMES = ("missing", "unexpected", "on_loan", "found")  # the order a result is read in: problems first


@dataclass(frozen=True, slots=True)
class StockItem:
    """An item the stock-take must account for: one whose home is the cabinet, or one tapped there."""

    item_id: int
    home: str  # the cabinet it lives in
    status: str  # active | lost | retired
    holder: str | None = None  # who has it out, if it is on loan

    @property
    def on_loan(self) -> bool:
        return self.holder is not None


@dataclass(frozen=True, slots=True)
class StockLine:
    item_id: int
    outcome: str  # found | missing | unexpected | on_loan
    why: str | None = None  # elsewhere | on_loan | lost | retired: what the outcome rests on
    detail: str | None = None  # the home cabinet, or the holder
    scan_id: str | None = None  # the tap that found it

    @property
    def stored_detail(self) -> str | None:
        """`why:detail` as kept on the stock-take line, e.g. `elsewhere:cabinet-2`, `on_loan:佐藤 花子`."""
        if self.why is None:
            return None
        return f"{self.why}:{self.detail or ''}"[:200]


def reconcile(cabinet_id: str, items: Iterable[StockItem], tapped: Mapping[int, str]) -> list[StockLine]:
    """One line per item: `tapped` maps each item tapped during the stock-take to its first scan.

    found: home here, not on loan, tapped. missing: home here, not on loan, not tapped (an item
    already marked lost or retired is not expected). unexpected: tapped, but its home is another
    cabinet or it is on loan. on_loan: home here, out, not tapped.
    """
    lines = []
    for item in items:
        scan_id = tapped.get(item.item_id)
        if scan_id is not None:
            lines.append(_tapped(cabinet_id, item, scan_id))
        elif item.home != cabinet_id:
            continue  # another cabinet's item that nobody tapped here is not this stock-take's business
        elif item.on_loan:
            lines.append(StockLine(item.item_id, "on_loan", "on_loan", item.holder))
        elif item.status == "active":
            lines.append(StockLine(item.item_id, "missing"))
    return sorted(lines, key=lambda line: (OUTCOMES.index(line.outcome), line.item_id))


def _tapped(cabinet_id: str, item: StockItem, scan_id: str) -> StockLine:
    if item.home != cabinet_id:
        return StockLine(item.item_id, "unexpected", "elsewhere", item.home, scan_id)
    if item.on_loan:  # the ledger says it is out, yet it is in the cabinet: somebody put it back untapped
        return StockLine(item.item_id, "unexpected", "on_loan", item.holder, scan_id)
    if item.status != "active":  # marked lost or retired, and here after all
        return StockLine(item.item_id, "found", item.status, None, scan_id)
    return StockLine(item.item_id, "found", scan_id=scan_id)
