"""The inspection pack (立入検査・監査) for a month with a known set of exceptions among clean activity: the pack
lists exactly those, rule by rule, each linking to its ledger line; the ZIP holds every ledger's CSV and a
manifest whose SHA-256 and line counts match its files; a manager answers the monthly self-inspection, kept
append-only. Real pages through the login, on SQLite and PostgreSQL, a fixed clock."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.cases.service import Actor, destroy, receive, record_submission, record_survey
from server.checkouts.models import Checkout
from server.config import Settings
from server.db import unit_of_work
from server.domain.self_inspection import KEYS, Answer
from server.evidence.chain import head
from server.evidence.models import ChainLink
from server.incidents.models import Incident
from server.inspection import pack, self_check
from server.inspection.evidence import Period
from server.inspection.models import SelfInspection
from server.items.service import add_item
from server.ledger.models import ScanRecord
from server.people.models import VisitorBadge
from server.people.service import add_person
from server.readers.models import Reader
from server.stocktakes.models import Stocktake, StocktakeLine
from server.training.models import Attendance
from server.training.service import SessionFacts, record_session, withdraw
from server.visits.closing import close_the_day
from server.visits.models import Visit
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration

TOKYO = Settings().zone
FIRST, LAST = date(2026, 10, 1), date(2026, 11, 30)
NOW = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 09:00 on 2 December in Tokyo
QUERY = f"from={FIRST}&to={LAST}"


def tokyo(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


def _scan(db, n: int, at: datetime, result: str, **facts) -> ScanRecord:
    scan = ScanRecord(id=f"scan-{n}", reader_id="cabinet-1", uid=facts.pop("uid", f"04AA{n:04d}"), tech="felica",
                      at=at, received_at=at, fresh=True, result=result, **facts)
    db.add(scan)
    return scan


def _loan(db, n: int, item, person, out: datetime, due: datetime, back: datetime | None, **more) -> Checkout:
    checkout = Checkout(item_id=item.id, person_id=person.id, out_at=out, due_at=due, returned_at=back,
                        returned_by_id=person.id if back else None, out_scan_id=f"out-{n}",
                        return_scan_id=f"back-{n}" if back else None, **more)
    db.add(checkout)
    return checkout


def a_month_with_known_exceptions(site: Site) -> dict:
    """October and November 2026: clean activity, and one of each exception the pack must find."""
    db_now = NOW - timedelta(days=40)
    office = Actor("kanri")
    with unit_of_work(site.factory) as db:
        db.add(Reader(id="cabinet-1", site="nerima", role="cabinet", name="書庫", created_at=db_now))
        db.flush()
        trained = date(2026, 6, 1)
        sato = add_person(db, db_now, name="佐藤 花子", card_uid="04AA0001", key_holder=True, training_on=trained)
        suzuki = add_person(db, db_now, name="鈴木 一郎", card_uid="04AA0002", training_on=trained)
        lapsed = add_person(db, db_now, name="高橋 美咲", card_uid=None, training_on=date(2025, 6, 1))
        add_person(db, db_now, name="伊藤 健", card_uid=None, training_on=date(2026, 12, 1))  # after the period
        add_person(db, db_now, name="退職 太郎", card_uid=None, active=False)  # inactive: not asked
        folder = add_item(db, db_now, label="R8-1001 調査書類", kind="folder", tag_uid="E0040001", cabinet="cabinet-1")
        folder2 = add_item(db, db_now, label="R8-1002 調査書類", kind="folder", tag_uid="E0040002", cabinet="cabinet-1")
        phone = add_item(db, db_now, label="調査用スマホ1", kind="phone", tag_uid="E0040003", cabinet="cabinet-1",
                         encrypted=True)
        phone2 = add_item(db, db_now, label="調査用スマホ2", kind="phone", tag_uid="E0040004", cabinet="cabinet-1",
                          encrypted=True)
        # The cabinet: taps that opened it, one refusal (and its repeat, which is not a second refusal).
        _scan(db, 1, tokyo(5, 9), "ok", action="session_open", person_id=sato.id)
        _scan(db, 2, tokyo(5, 9, 5), "deny", reason="not_key_holder", person_id=suzuki.id)
        _scan(db, 3, tokyo(5, 9, 5), "deny", reason="not_key_holder", person_id=suzuki.id, duplicate_of="scan-2")
        _scan(db, 4, tokyo(30, 9, month=9), "deny", reason="unknown_card")  # before the period
        # The 持ち出し管理簿: back in time, back 1 h late (overdue), back the next morning (escalated).
        _loan(db, 1, folder, sato, tokyo(10, 9), tokyo(10, 18), tokyo(10, 17))
        _loan(db, 2, folder, sato, tokyo(11, 9), tokyo(11, 18), tokyo(11, 19))
        _loan(db, 3, folder2, sato, tokyo(12, 9), tokyo(12, 18), tokyo(13, 9))
        _loan(db, 4, folder2, sato, tokyo(20, 9, month=9), tokyo(20, 18, month=9), tokyo(22, 9, month=9))  # before
        # Phones: one erased after its return, one whose erasure nobody confirmed, one confirmed late.
        _loan(db, 5, phone, sato, tokyo(14, 9), tokyo(14, 18), tokyo(14, 16), erasure="done", erased_at=tokyo(14, 16),
              erased_by="佐藤 花子", purpose="R8-1001")
        _loan(db, 6, phone2, suzuki, tokyo(15, 9), tokyo(15, 18), tokyo(15, 16), erasure="pending", purpose="R8-1002")
        _loan(db, 7, phone, sato, tokyo(16, 9), tokyo(16, 18), tokyo(16, 12), erasure="done", erased_at=tokyo(16, 15),
              erased_by="佐藤 花子", purpose="R8-1001")  # confirmed 3 h after its return: late
        # Visitors: one signed out, one never tapped out, one given a badge who never came.
        for uid, label in (("VB01", "来所者1"), ("VB02", "来所者2"), ("VB03", "来所者3")):
            db.add(VisitorBadge(uid=uid, label=label, created_at=db_now))
        db.flush()
        db.add_all([
            Visit(visitor_name="山田 太郎", organisation="練馬区", badge_uid=None, state="out", registered_at=tokyo(18, 9),
                  entered_at=tokyo(18, 10), left_at=tokyo(18, 11), badge_returned_at=tokyo(18, 11)),
            Visit(visitor_name="田中 次郎", badge_uid="VB02", state="in", registered_at=tokyo(19, 9),
                  entered_at=tokyo(19, 10)),
            Visit(visitor_name="中村 三郎", badge_uid="VB03", state="expected", registered_at=tokyo(20, 9),
                  valid_from=tokyo(20, 9), valid_until=tokyo(20, 17))])
        db.flush()
        close_the_day(db, NOW, closing=site.settings.closing_time, zone=TOKYO, auto_sign_out=False)
        # A stock-take that found one folder and missed the other.
        stocktake = Stocktake(cabinet_id="cabinet-1", state="finished", started_at=tokyo(25, 17),
                              started_by="kanri", finished_at=tokyo(25, 17, 30), finished_by="kanri")
        db.add(stocktake)
        db.flush()
        db.add_all([StocktakeLine(stocktake_id=stocktake.id, item_id=folder.id, outcome="found"),
                    StocktakeLine(stocktake_id=stocktake.id, item_id=folder2.id, outcome="missing")])
        # The 受付簿: one destroyed after its retention, one kept past it, one still within it.
        today = NOW.astimezone(TOKYO).date()
        for number, submitted, destroyed in (("R8-0001", date(2026, 9, 1), True), ("R8-0002", date(2026, 10, 1), False),
                                             ("R8-0003", date(2026, 11, 20), False)):
            case = receive(db, db_now, office, number=number, received_on=submitted - timedelta(days=20),
                           kind="new", retention_days=30)
            record_survey(db, case, db_now, today, office, submitted - timedelta(days=10))
            record_submission(db, case, db_now, today, office, submitted)
            if destroyed:
                destroy(db, case, tokyo(5, 10, month=10), today, office, method="shredder", destroyed_by=sato.id,
                        witness=suzuki.id)
        # A training session in November: 佐藤 attended, 鈴木's attendance recorded by mistake and withdrawn.
        session = record_session(db, db_now, LAST, "kanri", SessionFacts(date(2026, 11, 10), "情報セキュリティ教育",
                                                                          "ward", "管理責任者", 60), [sato.id, suzuki.id])
        db.flush()
        mistaken = next(a for a in db.scalars(select(Attendance).where(Attendance.person_id == suzuki.id,
                                                                       Attendance.session_id == session.id)))
        withdraw(db, db_now, "kanri", mistaken.id, "出席者の取り違え")
        # Incidents: one closed with its 第一報 in time (no exception), one open whose 第一報 never came (late).
        for summary, discovered, reported, closed in (("書類の置き忘れ", tokyo(6, 10), tokyo(6, 10, 30), tokyo(9, 17)),
                                                      ("調査用スマホの所在不明", tokyo(21, 15), None, None)):
            db.add(Incident(kind="missing", summary=summary, discovered_at=discovered, discovered_by="佐藤 花子",
                            source="hand", period_from=discovered - timedelta(days=1), period_to=discovered,
                            ward_reported_at=reported, cause="確認済み" if closed else None,
                            prevention="確認済み" if closed else None, opened_at=discovered, opened_by="kanri",
                            closed_at=closed, closed_by="kanri" if closed else None))
        # October's self-inspection, all kept; November's is missing.
        self_check.answer(db, tokyo(31, 17, month=10), "2026-10", {key: Answer(True) for key in KEYS}, by="佐藤花子",
                          user_id=None)
        db.flush()
        late = db.scalar(select(Incident.id).where(Incident.ward_reported_at.is_(None)))
        return {"lapsed": lapsed.id, "incident": late}


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    site.settings = Settings(database_url=database_url)
    site.clock.now = NOW
    site.ids = a_month_with_known_exceptions(site)
    with page_client(site.app):
        yield site


def _found(site: Site) -> dict[str, list[tuple]]:
    with site.factory() as db:
        sections = pack.sections(db, Period(FIRST, LAST, TOKYO, NOW), site.settings)
    return {s.rule: [(f.kind, f.subject, f.detail) for f in s.findings] for s in sections}


def test_the_pack_lists_exactly_the_known_exceptions_rule_by_rule(site):
    found = _found(site)
    assert sorted(found.pop("training")) == [("training_expired", "高橋 美咲", None),
                                             ("training_missing", "伊藤 健", None)]  # trained after the period
    assert found == {
        "1": [],
        "2": [("cabinet_denial", "鈴木 一郎", "alert.reason.not_key_holder"),
              ("stocktake_difference", "R8-1002 調査書類", "st.outcome.missing")],
        "3": [("overdue", "R8-1001 調査書類", "insp.late.returned"),
              ("escalated", "R8-1002 調査書類", "insp.late.returned")],
        "4": [("past_retention", "R8-0002", None)],
        "5": [("not_erased", "調査用スマホ2（鈴木 一郎）", "insp.erase.never"),
              ("not_erased", "調査用スマホ1（佐藤 花子）", "insp.erase.late")],
        "6": [("visitor_not_signed_out", "田中 次郎", None), ("badge_not_returned", "中村 三郎", None)],
        "7": [("self_inspection_missing", "", None)],
        "8": [("self_inspection_missing", "", None)],
        "9": [("incident_report_late", "調査用スマホの所在不明", "inc.kind.missing")],
    }
    client, _ = logged_in(site.app, "auditor", PASSWORDS["auditor"])
    summary = client.get(f"/inspection?{QUERY}")
    assert summary.status_code == 200
    html = summary.text
    assert "（２）受託情報の保管" in html and "例外 2 件" in html and "✓ 例外なし" in html
    assert "このシステムではまだ記録していません" not in html  # everything the pack needs is recorded
    rule9 = client.get(f"/inspection/rules/9?{QUERY}").text
    incident_id = site.ids["incident"]
    assert f'href="/incidents/{incident_id}"' in rule9 and "事故等の区への第一報が遅延（未報告）" in rule9
    rule3 = client.get(f"/inspection/rules/3?{QUERY}").text
    assert "返却期限超過（督促）" in rule3
    assert "/register?from=2026-11-12&amp;to=2026-11-12&amp;report=transactions&amp;item=R8-1002" in rule3
    rule6 = client.get(f"/inspection/rules/6?{QUERY}").text
    assert "/entry-log?from=2026-11-19&amp;to=2026-11-19&amp;who=visitor&amp;q=" in rule6
    rule7 = client.get(f"/inspection/rules/7?{QUERY}").text
    assert "2026年11月 はまだ回答されていません。" in rule7 and 'id="self-inspection-form"' not in rule7
    assert client.get(f"/inspection/rules/10?{QUERY}").status_code == 404
    reception, _ = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    assert reception.get("/inspection").status_code == 403


def test_the_zip_holds_every_ledger_and_its_manifest_matches_its_files(site):
    client, _ = logged_in(site.app, "auditor", PASSWORDS["auditor"])
    response = client.get(f"/inspection.zip?{QUERY}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["period"]["from"] == "2026-10-01" and manifest["period"]["to"] == "2026-11-30"
    assert manifest["made_by"] == "auditor" and manifest["made_at"].startswith("2026-12-02T09:00")
    assert manifest["not_recorded_yet"] == []
    # Everything here was chained when the test ran, after the period: nothing yet at its end. "now" is the
    # head as the pack was made; the download's own audit entry is chained after it.
    assert manifest["chain_heads"]["period_end"] is None
    made = manifest["chain_heads"]["now"]
    with site.factory() as db:
        assert db.scalar(select(ChainLink.hash).where(ChainLink.seq == made["seq"])) == made["hash"]
        assert head(db).seq > made["seq"]
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) | {"manifest.json"} == set(archive.namelist())
    for name, entry in listed.items():
        data = archive.read(name)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert len(rows) - 1 == entry["rows"], name
    assert {n: listed[n]["rows"] for n in ("入退室記録簿.csv", "持ち出し管理簿_取引記録.csv", "受付簿.csv",
                                          "廃棄記録.csv", "棚卸.csv", "自己点検.csv", "事故等.csv", "情報セキュリティ教育.csv",
                                          "立入検査・監査資料_例外.csv")} \
        == {"入退室記録簿.csv": 3, "持ち出し管理簿_取引記録.csv": 6, "受付簿.csv": 1, "廃棄記録.csv": 1, "棚卸.csv": 2,
            "自己点検.csv": len(KEYS), "事故等.csv": 2, "情報セキュリティ教育.csv": 3, "立入検査・監査資料_例外.csv": 14}
    training = list(csv.reader(io.StringIO(archive.read("情報セキュリティ教育.csv").decode("utf-8-sig"))))
    assert [(r[4], r[5]) for r in training[1:]] == [("佐藤 花子", "出席"), ("鈴木 一郎", "出席"), ("鈴木 一郎", "取消し")]
    assert {"持ち出し管理簿_持ち出し中.csv", "持ち出し管理簿_期限超過.csv", "持ち出し管理簿_利用権限.csv", "アラート.csv",
            "操作記録.csv", "紛失.csv"} <= set(listed)
    assert ("inspection_pack_downloaded", "auditor") in site.audit()


def test_a_manager_answers_the_self_inspection_and_each_answer_is_kept(site):
    url = f"/inspection/rules/8?{QUERY}"
    auditor, auditor_csrf = logged_in(site.app, "auditor", PASSWORDS["auditor"])
    assert auditor.post("/inspection/self-inspection", data={"csrf": auditor_csrf}).status_code == 403
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    assert 'id="self-inspection-form"' in client.get(url).text
    form = {"csrf": csrf, "rule": "8", "from": str(FIRST), "to": str(LAST), "month": "2026-11",
            **{f"q-{key}": "yes" for key in KEYS}, "q-patches": "no", "note-antivirus": "定義ファイル 11/30 更新"}
    form.pop("q-screen_lock")
    refused = client.post("/inspection/self-inspection", data=form)
    assert refused.status_code == 422
    assert 'id="f-q-screen_lock-error"' in refused.text and "「はい」か「いいえ」を選んでください。" in refused.text
    assert 'id="f-q-patches-error"' in refused.text  # いいえ needs what happened
    assert "定義ファイル 11/30 更新" in refused.text  # nothing typed is lost
    form.update({"q-screen_lock": "yes", "note-patches": "11月分の更新が未適用、12/3 に適用予定"})
    done = client.post("/inspection/self-inspection", data=form)
    assert done.status_code == 303 and done.headers["location"].startswith("/inspection/rules/8?")
    assert _found(site)["8"] == [("self_inspection_no", "", "insp.q.patches")]
    assert _found(site)["7"] == []
    form.update({"q-patches": "yes", "note-patches": "12/1 に適用済み"})
    assert client.post("/inspection/self-inspection", data=form).status_code == 303
    assert _found(site)["8"] == []  # the newest answer counts
    page = client.get(url).text
    assert page.count("<td>2026年11月</td>") == 2 and "11月分の更新が未適用" in page  # both kept, newest first
    assert '<input type="radio" name="q-patches" value="yes" checked>' in page  # the form starts from the newest
    assert site.audit().count(("self_inspection_answered", "manager")) == 2
    with site.factory() as db:
        rows = db.scalars(select(SelfInspection).where(SelfInspection.month == "2026-11")).all()
        assert len(rows) == 2 and {r.answered_by for r in rows} == {"manager"}
    with pytest.raises(DBAPIError):  # the database refuses to change an answer, whatever the client
        with site.factory.begin() as db:
            db.execute(text("UPDATE self_inspections SET answered_by = 'someone else'"))
