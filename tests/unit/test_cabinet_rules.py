"""The cabinet reader's rules (CONTRACT.md, "What a scan means": cabinet reader), sessions, due dates, alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from server.domain.alerts import cabinet_denial_severity
from server.domain.cabinet import CabinetOutcome, decide_cabinet, live_session, training_current
from server.domain.facts import ItemTag, OpenSession, PriorTap, StaffCard, UnknownUid, VisitorCard
from server.domain.loans import due_at
from server.domain.verdict import Verdict

JST = timezone(timedelta(hours=9))
TOKYO = ZoneInfo("Asia/Tokyo")
TODAY = date(2026, 11, 27)
VALID_DAYS = 365
CABINET = "cab-1"
OPENED = datetime(2026, 11, 27, 9, 0, tzinfo=JST)
SESSION = OpenSession(session_id=1, person_id=7, opened_at=OPENED, last_scan_at=OPENED)
IDLE = timedelta(seconds=60)


def holder(**changes) -> StaffCard:
    fields = {"person_id": 7, "person_active": True, "card_active": True, "key_holder": True,
              "training_on": TODAY - timedelta(days=30)}
    return StaffCard(**{**fields, **changes})


def item(**changes) -> ItemTag:
    fields = {"item_id": 3, "kind": "folder", "cabinet_id": CABINET, "encrypted": False, "status": "active",
              "out": False}
    return ItemTag(**{**fields, **changes})


WINDOW = timedelta(seconds=5)


def decide(identity, session: OpenSession | None = None, prior: PriorTap | None = None,
           at: datetime | None = None) -> CabinetOutcome:
    return decide_cabinet(identity, cabinet_id=CABINET, session=session, today=TODAY,
                          training_valid_days=VALID_DAYS, at=at or OPENED + timedelta(seconds=10), prior=prior,
                          duplicate_window=WINDOW)


# ---------------------------------------------------------------- cards


def test_key_holder_with_current_training_opens_a_session():
    outcome = decide(holder())
    assert outcome.verdict == Verdict("unlock", action="session_open")
    assert outcome.ends_session and not outcome.touches_session


def test_key_holder_card_during_a_session_opens_a_new_one():
    outcome = decide(holder(person_id=8), session=SESSION)
    assert outcome.verdict == Verdict("unlock", action="session_open")
    assert outcome.ends_session


@pytest.mark.parametrize("changes", [{"person_active": False}, {"card_active": False},
                                     {"person_active": False, "key_holder": False, "training_on": None}])
def test_inactive_person_or_card_is_denied(changes):
    outcome = decide(holder(**changes))
    assert outcome.verdict == Verdict("deny", reason="inactive")
    assert outcome.ends_session


def test_staff_who_is_not_a_key_holder_is_denied():
    assert decide(holder(key_holder=False)).verdict == Verdict("deny", reason="not_key_holder")


def test_not_key_holder_is_reported_before_training():
    assert decide(holder(key_holder=False, training_on=None)).verdict.reason == "not_key_holder"


@pytest.mark.parametrize("badge", [
    VisitorCard(badge_active=True, visit_id=42, visit_state="in"),
    VisitorCard(badge_active=True, visit_id=None, visit_state=None),
    VisitorCard(badge_active=False, visit_id=None, visit_state=None),
])
def test_visitor_badge_at_a_cabinet_is_not_a_key_holder(badge):
    outcome = decide(badge, session=SESSION)
    assert outcome.verdict == Verdict("deny", reason="not_key_holder")
    assert outcome.ends_session


def test_training_completed_366_days_ago_has_expired():
    outcome = decide(holder(training_on=TODAY - timedelta(days=366)))
    assert outcome.verdict == Verdict("deny", reason="training_expired")


def test_key_holder_without_training_is_denied_as_expired():
    assert decide(holder(training_on=None)).verdict == Verdict("deny", reason="training_expired")


def test_training_completed_exactly_365_days_ago_is_current():
    assert decide(holder(training_on=TODAY - timedelta(days=365))).verdict.result == "unlock"


@pytest.mark.parametrize("training_on, current", [
    (TODAY, True),
    (TODAY - timedelta(days=1), True),
    (TODAY - timedelta(days=365), True),
    (TODAY - timedelta(days=366), False),
    (None, False),
    (TODAY + timedelta(days=1), False),  # a date in the future is a typo, not a training
])
def test_training_current_counts_the_last_365_days(training_on, current):
    assert training_current(training_on, TODAY, 365) is current


def test_training_validity_is_configurable():
    assert training_current(TODAY - timedelta(days=100), TODAY, 180)
    assert not training_current(TODAY - timedelta(days=181), TODAY, 180)
    outcome = decide_cabinet(holder(training_on=TODAY - timedelta(days=200)), cabinet_id=CABINET, session=None,
                             today=TODAY, training_valid_days=180, at=OPENED, prior=None, duplicate_window=WINDOW)
    assert outcome.verdict.reason == "training_expired"


def test_unknown_uid_outside_a_session_is_an_unknown_card():
    outcome = decide(UnknownUid(), session=None)
    assert outcome.verdict == Verdict("deny", reason="unknown_card")
    assert not outcome.touches_session


def test_unknown_uid_inside_a_session_is_an_unknown_tag():
    outcome = decide(UnknownUid(), session=SESSION)
    assert outcome.verdict == Verdict("deny", reason="unknown_tag")
    assert outcome.touches_session and not outcome.ends_session


# ---------------------------------------------------------------- items


def test_item_in_its_cabinet_tapped_in_a_session_is_checked_out():
    outcome = decide(item(), session=SESSION)
    assert outcome.verdict == Verdict("accept", action="checkout")
    assert outcome.touches_session and not outcome.ends_session


def test_item_that_is_out_tapped_in_a_session_is_returned():
    outcome = decide(item(out=True), session=SESSION)
    assert outcome.verdict == Verdict("accept", action="return")
    assert outcome.touches_session


@pytest.mark.parametrize("status", ["lost", "retired"])
def test_lost_or_retired_item_is_not_loanable(status):
    outcome = decide(item(status=status), session=SESSION)
    assert outcome.verdict == Verdict("deny", reason="item_not_loanable")


@pytest.mark.parametrize("status", ["lost", "retired"])
def test_an_item_marked_lost_while_out_is_still_taken_back(status):
    outcome = decide(item(status=status, out=True), session=SESSION)
    assert outcome.verdict == Verdict("accept", action="return")


def test_a_tag_read_again_within_the_window_is_the_same_tap():
    first = PriorTap("scan-0001", OPENED + timedelta(seconds=8), "accept", "checkout", None)
    outcome = decide(item(out=True), session=SESSION, prior=first, at=OPENED + timedelta(seconds=10))
    assert outcome.verdict == Verdict("accept", action="checkout")  # not a return
    assert outcome.duplicate_of == "scan-0001" and outcome.touches_session


def test_a_tag_read_again_after_the_window_is_a_new_tap():
    first = PriorTap("scan-0001", OPENED, "accept", "checkout", None)
    outcome = decide(item(out=True), session=SESSION, prior=first, at=OPENED + timedelta(seconds=6))
    assert outcome.verdict == Verdict("accept", action="return") and outcome.duplicate_of is None


def test_a_card_read_twice_is_judged_each_time():
    first = PriorTap("scan-0001", OPENED, "unlock", "session_open", None)
    outcome = decide(holder(), session=None, prior=first, at=OPENED + timedelta(seconds=1))
    assert outcome.verdict.action == "session_open" and outcome.duplicate_of is None


def test_item_whose_home_is_another_cabinet_is_denied():
    assert decide(item(cabinet_id="cab-2"), session=SESSION).verdict == Verdict("deny", reason="wrong_cabinet")


@pytest.mark.parametrize("kind", ["phone", "media", "laptop"])
def test_unencrypted_device_cannot_be_checked_out(kind):
    assert decide(item(kind=kind), session=SESSION).verdict == Verdict("deny", reason="not_encrypted")


@pytest.mark.parametrize("kind", ["phone", "media", "laptop"])
def test_encrypted_device_can_be_checked_out(kind):
    outcome = decide(item(kind=kind, encrypted=True, screen_locked=True), session=SESSION)
    assert outcome.verdict == Verdict("accept", action="checkout")


def test_phone_without_a_screen_lock_stays_in_even_if_encrypted():
    outcome = decide(item(kind="phone", encrypted=True, screen_locked=False), session=SESSION)
    assert outcome.verdict == Verdict("deny", reason="not_encrypted")


@pytest.mark.parametrize("kind", ["media", "laptop"])
def test_only_phones_need_a_screen_lock(kind):
    outcome = decide(item(kind=kind, encrypted=True, screen_locked=False), session=SESSION)
    assert outcome.verdict == Verdict("accept", action="checkout")


@pytest.mark.parametrize("kind", ["phone", "media", "laptop"])
def test_unencrypted_device_that_is_out_can_still_be_returned(kind):
    outcome = decide(item(kind=kind, out=True), session=SESSION)
    assert outcome.verdict == Verdict("accept", action="return")


@pytest.mark.parametrize("kind", ["folder", "key"])
def test_folders_and_keys_need_no_encryption(kind):
    assert decide(item(kind=kind, encrypted=False), session=SESSION).verdict.action == "checkout"


@pytest.mark.parametrize("changes", [{}, {"out": True}, {"status": "lost"}, {"cabinet_id": "cab-2"},
                                     {"kind": "laptop"}])
def test_item_tapped_without_session_is_denied(changes):
    outcome = decide(item(**changes), session=None)
    assert outcome.verdict == Verdict("deny", reason="no_session")
    assert not outcome.touches_session and not outcome.ends_session


def test_item_decisions_never_unlock():
    for changes in ({}, {"out": True}, {"kind": "phone"}, {"status": "retired"}):
        assert decide(item(**changes), session=SESSION).verdict.result != "unlock"


def test_something_that_is_not_an_identity_is_a_programming_error():
    with pytest.raises(TypeError):
        decide(None)


# ---------------------------------------------------------------- sessions


def test_no_open_session_means_no_live_session():
    assert live_session(None, OPENED, IDLE) is None


def test_scan_within_the_idle_timeout_belongs_to_the_session():
    assert live_session(SESSION, OPENED + timedelta(seconds=30), IDLE) is SESSION


def test_scan_exactly_sixty_seconds_after_the_last_one_still_belongs_to_the_session():
    assert live_session(SESSION, OPENED + IDLE, IDLE) is SESSION


def test_session_times_out_after_sixty_idle_seconds():
    assert live_session(SESSION, OPENED + IDLE + timedelta(microseconds=1), IDLE) is None
    assert live_session(SESSION, OPENED + timedelta(minutes=10), IDLE) is None


def test_idle_time_counts_from_the_last_scan_not_the_opening():
    busy = OpenSession(session_id=1, person_id=7, opened_at=OPENED, last_scan_at=OPENED + timedelta(seconds=50))
    assert live_session(busy, OPENED + timedelta(seconds=100), IDLE) is busy
    assert live_session(busy, OPENED + timedelta(seconds=111), IDLE) is None


def test_scan_before_the_session_opened_does_not_belong_to_it():
    assert live_session(SESSION, OPENED - timedelta(seconds=1), IDLE) is None


def test_session_times_compare_instants_across_offsets():
    assert live_session(SESSION, datetime(2026, 11, 27, 0, 0, 30, tzinfo=UTC), IDLE) is SESSION


# ---------------------------------------------------------------- due dates


@pytest.mark.parametrize("out_at, expected_tokyo", [
    (datetime(2026, 11, 27, 9, 0, tzinfo=TOKYO), datetime(2026, 11, 27, 18, 0, tzinfo=TOKYO)),
    (datetime(2026, 11, 27, 18, 30, tzinfo=TOKYO), datetime(2026, 11, 28, 18, 0, tzinfo=TOKYO)),
    (datetime(2026, 11, 27, 17, 59, tzinfo=TOKYO), datetime(2026, 11, 27, 18, 0, tzinfo=TOKYO)),
    (datetime(2026, 11, 27, 18, 0, tzinfo=TOKYO), datetime(2026, 11, 28, 18, 0, tzinfo=TOKYO)),
    (datetime(2026, 12, 31, 20, 0, tzinfo=TOKYO), datetime(2027, 1, 1, 18, 0, tzinfo=TOKYO)),
    # 23:00 UTC on the 26th is 08:00 on the 27th in Tokyo: due that same Tokyo day.
    (datetime(2026, 11, 26, 23, 0, tzinfo=UTC), datetime(2026, 11, 27, 18, 0, tzinfo=TOKYO)),
])
def test_item_is_due_at_six_pm_office_time(out_at, expected_tokyo):
    assert due_at(out_at, time(18, 0), TOKYO) == expected_tokyo


def test_due_time_is_returned_in_utc():
    due = due_at(datetime(2026, 11, 27, 9, 0, tzinfo=TOKYO), time(18, 0), TOKYO)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)
    assert (due.year, due.month, due.day, due.hour, due.minute) == (2026, 11, 27, 9, 0)


def test_due_time_follows_the_office_zone_across_daylight_saving():
    new_york = ZoneInfo("America/New_York")  # DST ends 2026-11-01
    due = due_at(datetime(2026, 10, 31, 20, 0, tzinfo=new_york), time(18, 0), new_york)
    assert due == datetime(2026, 11, 1, 23, 0, tzinfo=UTC)


# ---------------------------------------------------------------- alerts


@pytest.mark.parametrize("reason, severity", [
    ("unknown_card", "high"),
    ("inactive", "high"),
    ("not_key_holder", "high"),
    ("training_expired", "medium"),
    ("no_session", "medium"),
    ("unknown_tag", "low"),
    ("item_not_loanable", "medium"),
    ("not_encrypted", "medium"),
    ("wrong_cabinet", "low"),
])
def test_every_cabinet_denial_has_a_severity(reason, severity):
    assert cabinet_denial_severity(reason) == severity


def test_a_card_that_should_not_be_at_the_cabinet_is_louder_than_an_item_mistake():
    order = {"low": 0, "medium": 1, "high": 2}
    for card in ("unknown_card", "inactive", "not_key_holder"):
        for tag in ("unknown_tag", "wrong_cabinet", "not_encrypted", "item_not_loanable"):
            assert order[cabinet_denial_severity(card)] > order[cabinet_denial_severity(tag)]


def test_unlisted_reason_gets_medium_severity():
    assert cabinet_denial_severity("something_new") == "medium"
