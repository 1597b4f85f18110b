"""A decision's outcome, independent of how it is stored or sent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    result: str  # unlock | accept | deny
    action: str | None = None
    reason: str | None = None

    @property
    def denied(self) -> bool:
        return self.result == "deny"


def deny(reason: str) -> Verdict:
    return Verdict("deny", reason=reason)


def accept(action: str) -> Verdict:
    return Verdict("accept", action=action)


def unlock(action: str) -> Verdict:
    return Verdict("unlock", action=action)
