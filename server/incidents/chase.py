"""The late 第一報: an incident whose ward has not been told within `incident_ward_report_within_min` of its
discovery opens one `incident_report_late` alert (high), told to the managers, in the chase round of
`server/checkouts/chase.py`. The unique (type, incident) alert index makes "once" the database's promise;
recording the 第一報 resolves the alert (server/incidents/service.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.alerts.to_managers import tell_managers
from server.config import Settings
from server.domain.incidents import ward_report_late
from server.incidents.models import Incident
from server.incidents.service import LATE_ALERT, facts

BATCH = 200
WORDS = (("【mamori】区への事故等の第一報がありません", "事故等 No.{id}「{summary}」（発見 {at}）を、まだ区に報告していません。"),
         ("[mamori] The ward has not been told of an incident",
          "Incident {id} “{summary}” (discovered {at}) has not been reported to the ward yet."))


def open_report_late_alerts(db: Session, now: datetime, settings: Settings) -> list[Alert]:
    within = timedelta(minutes=settings.incident_ward_report_within_min)
    already = exists().where(Alert.incident_id == Incident.id, Alert.type == LATE_ALERT)
    candidates = db.scalars(select(Incident).where(Incident.closed_at.is_(None), Incident.ward_reported_at.is_(None),
                                                   Incident.discovered_at <= now - within, ~already)
                            .order_by(Incident.id).limit(BATCH))
    opened = []
    for incident in candidates:
        if not ward_report_late(facts(incident), now, within):
            continue
        words = {"id": incident.id, "summary": incident.summary,
                 "at": incident.discovered_at.astimezone(settings.zone).strftime("%Y/%m/%d %H:%M")}
        alert = Alert(type=LATE_ALERT, severity="high", state="open", opened_at=now, incident_id=incident.id,
                      subject=WORDS[0][1].format(**words))
        db.add(alert)
        db.flush()
        opened.append(alert)
        tell_managers(db, now, settings, kind=LATE_ALERT, key=f"{LATE_ALERT}:{incident.id}",
                      ja=(WORDS[0][0], WORDS[0][1].format(**words)), en=(WORDS[1][0], WORDS[1][1].format(**words)),
                      payload={"incident": incident.id, "summary": incident.summary,
                               "discovered_at": incident.discovered_at.isoformat()})
    return opened
