"""The evidence chain: every write of an evidence row becomes a fact, chained in the same transaction.

Triggers (`capture.py`) note each insert, update and delete of a registered table in
`chain_pending`, tagged with the writing transaction. Just before that transaction commits,
`append()` reads those rows as they now stand and appends one link per row:
`hash = SHA-256(previous hash ‖ canonical bytes of the fact)` (`canonical.py`). The head row is
locked only for that last step, so concurrent writers queue for a few milliseconds and never fork.

A kind of record joins the chain with one line in `server/evidence/kinds.py`:

    chained(Incident)                   # rows may change later: each change is a new fact
    chained(IncidentNote, immutable=True)  # refused UPDATE/DELETE on PostgreSQL too

and `mamori db upgrade` installs its triggers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter

from sqlalchemy import Connection, Select, Table, bindparam, event, select, text
from sqlalchemy.orm import Session

from server.bulk import among
from server.db import WROTE, chain_token
from server.evidence import canonical
from server.evidence.models import ChainHead, ChainLink

ADDED, CHANGED, WITHDRAWN = "added", "changed", "withdrawn"
HEAD_ID = 1


@dataclass(frozen=True, slots=True)
class Kind:
    """A registered evidence table: which columns are its record, and whether rows may change."""

    table: Table
    columns: tuple[str, ...]
    immutable: bool

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def key(self):
        (column,) = self.table.primary_key.columns
        return column

    def row_id(self, raw: str) -> object:
        """The primary key value a `row_id` string stands for (an integer, a date, or the text)."""
        kind = self.key.type.python_type
        if kind is int:
            return int(raw)
        return date.fromisoformat(raw) if kind is date else raw


EVIDENCE: dict[str, Kind] = {}


def chained(model, *, immutable: bool = False, columns: Iterable[str] | None = None):
    """Register a model (or Table) as evidence: the one line a new kind of record needs."""
    table = model if isinstance(model, Table) else model.__table__
    if len(table.primary_key.columns) != 1:
        raise ValueError(f"{table.name}: a chained table needs a one-column primary key")
    (key,) = table.primary_key.columns
    names = tuple(sorted({*columns, key.name})) if columns is not None else tuple(sorted(table.columns.keys()))
    EVIDENCE[table.name] = Kind(table, names, immutable)
    return model


def kinds() -> dict[str, Kind]:
    """Every registered kind (the registrations are imported on first use)."""
    import server.evidence.kinds  # noqa: F401  (registers)

    return EVIDENCE


@dataclass(frozen=True, slots=True)
class ChainPosition:
    seq: int
    hash: str
    at: datetime


def position(db: Session | Connection, table: str, row_id: object) -> ChainPosition | None:
    """The newest link that chained this row (its only one, for an immutable row); None while the
    row's transaction has not committed."""
    found = db.execute(select(ChainLink.seq, ChainLink.hash, ChainLink.at)
                       .where(ChainLink.kind == table, ChainLink.row_id == str(row_id))
                       .order_by(ChainLink.seq.desc()).limit(1)).first()
    return ChainPosition(*found) if found is not None else None


def head(db: Session | Connection, at: datetime | None = None) -> ChainPosition | None:
    """The last link chained at or before `at` (now, when None); None for an empty chain."""
    query = select(ChainLink.seq, ChainLink.hash, ChainLink.at)
    if at is not None:
        query = query.where(ChainLink.at <= at)
    found = db.execute(query.order_by(ChainLink.at.desc(), ChainLink.seq.desc()).limit(1)).first()
    return ChainPosition(*found) if found is not None else None


# ------------------------------------------------------------------ appending

_HEAD = select(ChainHead.seq, ChainHead.hash, ChainHead.at).where(ChainHead.id == HEAD_ID)
_HEAD_LOCKED = _HEAD.with_for_update()
_MOVE_HEAD = (ChainHead.__table__.update().where(ChainHead.__table__.c.id == HEAD_ID)
              .values(seq=bindparam("h_seq"), hash=bindparam("h_hash"), at=bindparam("h_at")))
_CLAIM = {
    "postgresql": text("DELETE FROM chain_pending WHERE txn = txid_current_if_assigned()::text "
                       "RETURNING id, kind, row_id, op"),
    "sqlite": text("DELETE FROM chain_pending WHERE txn = :txn RETURNING id, kind, row_id, op"),
}
_CLAIM_ALL = text("DELETE FROM chain_pending RETURNING id, kind, row_id, op")
CHUNK = 500  # SQLite: ids per IN list (PostgreSQL takes them all as one array)
_READS: dict[str, Select] = {}
_LINK_COLUMNS = "seq, at, kind, row_id, op, digest, columns, hash"
# PostgreSQL: every link of the commit and the head's move in one statement, so one round trip
# (an executemany sends one INSERT per link; the server parses and runs each).
_ADD_LINKS_AND_MOVE = text(
    f"WITH added AS (INSERT INTO chain_links ({_LINK_COLUMNS}) "
    "SELECT seq, :at, kind, row_id, op, digest, columns, hash FROM unnest("
    "CAST(:seqs AS BIGINT[]), CAST(:kinds AS TEXT[]), CAST(:row_ids AS TEXT[]), CAST(:ops AS TEXT[]), "
    "CAST(:digests AS TEXT[]), CAST(:sums AS TEXT[]), CAST(:hashes AS TEXT[])) "
    "AS t(seq, kind, row_id, op, digest, columns, hash)) "
    f"UPDATE chain_head SET seq = :h_seq, hash = :h_hash, at = :at WHERE id = {HEAD_ID}"
).bindparams(bindparam("at", type_=ChainLink.__table__.c.at.type))
_ADD_LINKS_SQLITE = f"INSERT INTO chain_links ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def append(conn: Connection, *, everything: bool = False, now: datetime | None = None) -> int:
    """Chain what this transaction wrote to evidence tables; how many links were added.

    `everything` also takes writes other transactions left unchained (the upgrade that starts the
    chain over existing rows uses it; the verifier reports such rows instead)."""
    if not everything and not conn.info.get(WROTE):
        return 0  # nothing written in this transaction (server/db.py)
    if conn.dialect.name == "sqlite":
        claimed = conn.execute(_CLAIM_ALL if everything else _CLAIM["sqlite"],
                               {"txn": chain_token(conn.connection.info)}).all()
    else:
        claimed = conn.execute(_CLAIM_ALL if everything else _CLAIM["postgresql"]).all()
    if not claimed:
        return 0
    facts = _facts(conn, claimed)
    if not facts:
        return 0
    # Taken as late as possible: everything above ran without holding the other writers back.
    seq, previous, last_at = conn.execute(_HEAD_LOCKED).one()
    at = max(now or datetime.now(UTC), last_at) if last_at is not None else (now or datetime.now(UTC))
    links = []
    stamp = canonical.time_bytes(at)  # the same for every link of the commit
    for kind, row_id, op, digest, sums in facts:
        seq += 1
        previous = canonical.stamped_link_hash(previous, seq, stamp, kind, row_id, op, digest)
        links.append((seq, kind, row_id, op, digest, sums, previous))
    _write_links(conn, at, links)
    return len(links)


def _write_links(conn: Connection, at: datetime, links: list[tuple[int, str, str, str, str, str, str]]) -> None:
    """Insert the links (seq, kind, row id, op, digest, column sums, hash) chained at `at`, and move
    the head to the last one."""
    last_seq, last_hash = links[-1][0], links[-1][6]
    if conn.dialect.name == "postgresql":
        seqs, kinds_, row_ids, ops, digests, sums, hashes = (list(column) for column in zip(*links, strict=True))
        conn.execute(_ADD_LINKS_AND_MOVE, {"at": at, "seqs": seqs, "kinds": kinds_, "row_ids": row_ids, "ops": ops,
                                           "digests": digests, "sums": sums, "hashes": hashes,
                                           "h_seq": last_seq, "h_hash": last_hash})
        return
    # SQLite: one executemany straight to the driver, `at` converted to its stored form once.
    at_type = ChainLink.__table__.c.at.type.dialect_impl(conn.dialect)
    stored_at = at_type.bind_processor(conn.dialect)(at)
    conn.exec_driver_sql(_ADD_LINKS_SQLITE, [(seq, stored_at, *rest) for seq, *rest in links])
    conn.execute(_MOVE_HEAD, {"h_seq": last_seq, "h_hash": last_hash, "h_at": at})


def _facts(conn: Connection, claimed: list) -> list[tuple[str, str, str, str, str]]:
    """(kind, row id, op, digest, column sums) for each row written, in the order first written."""
    first: dict[tuple[str, str], str] = {}
    for _id, kind, row_id, op in sorted(claimed, key=itemgetter(0)):  # by id alone: comparing rows costs more
        first.setdefault((kind, row_id), op)
    registry = kinds()
    by_kind: dict[str, list[str]] = {}
    for kind, row_id in first:
        by_kind.setdefault(kind, []).append(row_id)
    sums: dict[tuple[str, str], tuple[str, str]] = {}
    for name, ids in by_kind.items():
        kind = registry[name]
        prefixes = canonical.name_prefixes(kind.columns)
        for row_id, values in _read_values(conn, kind, ids):
            sums[(name, row_id)] = canonical.values_digest_and_sums(prefixes, values)
    facts = []
    for (name, row_id), op in first.items():
        found = sums.get((name, row_id))
        if found is None:
            if op != "I":  # there before this transaction, gone now
                facts.append((name, row_id, WITHDRAWN, "", ""))
            continue
        facts.append((name, row_id, ADDED if op == "I" else CHANGED, *found))
    return facts


def read_rows(conn: Connection, kind: Kind, ids: list[str]) -> list[tuple[str, dict]]:
    """The chained columns of these rows as they stand, by row id string (missing rows left out)."""
    return [(row_id, dict(zip(kind.columns, values, strict=True))) for row_id, values in _read_values(conn, kind, ids)]


def _read_values(conn: Connection, kind: Kind, ids: list[str]) -> list[tuple[str, tuple]]:
    """`read_rows` with each row as its values in `kind.columns` order."""
    query = _READS.get(kind.name)
    if query is None:  # built once per kind: building a statement costs more than running it
        query = _READS[kind.name] = (select(*(kind.table.c[name] for name in kind.columns))
                                     .where(among(kind.key, "ids")))
    at_key = kind.columns.index(kind.key.name)
    found = []
    step = (len(ids) or 1) if conn.dialect.name == "postgresql" else CHUNK  # an array takes them all
    for start in range(0, len(ids), step):
        chunk = [kind.row_id(i) for i in ids[start:start + step]]
        for row in conn.execute(query, {"ids": chunk}):
            found.append((str(row[at_key]), tuple(row)))
    return found


@event.listens_for(Session, "before_commit")
def _chain_before_commit(session: Session) -> None:
    """Every unit of work (server/db.py) and `factory.begin()` chains its evidence before it commits."""
    session.flush()
    if session.get_transaction() is None:
        return
    append(session.connection())
