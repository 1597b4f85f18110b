"""Wires the broker link to the worker: the MQTT half of `mamori serve`."""

from __future__ import annotations

import gc
from datetime import timedelta

import paho.mqtt.client as mqtt

from server.allowlists.publisher import AllowlistPublisher
from server.checkouts.chase import ChaseChecker
from server.clock import Clock, system_clock
from server.cluster import Leader
from server.config import Settings
from server.db import make_engine, make_session_factory
from server.evidence.watch import ChainWatch
from server.grants.review import ReviewChecker
from server.ingest.intake import Incoming
from server.ingest.mqtt import BrokerLink
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from server.metrics import IngestMetrics
from server.notify.sender import NoticeSender
from server.readers.door_watch import DoorWatch
from server.visits.closing import ClosingChecker


class Ingest:
    def __init__(self, settings: Settings, clock: Clock = system_clock, metrics: IngestMetrics | None = None):
        self.clock = clock
        # Its own pool without pre-ping: the worker retries when the database is away.
        self.engine = make_engine(settings.database_url, pre_ping=False)
        factory = make_session_factory(self.engine)
        self.link = BrokerLink(
            settings.mqtt_url, settings.broker_client_id, self._received,
            username=settings.mqtt_username, password=settings.mqtt_password, ca_file=settings.mqtt_ca_file,
            client_cert=settings.mqtt_client_cert, client_key=settings.mqtt_client_key,
            share_group=settings.mqtt_share_group if settings.node_id and settings.mqtt_shared_subscriptions else None,
            clean_start=settings.node_id is not None,
        )
        self.worker = IngestWorker(factory, IngestService(settings), self.link, clock, settings.ingest_batch_max,
                                   metrics=metrics)
        self.allowlists = AllowlistPublisher(
            factory, self.link, clock, zone=settings.zone, training_valid_days=settings.training_valid_days,
            valid_for=timedelta(hours=settings.allowlist_valid_h), check_every_s=settings.allowlist_check_s)
        self.overdue = ChaseChecker(factory, clock, settings)
        self.notices = NoticeSender(factory, settings, clock)
        self.closing = ClosingChecker(factory, clock, settings)
        self.doors = DoorWatch(factory, clock, settings)
        self.reviews = ReviewChecker(factory, clock, settings)
        self.chain = ChainWatch(factory, clock, settings)
        self.leader = Leader(self.engine)
        if settings.node_id and not settings.mqtt_shared_subscriptions:
            # Every process hears every refused message: the leader keeps the one copy.
            self.worker.keeps_dead_letters = lambda: self.leader.leading
        for job in (self.allowlists, self.overdue, self.notices, self.closing, self.doors, self.reviews, self.chain):
            job.gate = lambda: self.leader.leading

    def _received(self, msg: mqtt.MQTTMessage, connection: int) -> None:
        # The raw topic bytes: a topic that is not UTF-8 must reach the dead-letter table, not raise here.
        topic = msg._topic.decode("utf-8", "replace")
        self.worker.submit(Incoming(topic, msg.payload, self.clock(), msg.mid, msg.qos, connection, bool(msg.retain)))

    def start(self) -> None:
        # Objects alive at start-up (modules, tables, statements) never become garbage; keeping
        # them out of the collector's scans shortens the pauses a tap could wait behind.
        gc.collect()
        gc.freeze()
        self.leader.start()
        self.worker.start()
        self.link.start()
        self.allowlists.start()
        self.overdue.start()
        self.notices.start()
        self.closing.start()
        self.doors.start()
        self.reviews.start()
        self.chain.start()

    def stop(self) -> None:
        # Unfinished messages are not PUBACKed, so the broker hands them over again next start.
        self.reviews.stop()
        self.chain.stop()
        self.leader.stop()
        self.doors.stop()
        self.closing.stop()
        self.notices.stop()
        self.overdue.stop()
        self.allowlists.stop()
        self.link.stop()
        self.worker.stop()
        self.engine.dispose()
