"""Which refused messages may be acked: only those naming an id the contract allows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from server.ingest.intake import Incoming, event_time, refused_id


def _msg(payload: bytes, topic: str = "mamori/v1/nerima/cabinet-1/scan") -> Incoming:
    return Incoming(topic, payload, datetime(2026, 11, 27, tzinfo=UTC))


def test_a_refused_scan_naming_a_valid_id_is_acked_to_its_reader():
    msg = _msg(json.dumps({"v": 1, "id": "01JDQ3X8Z5K1W4N7E2R9T6Y0AB", "uid": "XYZ"}).encode())
    assert refused_id(msg) == (("nerima", "cabinet-1"), "01JDQ3X8Z5K1W4N7E2R9T6Y0AB")


@pytest.mark.parametrize("bad_id", ["abcdefgh\n", "short", "x" * 65, "has space", 12345678, None])
def test_an_id_the_contract_does_not_allow_is_never_acked(bad_id):
    assert refused_id(_msg(json.dumps({"v": 1, "id": bad_id}).encode())) is None


def test_a_status_or_a_foreign_topic_is_never_acked():
    payload = json.dumps({"v": 1, "id": "01JDQ3X8Z5K1W4N7E2R9T6Y0AB"}).encode()
    assert refused_id(_msg(payload, "mamori/v1/nerima/cabinet-1/status")) is None
    assert refused_id(_msg(payload, "mamori/v1/NERIMA/cabinet-1/scan")) is None


def test_a_huge_refused_payload_is_not_parsed_to_find_an_id():
    payload = json.dumps({"id": "01JDQ3X8Z5K1W4N7E2R9T6Y0AB", "pad": "x" * 100_000}).encode()
    assert refused_id(_msg(payload)) is None


def test_messages_are_ordered_by_their_own_time_or_else_by_arrival():
    timed = _msg(json.dumps({"at": "2026-11-26T09:00:00+09:00"}).encode())
    assert event_time(timed) == datetime(2026, 11, 26, tzinfo=UTC)
    for junk in (b"not json", json.dumps({"at": 5}).encode(), json.dumps({"at": "soon"}).encode(), b"[]"):
        assert event_time(_msg(junk)) == datetime(2026, 11, 27, tzinfo=UTC)
