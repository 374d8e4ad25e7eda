"""The admin API of ERP sources: create / list / update with write-only, masked credentials,
test connection, sync now, sync status; owners and admins only; bad input gets a 4xx."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge.credentials import decrypt_credentials
from crm_bridge.models import ErpSource, RecordSnapshot
from hub.models import AuditEvent
from tests.crm_bridge.fakes import odoo as fake_odoo
from tests.crm_bridge.fakes.odoo import FakeOdoo

pytestmark = pytest.mark.django_db(transaction=True)


def odoo_body(world: Any, fake: FakeOdoo, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workspace": world.workspace.pk,
        "name": "公司 Odoo",
        "kind": "odoo",
        "config": {"url": fake.url, "database": fake.database, "username": fake_odoo.LOGIN},
        "credentials": {"password": fake_odoo.PASSWORD, "webhook_secret": "hook-secret-0123456789"},
    }
    body.update(overrides)
    return body


def test_create_masks_and_encrypts_credentials(world: Any, odoo_fake: FakeOdoo, fresh_guards: None) -> None:
    response = world.api(world.owner).post("/api/v1/erp/sources", odoo_body(world, odoo_fake))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "公司 Odoo" and data["kind"] == "odoo"
    assert data["credentials"] == {"password": "••••", "webhook_secret": "••••6789"}
    assert fake_odoo.PASSWORD not in response.content.decode()
    row = ErpSource.objects.get(pk=data["id"])
    assert fake_odoo.PASSWORD not in row.credentials_encrypted
    assert decrypt_credentials(row.credentials_encrypted)["password"] == fake_odoo.PASSWORD
    event = AuditEvent.objects.get(action="erp_source.created")
    assert event.data["credential_keys"] == ["password", "webhook_secret"]
    assert fake_odoo.PASSWORD not in str(event.data)
    listed = world.api(world.admin).get("/api/v1/erp/sources", workspace=world.workspace.pk).json()
    assert [s["name"] for s in listed] == ["公司 Odoo"]
    assert fake_odoo.PASSWORD not in str(listed)


def test_test_connection_sync_now_and_status(world: Any, odoo_fake: FakeOdoo, fresh_guards: None) -> None:
    api = world.api(world.owner)
    source_id = api.post("/api/v1/erp/sources", odoo_body(world, odoo_fake)).json()["id"]
    health = api.post(f"/api/v1/erp/sources/{source_id}/test").json()
    assert health["ok"] is True and "Odoo 17.0" in health["detail"]
    synced = api.post(f"/api/v1/erp/sources/{source_id}/sync")
    assert synced.status_code == 202
    assert RecordSnapshot.objects.filter(source_id=source_id, number="SO-1001").exists()
    status = api.get(f"/api/v1/erp/sources/{source_id}/sync").json()
    assert status["lag_seconds"] is not None and status["lag_seconds"] < 60
    assert {s["record_type"] for s in status["states"]} >= {"sales_order", "invoice"}
    assert all(s["last_error"] == "" for s in status["states"])
    odoo_fake.stop()
    down = api.post(f"/api/v1/erp/sources/{source_id}/test").json()
    assert down["ok"] is False and "cannot reach" in down["detail"]


def test_wrong_password_shows_in_test_connection(world: Any, odoo_fake: FakeOdoo, fresh_guards: None) -> None:
    body = odoo_body(world, odoo_fake, credentials={"password": "wrong-password"})
    source_id = world.api(world.owner).post("/api/v1/erp/sources", body).json()["id"]
    health = world.api(world.owner).post(f"/api/v1/erp/sources/{source_id}/test").json()
    assert health["ok"] is False and "refused the login" in health["detail"]


def test_update_merges_credentials(world: Any, odoo_fake: FakeOdoo, fresh_guards: None) -> None:
    api = world.api(world.owner)
    source_id = api.post("/api/v1/erp/sources", odoo_body(world, odoo_fake)).json()["id"]
    response = api.patch(
        f"/api/v1/erp/sources/{source_id}",
        {"credentials": {"webhook_secret": "", "api_key": "new-api-key-abcdef123456"}, "name": "Odoo 生产"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["credentials"] == {"password": "••••", "api_key": "••••3456"}
    stored = decrypt_credentials(ErpSource.objects.get(pk=source_id).credentials_encrypted)
    assert stored == {"password": fake_odoo.PASSWORD, "api_key": "new-api-key-abcdef123456"}
    assert response.json()["name"] == "Odoo 生产"


def test_default_source_moves(world: Any, odoo_fake: FakeOdoo, fresh_guards: None) -> None:
    builtin = ErpSource.objects.create(workspace=world.workspace, name="ERP-lite", kind="builtin", is_default=True)
    response = world.api(world.owner).post("/api/v1/erp/sources", odoo_body(world, odoo_fake, is_default=True))
    assert response.status_code == 201
    builtin.refresh_from_db()
    assert not builtin.is_default and ErpSource.objects.get(pk=response.json()["id"]).is_default


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"config": {"url": "http://127.0.0.1:1"}}, "invalid_config"),  # the database is missing
        ({"kind": "builtin"}, "invalid_request"),
        ({"name": ""}, "invalid_request"),
        ({"config": {"url": "ftp://erp.example", "database": "x"}}, "invalid_config"),
        ({"config": {"url": "http://127.0.0.1:1", "database": "x", "protocol": "xmlrpc"}}, "invalid_config"),
        ({"config": {"url": "http://127.0.0.1:1", "database": "x", "surprise": 1}}, "invalid_config"),
    ],
)
def test_bad_config_is_a_422(world: Any, odoo_fake: FakeOdoo, change: dict[str, Any], code: str) -> None:
    body = odoo_body(world, odoo_fake)
    if "config" in change and "database" in change["config"]:
        body["config"] = change["config"]
    elif "config" in change:
        body["config"] = {"url": change["config"]["url"]}
    else:
        body.update(change)
    response = world.api(world.owner).post("/api/v1/erp/sources", body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == code
    assert not ErpSource.objects.exists()


def test_rest_config_is_validated_with_its_preset(world: Any) -> None:
    body = {"workspace": world.workspace.pk, "name": "ERPNext", "kind": "rest", "config": {"preset": "erpnext"}}
    response = world.api(world.owner).post("/api/v1/erp/sources", body)
    assert response.status_code == 422 and "base_url" in response.json()["error"]["message"]
    body["config"] = {"preset": "erpnext", "base_url": "https://erp.example.cn", "time_zone": "Mars/Base"}
    assert world.api(world.owner).post("/api/v1/erp/sources", body).status_code == 422
    body["config"] = {"preset": "erpnext", "base_url": "http://127.0.0.1:9"}
    assert world.api(world.owner).post("/api/v1/erp/sources", body).status_code == 201


def test_private_hosts_can_be_refused(world: Any, odoo_fake: FakeOdoo, settings: Any) -> None:
    settings.HUB_ERP_ALLOW_PRIVATE_HOSTS = False
    response = world.api(world.owner).post("/api/v1/erp/sources", odoo_body(world, odoo_fake))
    assert response.status_code == 422 and "private" in response.json()["error"]["message"]


def test_duplicate_name_is_a_409(world: Any, odoo_fake: FakeOdoo) -> None:
    assert world.api(world.owner).post("/api/v1/erp/sources", odoo_body(world, odoo_fake)).status_code == 201
    response = world.api(world.owner).post("/api/v1/erp/sources", odoo_body(world, odoo_fake))
    assert response.status_code == 409 and response.json()["error"]["code"] == "name_taken"


def test_who_may_do_what(world: Any, odoo_fake: FakeOdoo, fresh_guards: None) -> None:
    source_id = world.api(world.owner).post("/api/v1/erp/sources", odoo_body(world, odoo_fake)).json()["id"]
    for persona in (world.member, world.guest):
        api = world.api(persona)
        assert api.get(f"/api/v1/erp/sources/{source_id}").status_code == 403
        assert api.post("/api/v1/erp/sources", odoo_body(world, odoo_fake, name="x")).status_code == 403
        assert api.get("/api/v1/erp/sources", workspace=world.workspace.pk).status_code == 403
        assert api.post(f"/api/v1/erp/sources/{source_id}/sync").status_code == 403
    outsider = world.api(world.outsider)
    assert outsider.get(f"/api/v1/erp/sources/{source_id}").status_code == 404
    assert outsider.patch(f"/api/v1/erp/sources/{source_id}", {"name": "mine"}).status_code == 404
    assert outsider.post(f"/api/v1/erp/sources/{source_id}/test").status_code == 404
    assert world.api(None).get("/api/v1/erp/sources", workspace=world.workspace.pk).status_code == 401
    assert world.api(world.admin).get(f"/api/v1/erp/sources/{source_id}").status_code == 200
