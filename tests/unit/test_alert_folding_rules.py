"""What counts as "the same problem" for folding, and how stored note lines are read back."""

from __future__ import annotations

from server.domain.alerts import fold_key


def test_a_denial_folds_by_reason_and_person_else_item_else_reader():
    assert fold_key("cabinet_denied", reason="training_expired", person_id=7, reader_id="cabinet-1") == \
        fold_key("cabinet_denied", reason="training_expired", person_id=7, reader_id="cabinet-2")
    assert fold_key("cabinet_denied", reason="training_expired", person_id=7) != \
        fold_key("cabinet_denied", reason="not_key_holder", person_id=7)
    assert fold_key("cabinet_denied", reason="wrong_cabinet", item_id=3, reader_id="cabinet-1") == \
        "cabinet_denied:wrong_cabinet:item:3"
    # An unknown card has no person: every unknown card at one reader is one problem, another reader another.
    assert fold_key("cabinet_denied", reason="unknown_card", reader_id="cabinet-1") != \
        fold_key("cabinet_denied", reason="unknown_card", reader_id="cabinet-2")
    assert fold_key("door_forced", reader_id="cabinet-1") == "door_forced:reader:cabinet-1"
