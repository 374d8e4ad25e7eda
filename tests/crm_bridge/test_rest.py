"""The generic REST adapter: configured, not coded. Template filling and field paths, config
validation with presets, page-style paging, and ERPNext specifics against the fake ERPNext
(Frappe's timestamp check, keyset paging through or_filters, 429, bad credentials)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from crm_bridge.sources.base import (
    RateLimited,
    RecordRef,
    RecordType,
    SourcePermissionDenied,
    Transition,
    VersionConflict,
)
from crm_bridge.sources.rest import RestSource, load_config
from crm_bridge.sources.rest.source import fill, path_get
from tests.crm_bridge.fakes import erpnext as fake_erpnext
from tests.crm_bridge.fakes.erpnext import FakeERPNext


def erpnext(fake: FakeERPNext, secret: str = fake_erpnext.API_SECRET, **config: Any) -> RestSource:
    cfg = load_config({"preset": "erpnext", "base_url": fake.url, **config})
    return RestSource(cfg, {"api_key": fake_erpnext.API_KEY, "api_secret": secret}, label="ERPNext")


def test_templates_and_paths() -> None:
    values = {"query": "龙井", "keys": ["A", "B"], "n": 3}
    assert fill({"f": [["name", "like", "%{query}%"]], "k": "{keys}", "x": "n={n}"}, values) == {
        "f": [["name", "like", "%龙井%"]], "k": ["A", "B"], "x": "n=3",
    }  # fmt: skip
    data = {"a": {"b": [{"c": "deep"}]}, "empty": "", "alt": "yes"}
    assert path_get(data, "a.b.0.c") == "deep"
    assert path_get(data, "empty|alt") == "yes"
    assert path_get(data, "a.missing") is None and path_get(data, "") is None


def test_config_validation_and_presets() -> None:
    cfg = load_config({"preset": "erpnext", "base_url": "https://erp.example.cn", "time_zone": "UTC"})
    assert cfg.time_zone == "UTC" and cfg.paging.offset_param == "limit_start"  # override + preset
    assert RecordType.INVOICE in cfg.types
    with pytest.raises(ValidationError):
        load_config({"preset": "erpnext", "base_url": "https://erp.example.cn", "surprise": True})
    with pytest.raises(ValidationError):
        load_config({"base_url": "https://erp.example.cn"})  # no preset, no types


class Response:
    def __init__(self, body: Any, status: int = 200) -> None:
        self.body, self.status_code = body, status

    def json(self) -> Any:
        return self.body


class RecordingTransport:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None, write: bool = False) -> Any:
        self.calls.append((method, path, dict(params or {})))
        return Response({"items": [{"id": 7, "name": "客户七", "updated": "2026-11-26T10:00:00+08:00"}]})


def test_a_generic_api_with_page_paging_and_bearer_auth() -> None:
    config = load_config(
        {
            "base_url": "https://crm.example.cn",
            "auth_template": "Bearer {token}",
            "list_path": "items",
            "paging": {"style": "page", "limit_param": "per_page", "page_param": "page", "first_page": 1},
            "types": {
                "customer": {
                    "list": {"path": "/v2/customers"},
                    "item": "/v2/customers/{key}",
                    "search_params": {"q": "{query}"},
                    "changes_params": {"updated_after": "{since}"},
                    "fields": {"key": "id", "number": "id", "title": "name", "updated_at": "updated"},
                }
            },
        }
    )
    transport = RecordingTransport()
    source = RestSource(config, {"token": "t0k3n"}, transport=transport)  # type: ignore[arg-type]
    assert source.http is transport
    (found,) = source.search(RecordType.CUSTOMER, "客户")
    assert found.title == "客户七" and found.ref == RecordRef(RecordType.CUSTOMER, "7")
    assert found.updated_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert transport.calls[0][2] == {"q": "客户", "per_page": 30, "page": 1}
    batch = source.changes_since(None, [RecordType.CUSTOMER], limit=1)
    assert batch.more and json.loads(batch.cursor)["customer"]["offset"] == 1  # no keyset: offsets
    source.changes_since(batch.cursor, [RecordType.CUSTOMER], limit=1)
    assert transport.calls[-1][2]["page"] == 2


def test_frappe_timestamp_check_becomes_a_version_conflict(erpnext_fake: FakeERPNext) -> None:
    source = erpnext(erpnext_fake)
    ref = RecordRef(RecordType.PURCHASE_ORDER, "PO-2001")
    current = source.get(ref)
    fetch = source._fetch

    def stale_fetch(r: RecordRef) -> dict[str, Any]:
        doc = dict(fetch(r))
        # Someone saves the order between our re-read and the submit.
        erpnext_fake.touch("Purchase Order", "PO-2001", remarks="edited")
        return doc

    source._fetch = stale_fetch  # type: ignore[method-assign]
    with pytest.raises(VersionConflict) as caught:
        source.transition(ref, Transition.APPROVE, expected_version=current.version, actor="boss@tea.test")
    source._fetch = fetch  # type: ignore[method-assign]
    assert caught.value.current is not None and caught.value.current.version != current.version
    assert erpnext_fake.docs["Purchase Order"]["PO-2001"]["docstatus"] == 0


def test_keyset_paging_survives_changes_during_a_pass(erpnext_fake: FakeERPNext) -> None:
    old = (datetime.now(UTC) - timedelta(hours=2)).astimezone(fake_erpnext.SITE_TZ).strftime("%Y-%m-%d %H:%M:%S.%f")
    for doc in erpnext_fake.docs["Sales Order"].values():
        doc["modified"] = old  # all four share one timestamp: the name breaks the tie
    source = erpnext(erpnext_fake, lookback_seconds=60)
    batch = source.changes_since(None, [RecordType.SALES_ORDER], limit=1)
    seen = [r.number for r in batch.records]
    erpnext_fake.touch("Sales Order", "SO-1001", remarks="改了")
    for _ in range(10):
        if not batch.more:
            break
        batch = source.changes_since(batch.cursor, [RecordType.SALES_ORDER], limit=1)
        seen += [r.number for r in batch.records]
    assert set(seen) == {"SO-1001", "SO-1002", "SO-1003", "SO-1004"}
    after = source.changes_since(batch.cursor, [RecordType.SALES_ORDER], limit=50)
    assert [r.number for r in after.records] == ["SO-1001"]


def test_rate_limit_and_credentials(erpnext_fake: FakeERPNext) -> None:
    source = erpnext(erpnext_fake)
    erpnext_fake.fail_next(1, status=429, retry_after="4")
    with pytest.raises(RateLimited) as caught:
        source.search(RecordType.CUSTOMER, "西湖")
    assert caught.value.retry_after == 4.0
    with pytest.raises(SourcePermissionDenied):
        erpnext(erpnext_fake, secret="wrong").search(RecordType.CUSTOMER, "西湖")
    assert not erpnext(erpnext_fake, secret="wrong").health().ok


def test_erpnext_urls_and_cancel(erpnext_fake: FakeERPNext) -> None:
    source = erpnext(erpnext_fake)
    ref = source.resolve(f"{erpnext_fake.url}/app/sales-order/SO-1001")
    assert ref == RecordRef(RecordType.SALES_ORDER, "SO-1001")
    assert source.resolve("https://other.example/app/sales-order/SO-1001") is None
    order = source.get(ref)
    cancelled = source.transition(ref, Transition.CANCEL, expected_version=order.version, actor="x@tea.test")
    assert cancelled.status_label == "Cancelled"
