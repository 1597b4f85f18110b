"""Who may confirm a device's survey data erased, when it can be confirmed, its purpose, and lateness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.erasure import PURPOSE_MAX, clean_purpose, confirm_problem, erasure_late, may_act

BACK = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("role, account_person, holder, allowed", [
    ("surveyor", 7, 7, True),  # the holder
    ("surveyor", 8, 7, False),  # somebody else's device
    ("surveyor", None, 7, False),  # an account linked to no staff member
    ("receptionist", 7, 7, True),
    ("manager", None, 7, True),
    ("admin", 8, 7, True),
    ("auditor", 7, 7, True),  # the rule; the routes keep auditors read-only
])
def test_the_holder_or_a_manager_may_act(role, account_person, holder, allowed):
    assert may_act(role, account_person, holder) is allowed


def test_only_a_returned_device_still_pending_can_be_confirmed():
    assert confirm_problem("pending", BACK) is None
    assert confirm_problem("pending", None) == "not_returned"
    assert confirm_problem("done", BACK) == "already"
    assert confirm_problem(None, BACK) == "not_device"  # a folder or a key
    assert confirm_problem(None, None) == "not_device"


def test_a_purpose_is_one_trimmed_line_of_at_most_200_characters():
    assert clean_purpose("  訪問調査\n R8-00123 ") == "訪問調査 R8-00123"
    assert clean_purpose("x" * PURPOSE_MAX) == "x" * PURPOSE_MAX
    for text, reason in (("", "empty"), (" \u3000\t", "empty"), ("x" * (PURPOSE_MAX + 1), "too_long"),
                         ("R8\x00-1", "control"), ("a\x7fb", "control")):
        with pytest.raises(ValueError, match=reason):
            clean_purpose(text)


def test_late_only_after_the_whole_time_has_passed():
    within = timedelta(hours=2)
    assert not erasure_late(BACK, BACK + within, within)
    assert erasure_late(BACK, BACK + within + timedelta(seconds=1), within)
    assert not erasure_late(BACK, BACK, within)
