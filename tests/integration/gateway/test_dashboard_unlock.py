"""The dashboard's remote unlock, end to end: a manager confirms it on the page, the server sends the
contract's `command`, and the Pi gateway's lock relay opens for unlock_s, once."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from tests.support.gateway import LOCK_PIN, lock_open, lock_openings, wait_for
from tests.support.office import ADMIN_PASSWORD

pytestmark = pytest.mark.integration


def test_remote_unlock_from_the_dashboard_opens_the_cabinets_relay_once(office, make_gateway, pins):
    gateway = make_gateway()
    relay = pins.pin(LOCK_PIN)
    client = TestClient(office.app, base_url="https://testserver", follow_redirects=False)
    form = client.get("/login?next=/dashboard")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    assert client.post("/login", data={"name": "kanri", "password": ADMIN_PASSWORD, "csrf": token,
                                       "next": "/dashboard"}).status_code == 303

    confirm = client.get("/readers/cabinet-1/unlock")
    assert confirm.status_code == 200 and relay.state == 1
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', confirm.text).group(1)
    assert client.post("/readers/cabinet-1/unlock", data={"csrf": csrf}).status_code == 303

    wait_for(lambda: lock_open(gateway), timeout=2, what="the remote unlock to open the relay")
    opened = time.monotonic()
    assert relay.state == 0
    wait_for(lambda: not lock_open(gateway), timeout=3, what="the lock to close by itself")
    assert 0.8 <= time.monotonic() - opened <= 1.5  # the office's unlock_s is 1
    time.sleep(0.3)
    assert lock_openings(gateway) == 1
