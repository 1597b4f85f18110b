"""A lost folder becomes an incident (情報セキュリティ事故等) whose timeline is the folder's real history.

Real Mosquitto, the real server (ingest and pages), SQLite and PostgreSQL: a surveyor comes in, opens
the cabinet and takes a folder out three days ago; the chase raises overdue, escalated and "lost?";
the manager marks it lost and records the incident from the lost-item record. The timeline holds the
real taps, take-out, door events, entries and alerts at their own times, each with its chain position;
the process log and the timeline refuse UPDATE and DELETE by direct SQL; the late 第一報 alert comes
once (controllable clock) and goes when the ward is told; the report prints and downloads as a PDF;
the forced cabinet door of that morning is recorded as a second incident from the dashboard.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.accounts.service import add_user
from server.alerts.models import Alert
from server.checkouts.chase import ChaseChecker
from server.db import unit_of_work
from server.evidence.runs import snapshot_verify
from server.incidents.models import Incident, TimelineLine
from server.lost.models import LostItem
from tests.support.office import Office
from tests.support.printout import read_printout
from tests.support.web import PASSWORDS, logged_in
from tests.support.words import notes_ja

pytestmark = pytest.mark.integration

CARD, FOLDER = "0123456789ABCDEF", "04A1B2C3D4E5F6"
LABEL = "調査書類 R8-00123"


def local(moment: datetime, office) -> str:
    return moment.astimezone(office.settings.zone).strftime("%Y-%m-%dT%H:%M")


def a_folder_lost_three_days_ago(office) -> datetime:
    """The surveyor's real taps, stamped three days ago; returns when she came in."""
    came = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    entrance, cabinet = office.entrance, office.cabinet
    sent = [entrance.tap(CARD, at=came), cabinet.tap(CARD, at=came + timedelta(seconds=60))]
    sent += [cabinet.event("door_open", at=came + timedelta(seconds=62)),
             cabinet.tap(FOLDER, tech="iso14443a", at=came + timedelta(seconds=70)),
             cabinet.event("door_closed", at=came + timedelta(seconds=90)),
             entrance.tap(CARD, at=came + timedelta(seconds=300))]
    assert entrance.wait_acked(sent[0::5]) and cabinet.wait_acked(sent[1:5])
    return came


@pytest.fixture
def office(database_url, broker):
    with Office(database_url, broker.url, overdue_check_s=3600, notice_check_s=3600,
                incident_ward_report_within_min=60) as office:
        office.wait_connected()
        office.entrance = office.add_reader("entrance-1", "entrance")
        office.cabinet = office.add_reader("cabinet-1", "cabinet")
        office.add_person("佐藤 花子", CARD, key_holder=True, training_on=datetime.now(UTC).date() - timedelta(days=30))
        office.folder = office.add_item(LABEL, "folder", FOLDER, "cabinet-1", case="R8-00123")
        with unit_of_work(office.factory) as db:
            add_user(db, "tanaka", "manager", PASSWORDS["manager"], datetime.now(UTC))
        office.pages, office.csrf = logged_in(office.app, "tanaka", PASSWORDS["manager"])
        yield office


def timeline(office, incident_id: int) -> list[TimelineLine]:
    with office.factory() as db:
        return list(db.scalars(select(TimelineLine).where(TimelineLine.incident_id == incident_id)
                               .order_by(TimelineLine.at, TimelineLine.id)))


def test_a_lost_folder_becomes_an_incident_whose_timeline_is_its_real_history(office):
    came = a_folder_lost_three_days_ago(office)
    ChaseChecker(office.factory, lambda: datetime.now(UTC), office.settings).check()
    assert {a["type"] for a in office.get("/alerts", state="open")} >= {"overdue", "escalated", "lost_prompt"}
    dashboard = office.pages.get("/dashboard").text
    assert "incident-from-alert-" in dashboard  # the escalated alert offers to record an incident
    marked = office.pages.post("/lost/mark", data={"csrf": office.csrf, "item": str(office.folder["id"]),
                                                   "note": "訪問先から戻る途中で紛失"})
    assert marked.status_code == 303, marked.text
    lost_id = int(re.search(r"/lost/(\d+)", marked.headers["location"]).group(1))
    assert f'href="/incidents/new?lost={lost_id}"' in office.pages.get(f"/lost/{lost_id}").text

    form = office.pages.get(f"/incidents/new?lost={lost_id}")
    assert form.status_code == 200 and LABEL in form.text and "佐藤 花子" in form.text
    now = datetime.now(UTC)
    fields = {"csrf": office.csrf, "lost": str(lost_id), "kind": "loss_theft", "summary": f"{LABEL} を紛失",
              "discovered_at": local(now, office), "discovered_by": "佐藤 花子", "first_aid": "訪問先と経路を探した",
              "manager_reported_at": local(now, office)}
    missing = office.pages.post("/incidents", data={**fields, "discovered_by": " "})
    assert missing.status_code == 422 and 'id="f-discovered_by-error"' in missing.text
    opened = office.pages.post("/incidents", data=fields)
    assert opened.status_code == 303, opened.text
    incident_id = int(re.search(r"/incidents/(\d+)", opened.headers["location"]).group(1))

    lines = timeline(office, incident_id)
    seen = {(line.kind, line.facts.get("action") or line.facts.get("event") or line.facts.get("direction")
             or line.facts.get("type"), line.at) for line in lines}
    at = {"in": came, "session": came + timedelta(seconds=60), "door": came + timedelta(seconds=62),
          "out": came + timedelta(seconds=70), "closed": came + timedelta(seconds=90), "left": came + timedelta(seconds=300)}
    assert {("tap", "entry", at["in"]), ("presence", "entry", at["in"]), ("tap", "session_open", at["session"]),
            ("session", None, at["session"]), ("door", "door_open", at["door"]), ("tap", "checkout", at["out"]),
            ("checkout", None, at["out"]), ("door", "door_closed", at["closed"]), ("tap", "exit", at["left"]),
            ("presence", "exit", at["left"])} <= seen
    assert {line.facts["type"] for line in lines if line.kind == "alert"} >= {"overdue", "escalated", "lost_prompt"}
    assert [line.facts["item"] for line in lines if line.kind == "lost"] == [LABEL]
    assert all(line.chain_seq is not None and len(line.chain_hash) == 64 for line in lines), "unchained lines"

    page = office.pages.get(f"/incidents/{incident_id}")
    assert page.status_code == 200 and "経過" in page.text and "訪問先と経路を探した" in page.text
    stamped = at["out"].astimezone(office.settings.zone).strftime("%Y/%m/%d")
    assert stamped in page.text and "（証跡チェーン #" in page.text

    # The evidence is append-only in the database itself.
    with office.app.state.engine.connect() as conn:
        for statement in ("UPDATE incident_events SET text = 'changed'", "DELETE FROM incident_events",
                          "UPDATE incident_timeline SET kind = 'tap'", "DELETE FROM incident_timeline"):
            with pytest.raises(DBAPIError):
                conn.execute(text(statement))
            conn.rollback()

    # A new tap after the opening is not in the frozen timeline; extending takes it, keeping the rest.
    assert office.entrance.wait_acked([office.entrance.tap(CARD)])
    extended = office.pages.post(f"/incidents/{incident_id}/timeline", data={"csrf": office.csrf})
    assert extended.status_code == 303, extended.text
    after = timeline(office, incident_id)
    assert [(a.id, a.facts) for a in after[:len(lines)]] == [(b.id, b.facts) for b in lines]
    assert len(after) >= len(lines) + 2  # the tap and its entry

    # The 第一報 is late after an hour: one alert, however many rounds; telling the ward resolves it.
    later = datetime.now(UTC) + timedelta(minutes=61)
    checker = ChaseChecker(office.factory, lambda: later, office.settings)
    checker.check()
    checker.check()
    with office.factory() as db:
        late = db.scalars(select(Alert).where(Alert.type == "incident_report_late")).all()
    assert [(a.incident_id, a.state) for a in late] == [(incident_id, "open")]
    assert "区への第一報の遅れ" in office.pages.get("/dashboard").text
    refused = office.pages.post(f"/incidents/{incident_id}/close", data={"csrf": office.csrf})
    assert refused.status_code == 409 and "区への第一報がまだ記録されていません" in refused.text
    no_time = office.pages.post(f"/incidents/{incident_id}/steps", data={"csrf": office.csrf, "step": "ward_reported"})
    assert no_time.status_code == 422 and 'id="f-when-error"' in no_time.text
    for step, words in (("ward_reported", "区 介護保険課へ電話で第一報"), ("cause", "持ち出し時に鞄の口を閉めていなかった"),
                        ("prevention", "書類はファスナー付きの鞄で運ぶ")):
        done = office.pages.post(f"/incidents/{incident_id}/steps", data={
            "csrf": office.csrf, "step": step, "text": words, "when": local(datetime.now(UTC), office)})
        assert done.status_code == 303, done.text
    with office.factory() as db:
        assert db.get(Alert, late[0].id).state == "resolved"
        assert f"事故等 No.{incident_id}" in notes_ja(db.get(Alert, late[0].id).note)
        incident = db.get(Incident, incident_id)
        assert incident.ward_reported_at is not None and incident.cause.startswith("持ち出し時")

    printed = office.pages.get(f"/incidents/{incident_id}/print")
    paper = read_printout(printed.text)
    assert "事故報告書" in paper.head and "書類はファスナー付きの鞄で運ぶ" in printed.text
    assert re.search(r"証跡チェーンの先頭</strong>：#\d+　[0-9a-f]{64}", printed.text)
    pdf = office.pages.get(f"/incidents/{incident_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages]
    text_of_pdf = "\n".join(pages)
    for words in ("事故報告書", LABEL, "佐藤 花子", "持ち出し", "再発防止策", "書類はファスナー付きの鞄で運ぶ"):
        assert words in text_of_pdf, words
    assert all(f"{n} / {len(pages)}" in p and "事故報告書" in p for n, p in enumerate(pages, 1))

    office.pages.get("/language/en")
    english = office.pages.get(f"/incidents/{incident_id}").text
    assert "Timeline preserved from the ledger" in english and "Record of the response" in english
    assert not re.findall(r"\b(?:inc|alert|audit|lost)\.[a-z_]+", english), "a catalogue key shown raw"
    office.pages.get("/language/ja")

    closed = office.pages.post(f"/incidents/{incident_id}/close", data={"csrf": office.csrf})
    assert closed.status_code == 303
    after_close = office.pages.post(f"/incidents/{incident_id}/steps", data={
        "csrf": office.csrf, "step": "note", "text": "追記"})
    assert after_close.status_code == 409
    with office.factory() as db:
        assert db.get(LostItem, lost_id).item_id == office.folder["id"]
        actions = set(db.scalars(text("SELECT action FROM audit_events")))
    assert {"incident_opened", "incident_step", "incident_timeline_extended", "incident_report_printed",
            "incident_report_downloaded", "incident_closed"} <= actions
    assert f'id="incident-{incident_id}"' in office.pages.get("/incidents").text
    # The forced door the replayed taps left (no live unlock explained it) is recorded from the dashboard.
    [forced] = [a for a in office.get("/alerts", state="open") if a["type"] == "door_forced"]
    assert f'href="/incidents/new?alert={forced["id"]}"' in office.pages.get("/dashboard").text
    form = office.pages.get(f"/incidents/new?alert={forced['id']}")
    assert form.status_code == 200 and "キャビネット：cabinet-1" in form.text
    from_alert = office.pages.post("/incidents", data={**fields, "lost": "", "alert": str(forced["id"]),
                                                       "summary": "書庫の扉が解錠なしで開いた"})
    assert from_alert.status_code == 303, from_alert.text
    second = int(re.search(r"/incidents/(\d+)", from_alert.headers["location"]).group(1))
    assert {line.kind for line in timeline(office, second)} >= {"door", "session", "alert"}
    assert f"事故等 No.{second} として記録済み" in office.pages.get("/dashboard").text
    # By hand: the folder typed by its case number, from the day it went out.
    day = came.astimezone(office.settings.zone).date().isoformat()
    unknown = office.pages.post("/incidents", data={**fields, "lost": "", "item": "R8-99999", "period_from": day})
    assert unknown.status_code == 422 and 'id="f-item-error"' in unknown.text
    by_hand = office.pages.post("/incidents", data={**fields, "lost": "", "kind": "missing", "item": "R8-00123",
                                                    "period_from": day})
    assert by_hand.status_code == 303, by_hand.text
    third = int(re.search(r"/incidents/(\d+)", by_hand.headers["location"]).group(1))
    assert ("checkout", at["out"]) in {(line.kind, line.at) for line in timeline(office, third)}
    report = snapshot_verify(office.app.state.engine, office.settings.zone)  # the incident's rows chain and verify
    assert report.ok, [str(problem) for problem in report.problems]
