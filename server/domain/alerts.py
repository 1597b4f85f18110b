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
}


def cabinet_denial_severity(reason: str) -> str:
    return _SEVERITY.get(reason, "medium")
