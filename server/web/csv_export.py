"""CSV downloads that open correctly in Japanese Excel.

UTF-8 with a BOM (without it Excel reads Shift_JIS and shows mojibake), CRLF line ends, every
field quoted, and a cell that starts like a formula (= + - @, tab, CR) prefixed with ' so a
visitor who types "=HYPERLINK(…)" as their name cannot run anything on the ward's PC.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from fastapi.responses import Response

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue().encode("utf-8")


def csv_response(data: bytes, filename: str) -> Response:
    """A download named `filename` (Japanese allowed: RFC 6266 filename* with an ASCII fallback)."""
    return download(data, filename, "text/csv; charset=utf-8")


def download(data: bytes, filename: str, media_type: str) -> Response:
    """Any file to save, named as csv_response names it."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})
