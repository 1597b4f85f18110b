"""The rules of an information-security incident (情報セキュリティ事故等, the seed's rule (9)): its kinds,
the steps of its record, the period its timeline covers, when the ward's first report (第一報) is late,
and when it may be closed. Pure: facts in, decisions out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# The seed's kinds, in its order: 紛失・盗難, 情報漏えい（誤送信）, ウイルス感染, 所在不明, 誤廃棄.
KINDS = ("loss_theft", "leak", "virus", "missing", "misdisposal")
# The steps of the process log (対応の過程の記録); `opened`, `timeline` and `closed` are written by mamori.
STEPS = ("first_aid", "manager_reported", "ward_reported", "note", "cause", "prevention")
ACTIONS = ("opened", *STEPS, "timeline", "closed")
# Steps that tell when something happened (reported at …), not only when it was written down.
TIMED_STEPS = ("manager_reported", "ward_reported")
SOURCES = ("hand", "lost_item", "alert")
TEXT_MAX = 2000
SUMMARY_MAX = 200
MAX_PERIOD = timedelta(days=92)  # one timeline covers at most about three months of the ledger


@dataclass(frozen=True)
class IncidentFacts:
    discovered_at: datetime
    ward_reported_at: datetime | None
    cause: str | None
    prevention: str | None
    closed: bool


def day_start(moment: datetime, zone: ZoneInfo) -> datetime:
    """0:00 office time of the day `moment` falls on."""
    return datetime.combine(moment.astimezone(zone).date(), time(0), tzinfo=zone)


def default_period(now: datetime, zone: ZoneInfo, *, discovered_at: datetime, last_seen_at: datetime | None = None,
                   out_at: datetime | None = None) -> tuple[datetime, datetime]:
    """From 0:00 of the day the item was taken out (or last seen, or the incident discovered) to now,
    never more than MAX_PERIOD."""
    start = day_start(min(m for m in (out_at, last_seen_at, discovered_at) if m is not None), zone)
    return max(start, now - MAX_PERIOD), now


def period_problem(start: datetime, end: datetime, *, before: tuple[datetime, datetime] | None = None) -> str | None:
    """Why a timeline period cannot be taken (a code worded by the pages), or None; an extension never narrows."""
    if end <= start:
        return "period_order"
    if end - start > MAX_PERIOD:
        return "period_too_long"
    if before and (start > before[0] or end < before[1]):
        return "period_narrower"
    return None


def ward_report_late(facts: IncidentFacts, now: datetime, within: timedelta) -> bool:
    """The ward is to be told at once: late once `within` has passed since discovery without a 第一報."""
    return not facts.closed and facts.ward_reported_at is None and now - facts.discovered_at >= within


def step_refusal(facts: IncidentFacts, step: str, text: str, happened_at: datetime | None, now: datetime) -> str | None:
    """Why a step cannot be added to the process log, or None."""
    if facts.closed:
        return "closed"
    if step not in STEPS:
        return "unknown_step"
    if step in TIMED_STEPS and happened_at is None:
        return "when_required"
    if step not in TIMED_STEPS and not text.strip():
        return "text_required"
    if len(text) > TEXT_MAX:
        return "text_too_long"
    if happened_at is not None and happened_at > now + timedelta(minutes=5):
        return "in_future"
    return None


def close_refusal(facts: IncidentFacts) -> str | None:
    """The report (rule (9) 3) needs the ward told, the cause found and the prevention written before closing."""
    if facts.closed:
        return "closed"
    if facts.ward_reported_at is None:
        return "ward_not_reported"
    if not (facts.cause or "").strip():
        return "no_cause"
    if not (facts.prevention or "").strip():
        return "no_prevention"
    return None


def inspection_finding(facts: IncidentFacts, now: datetime, within: timedelta) -> str | None:
    """What the inspection pack's rule (9) says of an incident: still open with its 第一報 late, open, closed
    though the 第一報 was late, or nothing (closed, the ward told in time)."""
    if not facts.closed:
        return "incident_report_late" if ward_report_late(facts, now, within) else "incident_open"
    if facts.ward_reported_at is not None and facts.ward_reported_at - facts.discovered_at >= within:
        return "incident_reported_late"
    return None
