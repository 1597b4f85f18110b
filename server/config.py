"""Server settings from `MAMORI_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAMORI_", extra="ignore")

    database_url: str = Field("sqlite:///mamori.db", description="SQLAlchemy URL; SQLite file or postgresql+psycopg://")
    mqtt_url: str = Field("mqtt://127.0.0.1:1883", description="mqtt://host:port or mqtts://host:port")
    mqtt_username: str | None = Field(None, description="broker user name for the server")
    mqtt_password: str | None = Field(None, description="broker password for the server")
    mqtt_ca_file: str | None = Field(None, description="CA bundle for mqtts://")
    mqtt_client_cert: str | None = Field(None, description="the server's client certificate for mqtts:// "
                                         "(made by `mamori ca init`)")
    mqtt_client_key: str | None = Field(None, description="the private key of mqtt_client_cert")
    mqtt_client_id: str = Field("mamori-server", description="fixed id: the broker keeps this session while the server is down")
    node_id: str | None = Field(None, description="set on each of several `mamori serve` processes on one PostgreSQL "
                                "(docs/scale-out.md), different on each: the broker session is then "
                                "`<mqtt_client_id>-<node_id>` and the readers' messages are shared among the processes")
    mqtt_share_group: str = Field("mamori", pattern=r"^[A-Za-z0-9_-]+$", description="the MQTT shared-subscription "
                                  "group the processes of one office join when node_id is set")
    mqtt_shared_subscriptions: bool = Field(True, description="false for a broker without MQTT shared subscriptions "
                                            "(NATS): every process then hears every message and the database lets "
                                            "one apply it (docs/scale-out.md)")
    tz: str = Field("Asia/Tokyo", description="the office's time zone, for due times and display")
    unlock_s: int = Field(5, ge=1, le=60, description="seconds a granted tap opens the lock")
    training_valid_days: int = Field(365, ge=1, description="training counts as current for this many days")
    training_remind_days: int = Field(30, ge=0, le=365, description="the person and the managers are reminded this "
                                      "many days before someone's training lapses (0: no reminder)")
    cabinet_session_idle_s: int = Field(60, ge=5, description="a cabinet session ends after this long without a scan")
    entrance_duplicate_s: int = Field(5, ge=0, description="a second tap of one card within this window is the same tap")
    allowlist_valid_h: int = Field(26, ge=25, le=24 * 7, description="a cabinet's offline allowlist expires after "
                                   "this many hours unless republished (it is republished daily)")
    allowlist_check_s: float = Field(5, gt=0, description="how often key holders are compared with the published allowlists")
    access_review_check_s: float = Field(3600, gt=0, description="how often the last quarter's access review is "
                                         "checked for a sign-off (one alert per quarter missed)")
    overdue_check_s: float = Field(30, gt=0, description="how often open checkouts are checked for being past due "
                                   "(each overdue one opens one alert)")
    remind_before_min: int = Field(30, ge=0, le=24 * 60, description="the holder is reminded this long before an item "
                                   "is due (0: no reminder)")
    escalate_after_min: int = Field(120, ge=1, description="an overdue item still out this long after its due time is "
                                    "escalated to the managers")
    lost_prompt_after_h: int = Field(24, ge=1, description="this long after its due time, the dashboard asks whether "
                                     "the item is lost")
    erase_confirm_within_h: float = Field(2, gt=0, le=24 * 7, description="a returned phone, medium or laptop whose "
                                          "survey data nobody confirmed erased within this many hours opens a "
                                          "not_erased alert (once)")
    office_name: str = Field("練馬区 認定調査 受託事業所", description="shown on pages and printouts")
    print_stamps: Annotated[tuple[str, ...], NoDecode] = Field(
        ("担当", "確認", "管理責任者", "監査"), description="the stamp boxes on the first page of every printout, "
        "left to right, comma-separated (担当,確認,管理責任者,監査)")
    idle_lock_min: float = Field(10, gt=0, le=120, description="the screen locks after this many minutes without activity")
    session_max_h: float = Field(12, gt=0, le=72, description="a login lasts at most this long")
    login_max_failures: int = Field(5, ge=1, le=50, description="wrong passwords in a row before the account is locked")
    lockout_min: float = Field(15, gt=0, le=24 * 60, description="how long a locked account stays locked")
    token_days: int = Field(90, ge=1, le=3650, description="an API token made without --days lasts this many days")
    max_body_kb: int = Field(256, ge=16, le=64 * 1024, description="a request body over this many KiB is refused "
                             "(413) before it is read")
    import_max_body_kb: int = Field(2048, ge=16, le=64 * 1024, description="the same for the CSV import pages "
                                    "(the file, and its copy in the confirm form)")
    web_max_connections: int = Field(64, ge=4, le=10_000, description="connections the web server serves at once "
                                     "(503 past it): with the body caps, a bound on the web's memory beside the ingest")
    trusted_proxies: str = Field("", description="comma-separated addresses or networks of reverse proxies whose "
                                 "X-Forwarded-For / X-Forwarded-Proto are believed (empty: none, the peer's address "
                                 "is the client's)")
    card_keys_file: str | None = Field(None, description="the office's card master keys (`mamori cards keygen`; "
                                       "docs/card-auth.md): without it, no tap is checked for being a copy")
    cookie_secure: bool = Field(True, description="send the session cookie over HTTPS only (false for plain-HTTP demos)")
    # Reception (issue 5)
    opening_time: time = Field(time(8, 30), description="when the office opens: a visitor badge for a day with no expected "
                               "time works from then")
    closing_time: time = Field(time(18, 0), description="when the office closes (office time): visitors still in and "
                               "visitor badges not returned are alerted from then")
    auto_sign_out: bool = Field(False, description="at closing time, mark visits still in as 'not signed out' (never as "
                                "left); their badge stays marked as not returned")
    closing_check_s: float = Field(30, gt=0, description="how often the closing-time check runs")
    visit_retention_days: int = Field(365, ge=1, description="visit records are anonymised (`mamori visits anonymise`) "
                                      "this many days after the visit ended")
    # Notifications: e-mail and webhook (server/notify)
    public_url: str = Field("http://127.0.0.1:8000", description="the address people open mamori at, for links in notices")
    smtp_url: str | None = Field(None, description="smtp://host:port (STARTTLS when offered), smtps://host:port, or "
                                 "unset for no e-mail")
    smtp_username: str | None = Field(None, description="SMTP login name")
    smtp_password: str | None = Field(None, description="SMTP password")
    mail_from: str = Field("mamori@localhost", description="the From: address of notices")
    webhook_url: str | None = Field(None, description="every notice is also POSTed here as signed JSON (unset: none)")
    webhook_secret: str | None = Field(None, description="key of the X-Mamori-Signature HMAC-SHA256 header (required "
                                       "with webhook_url)")
    notice_check_s: float = Field(5, gt=0, description="how often waiting notices are sent")
    notice_max_attempts: int = Field(8, ge=1, le=30, description="attempts before a notice is given up (backoff "
                                     "doubles from 30 s)")
    chain_anchor_email: str | None = Field(None, description="an address outside the office (e.g. the ward's) that also "
                                           "receives the evidence chain's daily head hash (docs/evidence.md)")
    chain_check_s: float = Field(300, gt=0, description="how often the daily anchor e-mail and the nightly chain "
                                 "verification are looked at (each runs once a day)")
    chain_verify_nightly: bool = Field(True, description="verify the whole evidence chain once a day in the background")
    chain_verify_hours: tuple[int, int] = Field((1, 6), description="the office hours (from, until) in which the nightly "
                                                "verification may start: it reads the whole chain, and a tap waits "
                                                "behind it (a year: minutes; docs/evidence.md)")
    ingest_batch_max: int = Field(500, ge=1, description="most MQTT messages committed in one unit of work")
    # Refused payloads (dead letters): bounded per reader; accepted messages are never limited
    refused_per_reader_per_s: float = Field(1, gt=0, description="refused payloads of one reader kept per second "
                                            "after the burst (the rest are only counted)")
    refused_per_reader_burst: int = Field(100, ge=1, description="refused payloads of one reader kept at once")
    dead_letter_fold_s: int = Field(3600, ge=0, description="refusals of one reader for one reason within this "
                                    "many seconds of the last are one dead-letter row with a count")
    dead_letter_retention_days: int = Field(90, ge=1, description="dead letters are deleted this many days after "
                                            "their last refusal (`mamori dead-letters prune`, daily)")
    # Monitoring (docs/monitoring.md)
    metrics_token: str | None = Field(None, description="bearer token a Prometheus scraper sends for /metrics; "
                                      "unset: /metrics answers only on this machine (loopback)")
    # Cabinet doors and reader availability (door_forced, door_held_open, reader_offline alerts)
    door_forced_grace_s: float = Field(5, ge=0, le=300, description="a cabinet door opened with no unlock within "
                                       "unlock_s + this many seconds before it is a door_forced alert")
    door_open_max_s: int = Field(120, ge=5, description="a cabinet door open longer than this is a door_held_open alert")
    door_check_s: float = Field(10, gt=0, description="how often cabinet doors are checked for being held open")
    clock_ahead_tolerance_s: float = Field(2, gt=0, le=300, description="a reader whose messages are stamped more than "
                                           "this many seconds after they arrive has a fast clock: a "
                                           "reader_clock_ahead alert")
    # The 受付簿 (server/cases): per-office rules, each kept on the case or chased once per case
    case_retention_days: int = Field(365, ge=1, le=3650, description="survey memos are kept locked this many days "
                                     "after the report is submitted (the rule in force is kept on each new case)")
    case_deadline_warn_days: int = Field(3, ge=0, le=60, description="a survey deadline this many days away is "
                                         "told to the surveyor and the managers (once)")
    case_report_within_days: int = Field(14, ge=1, le=365, description="a report not submitted this many days after "
                                         "the survey is a report_late alert (once)")

    # Broker credentials (`mamori ca init`, `mamori readers provision/revoke`) and backups (`mamori backup`)
    pki_dir: Path = Field(Path("/etc/mamori/ca"), description="the office CA: its key (0600), certificate and the "
                          "log of every certificate issued and revoked; back it up apart from the database")
    broker_dir: Path = Field(Path("/etc/mosquitto/mamori"), description="what Mosquitto reads: its certificate and "
                             "key, the CA, the revocation list, the password file and the ACL")
    backup_dir: Path = Field(Path("/var/backups/mamori"), description="where `mamori backup` writes")
    backup_keep_daily: int = Field(14, ge=1, le=3650, description="backups kept: the newest of each of this many "
                                   "days ...")
    backup_keep_monthly: int = Field(12, ge=0, le=1200, description="... and the newest of each of this many months")
    # Incidents (server/incidents): the ward is told at once (rule (9)); past this, a late 第一報 alert (once)
    incident_ward_report_within_min: int = Field(60, ge=1, le=7 * 24 * 60, description="an incident whose ward "
                                                 "has not been told (第一報) this many minutes after its discovery "
                                                 "opens an incident_report_late alert (once)")

    @field_validator("print_stamps", mode="before")
    @classmethod
    def _stamp_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(label.strip() for label in value.replace("、", ",").split(","))
        if isinstance(value, (tuple, list)):
            value = tuple(label for label in value if label)
            if not 1 <= len(value) <= 8 or any(len(label) > 12 for label in value):
                raise ValueError("give 1 to 8 stamp labels of at most 12 characters, comma-separated, "
                                 "e.g. 担当,確認,管理責任者,監査")
        return value

    @property
    def broker_client_id(self) -> str:
        return f"{self.mqtt_client_id}-{self.node_id}" if self.node_id else self.mqtt_client_id

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@lru_cache
def get_settings() -> Settings:
    return Settings()
