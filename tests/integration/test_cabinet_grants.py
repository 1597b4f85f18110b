"""Issue 17's "done when": a folder cabinet open to two surveyors on weekdays 8–19 refuses a third, refuses the
two on a public holiday and at 20:00, and opens on one's Saturday exception — live (real scans through
Mosquitto and the ingest) and offline (the gateway's own allowlist decision on the list the server published)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gateway import protocol
from gateway.allowlist import OfflineAllowlist
from gateway.outbox import Outbox
from gateway.simulator import SimulatedReader
from server.db import unit_of_work
from server.domain.grants import Slot
from server.grants import service
from server.readers.models import Reader
from tests.support.gateway import CABINET_KEY, TopicWatcher, wait_for
from tests.support.office import ADMIN_PASSWORD, SITE, Office
from tests.support.web import logged_in

pytestmark = pytest.mark.integration

TOKYO = ZoneInfo("Asia/Tokyo")
HOLIDAY = datetime(2026, 11, 23, 10, 0, tzinfo=TOKYO)  # 勤労感謝の日, a Monday
THURSDAY = datetime(2026, 12, 3, 10, 0, tzinfo=TOKYO)
EVENING = datetime(2026, 12, 3, 20, 0, tzinfo=TOKYO)
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=TOKYO)
HANAKO, JIRO, SABURO = "0123456789ABC001", "0123456789ABC002", "0123456789ABC003"
WEEKDAYS = [Slot(d, time(8), time(19)) for d in range(5)]


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FolderCabinet:
    """An office with its clock in hand, the folder cabinet's simulated reader and a watcher of its allowlist."""

    def __init__(self, office: Office, clock: Clock, broker, tmp_path):
        self.office, self.clock, self.tmp_path = office, clock, tmp_path
        office.post("/readers", {"id": "folders", "site": SITE, "role": "cabinet", "name": "書類キャビネット"})
        with unit_of_work(office.factory) as db:
            db.get(Reader, "folders").allowlist_key = CABINET_KEY
        self.reader = SimulatedReader(office.mqtt_url, SITE, "folders", clock=clock).start()
        office.readers.append(self.reader)
        self.watcher = TopicWatcher(broker, "folders", "allowlist", protocol.Allowlist)
        self.people = {uid: office.add_person(name, uid, key_holder=True, training_on=date(2026, 6, 1))["id"]
                       for name, uid in (("調査 花子", HANAKO), ("調査 次郎", JIRO), ("調査 三郎", SABURO))}

    def tap(self, uid: str) -> tuple[str, str | None]:
        scan_id = self.reader.tap(uid, at=self.clock.now)
        decision = self.reader.wait_decision(scan_id)
        assert decision is not None, "no decision for a fresh scan"
        return decision.result, decision.reason or decision.action

    def allowlist_at(self, moment: datetime, cards: int = 2) -> protocol.Allowlist:
        """The clock moved on: the list the server publishes now (a day later, or after a change), holding
        `cards` (the lists from before the grants, with every key holder or none yet, are not it)."""
        self.clock.now = moment
        self.office.ingest.allowlists.wake()
        return wait_for(lambda: self._issued_now(cards), what=f"the allowlist issued at {moment}")

    def _issued_now(self, cards: int) -> protocol.Allowlist | None:
        latest = self.watcher.latest()
        fits = latest is not None and latest.issued == self.clock.now and latest.key_id and len(latest.hashes) == cards
        return latest if fits else None

    def offline(self, allowlist: protocol.Allowlist, uid: str) -> bool:
        """The real gateway code's decision with no server: the list kept on disk, the reader's own clock."""
        cabinet = OfflineAllowlist(Outbox(self.tmp_path / f"outbox-{allowlist.salt[:8]}.sqlite3"),
                                   bytes.fromhex(CABINET_KEY))
        cabinet.update(allowlist)
        return cabinet.allows(uid, self.clock.now)

    def close(self) -> None:
        self.watcher.close()


@pytest.fixture
def cabinet(database_url, broker, tmp_path):
    clock = Clock(HOLIDAY)
    # The publisher's own round is slow here: every list this test waits for comes from a wake-up.
    with Office(database_url, broker.url, clock=clock, allowlist_check_s=60) as office:
        office.wait_connected()
        folders = FolderCabinet(office, clock, broker, tmp_path)
        yield folders
        folders.close()


def give_grants(cabinet: FolderCabinet) -> None:
    with unit_of_work(cabinet.office.factory) as db:
        for uid in (HANAKO, JIRO):
            grant = service.add_grant(db, cabinet_id="folders", person_id=cabinet.people[uid], slots=WEEKDAYS,
                                      now=cabinet.clock.now, by="kanri")
            if uid == HANAKO:
                service.add_one_off(db, grant, day=SATURDAY.date(), starts=time(9), ends=time(12),
                                    reason="締切前の書類整理", now=cabinet.clock.now, by="kanri")


def test_two_surveyors_on_weekdays_8_to_19_live_and_offline(cabinet):
    give_grants(cabinet)
    holiday = cabinet.allowlist_at(HOLIDAY)
    assert len(holiday.hashes) == 2 and holiday.hours and holiday.zone == "Asia/Tokyo"
    assert [cabinet.tap(uid) for uid in (HANAKO, JIRO)] == [("deny", "outside_hours")] * 2
    assert not cabinet.offline(holiday, HANAKO) and not cabinet.offline(holiday, JIRO)

    weekday = cabinet.allowlist_at(THURSDAY)
    assert [cabinet.tap(uid) for uid in (HANAKO, JIRO, SABURO)] == [
        ("unlock", "session_open"), ("unlock", "session_open"), ("deny", "no_grant")]
    assert [cabinet.offline(weekday, uid) for uid in (HANAKO, JIRO, SABURO)] == [True, True, False]

    cabinet.clock.now = EVENING
    assert cabinet.tap(JIRO) == ("deny", "outside_hours")
    assert not cabinet.offline(weekday, JIRO) and not cabinet.offline(weekday, HANAKO)

    saturday = cabinet.allowlist_at(SATURDAY)
    assert cabinet.tap(HANAKO) == ("unlock", "session_open")
    assert cabinet.tap(JIRO) == ("deny", "outside_hours")
    assert cabinet.offline(saturday, HANAKO) and not cabinet.offline(saturday, JIRO)

    # A tap from Thursday 20:30 that arrives only now (a reader's outbox after an outage): older than the
    # Saturday session, so the cabinet is rewound; judged at its own time by the grants, no decision sent.
    late = cabinet.reader.tap(HANAKO, at=EVENING.replace(minute=30))
    assert cabinet.reader.wait_acked(late) and cabinet.reader.decisions.get(late) is None
    [stored] = [s for s in cabinet.office.get("/scans", reader="folders") if s["id"] == late]
    assert (stored["result"], stored["reason"]) == ("deny", "outside_hours")

    alerts = cabinet.office.get("/alerts", state="open")
    denied = sorted((a["reason"], a["count"]) for a in alerts if a["type"] == "cabinet_denied")
    assert denied == [("no_grant", 1), ("outside_hours", 2), ("outside_hours", 3)]  # 花子 twice, 次郎 three times


def test_a_lost_card_revoked_on_its_page_leaves_the_allowlist_at_once_and_the_offline_cabinet_refuses_it(cabinet):
    cabinet.clock.now = THURSDAY
    give_grants(cabinet)
    before = cabinet.allowlist_at(THURSDAY)
    assert cabinet.offline(before, HANAKO)
    client, csrf = logged_in(cabinet.office.app, "kanri", ADMIN_PASSWORD)
    revoked = client.post(f"/admin/people/{cabinet.people[HANAKO]}/cards/{HANAKO}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 303
    after = wait_for(lambda: (latest := cabinet.watcher.latest()) is not None and len(latest.hashes) == 1 and latest,
                     timeout=3, what="the allowlist republished without the card")
    assert not cabinet.offline(after, HANAKO) and cabinet.offline(after, JIRO)
    assert cabinet.tap(HANAKO) == ("deny", "inactive")
