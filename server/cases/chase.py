"""Chasing the 受付簿: each deadline level once per case, and each case folder still out after its survey
once per take-out — an alert and its notices, in the chase round of `server/checkouts/chase.py`.

The unique (type, case) and (type, checkout) alert indexes make "once" the database's promise; a
notice is made only with the alert that is new, and its key is unique too.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.cases.book import state_is
from server.cases.models import Case
from server.cases.service import facts
from server.checkouts.models import Checkout
from server.config import Settings
from server.domain.cases import ChaseRules, levels_reached, papers_due_back
from server.items.models import Item
from server.notify.queue import notify
from server.notify.recipients import accounts_of_people, accounts_with_role
from server.people.models import Person

BATCH = 500
MANAGERS = ("admin", "manager")
SEVERITY = {"deadline_near": "low", "deadline_passed": "medium", "report_late": "medium",
            "retention_ended": "high", "folder_out": "high"}
# (subject, the line that names the case) for each level, in both languages.
WORDS = {
    "deadline_near": (("【mamori】調査期限が近づいています", "ケース番号 {case} の調査期限は {day} です。"),
                      ("[mamori] Survey deadline near", "Case {case}: the survey is due by {day}.")),
    "deadline_passed": (("【mamori】調査期限を過ぎています", "ケース番号 {case} の調査期限（{day}）を過ぎています。"),
                        ("[mamori] Survey deadline passed", "Case {case}: the survey deadline ({day}) has passed.")),
    "report_late": (("【mamori】調査票が未提出です", "ケース番号 {case} は {day} に調査済みですが、区へ未提出です。"),
                    ("[mamori] Report not submitted", "Case {case} was surveyed on {day} and its report is not "
                     "submitted.")),
    "retention_ended": (("【mamori】保管期限を過ぎたメモが未廃棄です",
                         "ケース番号 {case} の調査メモの保管期限（{day}）が過ぎましたが、廃棄記録がありません。"),
                        ("[mamori] Retention ended, memos not destroyed",
                         "Case {case}: the memos were to be kept until {day} and are not recorded destroyed.")),
    "folder_out": (("【mamori】調査後も書類が返却されていません",
                    "ケース番号 {case} の「{item}」を {person} さんが持ち出したままです（調査日 {day}）。"),
                   ("[mamori] Papers still out after the survey",
                    "Case {case}: “{item}” is still out with {person} (surveyed {day}).")),
}


def _today(now: datetime, settings: Settings) -> date:
    return now.astimezone(settings.zone).date()


def _candidates(level: str, today: date, settings: Settings) -> ColumnElement[bool]:
    """A cheap pre-selection in SQL; `levels_reached` decides."""
    return {
        "deadline_near": and_(state_is("received"), Case.deadline >= today,
                              Case.deadline <= today + timedelta(days=settings.case_deadline_warn_days)),
        "deadline_passed": and_(state_is("received"), Case.deadline < today),
        "report_late": and_(state_is("surveyed"),
                            Case.surveyed_on < today - timedelta(days=settings.case_report_within_days)),
        "retention_ended": and_(Case.destroyed_at.is_(None), Case.retain_until < today),
    }[level]


def _tell(db: Session, now: datetime, settings: Settings, level: str, key: str, case: Case, people: list[int],
          **words: str) -> None:
    users = accounts_of_people(db, people) + accounts_with_role(db, MANAGERS)
    link = f"{settings.public_url.rstrip('/')}/cases/{case.id}"

    def message(lang: str) -> tuple[str, str]:
        subject, line = WORDS[level][0 if lang == "ja" else 1]
        return subject, f"{line.format(case=case.number, **words)}\n{link}\n"

    notify(db, now, settings=settings, kind=f"case_{level}", key=key, users=users, message=message,
           payload={"case": case.number, **words})


def _level_day(level: str, case: Case) -> date | None:
    return {"deadline_near": case.deadline, "deadline_passed": case.deadline, "report_late": case.surveyed_on,
            "retention_ended": case.retain_until}[level]


def open_level_alerts(db: Session, now: datetime, settings: Settings) -> list[Alert]:
    today = _today(now, settings)
    rules = ChaseRules(settings.case_deadline_warn_days, settings.case_report_within_days)
    opened = []
    for level in ("deadline_near", "deadline_passed", "report_late", "retention_ended"):
        kind = f"case_{level}"
        already = exists().where(Alert.case_id == Case.id, Alert.type == kind)
        cases = db.scalars(select(Case).where(_candidates(level, today, settings), ~already)
                           .order_by(Case.id).limit(BATCH))
        for case in cases:
            if level not in levels_reached(facts(case), today, rules):
                continue
            day = _level_day(level, case)
            words = {"case": case.number, "day": f"{day:%Y/%m/%d}"}
            alert = Alert(type=kind, severity=SEVERITY[level], state="open", opened_at=now, case_id=case.id,
                          person_id=case.surveyor_id, subject=WORDS[level][0][1].format(**words))
            db.add(alert)
            db.flush()
            opened.append(alert)
            people = [case.surveyor_id] if case.surveyor_id and level != "retention_ended" else []
            _tell(db, now, settings, level, f"{kind}:{case.id}", case, people, day=words["day"])
    return opened


def open_folder_out_alerts(db: Session, now: datetime, settings: Settings) -> list[Alert]:
    """A case's item still out after the survey day (or once the report is in): one alert per take-out."""
    today = _today(now, settings)
    already = exists().where(Alert.checkout_id == Checkout.id, Alert.type == "case_folder_out")
    due_back = or_(Case.submitted_on.is_not(None), Case.withdrawn_on.is_not(None), Case.surveyed_on < today)
    rows = db.execute(select(Checkout, Item, Person, Case).join(Item, Item.id == Checkout.item_id)
                      .join(Case, Case.number == Item.case_number).join(Person, Person.id == Checkout.person_id)
                      .where(Checkout.returned_at.is_(None), Case.destroyed_at.is_(None), due_back, ~already)
                      .order_by(Checkout.id).limit(BATCH)).all()
    opened = []
    for checkout, item, person, case in rows:
        if not papers_due_back(facts(case), today):
            continue
        day = case.surveyed_on or case.submitted_on or case.withdrawn_on
        words = {"case": case.number, "item": item.label, "person": person.name, "day": f"{day:%Y/%m/%d}"}
        alert = Alert(type="case_folder_out", severity=SEVERITY["folder_out"], state="open", opened_at=now,
                      subject=WORDS["folder_out"][0][1].format(**words), reader_id=item.cabinet_id,
                      person_id=person.id, item_id=item.id, checkout_id=checkout.id)
        db.add(alert)
        db.flush()
        opened.append(alert)
        _tell(db, now, settings, "folder_out", f"case_folder_out:{checkout.id}", case, [person.id],
              item=item.label, person=person.name, day=words["day"])
    return opened


def chase_cases(db: Session, now: datetime, settings: Settings) -> list[Alert]:
    """One round over the 受付簿; returns the alerts it opened (the caller commits)."""
    return open_level_alerts(db, now, settings) + open_folder_out_alerts(db, now, settings)
