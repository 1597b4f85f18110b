"""Once a day: the day before's head hash e-mailed out of the database (the anchor), and the whole
chain verified in the background, managers told if it fails. Started with the ingest's helpers."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.clock import Clock
from server.config import Settings
from server.evidence.chain import head
from server.evidence.models import ChainVerification
from server.evidence.runs import run
from server.evidence.verify import Anchor, end_of_day
from server.notify.kinds import KINDS
from server.notify.queue import notify
from server.notify.recipients import accounts_with_role
from server.periodic import Periodic

log = logging.getLogger("mamori.chain")
NIGHTLY = "mamori (nightly)"
WORDS = {
    "chain_anchor": (("証跡チェーンの日次記録 {day}", "{day} の終わりの証跡チェーン（第{seq}号まで）:\n{anchor}\n\n"
                      "このメールを保管してください。記録が後から書き換えられていないことを、いつでも次のコマンドで確かめられます:\n"
                      "mamori ledger verify --anchor {anchor}\n"),
                     ("Evidence chain anchor {day}", "The evidence chain at the end of {day} (to link {seq}):\n"
                      "{anchor}\n\nKeep this e-mail. At any time, this proves the records were not rewritten since:\n"
                      "mamori ledger verify --anchor {anchor}\n")),
    "chain_broken": (("証跡チェーンの検証失敗", "夜間の検証で証跡チェーンに不整合が見つかりました（{count}件）。最初の1件:\n"
                      "{first}\n\n証跡チェーンの画面で確認してください。\n"),
                     ("Evidence chain check failed", "The nightly check found {count} problem(s) in the evidence "
                      "chain. The first:\n{first}\n\nSee the evidence chain page.\n")),
}


def send_anchor(db: Session, now: datetime, settings: Settings, day: date) -> int:
    """The head as `day` ended, e-mailed to managers (and the ward's address); once per day."""
    link = head(db, end_of_day(day, settings.zone))
    if link is None:
        return 0
    anchor = str(Anchor(link.hash, day))
    words = {"day": day.isoformat(), "seq": link.seq, "anchor": anchor}
    return _tell(db, now, settings, "chain_anchor", f"chain_anchor:{day.isoformat()}", words,
                 [settings.chain_anchor_email] if settings.chain_anchor_email else [])


def _tell(db: Session, now: datetime, settings: Settings, kind: str, key: str, words: dict,
          addresses: list[str]) -> int:
    def message(lang: str) -> tuple[str, str]:
        subject, body = WORDS[kind][0 if lang == "ja" else 1]
        return subject.format(**words), body.format(**words) + f"{settings.public_url.rstrip('/')}/ledger/chain\n"

    return notify(db, now, settings=settings, kind=kind, key=key, users=accounts_with_role(db, KINDS[kind].roles),
                  message=message, payload={k: str(v) for k, v in words.items()}, addresses=addresses)


class ChainWatch(Periodic):
    name = "chain"

    def __init__(self, factory: sessionmaker[Session], clock: Clock, settings: Settings):
        super().__init__(settings.chain_check_s)
        self.factory, self.clock, self.settings = factory, clock, settings

    def check(self) -> int:
        """One round: the anchor of yesterday (once), the nightly verification (once a day, at night: run at
        a server's start in office hours, it held the GIL for minutes and every tap waited, 52 ms p50)."""
        now, zone = self.clock(), self.settings.zone
        today = now.astimezone(zone).date()
        with self.factory.begin() as db:
            done = send_anchor(db, now, self.settings, today - timedelta(days=1))
            ran_today = db.scalar(select(ChainVerification.id).where(
                ChainVerification.by == NIGHTLY,
                ChainVerification.started_at >= datetime.combine(today, time(), zone)).limit(1))
        start, until = self.settings.chain_verify_hours
        if not self.settings.chain_verify_nightly or ran_today is not None \
                or not start <= now.astimezone(zone).hour < until:
            return done
        report, kept = run(self.factory, zone, self.clock, by=NIGHTLY)
        if not report.ok:
            log.error("evidence chain: %d problem(s); first: %s", report.count, report.problems[0])
            with self.factory.begin() as db:
                _tell(db, self.clock(), self.settings, "chain_broken", f"chain_broken:{kept.id}",
                      {"count": report.count, "first": str(report.problems[0])}, [])
        return done + 1
