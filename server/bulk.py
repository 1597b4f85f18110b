"""Many values in one statement: a list to match (`among`) and rows to insert (`insert_rows`).

On PostgreSQL each statement is a round trip and each distinct text a parse, so both send a list as
one array parameter: the text stays the same whatever the number of values (psycopg parses it once
and the server prepares it), where an expanded IN list or an executemany of 500 rows is parsed, sent
and run value by value. SQLite matches against one JSON list (`json_each`), so SQLAlchemy need not
rewrite the statement for each list's length, and inserts with a plain executemany.
"""

from __future__ import annotations

import json

from sqlalchemy import Boolean, Connection, Integer, String, Table, any_, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, TypeDecorator


class _Array(TypeDecorator[list]):
    """A PostgreSQL array bound from any collection (a set, a tuple, a dict's keys), as an IN list is."""

    impl = ARRAY
    cache_ok = True

    def process_bind_param(self, value, dialect) -> list:
        return list(value)


class _Among(ColumnElement[bool]):
    """`column IN (:name)`, the list bound at execution; on PostgreSQL `column = ANY(:name)`."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: SQLite must not get "… = 1" (its index would go unused)
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, column, name: str):
        self.column = column.__clause_element__() if hasattr(column, "__clause_element__") else column
        self.name = name


class _JsonList(TypeDecorator[list]):
    """A list bound as one JSON text, for SQLite's json_each."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect) -> str:
        return json.dumps(list(value), ensure_ascii=False)


@compiles(_Among)
def _among_as_list(element: _Among, compiler, **kw) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(_Among, "sqlite")
def _among_as_json(element: _Among, compiler, **kw) -> str:
    # An expanding IN is rewritten for each length at every execution (a third of a one-tap batch's
    # statement cost); one JSON parameter keeps the statement as it was cached. Plain ids and uids only:
    # a value of a converted type (a time) would not match what is stored.
    kind = element.column.type
    if isinstance(kind, TypeDecorator) or not isinstance(kind, String | Integer):
        return _among_as_list(element, compiler, **kw)
    values = select(literal_column("value")).select_from(func.json_each(bindparam(element.name, type_=_JsonList())))
    return compiler.process(element.column.in_(values.scalar_subquery()), **kw)


@compiles(_Among, "postgresql")
def _among_as_array(element: _Among, compiler, **kw) -> str:
    # The column's type is read here, not when the statement is built: a foreign key's is only known by then.
    kind = element.column.type
    if isinstance(kind, NullType):  # not known even now (its table not loaded): the list it is
        return _among_as_list(element, compiler, **kw)
    return compiler.process(element.column == any_(bindparam(element.name, type_=_Array(kind))), **kw)


def among(column, name: str) -> ColumnElement[bool]:
    """`column` is one of the list bound to `name` when the statement runs. On PostgreSQL the list is one
    array parameter: the statement's text stays the same whatever its length, so psycopg parses it once
    and the server prepares it, where an expanded IN of 500 values is parsed again on both sides each time."""
    return _Among(column, name)


_INSERTS: dict[tuple[str, str, tuple[str, ...]], object] = {}


def insert_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys), in their order. PostgreSQL: one statement, each column
    one array, rows numbered so the table's own ids and the evidence triggers follow the list's order.
    SQLite: one executemany straight to the driver, each column's values converted as SQLAlchemy would."""
    if not rows:
        return
    names = tuple(rows[0])
    # A column left out that has a default of SQLAlchemy's own: SQLAlchemy's insert fills it in.
    defaults = any(column.default is not None for column in table.columns if column.name not in names)
    postgres = conn.dialect.name == "postgresql"
    if defaults or (postgres and len(rows) == 1):
        conn.execute(table.insert(), rows)
        return
    key = (conn.dialect.name, table.name, names)
    statement = _INSERTS.get(key)
    if statement is None:  # built once per table and set of columns
        statement = _INSERTS[key] = (_unnest_insert if postgres else _driver_insert)(conn, table, names)
    if postgres:
        conn.execute(statement, {name: [row[name] for row in rows] for name in names})
        return
    sql, processors = statement
    conn.exec_driver_sql(sql, [tuple(row[name] if convert is None else convert(row[name])
                                     for name, convert in processors) for row in rows])


def _unnest_insert(conn: Connection, table: Table, names: tuple[str, ...]):
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    return text(f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} FROM unnest("
                + ", ".join(f":{name}" for name in names)
                + f") WITH ORDINALITY AS t({columns}, mamori_n) ORDER BY mamori_n"
                ).bindparams(*(bindparam(name, type_=_Array(table.c[name].type)) for name in names))


def _driver_insert(conn: Connection, table: Table, names: tuple[str, ...]):
    quote = conn.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    types = [(name, table.c[name].type.dialect_impl(conn.dialect)) for name in names]
    return sql, [(name, kind.bind_processor(conn.dialect)) for name, kind in types]
