"""The background loop that delivers waiting notices, started and stopped by `Ingest`.

Each round claims the due notices in small batches (committed before anything is sent, so two
processes never send the same one), sends each, and marks it sent, or failed with a retry time:
30 s, 60 s, 2 min … at most an hour apart, until `notice_max_attempts` tries, after which it
stays failed and is logged at ERROR. A crash between sending and marking sends that notice again
once its claim runs out; the stable Message-ID and X-Mamori-Delivery let a receiver see the repeat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from server.clock import Clock, system_clock
from server.config import Settings
from server.notify.mail import build_email, send_email, smtp_endpoint
from server.notify.models import Notice
from server.notify.repository import claim_due, mark_failed, mark_sent
from server.notify.webhook import post_webhook
from server.periodic import Periodic

log = logging.getLogger("mamori.notify")

BATCH = 20


class NoticeSettingsError(ValueError):
    pass


def check_settings(settings: Settings) -> None:
    """Refuse settings that would make notices that can never go out."""
    if settings.webhook_url and not settings.webhook_secret:
        raise NoticeSettingsError("MAMORI_WEBHOOK_URL is set without MAMORI_WEBHOOK_SECRET: set a long random "
                                  "secret (receivers check the signature with it), or unset MAMORI_WEBHOOK_URL")
    if settings.smtp_url:
        try:
            smtp_endpoint(settings.smtp_url)
        except ValueError as exc:
            raise NoticeSettingsError(str(exc)) from None


@dataclass
class Round:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class NoticeSender(Periodic):
    name = "notify"

    def __init__(self, factory: sessionmaker[Session], settings: Settings, clock: Clock = system_clock):
        check_settings(settings)  # before anything starts: a bad setting stops `mamori serve` with its name
        super().__init__(settings.notice_check_s)
        self.factory, self.settings, self.clock = factory, settings, clock

    def start(self) -> None:
        if not self.settings.smtp_url:
            log.info("e-mail notices are off: MAMORI_SMTP_URL is not set")
        super().start()

    def check(self) -> int:
        return self.send_due().sent

    def send_due(self) -> Round:
        """One round: send every notice that is due now; returns what became of them."""
        outcome = Round()
        while not self._stop.is_set():
            with self.factory.begin() as db:
                batch = claim_due(db, self.clock(), BATCH)
            for notice in batch:
                self._send(notice, outcome)
            if len(batch) < BATCH:
                break
        return outcome

    def _send(self, notice: Notice, outcome: Round) -> None:
        try:
            self._deliver(notice)
        except Exception as exc:  # any failure of one notice is that notice's, retried later
            error = f"{type(exc).__name__}: {exc}"
            with self.factory.begin() as db:
                gave_up = mark_failed(db, notice, self.clock(), error,
                                      max_attempts=self.settings.notice_max_attempts)
            if gave_up:
                outcome.failed += 1
                log.error("notice %s (%s by %s to %s) given up after %s attempts: %s", notice.id, notice.kind,
                          notice.channel, notice.address, notice.attempts + 1, error)
            else:
                outcome.retried += 1
                log.warning("notice %s (%s by %s) not delivered, will retry: %s", notice.id, notice.kind,
                            notice.channel, error)
            return
        with self.factory.begin() as db:
            mark_sent(db, notice, self.clock())
        outcome.sent += 1

    def _deliver(self, notice: Notice) -> None:
        now = self.clock()
        if notice.channel == "email":
            send_email(self.settings, build_email(notice, self.settings, now))
        else:
            post_webhook(notice.address, notice.id, notice.payload, self.settings.webhook_secret, now)
