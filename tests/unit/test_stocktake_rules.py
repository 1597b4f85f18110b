"""Stock-take: what a tap means while one is open, and how the taps reconcile with the cabinet."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from server.domain.cabinet import decide_cabinet
from server.domain.facts import ItemTag, OpenSession, PriorTap, StaffCard, UnknownUid
from server.domain.stocktake import StockItem, StockLine, reconcile
from server.domain.verdict import Verdict

JST = timezone(timedelta(hours=9))
CABINET = "cabinet-1"
AT = datetime(2026, 11, 27, 10, 0, tzinfo=JST)
SESSION = OpenSession(session_id=1, person_id=7, opened_at=AT - timedelta(seconds=5), last_scan_at=AT)


def tag(**changes) -> ItemTag:
    fields = {"item_id": 3, "kind": "folder", "cabinet_id": CABINET, "encrypted": False, "status": "active",
              "out": False}
    return ItemTag(**{**fields, **changes})


def decide(identity, *, session=None, prior=None, stocktake_open=True, at=AT):
    return decide_cabinet(identity, cabinet_id=CABINET, session=session, today=date(2026, 11, 27),
                          training_valid_days=365, at=at, prior=prior, duplicate_window=timedelta(seconds=5),
                          stocktake_open=stocktake_open)


# ---------------------------------------------------------------- taps during a stock-take


def test_an_item_tap_is_counted_without_a_session():
    assert decide(tag()).verdict == Verdict("accept", action="stocktake")


def test_an_item_tap_inside_a_session_is_counted_not_lent_and_keeps_the_session_alive():
    outcome = decide(tag(), session=SESSION)
    assert outcome.verdict == Verdict("accept", action="stocktake")
    assert outcome.touches_session and not outcome.ends_session


def test_items_that_would_be_refused_or_returned_are_counted_alike():
    for item in (tag(out=True), tag(cabinet_id="cabinet-2"), tag(status="lost"), tag(kind="phone")):
        assert decide(item, session=SESSION).verdict == Verdict("accept", action="stocktake"), item


def test_an_unknown_tag_is_denied_as_an_unknown_tag_even_without_a_session():
    assert decide(UnknownUid()).verdict == Verdict("deny", reason="unknown_tag")


def test_a_staff_card_still_opens_the_cabinet():
    card = StaffCard(person_id=7, person_active=True, card_active=True, key_holder=True,
                     training_on=date(2026, 4, 1))
    assert decide(card).verdict == Verdict("unlock", action="session_open")


def test_a_tag_held_at_the_antenna_is_one_tap():
    prior = PriorTap("scan-1", AT - timedelta(seconds=1), "accept", "stocktake", None)
    outcome = decide(tag(), prior=prior)
    assert outcome.duplicate_of == "scan-1" and outcome.verdict.action == "stocktake"


def test_without_a_stock_take_the_tap_lends_as_before():
    assert decide(tag(), session=SESSION, stocktake_open=False).verdict == Verdict("accept", action="checkout")
    assert decide(tag(), stocktake_open=False).verdict == Verdict("deny", reason="no_session")


# ---------------------------------------------------------------- the result


def item(item_id: int, home: str = CABINET, status: str = "active", holder: str | None = None) -> StockItem:
    return StockItem(item_id, home, status, holder)


def outcomes(lines: list[StockLine]) -> dict[int, str]:
    return {line.item_id: line.outcome for line in lines}


def test_tapped_items_at_home_and_in_are_found_with_the_tap_that_found_them():
    [line] = reconcile(CABINET, [item(1)], {1: "scan-a"})
    assert line == StockLine(1, "found", scan_id="scan-a")


def test_an_item_at_home_not_tapped_and_not_on_loan_is_missing():
    assert outcomes(reconcile(CABINET, [item(1), item(2)], {1: "s"})) == {1: "found", 2: "missing"}


def test_an_item_from_another_cabinet_tapped_here_is_unexpected_and_says_where_it_belongs():
    [line] = reconcile(CABINET, [item(5, home="cabinet-2")], {5: "s"})
    assert (line.outcome, line.stored_detail) == ("unexpected", "elsewhere:cabinet-2")


def test_an_item_on_loan_that_is_tapped_is_unexpected_and_names_the_holder():
    [line] = reconcile(CABINET, [item(1, holder="佐藤 花子")], {1: "s"})
    assert (line.outcome, line.stored_detail) == ("unexpected", "on_loan:佐藤 花子")


def test_an_item_on_loan_not_tapped_is_on_loan():
    [line] = reconcile(CABINET, [item(1, holder="佐藤 花子")], {})
    assert (line.outcome, line.detail) == ("on_loan", "佐藤 花子")


def test_lost_and_retired_items_not_tapped_are_not_expected():
    assert reconcile(CABINET, [item(1, status="lost"), item(2, status="retired")], {}) == []


def test_a_lost_item_that_turns_up_is_found_and_says_it_was_marked_lost():
    [line] = reconcile(CABINET, [item(1, status="lost")], {1: "s"})
    assert (line.outcome, line.stored_detail) == ("found", "lost:")


def test_another_cabinets_item_not_tapped_here_is_left_out():
    assert reconcile(CABINET, [item(9, home="cabinet-2")], {}) == []


def test_the_result_lists_problems_first():
    lines = reconcile(CABINET, [item(1), item(2), item(3, home="cabinet-2"), item(4, holder="x")], {1: "a", 3: "b"})
    assert [(line.item_id, line.outcome) for line in lines] == [(2, "missing"), (3, "unexpected"), (4, "on_loan"),
                                                                 (1, "found")]
