"""Registering readers: shared by the API and the admin pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.config import Settings
from server.provision.broker import SERVER_ACCOUNT
from server.readers.models import Reader

# Broker accounts that are not readers (server/provision/broker.py writes their ACL sections). A reader
# logs in with its id (its certificate's CN), so a reader named like the server's account would share
# the server's login and rights.
BROKER_ACCOUNTS = frozenset({SERVER_ACCOUNT})


class ReservedReaderId(ValueError):
    """The id is a broker account of the server's, not free for a reader."""


def reserved_ids(settings: Settings) -> frozenset[str]:
    """Reader ids that collide with the server's broker user or client id, shipped or configured."""
    configured = {settings.mqtt_username, settings.mqtt_client_id}
    return BROKER_ACCOUNTS | {name.lower() for name in configured if name}


def check_reader_id(reader_id: str, settings: Settings) -> None:
    if reader_id.lower() in reserved_ids(settings):
        raise ReservedReaderId(f"reader id {reader_id} is the server's own MQTT broker account: "
                               "choose another id (e.g. cabinet-1)")


def register_reader(db: Session, now: datetime, settings: Settings, *, id: str, site: str, role: str,
                    name: str) -> Reader:
    """The caller has checked that `id` is free (`db.get(Reader, id)` is None); a reserved id raises
    `ReservedReaderId`."""
    check_reader_id(id, settings)
    reader = Reader(id=id, site=site, role=role, name=name, created_at=now)
    db.add(reader)
    db.flush()
    return reader
