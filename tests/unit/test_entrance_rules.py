"""The entrance reader's rules (CONTRACT.md, "What a scan means": entrance reader)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from server.domain.entrance import EntranceOutcome, decide_entrance, is_double_tap
from server.domain.facts import ItemTag, PriorTap, StaffCard, UnknownUid, VisitorCard
from server.domain.verdict import Verdict

JST = timezone(timedelta(hours=9))
AT = datetime(2026, 11, 27, 9, 0, tzinfo=JST)
WINDOW = timedelta(seconds=5)


def staff(**changes) -> StaffCard:
    fields = {"person_id": 7, "person_active": True, "card_active": True, "key_holder": False,
              "training_on": None}
    return StaffCard(**{**fields, **changes})


def visitor(state: str | None, *, active: bool = True) -> VisitorCard:
    return VisitorCard(badge_active=active, visit_id=None if state is None else 42, visit_state=state)


ITEM = ItemTag(item_id=3, kind="folder", cabinet_id="cab-1", encrypted=False, status="active", out=False)


def decide(identity, *, inside: bool = False, prior: PriorTap | None = None, at: datetime = AT) -> EntranceOutcome:
    return decide_entrance(identity, at=at, person_inside=inside, prior=prior, duplicate_window=WINDOW)


def first_tap(result: str = "accept", action: str | None = "entry", reason: str | None = None,
              at: datetime = AT) -> PriorTap:
    return PriorTap(scan_id="01JDQ3X8Z5K1W4N7E2R9T6Y0AB", at=at, result=result, action=action, reason=reason)


# ---------------------------------------------------------------- staff


def test_staff_who_is_out_enters():
    outcome = decide(staff(), inside=False)
    assert outcome.verdict == Verdict("accept", action="entry")
    assert outcome.duplicate_of is None


def test_staff_who_is_in_exits():
    assert decide(staff(), inside=True).verdict == Verdict("accept", action="exit")


def test_key_holder_status_does_not_matter_at_the_entrance():
    outcome = decide(staff(key_holder=True, training_on=date(2020, 1, 1)))
    assert outcome.verdict == Verdict("accept", action="entry")


@pytest.mark.parametrize("inside", [False, True])
def test_inactive_person_is_denied(inside):
    outcome = decide(staff(person_active=False), inside=inside)
    assert outcome.verdict == Verdict("deny", reason="inactive")


@pytest.mark.parametrize("inside", [False, True])
def test_inactive_card_of_an_active_person_is_denied(inside):
    assert decide(staff(card_active=False), inside=inside).verdict == Verdict("deny", reason="inactive")


def test_entrance_verdicts_never_unlock():
    for identity in (staff(), visitor("expected"), visitor("in")):
        for inside in (False, True):
            assert decide(identity, inside=inside).verdict.result == "accept"


# ---------------------------------------------------------------- double taps


def test_second_tap_within_five_seconds_is_answered_like_the_first():
    prior = first_tap(at=AT)
    # The first tap already recorded the entry, so the person now counts as inside.
    outcome = decide(staff(), inside=True, prior=prior, at=AT + timedelta(seconds=3))
    assert outcome.verdict == Verdict("accept", action="entry")
    assert outcome.duplicate_of == prior.scan_id


def test_second_tap_exactly_five_seconds_later_is_still_a_duplicate():
    outcome = decide(staff(), inside=True, prior=first_tap(), at=AT + WINDOW)
    assert outcome.duplicate_of is not None
    assert outcome.verdict.action == "entry"


def test_tap_at_the_same_instant_as_the_first_is_a_duplicate():
    assert decide(staff(), inside=True, prior=first_tap(), at=AT).duplicate_of is not None


def test_second_tap_after_the_window_is_a_new_tap():
    outcome = decide(staff(), inside=True, prior=first_tap(), at=AT + timedelta(seconds=6))
    assert outcome.duplicate_of is None
    assert outcome.verdict == Verdict("accept", action="exit")


def test_tap_just_past_the_window_is_not_a_duplicate():
    outcome = decide(staff(), inside=True, prior=first_tap(), at=AT + WINDOW + timedelta(microseconds=1))
    assert outcome.duplicate_of is None


def test_tap_older_than_the_prior_tap_is_not_a_duplicate():
    # A replayed scan from before the last tap is decided on its own.
    outcome = decide(staff(), inside=False, prior=first_tap(), at=AT - timedelta(seconds=1))
    assert outcome.duplicate_of is None
    assert outcome.verdict == Verdict("accept", action="entry")


def test_second_tap_after_a_denial_is_judged_afresh():
    # A refused tap changed nothing, so the next one is decided on its own: still refused here...
    prior = first_tap(result="deny", action=None, reason="unknown_card")
    outcome = decide(UnknownUid(), prior=prior, at=AT + timedelta(seconds=1))
    assert outcome.verdict == Verdict("deny", reason="unknown_card")
    assert outcome.duplicate_of is None


def test_badge_picked_at_reception_lets_the_visitor_in_a_moment_later():
    # ...and let in once reception has lent the badge to a visit in between.
    prior = first_tap(result="deny", action=None, reason="visitor_not_registered")
    outcome = decide(visitor("expected"), prior=prior, at=AT + timedelta(seconds=2))
    assert outcome.verdict == Verdict("accept", action="entry")
    assert outcome.duplicate_of is None


def test_double_tap_of_a_visitor_repeats_the_entry():
    prior = first_tap()
    outcome = decide(visitor("in"), prior=prior, at=AT + timedelta(seconds=2))
    assert outcome.verdict == Verdict("accept", action="entry")
    assert outcome.duplicate_of == prior.scan_id


def test_double_tap_within_the_window_is_detected_across_offsets():
    prior = first_tap(at=datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc))
    assert is_double_tap(prior, AT + timedelta(seconds=4), WINDOW)


def test_no_prior_tap_means_no_double_tap():
    assert not is_double_tap(None, AT, WINDOW)
    assert decide(staff(), prior=None).duplicate_of is None


def test_double_tap_window_is_configurable():
    prior = first_tap()
    assert is_double_tap(prior, AT + timedelta(seconds=8), timedelta(seconds=10))
    assert not is_double_tap(prior, AT + timedelta(seconds=2), timedelta(seconds=1))


# ---------------------------------------------------------------- visitors


def test_expected_visitor_enters():
    outcome = decide(visitor("expected"))
    assert outcome.verdict == Verdict("accept", action="entry")
    assert outcome.duplicate_of is None


def test_visitor_in_the_office_exits():
    assert decide(visitor("in")).verdict == Verdict("accept", action="exit")


def test_visitor_state_not_person_inside_decides_entry_or_exit():
    assert decide(visitor("expected"), inside=True).verdict.action == "entry"
    assert decide(visitor("in"), inside=False).verdict.action == "exit"


def test_visitor_badge_with_no_visit_is_not_registered():
    assert decide(visitor(None)).verdict == Verdict("deny", reason="visitor_not_registered")


@pytest.mark.parametrize("state", ["expected", "in", None])
def test_inactive_visitor_badge_is_denied(state):
    assert decide(visitor(state, active=False)).verdict == Verdict("deny", reason="inactive")


# ---------------------------------------------------------------- not a card


def test_item_tag_at_the_entrance_is_an_unknown_card():
    assert decide(ITEM).verdict == Verdict("deny", reason="unknown_card")


def test_checked_out_item_tag_at_the_entrance_is_an_unknown_card():
    tag = ItemTag(item_id=4, kind="laptop", cabinet_id="cab-1", encrypted=True, status="active", out=True)
    assert decide(tag, inside=True).verdict == Verdict("deny", reason="unknown_card")


def test_unknown_uid_at_the_entrance_is_an_unknown_card():
    assert decide(UnknownUid()).verdict == Verdict("deny", reason="unknown_card")


def test_denials_carry_a_reason_and_no_action():
    for identity in (UnknownUid(), ITEM, visitor(None), staff(person_active=False)):
        verdict = decide(identity).verdict
        assert verdict.denied and verdict.action is None and verdict.reason


def test_something_that_is_not_an_identity_is_a_programming_error():
    with pytest.raises(TypeError):
        decide("0123456789ABCDEF")


# ---------------------------------------------------------------- the visit's window

def windowed(start_h: int, end_h: int, state: str = "expected") -> VisitorCard:
    return VisitorCard(badge_active=True, visit_id=42, visit_state=state,
                       valid_from=AT.replace(hour=start_h), valid_until=AT.replace(hour=end_h))


@pytest.mark.parametrize(("hour", "minute"), [(7, 59), (18, 1), (23, 0)])
def test_badge_outside_its_visits_window_does_not_let_the_visitor_in(hour, minute):
    at = AT.replace(hour=hour, minute=minute)
    assert decide(windowed(8, 18), at=at).verdict == Verdict("deny", reason="visitor_not_registered")


@pytest.mark.parametrize(("hour", "minute"), [(8, 0), (12, 30), (18, 0)])
def test_badge_inside_its_visits_window_lets_the_visitor_in(hour, minute):
    assert decide(windowed(8, 18), at=AT.replace(hour=hour, minute=minute)).verdict == Verdict("accept", "entry")


def test_a_visitor_who_stays_past_the_window_can_still_leave():
    assert decide(windowed(8, 18, "in"), at=AT.replace(hour=20)).verdict == Verdict("accept", action="exit")


def test_a_visit_closed_as_not_signed_out_lets_nobody_in_with_its_badge():
    card = VisitorCard(badge_active=True, visit_id=42, visit_state="not_signed_out")
    assert decide(card).verdict == Verdict("deny", reason="visitor_not_registered")
