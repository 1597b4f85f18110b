"""The 入退室記録簿 read as a stream (the CSV) gives the very lines, in the very order, that the whole
period built in memory gave (tests/support/entry_log_whole.py), also when stays wait so long that
their exits are looked up ahead; and the CSV written in pieces is the CSV written at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.visits import entry_log as log
from server.web import csv_export
from server.web.csv_export import csv_chunks, to_csv
from server.web.i18n import translator
from server.web.reception.entry_log import COLUMNS, cells
from tests.integration.test_visit_queries import DAY0, DAYS, NOW, ZONE, session  # noqa: F401  (the seeded office)
from tests.support import entry_log_whole as whole

pytestmark = pytest.mark.integration

PERIODS = [(DAY0 + timedelta(days=d), DAY0 + timedelta(days=d + n)) for d in range(0, DAYS, 2) for n in (1, 4)]
PERIODS.append((DAY0 - timedelta(days=1), DAY0 + timedelta(days=DAYS + 1)))  # all of it


@pytest.mark.parametrize("hold", [log.HOLD, 3, 1])
def test_streamed_lines_are_the_whole_lines_in_order(session, monkeypatch, hold):  # noqa: F811
    monkeypatch.setattr(log, "HOLD", hold)  # 1 and 3: nearly every stay's exit is looked up ahead
    checked = 0
    for start, end in PERIODS:
        for who in ("all", "visitor", "staff"):
            for q in ("", "佐藤", "ミナト"):
                old = whole.entry_log(session, start, end, NOW, who=who, q=q)
                assert list(log.lines(session, start, end, NOW, who=who, q=q)) == old, (start, end, who, q)
                checked += len(old)
    assert checked > 1000


def test_the_csv_in_pieces_is_the_csv_at_once(session, monkeypatch):  # noqa: F811
    monkeypatch.setattr(csv_export, "CHUNK", 100)  # a few lines a piece
    t = translator("ja")
    headers = [t(f"log.col.{c}") for c in COLUMNS]
    start, end = PERIODS[-1]
    old = to_csv(headers, (cells(line, ZONE, t) for line in whole.entry_log(session, start, end, NOW)))
    pieces = list(csv_chunks(headers, (cells(line, ZONE, t) for line in log.lines(session, start, end, NOW))))
    assert len(pieces) > 10 and pieces[0] == to_csv(headers, [])  # the BOM and the header, before any line
    assert b"".join(pieces) == old
