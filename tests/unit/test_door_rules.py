"""A cabinet door's rules: forced (no unlock explains the opening), held open too long, how long it was open."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from server.domain.door import door_forced, held_open_too_long, open_for_words, unlock_window

JST = timezone(timedelta(hours=9))
OPENED = datetime(2026, 11, 27, 9, 0, 10, tzinfo=JST)
UNLOCK_S, GRACE_S = 5, 5  # the window is the 10 seconds before the door opened


def forced(*seconds_before: float) -> bool:
    unlocks = [OPENED - timedelta(seconds=s) for s in seconds_before]
    return door_forced(OPENED, unlocks, unlock_s=UNLOCK_S, grace_s=GRACE_S)


def test_a_door_opened_with_no_unlock_at_all_is_forced():
    assert forced() is True


@pytest.mark.parametrize("before", [0, 2, 9.999, 10])
def test_an_unlock_within_unlock_time_and_grace_before_the_opening_explains_it(before):
    assert forced(before) is False


@pytest.mark.parametrize("before", [10.001, 60, 3600])
def test_an_unlock_longer_ago_than_unlock_time_and_grace_does_not(before):
    assert forced(before) is True


def test_an_unlock_after_the_door_opened_does_not_explain_it():
    assert forced(-0.5) is True


def test_one_unlock_in_the_window_among_others_outside_it_is_enough():
    assert forced(600, 30, 4, -20) is False


def test_the_grace_widens_the_window_and_zero_grace_leaves_only_the_unlock_time():
    seven_before = [OPENED - timedelta(seconds=7)]
    assert door_forced(OPENED, seven_before, unlock_s=5, grace_s=0) is True
    assert door_forced(OPENED, seven_before, unlock_s=5, grace_s=2) is False
    assert unlock_window(OPENED, unlock_s=5, grace_s=2.5) == (OPENED - timedelta(seconds=7.5), OPENED)


def test_times_in_other_offsets_are_compared_as_instants():
    utc_unlock = (OPENED - timedelta(seconds=3)).astimezone(timezone.utc)
    assert door_forced(OPENED, [utc_unlock], unlock_s=UNLOCK_S, grace_s=GRACE_S) is False


LIMIT = timedelta(seconds=120)


def test_a_door_open_longer_than_the_limit_is_held_open():
    assert held_open_too_long("door_open", OPENED, OPENED + timedelta(seconds=121), LIMIT) is True


@pytest.mark.parametrize("after", [0, 60, 120])
def test_a_door_open_up_to_the_limit_is_not(after):
    assert held_open_too_long("door_open", OPENED, OPENED + timedelta(seconds=after), LIMIT) is False


def test_an_old_opening_heard_of_only_now_waits_for_its_closing_before_it_is_held_open():
    heard = OPENED + timedelta(hours=1)  # re-sent from the reader's outbox an hour later
    assert held_open_too_long("door_open", OPENED, heard + timedelta(seconds=1), LIMIT, heard) is False
    assert held_open_too_long("door_open", OPENED, heard + timedelta(seconds=16), LIMIT, heard) is True


@pytest.mark.parametrize("newest", ["door_closed", None])
def test_a_closed_door_or_one_never_reported_is_never_held_open(newest):
    at = OPENED if newest else None
    assert held_open_too_long(newest, at, OPENED + timedelta(hours=5), LIMIT) is False


@pytest.mark.parametrize(("seconds", "ja", "en"), [
    (0, "0秒", "0 s"), (45, "45秒", "45 s"), (185, "3分05秒", "3 min 05 s"),
    (3 * 3600 + 7, "3時間00分07秒", "3 h 00 min 07 s"), (-4, "0秒", "0 s")])
def test_how_long_the_door_stood_open_in_words(seconds, ja, en):
    closed = OPENED + timedelta(seconds=seconds)
    assert open_for_words(OPENED, closed) == ja
    assert open_for_words(OPENED, closed, "en") == en
