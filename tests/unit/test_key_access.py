"""Who may open the cabinets today (the access-rights report): the cabinet's rule asked of a person."""

from __future__ import annotations

from datetime import date, timedelta

from server.domain.cabinet import training_current
from server.domain.key_access import key_access, training_expires_on

TODAY = date(2026, 11, 27)


def access(**facts):
    return key_access(**{"person_active": True, "key_holder": True, "active_cards": 1,
                         "training_on": TODAY - timedelta(days=30), "today": TODAY, "valid_days": 365, **facts})


def test_an_active_key_holder_with_a_card_and_current_training_can_open():
    verdict = access()
    assert verdict.can_open and verdict.reason is None and verdict.expires_on == date(2027, 10, 28)
    assert not verdict.expires_soon


def test_the_expiry_is_the_last_day_the_cabinet_still_accepts_the_training():
    trained = TODAY - timedelta(days=100)
    last = training_expires_on(trained, 365)
    assert training_current(trained, last, 365) and not training_current(trained, last + timedelta(days=1), 365)


def test_training_that_lapses_within_a_month_is_flagged():
    assert access(training_on=TODAY - timedelta(days=340)).expires_soon


def test_each_reason_a_key_holder_cannot_open_in_the_cabinets_order():
    assert access(person_active=False, active_cards=0).reason == "inactive"
    assert access(active_cards=0).reason == "no_card"
    assert access(key_holder=False).reason == "not_key_holder"
    assert access(training_on=None).reason == "no_training"
    expired = access(training_on=TODAY - timedelta(days=366))
    assert not expired.can_open and expired.reason == "training_expired"
    assert expired.expires_on == TODAY - timedelta(days=1)
