"""Walk the chain and compare it with the tables: the first broken, missing or foreign record, named.

Three checks (docs/evidence.md):
1. the links: seq 1, 2, 3 … without a gap, each hash following from the one before, the head row
   pointing at the last link;
2. the rows: every row of an evidence table is what its newest fact says (its digest), no row is
   there that the chain never saw, and no chained row has gone without a `withdrawn` fact; an
   immutable kind has no `changed` or `withdrawn` fact at all; nothing waits unchained;
3. optionally an anchor (a head hash that left the database on a day: the daily e-mail, a printout's
   foot): that link is still in the chain, chained by that day, and the walk above reached it
   unbroken — so even a chain rewritten consistently from the start fails.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from server.evidence import canonical
from server.evidence.chain import ADDED, WITHDRAWN, ChainPosition, head, kinds, read_rows
from server.evidence.models import ChainHead, ChainLink, ChainPending

WALK = 20_000  # links per query
KEEP = 50  # problems kept; the first is the one named


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that is not as chained: `what` is a code the page words (evidence.problem.<what>)."""

    what: str
    kind: str = ""
    row_id: str = ""
    seq: int | None = None
    columns: tuple[str, ...] = ()
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.kind} id {self.row_id}" if self.kind else f"link {self.seq}"
        text = {
            "missing_link": f"link {self.seq} is missing ({self.detail})",
            "bad_hash": f"link {self.seq} ({self.kind} id {self.row_id}) does not follow from the link before: "
                        "edited, inserted or reordered",
            "head_mismatch": f"the chain's head row says {self.detail}; links were removed from the end or the head edited",
            "not_chained": f"{where} is not in the chain: written around the application",
            "differs": f"{where} differs from its chained record (link {self.seq})"
                       + (f": column {', '.join(self.columns)}" if self.columns else ""),
            "withdrawn_present": f"{where} was withdrawn in the chain (link {self.seq}) but is there",
            "deleted": f"{where} is missing: chained by link {self.seq}, no longer in the table",
            "immutable_changed": f"{where} is immutable evidence yet link {self.seq} records it {self.detail}",
            "unchained_write": f"{where} was written around the application and waits unchained",
            "anchor_missing": f"the anchor {self.detail} is not in the chain: the chain was rewritten",
            "anchor_late": f"the anchor {self.detail}",
        }[self.what]
        return text

    def stored(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v not in ("", (), None)}, ensure_ascii=False)


@dataclass(slots=True)
class Report:
    links: int = 0
    head: ChainPosition | None = None
    problems: list[Problem] = field(default_factory=list)
    count: int = 0  # problems found, even past KEEP

    @property
    def ok(self) -> bool:
        return self.count == 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.problems) < KEEP:
            self.problems.append(problem)


@dataclass(frozen=True, slots=True)
class Anchor:
    hash: str
    day: date

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """`HASH@YYYY-MM-DD` as the daily e-mail and the printouts give it."""
        digest, sep, day = text.strip().partition("@")
        digest = digest.strip().lower()
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("an anchor is the 64-hex head hash, '@', and the date: HASH@2026-12-03")
        return cls(digest, date.fromisoformat(day.strip()))

    def __str__(self) -> str:
        return f"{self.hash}@{self.day.isoformat()}"


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), zone) - timedelta(microseconds=1)


def verify(conn: Connection, zone: ZoneInfo, *, since: datetime | None = None,
           anchor: Anchor | None = None) -> Report:
    report = Report()
    latest = _walk(conn, report, since)
    if since is None:
        _check_head_row(conn, report)
    _check_rows(conn, report, latest, everything=since is None)
    for kind, row_id in conn.execute(select(ChainPending.kind, ChainPending.row_id).order_by(ChainPending.id)):
        report.add(Problem("unchained_write", kind, row_id))
    if anchor is not None:
        _check_anchor(conn, report, anchor, zone)
    report.head = head(conn)
    return report


def _walk(conn: Connection, report: Report, since: datetime | None) -> dict[str, dict[str, tuple]]:
    """Check each link follows from the one before; the newest fact of each row, by kind."""
    registry = kinds()
    expected, previous = 1, canonical.GENESIS
    if since is not None:
        first = conn.execute(select(ChainLink.seq).where(ChainLink.at >= since)
                             .order_by(ChainLink.at, ChainLink.seq).limit(1)).scalar()
        if first is None:
            return {}
        expected = first
        before = conn.execute(select(ChainLink.hash).where(ChainLink.seq == first - 1)).scalar()
        previous = before if before is not None else canonical.GENESIS
    latest: dict[str, dict[str, tuple]] = {}
    columns = (ChainLink.seq, ChainLink.at, ChainLink.kind, ChainLink.row_id, ChainLink.op, ChainLink.digest,
               ChainLink.columns, ChainLink.hash)
    last = expected - 1
    while True:
        batch = conn.execute(select(*columns).where(ChainLink.seq > last).order_by(ChainLink.seq).limit(WALK)).all()
        if not batch:
            return latest
        for seq, at, kind, row_id, op, digest, sums, stored in batch:
            if seq != expected:
                report.add(Problem("missing_link", seq=expected,
                                   detail=f"after {expected - 1} comes {seq}" if seq > expected else "repeated"))
            elif canonical.link_hash(previous, seq, at, kind, row_id, op, digest) != stored:
                report.add(Problem("bad_hash", kind, row_id, seq))
            kind_of = registry.get(kind)
            if kind_of is not None and kind_of.immutable and op != ADDED:
                report.add(Problem("immutable_changed", kind, row_id, seq, detail=op))
            latest.setdefault(kind, {})[row_id] = (seq, op, digest, sums)
            expected, previous = seq + 1, stored  # after a break, go on from what is stored
            report.links += 1
        last = batch[-1][0]


def _check_head_row(conn: Connection, report: Report) -> None:
    row = conn.execute(select(ChainHead.seq, ChainHead.hash)).first()
    last = conn.execute(select(ChainLink.seq, ChainLink.hash).order_by(ChainLink.seq.desc()).limit(1)).first()
    last_seq, last_hash = (last.seq, last.hash) if last is not None else (0, canonical.GENESIS)
    if row is None or (row.seq, row.hash) != (last_seq, last_hash):
        said = f"seq {row.seq}" if row is not None else "nothing"
        report.add(Problem("head_mismatch", seq=last_seq, detail=f"{said}, the last link is {last_seq}"))


def _check_rows(conn: Connection, report: Report, latest: dict[str, dict[str, tuple]], *, everything: bool) -> None:
    for name, kind in sorted(kinds().items()):
        facts = latest.get(name, {})
        if everything:
            rows = _all_rows(conn, kind)
        else:
            rows = iter(read_rows(conn, kind, list(facts)))
        for row_id, row in rows:
            fact = facts.pop(row_id, None)
            if fact is None:
                if everything:
                    report.add(Problem("not_chained", name, row_id))
                continue
            seq, op, digest, sums = fact
            if op == WITHDRAWN:
                report.add(Problem("withdrawn_present", name, row_id, seq))
            elif canonical.row_digest(row) != digest:
                report.add(Problem("differs", name, row_id, seq, tuple(canonical.differing_columns(row, sums))))
        for row_id, (seq, op, _digest, _sums) in sorted(facts.items(), key=lambda item: item[1][0]):
            if op != WITHDRAWN:
                report.add(Problem("deleted", name, row_id, seq))


def _all_rows(conn: Connection, kind):
    table, key = kind.table, kind.key
    query = select(*(table.c[name] for name in kind.columns)).order_by(key)
    for row in conn.execution_options(yield_per=WALK).execute(query).mappings():
        yield str(row[key.name]), dict(row)


def _check_anchor(conn: Connection, report: Report, anchor: Anchor, zone: ZoneInfo) -> None:
    found = conn.execute(select(ChainLink.seq).where(ChainLink.hash == anchor.hash).limit(1)).scalar()
    if found is None:
        report.add(Problem("anchor_missing", detail=str(anchor)))
        return
    at = conn.execute(select(ChainLink.at).where(ChainLink.seq == found)).scalar()
    if at > end_of_day(anchor.day, zone):
        report.add(Problem("anchor_late", seq=found,
                           detail=f"{anchor} is link {found}, chained after that day ({at.isoformat()})"))
