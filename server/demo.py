"""`mamori demo`: the whole path on one machine with nothing installed but Python packages.

SQLite, an in-process MQTT broker (amqtt), `mamori serve`, and two simulated readers speaking
the contract over MQTT: a visitor and a surveyor doing their day, in a loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from gateway.simulator import SimulatedReader
from server.accounts.service import add_user, create_token
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.domain.visits import walk_in_window
from server.items.models import Item
from server.main import create_app, serve_web
from server.migrate import upgrade
from server.people.models import Card, VisitorBadge
from server.people.service import add_person
from server.readers.allowlist_key import new_allowlist_key
from server.readers.models import Reader
from server.training.service import SessionFacts, record_session
from server.visits import service as visits
from server.visits.models import Visit

log = logging.getLogger("mamori.demo")

SITE = "nerima"
MANAGER = ("kanri", "Kanri-Demo-2026")
RECEPTIONIST = ("uketsuke", "Uketsuke-Demo-2026")
SURVEYOR = ("sato", "Sato-Chosa-2026")  # 佐藤 花子's own account: her page is /my
SURVEYOR_CARD = "012E4CD8F1A2B3C4"  # FeliCa IDm
TRAINEE_CARD = "012E4CD8F1A2B3C5"  # training lapsed: the cabinet says no
FOLDER_TAG = "04A1B2C3D4E5F6"  # NTAG sticker on a case folder
PHONE_TAG = "04A1B2C3D4E5F7"
OLD_FOLDER_TAG = "04A1B2C3D4E5F8"
VISITOR_BADGE = "0A1B2C3D"


def start_broker(port: int) -> threading.Thread:
    """Run an amqtt broker in its own thread and event loop."""
    from amqtt.broker import Broker

    ready = threading.Event()

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        broker = Broker({
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }, loop=loop)
        loop.run_until_complete(broker.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="demo-broker", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError(f"the demo broker did not start on port {port}")
    return thread


def seed(settings: Settings) -> None:
    """Readers, staff, items, a badge and a visitor: an office on its first morning."""
    now = datetime.now(UTC)
    factory = make_session_factory(make_engine(settings.database_url))
    with unit_of_work(factory) as db:
        if db.get(Reader, "entrance"):
            return
        db.add_all([
            Reader(id="entrance", site=SITE, role="entrance", name="入口 受付", created_at=now),
            Reader(id="cabinet-1", site=SITE, role="cabinet", name="書庫キャビネット 1", created_at=now),
        ])
        db.flush()
        new_allowlist_key(db, "cabinet-1")  # its offline list is published keyed, as a real cabinet's would be
        surveyor = add_person(db, now, name="佐藤 花子", card_uid=None, key_holder=True, roles=["surveyor"],
                              qualification="nurse", registered_on=date.today() - timedelta(days=700), by="demo")
        # 田中's only training is on paper, 400 days ago: carried over, and lapsed.
        trainee = add_person(db, now, name="田中 一郎", card_uid=None, key_holder=True, roles=["surveyor"],
                             qualification="care_manager", training_on=date.today() - timedelta(days=400), by="demo")
        record_session(db, now, date.today(), "demo", SessionFacts(date.today() - timedelta(days=40),
                                                                  "情報セキュリティ教育（特記事項の遵守事項）", "ward",
                                                                  "管理責任者", 60), [surveyor.id])
        db.add_all([
            Card(uid=SURVEYOR_CARD, person_id=surveyor.id, created_at=now),
            Card(uid=TRAINEE_CARD, person_id=trainee.id, created_at=now),
            Item(label="調査ファイル R8-00123", kind="folder", tag_uid=FOLDER_TAG, cabinet_id="cabinet-1",
                 case_number="R8-00123", created_at=now),
            Item(label="調査用スマートフォン 1", kind="phone", tag_uid=PHONE_TAG, cabinet_id="cabinet-1",
                 encrypted=True, screen_locked=True, created_at=now),
            Item(label="調査ファイル R8-00098", kind="folder", tag_uid=OLD_FOLDER_TAG, cabinet_id="cabinet-1",
                 case_number="R8-00098", created_at=now),
            VisitorBadge(uid=VISITOR_BADGE, label="来所者 1", created_at=now),
        ])
        add_user(db, MANAGER[0], "manager", MANAGER[1], now)
        add_user(db, RECEPTIONIST[0], "receptionist", RECEPTIONIST[1], now)
        add_user(db, SURVEYOR[0], "surveyor", SURVEYOR[1], now).person_id = surveyor.id
        token = create_token(db, MANAGER[0], now)
    log.info("demo API token for %s: %s", MANAGER[0], token)


class DemoDay:
    """The two readers' day, step by step, repeated while the demo runs."""

    def __init__(self, settings: Settings, mqtt_url: str):
        self.settings = settings
        self.entrance = SimulatedReader(mqtt_url, SITE, "entrance")
        self.cabinet = SimulatedReader(mqtt_url, SITE, "cabinet-1")

    def run(self, stop: threading.Event, pause: float = 3.0) -> None:
        self.entrance.start()
        self.cabinet.start()
        self._yesterdays_folder()
        while not stop.is_set():
            for step in self._steps():
                if stop.wait(pause):
                    return
                step()

    def _yesterdays_folder(self) -> None:
        """A scan buffered yesterday reaches the server late: recorded at its time, no decision. Still out."""
        yesterday = datetime.now(UTC) - timedelta(days=1)
        self.cabinet.tap(SURVEYOR_CARD, at=yesterday)
        self.cabinet.tap(OLD_FOLDER_TAG, tech="iso14443a", at=yesterday + timedelta(seconds=8))
        self.cabinet.event("door_closed", at=yesterday + timedelta(seconds=20))

    def _steps(self):
        # The same card twice at the entrance within 5 s is one tap: keep its taps two steps apart.
        return [
            lambda: self._visitor_arrives(),
            lambda: self._say("佐藤さん 出勤", self.entrance, SURVEYOR_CARD),
            lambda: self._say("佐藤さん キャビネットを開ける", self.cabinet, SURVEYOR_CARD),
            lambda: self._say("調査ファイル 持ち出し", self.cabinet, FOLDER_TAG, "iso14443a"),
            lambda: self._say("スマートフォン 持ち出し", self.cabinet, PHONE_TAG, "iso14443a"),
            lambda: self.cabinet.event("door_closed"),
            lambda: self._say("田中さん (教育期限切れ) キャビネット", self.cabinet, TRAINEE_CARD),
            lambda: self._say("佐藤さん 外出", self.entrance, SURVEYOR_CARD),
            lambda: self._say("来所者 退室", self.entrance, VISITOR_BADGE, "iso14443a"),
            lambda: self._say("佐藤さん 帰所", self.entrance, SURVEYOR_CARD),
            lambda: self._say("佐藤さん キャビネットを開ける", self.cabinet, SURVEYOR_CARD),
            lambda: self._say("調査ファイル 返却", self.cabinet, FOLDER_TAG, "iso14443a"),
            lambda: self._say("スマートフォン 返却", self.cabinet, PHONE_TAG, "iso14443a"),
            lambda: self.cabinet.event("door_closed"),
            lambda: self._say("佐藤さん 退勤", self.entrance, SURVEYOR_CARD),
        ]

    def _visitor_arrives(self) -> None:
        factory = make_session_factory(make_engine(self.settings.database_url))
        with unit_of_work(factory) as db:
            if db.scalars(select(Visit).where(Visit.badge_uid == VISITOR_BADGE, Visit.state != "out")).first():
                return
            # As the reception desk registers a walk-in: the badge works in office hours only, so a demo
            # running at night shows the refusal.
            now, settings = datetime.now(UTC), self.settings
            start, end = walk_in_window(now, opening=settings.opening_time, closing=settings.closing_time,
                                        zone=settings.zone)
            visits.register(db, now, visitor_name="山田 太郎", organisation="練馬区 介護保険課", purpose="立入検査",
                            host="管理責任者", badge_uid=VISITOR_BADGE, valid_from=start, valid_until=end, by="demo")
        self._say("来所者 受付・入室", self.entrance, VISITOR_BADGE, "iso14443a")

    @staticmethod
    def _say(what: str, reader: SimulatedReader, uid: str, tech: str = "felica") -> None:
        scan_id = reader.tap(uid, tech=tech)
        decision = reader.wait_decision(scan_id, timeout=3)
        outcome = "no answer" if decision is None else f"{decision.result} {decision.action or decision.reason}"
        log.info("%-28s %s → %s", what, reader.reader, outcome)


def run_demo(host: str, port: int, data_dir: str) -> int:
    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    mqtt_port = port + 1000 if port + 1000 < 65536 else 18830
    # Plain HTTP on this machine: a Secure cookie would not come back from http://<LAN address>.
    settings = Settings(database_url=f"sqlite:///{data / 'mamori.db'}", mqtt_url=f"mqtt://127.0.0.1:{mqtt_port}",
                        mqtt_client_id="mamori-demo-server", cookie_secure=host in ("127.0.0.1", "localhost"))
    upgrade(settings.database_url)
    seed(settings)
    start_broker(mqtt_port)
    stop = threading.Event()
    day = DemoDay(settings, settings.mqtt_url)
    threading.Thread(target=lambda: (time.sleep(2), day.run(stop)), name="demo-day", daemon=True).start()
    url = f"http://{host}:{port}/"
    print(f"\nmamori demo is up: {url}login  (API docs {url}docs)\n"
          f"  manager {MANAGER[0]} / {MANAGER[1]} · reception {RECEPTIONIST[0]} / {RECEPTIONIST[1]}"
          f" · surveyor {SURVEYOR[0]} / {SURVEYOR[1]}\n"
          f"data in {data}; broker on mqtt://127.0.0.1:{mqtt_port}; Ctrl-C stops it, the same command starts it "
          f"again with its data (delete {data} to start afresh)\n"
          f"the command line on this demo's database: export MAMORI_DATABASE_URL={settings.database_url}\n",
          flush=True)
    try:
        serve_web(create_app(settings), settings, host=host, port=port, log_level="warning")
    finally:
        stop.set()
    return 0
