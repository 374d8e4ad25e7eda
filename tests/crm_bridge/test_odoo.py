"""The Odoo adapter and the fake Odoo it is tested against. The fake is first checked with an
independent client from PyPI (``odoo-client-lib``, Odoo SA's own library) over both protocols,
so that the adapter's tests are not a conversation of the code with itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import odoolib
import pytest

from crm_bridge.sources.base import (
    InvalidTransition,
    RecordNotFound,
    RecordRef,
    RecordType,
    SourcePermissionDenied,
    Status,
)
from crm_bridge.sources.odoo import OdooConfig, OdooSource, odoo_from_config
from crm_bridge.sources.odoo.mapping import parse_datetime, split_code, version_of
from tests.crm_bridge.fakes import odoo as fake_odoo
from tests.crm_bridge.fakes.odoo import FakeOdoo


def adapter(fake: FakeOdoo, protocol: str = "jsonrpc", **config: Any) -> OdooSource:
    cfg = OdooConfig.model_validate(
        {"url": fake.url, "database": fake.database, "protocol": protocol, "username": fake_odoo.LOGIN, **config}
    )
    creds = {"password": fake_odoo.PASSWORD} if protocol == "jsonrpc" else {"api_key": fake_odoo.API_KEY}
    return odoo_from_config(cfg, {**creds, "webhook_secret": "hook-secret-xyz"})


# --- the fake, checked by an independent client -----------------------------------------------


def test_fake_speaks_jsonrpc_to_odoo_client_lib(odoo_fake: FakeOdoo) -> None:
    connection = odoolib.get_connection(
        hostname="127.0.0.1", port=odoo_fake.port, protocol="jsonrpc", database=odoo_fake.database,
        login=fake_odoo.LOGIN, password=fake_odoo.PASSWORD,
    )  # fmt: skip
    connection.check_login()
    orders = connection.get_model("sale.order")
    found = orders.search_read([("partner_id.ref", "=", "C0001"), ("state", "=", "sale")], ["name", "amount_total"])
    assert sorted(o["name"] for o in found) == ["SO-1001", "SO-1004"]
    assert orders.search_count([("name", "=ilike", "so-100%")]) == 4
    partners = connection.get_model("res.partner")
    # Prefix operators: customers named 西湖… OR Lucky…, and NOT the archived one (hidden anyway).
    names = partners.search_read(
        ["&", ("customer_rank", ">", 0), "|", ("name", "ilike", "西湖"), ("name", "=like", "Lucky%")], ["name", "email"]
    )
    assert sorted(p["name"] for p in names) == ["Lucky Tea House", "西湖茶馆"]
    record = orders.read([found[0]["id"]], ["partner_id", "client_order_ref", "date_order"])[0]
    assert record["partner_id"][1] == "西湖茶馆" and record["client_order_ref"] is False
    assert len(record["date_order"]) == 19  # naive "YYYY-MM-DD HH:MM:SS"
    with pytest.raises(odoolib.tools.AuthenticationError):
        odoolib.get_connection(
            hostname="127.0.0.1", port=odoo_fake.port, protocol="jsonrpc", database=odoo_fake.database,
            login=fake_odoo.LOGIN, password="wrong",
        ).check_login()  # fmt: skip


def test_fake_speaks_json2_to_odoo_client_lib(odoo_fake: FakeOdoo) -> None:
    connection = odoolib.get_connection(
        hostname="127.0.0.1", port=odoo_fake.port, protocol="json2", database=odoo_fake.database,
        password=fake_odoo.API_KEY,
    )  # fmt: skip
    assert connection.check_login()
    products = connection.get_model("product.product")
    rows = products.search_read(domain=[["default_code", "in", ["LJ-250", "BOX-01"]]], fields=["name", "list_price"])
    assert {r["name"]: r["list_price"] for r in rows} == {"西湖龙井 250g": 168.0, "礼盒 Gift box": 12.5}
    bad = odoolib.get_connection(
        hostname="127.0.0.1", port=odoo_fake.port, protocol="json2", database=odoo_fake.database, password="nope"
    )
    assert bad.check_login() is False


def test_fake_refuses_what_odoo_refuses(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake)
    with pytest.raises(SourcePermissionDenied, match="Private methods"):
        source.client.call("sale.order", "_action_confirm", ids=[1])
    with pytest.raises(RecordNotFound):
        source.client.call("sale.order", "read", ids=[999], fields=["name"])
    with pytest.raises(Exception, match="Invalid field"):
        source.client.call("sale.order", "search_read", domain=[["no_such_field", "=", 1]], fields=["name"])
    with pytest.raises(InvalidTransition, match="not allowed to confirm"):
        source.client.call("sale.order", "action_confirm", ids=[odoo_fake.find("sale.order", name="SO-1001")])


# --- Odoo's quirks ------------------------------------------------------------------------------


def test_quirks_false_many2one_naive_utc(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake)
    order = source.get(source.resolve("SO-1001") or RecordRef(RecordType.SALES_ORDER, "0"))
    assert order.fields["reference"] == ""  # False → ""
    assert order.counterparty_name == "西湖茶馆" and order.counterparty == order.party
    assert order.fields["ordered_at"] == "2026-11-26T02:15:00+00:00"
    assert order.updated_at.tzinfo is not None
    assert order.lines[0].sku == "LJ-250" and order.lines[0].name == "西湖龙井 250g"  # "[LJ-250] …" split
    assert parse_datetime(False) is None and parse_datetime("2026-11-26 10:42:00") == datetime(
        2026, 11, 26, 10, 42, tzinfo=UTC
    )
    assert split_code("[A-1] 名字") == ("A-1", "名字") and split_code("名字") == ("", "名字")


def test_version_changes_within_one_second(odoo_fake: FakeOdoo) -> None:
    frozen = datetime(2026, 11, 26, 10, 42, tzinfo=UTC)
    odoo_fake.clock = lambda: frozen
    source = adapter(odoo_fake)
    ref = source.resolve("PO-2001")
    assert ref is not None
    before = source.get(ref).version
    odoo_fake.touch("purchase.order", int(ref.key), partner_ref="edited in the same second")
    assert source.get(ref).version != before
    assert version_of({"write_date": "x", "a": 1}) == version_of({"a": 1, "write_date": "x"})


def test_archived_customers_and_vendor_bills_stay_out(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake)
    assert "西湖旧客户" not in [r.title for r in source.search(RecordType.CUSTOMER, "西湖")]
    assert source.search(RecordType.INVOICE, "BILL") == []
    assert source.resolve("BILL/2026/0001") is None


def test_resolve_odoo_urls(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake)
    so = odoo_fake.find("sale.order", name="SO-1001")
    assert source.resolve(f"{odoo_fake.url}/web#id={so}&model=sale.order&view_type=form") == RecordRef(
        RecordType.SALES_ORDER, str(so)
    )
    assert source.resolve(f"{odoo_fake.url}/odoo/sales/{so}") == RecordRef(RecordType.SALES_ORDER, str(so))
    partner = odoo_fake.find("res.partner", ref="S0001")
    assert source.resolve(f"{odoo_fake.url}/odoo/contacts/{partner}") == RecordRef(RecordType.SUPPLIER, str(partner))
    assert source.resolve(f"https://elsewhere.example/web#id={so}&model=sale.order") is None
    assert source.resolve(f"{odoo_fake.url}/odoo/sales/999") is None


def test_price_quantity_breaks(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake, protocol="json2")
    assert source.price("LJ-250", "西湖茶馆", Decimal(9)).unit_price.amount == Decimal("158.00")
    ten = source.price("LJ-250", "西湖茶馆", Decimal(10))
    assert ten.unit_price.amount == Decimal("150.00") and ten.min_quantity == Decimal(10)
    assert source.price("LJ-250", "Lucky", Decimal(50)).unit_price.amount == Decimal("168.00")


def test_stock_counts_internal_locations_only_and_reorder_points(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake)
    total = sum(level.on_hand for level in source.stock("LJ-250"))
    assert total == Decimal(125)  # not the 999 already at the customer's
    (box,) = source.stock("BOX-01")
    assert box.reorder_point == Decimal(50) and box.below_reorder_point
    order = source.get(source.resolve("SO-1001") or RecordRef(RecordType.SALES_ORDER, "0"))
    assert {line.sku: line.available for line in order.lines} == {"LJ-250": Decimal(105), "BLC-100": Decimal(40)}


def test_read_only_user_cannot_write(odoo_fake: FakeOdoo) -> None:
    cfg = OdooConfig.model_validate(
        {"url": odoo_fake.url, "database": odoo_fake.database, "username": fake_odoo.READONLY_LOGIN}
    )
    source = odoo_from_config(cfg, {"password": fake_odoo.READONLY_PASSWORD})
    po = source.get(source.resolve("PO-2001") or RecordRef(RecordType.PURCHASE_ORDER, "0"))
    with pytest.raises(SourcePermissionDenied, match="not allowed to modify"):
        source.log_note(po.ref, "note", author="x")


def test_wrong_credentials(odoo_fake: FakeOdoo) -> None:
    cfg = OdooConfig.model_validate({"url": odoo_fake.url, "database": odoo_fake.database, "username": "admin"})
    health = odoo_from_config(cfg, {"password": "wrong"}).health()
    assert not health.ok and "refused the login" in health.detail
    json2 = OdooConfig.model_validate({"url": odoo_fake.url, "database": odoo_fake.database, "protocol": "json2"})
    with pytest.raises(SourcePermissionDenied):
        odoo_from_config(json2, {"api_key": "nope"}).search(RecordType.CUSTOMER, "西湖")
    wrong_db = OdooConfig.model_validate({"url": odoo_fake.url, "database": "other", "username": "admin"})
    assert not odoo_from_config(wrong_db, {"password": fake_odoo.PASSWORD}).health().ok


def test_note_is_an_escaped_internal_log_note(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake, protocol="json2")
    ref = source.resolve("SO-1001")
    assert ref is not None
    source.log_note(ref, "<script>x</script>\n第二行", author="张三")
    (message,) = odoo_fake.tables["mail.message"].values()
    assert message["subtype_xmlid"] == "mail.mt_note" and message["model"] == "sale.order"
    assert "&lt;script&gt;" in message["body"] and "<script>" not in message["body"] and "<br/>" in message["body"]
    with pytest.raises(RecordNotFound):
        source.log_note(RecordRef(RecordType.SALES_ORDER, "999"), "x", author="y")


def test_changes_during_a_pass_are_not_lost(odoo_fake: FakeOdoo) -> None:
    """Records change while a pass pages through: the bounded window keeps offsets stable and
    the next pass's look-back picks the change up; untouched old records are not re-read."""
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    for table in odoo_fake.tables.values():
        for record in table.values():
            record["write_date"] = long_ago.strftime("%Y-%m-%d %H:%M:%S")
    source = adapter(odoo_fake, lookback_seconds=60)
    batch = source.changes_since(None, [RecordType.SALES_ORDER], limit=2)
    seen = [r.number for r in batch.records]
    odoo_fake.touch("sale.order", odoo_fake.find("sale.order", name="SO-1001"), client_order_ref="改了")
    cursor = batch.cursor
    for _ in range(10):
        if not batch.more:
            break
        batch = source.changes_since(cursor, [RecordType.SALES_ORDER], limit=2)
        seen += [r.number for r in batch.records]
        cursor = batch.cursor
    # Nothing skipped (offset paging would have lost one); the changed one may come twice.
    assert set(seen) == {"SO-1001", "SO-1002", "SO-1003", "SO-1004"} and len(seen) <= 5
    after = source.changes_since(cursor, [RecordType.SALES_ORDER], limit=50)
    assert [r.number for r in after.records] == ["SO-1001"] and not after.more
    assert after.records[0].fields["reference"] == "改了"


def test_webhook_payload_shapes(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake)
    headers = {"X-Hub-Webhook-Token": "hook-secret-xyz"}
    body = b'[{"_model": "purchase.order", "_id": 7}, {"_model": "ir.cron", "_id": 1}, {"_id": "x"}, 5]'
    assert source.parse_webhook(headers, body) == [RecordRef(RecordType.PURCHASE_ORDER, "7")]
    with pytest.raises(SourcePermissionDenied):
        source.parse_webhook({"X-Hub-Webhook-Token": "hook-secret-xy"}, body)
    no_secret = odoo_from_config(source.config, {"password": fake_odoo.PASSWORD})
    with pytest.raises(SourcePermissionDenied, match="no webhook secret"):
        no_secret.parse_webhook(headers, body)


def test_sales_order_transitions(odoo_fake: FakeOdoo) -> None:
    source = adapter(odoo_fake)
    so = source.get(source.resolve("SO-1002") or RecordRef(RecordType.SALES_ORDER, "0"))
    from crm_bridge.sources.base import Transition

    confirmed = source.transition(so.ref, Transition.APPROVE, expected_version=so.version, actor="x")
    assert confirmed.status == Status.CONFIRMED
    cancelled = source.transition(so.ref, Transition.CANCEL, expected_version=confirmed.version, actor="x")
    assert cancelled.status == Status.CANCELLED
    assert odoo_fake.calls.count(("sale.order", "action_confirm")) == 1
