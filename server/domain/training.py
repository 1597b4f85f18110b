"""情報セキュリティ教育: a person's training date comes from the sessions they attended, and when it lapses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from server.domain.key_access import training_expires_on
from server.domain.roster import roster_role


def must_be_trained(*, active: bool, key_holder: bool, roles: Iterable[str]) -> bool:
    """Every active key holder, and everyone on the roster (surveyors and the manager)."""
    return active and (key_holder or roster_role(roles) is not None)


def latest_training(attended_on: Iterable[date]) -> date | None:
    """A person's training date: their latest attended session (None: never trained)."""
    return max(attended_on, default=None)


def standing(attendance: Iterable[tuple[int, str, int | None]]) -> set[int]:
    """The attendance records that stand: each `attended` (id, action, withdraws) not named by a withdrawal."""
    rows = list(attendance)
    withdrawn = {withdraws for _id, action, withdraws in rows if action == "withdrawn"}
    return {id_ for id_, action, _w in rows if action == "attended" and id_ not in withdrawn}


@dataclass(frozen=True, slots=True)
class TrainingStage:
    stage: str  # untrained | current | due_soon | lapsed
    lapses_on: date | None  # the last day the training counts


def training_stage(training_on: date | None, today: date, *, valid_days: int, remind_days: int) -> TrainingStage:
    """Where a person stands: reminded once fewer than `remind_days` days are left, lapsed the day after the last."""
    lapses_on = training_expires_on(training_on, valid_days)
    if lapses_on is None:
        return TrainingStage("untrained", None)
    if today > lapses_on:
        return TrainingStage("lapsed", lapses_on)
    if (lapses_on - today).days < remind_days:
        return TrainingStage("due_soon", lapses_on)
    return TrainingStage("current", lapses_on)
