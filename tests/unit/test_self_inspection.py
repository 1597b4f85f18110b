"""The monthly self-inspection's rules: which months need an answer, what a good answer is, and what an
answer (or its absence) means for rules (7) and (8)."""

from __future__ import annotations

from datetime import date

from server.domain.self_inspection import KEYS, QUESTIONS, Answer, findings, months, problems


def test_the_months_a_period_touches_that_have_begun():
    assert months(date(2026, 11, 15), date(2027, 2, 10), today=date(2027, 3, 1)) == [
        "2026-11", "2026-12", "2027-01", "2027-02"]
    assert months(date(2026, 11, 1), date(2026, 12, 31), today=date(2026, 11, 20)) == ["2026-11"]
    assert months(date(2026, 12, 1), date(2026, 12, 31), today=date(2026, 11, 30)) == []


def test_every_question_needs_an_answer_and_a_no_needs_a_note():
    every = {key: Answer(True) for key in KEYS}
    assert problems(every) == {}
    assert problems({**every, "patches": Answer(False)}) == {"patches": "note_needed"}
    assert problems({**every, "patches": Answer(False, "来週適用")}) == {}
    assert problems({**every, "antivirus": Answer(True, "x" * 501)}) == {"antivirus": "too_long"}
    del every["screen_lock"]
    assert problems(every) == {"screen_lock": "unanswered"}


def test_a_month_without_an_answer_and_each_no_are_findings_of_their_own_rule():
    latest = {"2026-10": {**{key: Answer(True) for key in KEYS}, "third_party": Answer(False, "来客時")}}
    assert findings("7", ["2026-10", "2026-11"], latest) == [("2026-10", "not_kept", "third_party"),
                                                             ("2026-11", "missing", None)]
    assert findings("8", ["2026-10", "2026-11"], latest) == [("2026-11", "missing", None)]
    assert {rule for _key, rule in QUESTIONS} == {"7", "8"}

