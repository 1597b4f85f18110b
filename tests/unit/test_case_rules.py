"""The 受付簿's pure rules: state, what may happen next, retention and deadline levels."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.cases import (
    CaseFacts,
    ChaseRules,
    levels_reached,
    number_problem,
    papers_due_back,
    personal_data_in,
    refusal,
    retain_until,
    state,
    witness_problem,
)

APRIL = date(2026, 4, 1)
RULES = ChaseRules(warn_before_days=3, report_within_days=14)


def test_a_case_moves_received_surveyed_submitted_destroyed():
    case = CaseFacts(received_on=APRIL)
    assert state(case) == "received"
    assert state(CaseFacts(received_on=APRIL, surveyed_on=date(2026, 4, 5))) == "surveyed"
    assert state(CaseFacts(received_on=APRIL, surveyed_on=date(2026, 4, 5), submitted_on=date(2026, 4, 8))) \
        == "submitted"
    assert state(CaseFacts(received_on=APRIL, submitted_on=date(2026, 4, 8), destroyed=True)) == "destroyed"
    assert state(CaseFacts(received_on=APRIL, withdrawn_on=date(2026, 4, 2))) == "withdrawn"


def test_retention_counts_from_the_submission_day():
    assert retain_until(date(2026, 4, 8), 365) == date(2027, 4, 8)


def test_each_action_only_in_its_state():
    received = CaseFacts(received_on=APRIL)
    today = date(2026, 4, 10)
    assert refusal("survey", received, on=date(2026, 4, 5), today=today, items_out=0) is None
    assert refusal("submit", received, on=date(2026, 4, 5), today=today, items_out=0) == "wrong_state"
    assert refusal("destroy", received, on=date(2026, 4, 5), today=today, items_out=0) == "wrong_state"
    assert refusal("survey", received, on=date(2026, 3, 31), today=today, items_out=0) == "before_received"
    assert refusal("survey", received, on=date(2026, 4, 11), today=today, items_out=0) == "in_future"
    surveyed = CaseFacts(received_on=APRIL, surveyed_on=date(2026, 4, 5))
    assert refusal("submit", surveyed, on=date(2026, 4, 4), today=today, items_out=0) == "before_survey"
    assert refusal("submit", surveyed, on=date(2026, 4, 6), today=today, items_out=1) is None


def test_no_withdrawal_or_destruction_while_an_item_is_out():
    done = CaseFacts(received_on=APRIL, surveyed_on=date(2026, 4, 5), submitted_on=date(2026, 4, 8),
                     retain_until=date(2026, 5, 8))
    assert refusal("destroy", done, on=date(2026, 5, 9), today=date(2026, 5, 9), items_out=1) == "items_out"
    assert refusal("destroy", done, on=date(2026, 5, 9), today=date(2026, 5, 9), items_out=0) is None
    assert refusal("withdraw", CaseFacts(received_on=APRIL), on=APRIL, today=APRIL, items_out=2) == "items_out"


def test_memos_are_not_destroyed_before_their_retention_ends():
    done = CaseFacts(received_on=APRIL, submitted_on=date(2026, 4, 8), retain_until=date(2026, 5, 8))
    assert refusal("destroy", done, on=date(2026, 5, 7), today=date(2026, 5, 7), items_out=0) == "retention_running"


def test_the_witness_is_somebody_else():
    assert witness_problem(3, 3) == "same_person"
    assert witness_problem(3, 4) is None


@pytest.mark.parametrize(("case", "today", "levels"), [
    (CaseFacts(received_on=APRIL, deadline=date(2026, 4, 20)), date(2026, 4, 16), []),
    (CaseFacts(received_on=APRIL, deadline=date(2026, 4, 20)), date(2026, 4, 17), ["deadline_near"]),
    (CaseFacts(received_on=APRIL, deadline=date(2026, 4, 20)), date(2026, 4, 20), ["deadline_near"]),
    (CaseFacts(received_on=APRIL, deadline=date(2026, 4, 20)), date(2026, 4, 21), ["deadline_passed"]),
    (CaseFacts(received_on=APRIL, deadline=date(2026, 4, 20), surveyed_on=date(2026, 4, 19)), date(2026, 5, 3), []),
    (CaseFacts(received_on=APRIL, surveyed_on=date(2026, 4, 19)), date(2026, 5, 4), ["report_late"]),
    (CaseFacts(received_on=APRIL, submitted_on=date(2026, 4, 20), retain_until=date(2026, 5, 20)),
     date(2026, 5, 20), []),
    (CaseFacts(received_on=APRIL, submitted_on=date(2026, 4, 20), retain_until=date(2026, 5, 20)),
     date(2026, 5, 21), ["retention_ended"]),
    (CaseFacts(received_on=APRIL, submitted_on=date(2026, 4, 20), retain_until=date(2026, 5, 20), destroyed=True),
     date(2027, 1, 1), []),
])
def test_deadline_levels(case, today, levels):
    assert levels_reached(case, today, RULES) == levels


def test_papers_are_due_back_after_the_survey_day_or_the_report():
    assert not papers_due_back(CaseFacts(received_on=APRIL, surveyed_on=date(2026, 4, 5)), date(2026, 4, 5))
    assert papers_due_back(CaseFacts(received_on=APRIL, surveyed_on=date(2026, 4, 5)), date(2026, 4, 6))
    assert papers_due_back(CaseFacts(received_on=APRIL, submitted_on=date(2026, 4, 5)), date(2026, 4, 5))


@pytest.mark.parametrize(("number", "problem"), [
    ("R8-00123", None), ("2026/0456", None), ("", "empty"), ("山田 太郎", "not_a_number"),
    ("練馬区豊玉北6-12-1", "not_a_number"), ("R" * 65, "too_long"),
])
def test_a_case_number_is_never_a_name_or_address(number, problem):
    assert number_problem(number) == problem


@pytest.mark.parametrize(("note", "found"), [
    ("再調査の可能性あり", None), ("2026-12-03 に電話連絡済み", None), ("区分変更の申請あり", None),
    ("山田様宅", "name"), ("〒176-0001", "postal_code"), ("連絡先 03-1234-5678", "phone"),
    ("被保険者番号 0123456789", "insured_number"), ("豊玉北6丁目", "address"), ("6-12-1 の2階", "address"),
])
def test_a_note_that_looks_like_personal_data_is_caught(note, found):
    assert personal_data_in(note) == found
