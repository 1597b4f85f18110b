"""Chasing a folder that is not back, with real scans and a controllable clock: a reminder e-mail
before its due time, an overdue alert (told to the holder and the managers) after it, an escalation
later and finally a "lost?" prompt — each exactly once, received by a real SMTP server.

Real Mosquitto, the real server (API + ingest), aiosmtpd, SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.accounts.service import add_user
from server.alerts.models import Alert
from server.checkouts.chase import ChaseChecker
from server.db import unit_of_work
from server.notify.sender import NoticeSender
from tests.support.notify import SmtpServer
from tests.support.office import Office
from tests.support.web import PASSWORDS

pytestmark = pytest.mark.integration

CARD, FOLDER = "0123456789ABCDEF", "04A1B2C3D4E5F6"


def test_a_folder_not_back_is_reminded_then_overdue_then_escalated_each_once(database_url, broker):
    with SmtpServer() as smtp, Office(database_url, broker.url, smtp_url=smtp.url, overdue_check_s=3600,
                                      notice_check_s=3600) as office:
        office.wait_connected()
        cabinet = office.add_reader("cabinet-1", "cabinet")
        holder = office.add_person("佐藤 花子", CARD, key_holder=True, training_on=date.today() - timedelta(days=9))
        office.add_item("調査書類 R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123")
        with unit_of_work(office.factory) as db:
            sato = add_user(db, "sato", "surveyor", PASSWORDS["surveyor"], datetime.now(UTC))
            sato.person_id, sato.email = holder["id"], "sato@example.jp"
            boss = add_user(db, "tanaka", "manager", PASSWORDS["manager"], datetime.now(UTC))
            boss.email = "tanaka@example.jp"
        now = datetime.now(UTC)
        scans = [cabinet.tap(CARD, at=now), cabinet.tap(FOLDER, tech="iso14443a", at=now + timedelta(seconds=2))]
        assert cabinet.wait_acked(scans)
        [checkout] = office.get("/checkouts", state="open")
        due = datetime.fromisoformat(checkout["due_at"])

        clock = {"now": due - timedelta(minutes=20)}
        checker = ChaseChecker(office.factory, lambda: clock["now"], office.settings)
        sender = NoticeSender(office.factory, office.settings, lambda: clock["now"])

        def step(at: datetime) -> tuple[list[str], list[tuple[str, str]]]:
            clock["now"] = at
            before = len(smtp.received)
            checker.check()
            checker.check()  # a second round (or a second server) changes nothing
            sender.send_due()
            sender.send_due()
            with office.factory() as db:
                alerts = sorted(db.scalars(select(Alert.type).where(Alert.checkout_id == checkout["id"])))
            return alerts, [(m.rcpt_tos[0], m.message["Subject"]) for m in smtp.received[before:]]

        assert step(due - timedelta(hours=2)) == ([], [])  # not yet due soon
        assert step(due - timedelta(minutes=20)) == ([], [("sato@example.jp", "【mamori】返却期限が近づいています")])
        assert step(due - timedelta(minutes=5)) == ([], [])  # reminded once
        alerts, mails = step(due + timedelta(minutes=1))
        assert alerts == ["overdue"]
        assert sorted(mails) == [("sato@example.jp", "【mamori】返却期限を過ぎています"),
                                 ("tanaka@example.jp", "【mamori】返却期限を過ぎています")]
        assert step(due + timedelta(minutes=90)) == (["overdue"], [])
        alerts, mails = step(due + timedelta(minutes=121))
        assert alerts == ["escalated", "overdue"]
        assert mails == [("tanaka@example.jp", "【mamori】返却期限超過が続いています（督促）")]
        assert step(due + timedelta(hours=23)) == (["escalated", "overdue"], [])
        assert step(due + timedelta(hours=24, minutes=1)) == (["escalated", "lost_prompt", "overdue"], [])
        assert step(due + timedelta(days=3)) == (["escalated", "lost_prompt", "overdue"], [])
        body = smtp.received[0].message.get_content()
        assert "調査書類 R8-00123" in body and "R8-00123" in body
