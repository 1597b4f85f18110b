"""CSV downloads that open correctly in Japanese Excel.

UTF-8 with a BOM (without it Excel reads Shift_JIS and shows mojibake), CRLF line ends, every
field quoted, and a cell that starts like a formula (= + - @, tab, CR) prefixed with ' so a
visitor who types "=HYPERLINK(…)" as their name cannot run anything on the ward's PC.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


CHUNK = 64 * 1024  # characters sent at a time


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The CSV in pieces of about CHUNK: the BOM and the header line first, before any row is read."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def taken() -> bytes:
        data = out.getvalue()
        out.seek(0)
        out.truncate()
        return data.encode("utf-8")

    out.write(BOM)
    writer.writerow(headers)
    yield taken()
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        if out.tell() >= CHUNK:
            yield taken()
    if out.tell():
        yield taken()


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    return b"".join(csv_chunks(headers, rows))


def streamed_csv(sessions: sessionmaker[Session], headers: Sequence[str],
                 rows: Callable[[Session], Iterable[Sequence[object]]], filename: str) -> StreamingResponse:
    """A download written as it is read: `rows` gets a session of its own (the request's unit of work
    has committed, with its audit entry, before the first byte), read-only and closed at the end."""
    def body() -> Iterator[bytes]:
        with sessions() as db:
            try:
                yield from csv_chunks(headers, rows(db))
            finally:
                db.rollback()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=_headers(filename))


def csv_response(data: bytes, filename: str) -> Response:
    """A download named `filename` (Japanese allowed: RFC 6266 filename* with an ASCII fallback)."""
    return download(data, filename, "text/csv; charset=utf-8")


def download(data: bytes, filename: str, media_type: str) -> Response:
    """Any file to save, named as csv_response names it."""
    return Response(data, media_type=media_type, headers=_headers(filename))


def _headers(filename: str) -> dict[str, str]:
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return {"Content-Disposition": disposition, "Cache-Control": "no-store"}
