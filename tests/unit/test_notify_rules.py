"""The rules around notices: kinds, who may choose what, addresses, the retry schedule, settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.config import Settings
from server.notify.kinds import KINDS, kinds_for_role
from server.notify.recipients import email_problem, kinds_turned_off
from server.notify.repository import retry_delay
from server.notify.sender import NoticeSettingsError, check_settings


def test_every_kind_has_both_languages_and_someone_to_receive_it():
    assert set(KINDS) == {"visitor_arrived", "due_soon", "overdue", "escalated", "not_erased",
                          "visitor_not_signed_out", "door_forced", "door_held_open", "reader_offline",
                           "reader_online", "reader_degraded", "case_deadline_near", "case_deadline_passed", "case_report_late",
                           "case_retention_ended", "case_folder_out", "training_due", "training_lapsed", "incident_report_late",
                           "chain_anchor", "chain_broken"}
    assert KINDS["visitor_arrived"].ja == "来所者の到着" and KINDS["visitor_arrived"].en == "Visitor arrived"
    assert all(kind.ja and kind.en and kind.roles for kind in KINDS.values())


def test_escalations_are_for_managers_only():
    assert "escalated" not in {k.name for k in kinds_for_role("surveyor")}
    assert "escalated" in {k.name for k in kinds_for_role("manager")}


def test_unticking_a_kind_turns_it_off_and_leaves_kinds_the_form_did_not_show():
    assert kinds_turned_off("surveyor", [], ["visitor_arrived", "overdue"]) == [
        "case_deadline_near", "case_deadline_passed", "case_folder_out", "case_report_late", "due_soon", "not_erased", "training_due",
        "training_lapsed"]
    # "escalated" is not offered to a surveyor; a setting kept from an earlier role stays as it was.
    assert "escalated" in kinds_turned_off("surveyor", ["escalated"], [k.name for k in kinds_for_role("surveyor")])


@pytest.mark.parametrize("address", ["yamada@example.jp", "t.yamada+mamori@city.nerima.tokyo.jp"])
def test_a_plain_address_is_accepted(address):
    assert email_problem(address) is None


@pytest.mark.parametrize("address", ["yamada", "yamada@example", "yamada@@example.jp", "山田 <y@example.jp>",
                                     "a..b@example.jp", "y@example.jp\r\nBcc: x@example.jp"])
def test_a_mistyped_address_is_refused(address):
    assert email_problem(address) == "notices.email_bad"


def test_a_very_long_address_is_refused():
    assert email_problem("a" * 250 + "@example.jp") == "notices.email_too_long"


def test_retries_wait_30_seconds_then_twice_as_long_each_time_up_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay(1000) == timedelta(hours=1)


def test_a_webhook_without_a_secret_refuses_to_start():
    with pytest.raises(NoticeSettingsError, match="MAMORI_WEBHOOK_SECRET"):
        check_settings(Settings(webhook_url="https://hooks.example.jp/mamori"))
    check_settings(Settings(webhook_url="https://hooks.example.jp/mamori", webhook_secret="long-random"))


def test_a_malformed_smtp_url_refuses_to_start():
    with pytest.raises(NoticeSettingsError, match="MAMORI_SMTP_URL"):
        check_settings(Settings(smtp_url="mail.example.jp"))
