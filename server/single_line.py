"""Text a person types on one line (names, labels, organisations): no line breaks or control characters.

A newline in a name ends up in an e-mail header, a CSV cell or a printed ledger row; refused at the
door, and flattened wherever older stored text is put into a header.
"""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls incl. tab, CR, LF, DEL; Zl/Zp: U+2028/U+2029, which some readers treat as line breaks.
_BREAKING = frozenset({"Cc", "Zl", "Zp"})


def has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in _BREAKING for ch in text)


def flatten(text: str) -> str:
    """The text on one line: each run of control characters and spaces becomes one space."""
    spaced = "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in text)
    return " ".join(spaced.split())
