"""Telling a host their visitor has arrived: a notice made in the same commit as the entry tap."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.notify.queue import notify
from server.notify.recipients import accounts_of_people
from server.people.models import VisitorBadge
from server.visits.models import Visit

STILL_NEWS = timedelta(minutes=15)  # an entry replayed later than this is history, not a reason to interrupt


def tell_hosts(db: Session, now: datetime, settings: Settings, arrivals: list[tuple[int, datetime]]) -> int:
    """Queue a `visitor_arrived` notice for the host of each visit that entered (once per visit)."""
    recent = {visit_id: at for visit_id, at in arrivals if now - at <= STILL_NEWS}
    if not recent:
        return 0
    made = 0
    rows = db.execute(select(Visit, VisitorBadge.label).outerjoin(VisitorBadge, VisitorBadge.uid == Visit.badge_uid)
                      .where(Visit.id.in_(list(recent)))).all()
    for visit, badge in rows:
        hosts = accounts_of_people(db, [visit.host_person_id])
        if not hosts and not settings.webhook_url:
            continue
        at = recent[visit.id].astimezone(settings.zone)
        link = f"{settings.public_url.rstrip('/')}/reception/visits/{visit.id}"

        def message(lang: str, visit: Visit = visit, badge: str | None = badge) -> tuple[str, str]:
            org = visit.organisation
            if lang == "en":
                return (f"[mamori] Your visitor {visit.visitor_name}{f' ({org})' if org else ''} has arrived",
                        f"{visit.visitor_name}{f' of {org}' if org else ''} tapped in at reception at {at:%H:%M}.\n"
                        f"Purpose: {visit.purpose or '-'}\nBadge: {badge or '-'}\n{link}\n")
            return (f"【mamori】来所者 {visit.visitor_name} 様{f'（{org}）' if org else ''}が到着しました",
                    f"{visit.visitor_name} 様{f'（{org}）' if org else ''}が {at:%H:%M} に入室しました。\n"
                    f"用件: {visit.purpose or '—'}\n来所者カード: {badge or '—'}\n{link}\n")

        made += notify(db, now, settings=settings, kind="visitor_arrived", key=f"visitor_arrived:{visit.id}",
                       users=hosts, message=message,
                       payload={"visit_id": visit.id, "visitor_name": visit.visitor_name,
                                "organisation": visit.organisation, "host": visit.host,
                                "entered_at": recent[visit.id].isoformat(), "url": link})
    return made
