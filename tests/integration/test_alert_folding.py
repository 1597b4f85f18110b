"""Repeated alerts of one problem fold into one alert with a count and its occurrences (issue: the alert flood)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.office import Office

pytestmark = pytest.mark.integration

TRAINEE_CARD = "012E4CD8F1A2B3C5"
TODAY = datetime.now(UTC).date()


def _trainee_at_the_cabinet(office: Office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    office.add_person("田中 一郎", TRAINEE_CARD, key_holder=True, training_on=TODAY - timedelta(days=400))
    return cabinet


def _taps(reader, uids: list[str], start: datetime) -> None:
    ids = [reader.tap(uid, at=start + timedelta(seconds=10 * n)) for n, uid in enumerate(uids)]
    assert reader.wait_acked(ids, timeout=20)


def test_fifteen_denials_of_one_person_are_one_alert_with_fifteen_occurrences(office):
    cabinet = _trainee_at_the_cabinet(office)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    _taps(cabinet, [TRAINEE_CARD] * 15, start)
    [alert] = office.get("/alerts", state="open")
    assert alert["type"] == "cabinet_denied" and alert["reason"] == "training_expired"
    assert alert["count"] == 15
    assert datetime.fromisoformat(alert["first_at"]) == start
    assert datetime.fromisoformat(alert["last_at"]) == start + timedelta(seconds=140)
    assert TRAINEE_CARD not in alert["subject"]
    occurrences = office.get(f"/alerts/{alert['id']}/occurrences")
    assert len(occurrences) == 15
    assert {o["reason"] for o in occurrences} == {"training_expired"}
    assert len({o["scan_id"] for o in occurrences}) == 15


def test_an_acknowledged_alert_counts_up_and_a_resolved_one_gives_way_to_a_new_one(office):
    cabinet = _trainee_at_the_cabinet(office)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    _taps(cabinet, [TRAINEE_CARD], start)
    [alert] = office.get("/alerts", state="open")
    office.post(f"/alerts/{alert['id']}/acknowledge", {}, expect=200)
    _taps(cabinet, [TRAINEE_CARD] * 2, start + timedelta(minutes=1))
    [acknowledged] = office.get("/alerts")
    assert (acknowledged["id"], acknowledged["state"], acknowledged["count"]) == (alert["id"], "acknowledged", 3)
    office.post(f"/alerts/{alert['id']}/resolve", {}, expect=200)
    _taps(cabinet, [TRAINEE_CARD], start + timedelta(minutes=2))
    [new] = office.get("/alerts", state="open")
    assert new["id"] != alert["id"] and new["count"] == 1
    assert len(office.get(f"/alerts/{alert['id']}/occurrences")) == 3


def test_a_reader_sending_many_unknown_cards_raises_one_alert(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    _taps(cabinet, [f"0A0B0C{n:04X}" for n in range(120)], start)
    [alert] = office.get("/alerts", state="open")
    assert (alert["reason"], alert["count"], alert["person_id"]) == ("unknown_card", 120, None)
    assert "0A0B0C" not in alert["subject"]


def test_a_cabinet_forced_twice_is_one_door_forced_alert_with_both_openings(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    events = [cabinet.event("door_open", at=start), cabinet.event("door_closed", at=start + timedelta(seconds=20)),
              cabinet.event("door_open", at=start + timedelta(minutes=10))]
    assert cabinet.wait_acked(events)
    [alert] = office.get("/alerts", state="open")
    assert (alert["type"], alert["count"], alert["event_id"]) == ("door_forced", 2, events[0])
    assert [o["event_id"] for o in office.get(f"/alerts/{alert['id']}/occurrences")] == [events[2], events[0]]
