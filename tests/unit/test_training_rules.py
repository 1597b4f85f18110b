"""情報セキュリティ教育 and the roster, as pure rules: a person's date is their latest attended session; the
reminder comes when fewer than `remind_days` days are left and the lapse the day after it (a moved clock);
what a stored change is on the 変更届."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.domain.cabinet import training_current
from server.domain.roster import change_kind, roster_role
from server.domain.training import latest_training, must_be_trained, standing, training_stage

TRAINED = date(2025, 11, 1)


def stage_on(today: date, trained: date | None = TRAINED):
    return training_stage(trained, today, valid_days=365, remind_days=30)


def test_a_persons_date_is_their_latest_attended_session_and_new_staff_are_untrained():
    assert latest_training([date(2025, 4, 1), date(2026, 4, 1), date(2025, 10, 1)]) == date(2026, 4, 1)
    assert latest_training([]) is None
    assert stage_on(date(2026, 1, 1), None).stage == "untrained"


def test_a_withdrawn_attendance_no_longer_stands():
    rows = [(1, "attended", None), (2, "attended", None), (3, "withdrawn", 1)]
    assert standing(rows) == {2}
    assert standing([(1, "attended", None)]) == {1}


@pytest.mark.parametrize("days_after, stage", [
    (0, "current"), (335, "current"), (336, "due_soon"), (365, "due_soon"), (366, "lapsed"), (400, "lapsed")])
def test_the_reminder_comes_when_fewer_than_30_days_are_left_and_the_lapse_the_day_after(days_after, stage):
    today = TRAINED + timedelta(days=days_after)
    found = stage_on(today)
    assert (found.stage, found.lapses_on) == (stage, TRAINED + timedelta(days=365))
    # The cabinet's own rule agrees on the day the training stops counting.
    assert training_current(TRAINED, today, 365) == (stage != "lapsed")


def test_no_reminder_when_the_office_turns_it_off():
    today = TRAINED + timedelta(days=360)
    assert training_stage(TRAINED, today, valid_days=365, remind_days=0).stage == "current"


def test_the_roster_role_puts_the_manager_first_and_other_roles_off_the_roster():
    assert roster_role(["surveyor", "manager"]) == "manager"
    assert roster_role(["surveyor"]) == "surveyor"
    assert roster_role(["receptionist"]) is None and roster_role([]) is None


def added(role: str | None, active: bool = True) -> dict:
    return {"added": [None, True], "name": [None, "佐藤 花子"], "roster_role": [None, role], "active": [None, active]}


@pytest.mark.parametrize("fields, kind", [
    (added("surveyor"), "added"),
    (added(None), None),  # a receptionist added: not the roster's business
    (added("surveyor", active=False), None),
    ({"roster_role": [None, "surveyor"], "active": [True, True]}, "added"),
    ({"roster_role": ["surveyor", None], "active": [True, True]}, "removed"),
    ({"roster_role": ["surveyor", "surveyor"], "active": [True, False]}, "removed"),
    ({"roster_role": ["surveyor", "surveyor"], "active": [False, True]}, "added"),
    ({"qualification": ["nurse", "care_manager"], "roster_role": ["surveyor", "surveyor"], "active": [True, True]},
     "changed"),
    ({"name": ["受付 一郎", "受付 次郎"], "roster_role": [None, None], "active": [True, True]}, None),
])
def test_what_a_change_is_on_the_change_report(fields, kind):
    assert change_kind(fields) == kind


def test_who_must_be_trained_is_every_active_key_holder_and_the_roster():
    assert must_be_trained(active=True, key_holder=True, roles=[])
    assert must_be_trained(active=True, key_holder=False, roles=["surveyor"])
    assert not must_be_trained(active=True, key_holder=False, roles=["receptionist"])
    assert not must_be_trained(active=False, key_holder=True, roles=["manager"])
