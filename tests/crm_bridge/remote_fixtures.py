"""Fixtures for the remote sources' tests: the fake Odoo / ERPNext servers (seeded with the
shared data set, on loopback) and ``ErpSource`` rows pointing at them. Import the ones a
module uses (``from tests.crm_bridge.remote_fixtures import odoo_fake, odoo_row``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crm_bridge.credentials import encrypt_credentials
from crm_bridge.models import ErpSource
from crm_bridge.resilience import reset_guards
from tests.crm_bridge.fakes import dataset as ds
from tests.crm_bridge.fakes import erpnext as fake_erpnext
from tests.crm_bridge.fakes import odoo as fake_odoo
from tests.crm_bridge.fakes.erpnext import FakeERPNext
from tests.crm_bridge.fakes.odoo import FakeOdoo

ODOO_WEBHOOK_SECRET = "odoo-hook-secret-123456"
# Quick to give up: tests that stop a fake must not sit through real back-off.
FAST = {"max_attempts": 1, "timeout": 2, "connect_timeout": 1, "failure_threshold": 3, "cooldown": 60}


@pytest.fixture
def fresh_guards() -> Iterator[None]:
    reset_guards()
    yield
    reset_guards()


@pytest.fixture
def odoo_fake() -> Iterator[FakeOdoo]:
    fake = fake_odoo.seeded_odoo().start()
    yield fake
    fake.stop()


@pytest.fixture
def erpnext_fake() -> Iterator[FakeERPNext]:
    fake = fake_erpnext.seeded_erpnext().start()
    yield fake
    fake.stop()


def make_odoo_row(
    workspace: Any, fake: FakeOdoo, *, protocol: str = "jsonrpc", name: str = "Odoo", **config: Any
) -> ErpSource:
    creds = {"password": fake_odoo.PASSWORD} if protocol == "jsonrpc" else {"api_key": fake_odoo.API_KEY}
    return ErpSource.objects.create(
        workspace=workspace,
        name=name,
        kind="odoo",
        config={
            "url": fake.url, "database": fake.database, "protocol": protocol, "username": fake_odoo.LOGIN,
            "resilience": FAST, **config,
        },
        credentials_encrypted=encrypt_credentials({**creds, "webhook_secret": ODOO_WEBHOOK_SECRET}),
    )  # fmt: skip


def make_erpnext_row(workspace: Any, fake: FakeERPNext, *, name: str = "ERPNext", **config: Any) -> ErpSource:
    return ErpSource.objects.create(
        workspace=workspace,
        name=name,
        kind="rest",
        config={"preset": "erpnext", "base_url": fake.url, "time_zone": ds.TIME_ZONE, "resilience": FAST, **config},
        credentials_encrypted=encrypt_credentials(
            {
                "api_key": fake_erpnext.API_KEY,
                "api_secret": fake_erpnext.API_SECRET,
                "webhook_secret": fake_erpnext.WEBHOOK_SECRET,
            }
        ),
    )


@pytest.fixture
def odoo_row(world: Any, odoo_fake: FakeOdoo, fresh_guards: None) -> ErpSource:
    return make_odoo_row(world.workspace, odoo_fake)


@pytest.fixture
def erpnext_row(world: Any, erpnext_fake: FakeERPNext, fresh_guards: None) -> ErpSource:
    return make_erpnext_row(world.workspace, erpnext_fake)
