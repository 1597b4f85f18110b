"""Which alert a cabinet denial raises, and how loud it is."""

from __future__ import annotations

# A card that should not be at the cabinet at all is a security matter; an item tapped
# the wrong way is usually a mistake at the cabinet.
_SEVERITY = {
    "unknown_card": "high",
    "inactive": "high",
    "not_key_holder": "high",
    "training_expired": "medium",
    "no_session": "medium",
    "unknown_tag": "low",
    "item_not_loanable": "medium",
    "not_encrypted": "medium",
    "wrong_cabinet": "low",
    "no_grant": "high",  # a key holder at a cabinet that is not theirs
    "outside_hours": "medium",
}


# An overdue checkout's levels, in order: one problem that grows (返却期限超過 → 督促 → 紛失の疑い).
CHASE_LEVELS = ("overdue", "escalated", "lost_prompt")


def cabinet_denial_severity(reason: str) -> str:
    return _SEVERITY.get(reason, "medium")


def fold_key(type_: str, *, reason: str | None = None, person_id: int | None = None, item_id: int | None = None,
             reader_id: str | None = None) -> str:
    """What makes two alerts "the same problem": their type (and reason) and their subject — the
    person if known, else the item, else the reader (an unknown card or tag has only its reader)."""
    if person_id is not None:
        subject = f"person:{person_id}"
    elif item_id is not None:
        subject = f"item:{item_id}"
    else:
        subject = f"reader:{reader_id}"
    return f"{type_}:{reason}:{subject}" if reason else f"{type_}:{subject}"
