"""The per-reader token bucket for refused payloads (server/ingest/refusals.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.ingest.refusals import RefusalLimit

T0 = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
READER = "mamori/v1/nerima/cabinet-1"


def test_a_reader_gets_its_burst_then_one_a_second():
    limit = RefusalLimit(per_s=1, burst=3)
    assert [limit.allow(READER, T0) for _ in range(5)] == [True, True, True, False, False]
    assert limit.allow(READER, T0 + timedelta(seconds=1))
    assert not limit.allow(READER, T0 + timedelta(seconds=1))
    assert [limit.allow(READER, T0 + timedelta(hours=1)) for _ in range(4)] == [True, True, True, False]


def test_one_reader_over_its_limit_leaves_the_others_theirs():
    limit = RefusalLimit(per_s=0.01, burst=2)
    for _ in range(10):
        limit.allow(READER, T0)
    assert limit.allow("mamori/v1/nerima/entrance", T0)


def test_a_clock_going_back_adds_no_tokens():
    limit = RefusalLimit(per_s=1, burst=1)
    assert limit.allow(READER, T0)
    assert not limit.allow(READER, T0 - timedelta(hours=1))
    assert not limit.allow(READER, T0)
