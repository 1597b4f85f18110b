"""A card or tag read twice in a moment is one tap."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.domain.facts import PriorTap


def is_double_tap(prior: PriorTap | None, at: datetime, window: timedelta) -> bool:
    """The same uid on the same reader within `window` after its last counted tap."""
    return prior is not None and timedelta(0) <= at - prior.at <= window
