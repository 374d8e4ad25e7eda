"""CSV / Excel import into ERP-lite: header mapping, per-row errors, encodings, idempotency,
progress, the management command and the admin API."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from crm_bridge.erplite.models import ImportJob, Party, PriceListItem, Product, Stock
from crm_bridge.importer.readers import FileUnreadable, detect_encoding
from crm_bridge.importer.run import run_import
from tests.conftest import World

pytestmark = pytest.mark.django_db

PRODUCTS_CSV = (
    "产品编码*,产品名称,单位,售价(元),成本价,备注\n"
    "TEA-500G,西湖龙井 500g 礼盒,盒,298,168,明前\n"
    'TEA-250G,西湖龙井 250g 罐装,罐,"1,158.50",88,\n'
    ",缺编码的行,盒,10,5,\n"
    "TEA-BAD,价格不对,盒,abc,5,\n"
    "\n"
    "TEA-NEG,负数,盒,-3,5,\n"
    "TEA-HM-500G,九曲红梅 500g,盒,￥238,120,\n"
)


def _import(world: World, kind: str, text: str | bytes, name: str = "file.csv", **kw: Any) -> Any:
    content = text.encode("utf-8") if isinstance(text, str) else text
    return run_import(world.workspace, kind, content, name, **kw)


def test_good_rows_kept_bad_rows_reported_with_row_numbers(world: World) -> None:
    report = _import(world, "products", PRODUCTS_CSV)
    assert (report.total, report.created, report.updated) == (6, 3, 0)
    assert report.errors == [
        {"row": 4, "message": "sku is required"},
        {"row": 5, "message": "list_price 'abc' is not a number"},
        {"row": 7, "message": "list_price '-3' must not be negative"},
    ]
    assert report.unknown_columns == ["备注"]
    products = {p.sku: p for p in Product.objects.filter(workspace=world.workspace)}
    assert set(products) == {"TEA-500G", "TEA-250G", "TEA-HM-500G"}
    assert products["TEA-250G"].list_price == Decimal("1158.50")
    assert products["TEA-HM-500G"].list_price == Decimal("238")
    assert products["TEA-500G"].name == "西湖龙井 500g 礼盒" and products["TEA-500G"].unit == "盒"


def test_import_is_idempotent_and_updates_by_key(world: World) -> None:
    _import(world, "products", PRODUCTS_CSV)
    versions = dict(Product.objects.filter(workspace=world.workspace).values_list("sku", "version"))
    again = _import(world, "products", PRODUCTS_CSV)
    assert (again.created, again.updated, again.rejected) == (0, 3, 3)
    assert Product.objects.filter(workspace=world.workspace).count() == 3
    # Unchanged rows keep their version: no card is marked changed by a re-import.
    assert dict(Product.objects.filter(workspace=world.workspace).values_list("sku", "version")) == versions
    _import(world, "products", "sku,name,price\nTEA-500G,西湖龙井 500g 新包装,308\n")
    product = Product.objects.get(workspace=world.workspace, sku="TEA-500G")
    assert product.name == "西湖龙井 500g 新包装" and product.list_price == Decimal(308)
    assert product.cost_price == Decimal(168)  # a column not in the file is left alone
    assert product.version == versions["TEA-500G"] + 1


def test_gbk_csv_from_chinese_excel(world: World) -> None:
    content = "客户编码,客户名称,电话,地址\nC001,上海悦茗茶饮连锁有限公司,021-62881234,上海市静安区\n".encode("gbk")
    report = _import(world, "customers", content)
    assert report.encoding == "gb18030" and report.created == 1
    assert Party.objects.get(workspace=world.workspace, code="C001").name == "上海悦茗茶饮连锁有限公司"


def test_declared_encoding_and_bom(world: World) -> None:
    assert detect_encoding(b"\xef\xbb\xbfa,b") == "utf-8-sig"
    assert detect_encoding("名称".encode("gbk"), "GBK") == "gbk"
    with pytest.raises(FileUnreadable):
        detect_encoding(b"x", "no-such-encoding")
    bom = "\ufeff供应商编码,供应商名称\nS001,安吉竹韵包装有限公司\n".encode()
    report = _import(world, "suppliers", bom)
    assert report.created == 1 and report.errors == []
    assert Party.objects.get(workspace=world.workspace, code="S001").kind == "supplier"
    # Declared wrongly: a clear whole-file error, nothing half-imported.
    with pytest.raises(FileUnreadable):
        _import(world, "suppliers", "编码,名称\nS002,龙坞茶农\n".encode("gbk"), encoding="utf-8")


def test_excel_unicode_text_is_utf16_tab_separated(world: World) -> None:
    content = "产品编码\t产品名称\t售价\nTEA-500G\t西湖龙井\t298\n".encode("utf-16")
    report = _import(world, "products", content, "产品.txt")
    assert report.encoding == "utf-16" and report.created == 1 and report.errors == []
    assert Product.objects.get(workspace=world.workspace, sku="TEA-500G").list_price == 298


def test_job_percent() -> None:
    job = ImportJob(total_rows=450, processed_rows=200)
    assert job.percent == 44
    assert ImportJob(total_rows=0).percent == 0
    assert ImportJob(state=ImportJob.State.DONE, total_rows=0).percent == 100


def test_xlsx_with_numbers_and_chinese_headers(world: World) -> None:
    _import(world, "products", "sku,name\nTEA-500G,西湖龙井\nTEA-250G,西湖龙井小罐\n")
    book = Workbook()
    sheet = book.active
    sheet.append(["产品编码", "仓库", "库存数量", "预留", "安全库存"])
    sheet.append(["TEA-500G", "杭州总仓", 420, 300, 150.5])
    sheet.append(["TEA-250G", "杭州总仓", 600.0, None, None])
    sheet.append(["TEA-404", "杭州总仓", 1, 0, 0])
    sheet.append(["TEA-250G", "上海前置仓", 5, 10, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = _import(world, "stock", buffer.getvalue(), "库存.xlsx")
    assert report.created == 2
    assert report.errors == [
        {"row": 4, "message": "unknown product 'TEA-404': import products first"},
        {"row": 5, "message": "reserved (10) is more than on hand (5)"},
    ]
    stock = Stock.objects.get(product__sku="TEA-500G", warehouse__name="杭州总仓")
    assert (stock.on_hand, stock.reserved, stock.reorder_point) == (420, 300, Decimal("150.5"))


def test_prices_with_customer_and_breaks(world: World) -> None:
    _import(world, "products", "sku,name\nTEA-500G,西湖龙井\n")
    _import(world, "customers", "code,name\nC001,上海悦茗\n")
    report = _import(
        world,
        "prices",
        "sku,price,min qty,customer\nTEA-500G,298,,\nTEA-500G,278,200,\nTEA-500G,268,100,上海悦茗\nTEA-500G,1,1,无名\n",
    )
    assert report.created == 3
    assert report.errors == [{"row": 5, "message": "unknown customer '无名': import customers first"}]
    items = PriceListItem.objects.filter(product__sku="TEA-500G").order_by("min_quantity", "unit_price")
    assert [(i.min_quantity, i.unit_price, i.customer_id is not None) for i in items] == [
        (1, 298, False),
        (100, 268, True),
        (200, 278, False),
    ]
    assert items[0].price_list.is_default and items[0].price_list.name == "标准价"


def test_whole_file_errors(world: World) -> None:
    with pytest.raises(FileUnreadable, match="missing required column"):
        _import(world, "products", "名称,单位\n西湖龙井,盒\n")
    with pytest.raises(FileUnreadable, match="empty"):
        _import(world, "products", "")
    with pytest.raises(FileUnreadable, match="xlsx"):
        _import(world, "products", b"PK\x03\x04not really a zip", "x.xlsx")


def test_progress_is_reported(world: World) -> None:
    rows = "".join(f"SKU-{i},产品{i}\n" for i in range(450))
    calls: list[tuple[int, int]] = []
    report = _import(world, "products", "sku,name\n" + rows, progress=lambda done, total: calls.append((done, total)))
    assert report.created == 450
    assert calls == [(0, 450), (200, 450), (400, 450), (450, 450)]


def test_management_command(world: World, tmp_path: Path) -> None:
    path = tmp_path / "客户.csv"
    path.write_bytes("客户编码,客户名称\nC009,杭州湖畔茶馆\nC010,\n".encode("gbk"))
    out = io.StringIO()
    call_command("import_erp", str(world.workspace.pk), "customers", str(path), stdout=out)
    text = out.getvalue()
    assert "1 created" in text and "1 rejected" in text and "row 3: name is required" in text
    assert "100%" in text  # the progress bar
    with pytest.raises(CommandError):
        call_command("import_erp", "999999", "customers", str(path), stdout=out)
    with pytest.raises(CommandError):
        call_command("import_erp", str(world.workspace.pk), "customers", str(tmp_path / "missing.csv"), stdout=out)


def _upload(world: World, persona: Any, content: bytes, name: str, kind: str, **extra: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    return Client().post(
        f"/api/v1/workspaces/{world.workspace.pk}/erp/imports",
        {"file": SimpleUploadedFile(name, content), "type": kind, **extra},
        **persona.auth,
    )


def test_api_runs_the_import_as_a_job_and_reports(world: World) -> None:
    response = _upload(world, world.admin, PRODUCTS_CSV.encode("gbk"), "产品.csv", "products")
    assert response.status_code == 202, response.content
    job = response.json()
    # The test settings run tasks immediately; with the db worker the first answer is "queued".
    status = world.api(world.admin).get(f"/api/v1/workspaces/{world.workspace.pk}/erp/imports/{job['id']}").json()
    assert status["state"] == "done" and status["percent"] == 100
    assert (status["created"], status["rejected"], status["total_rows"]) == (3, 3, 6)
    assert status["errors"][0] == {"row": 4, "message": "sku is required"}
    assert status["encoding"] == "gb18030"
    assert ImportJob.objects.get(pk=job["id"]).created_by == world.admin.user


def test_api_errors_and_permissions(world: World) -> None:
    assert _upload(world, world.member, b"sku,name\n", "a.csv", "products").status_code == 403
    assert _upload(world, world.outsider, b"sku,name\n", "a.csv", "products").status_code == 404
    bad_type = _upload(world, world.admin, b"sku,name\n", "a.csv", "orders")
    assert bad_type.status_code == 400 and bad_type.json()["error"]["code"] == "invalid_import_type"
    bad_encoding = _upload(world, world.admin, b"sku,name\n", "a.csv", "products", encoding="klingon")
    assert bad_encoding.status_code == 400 and bad_encoding.json()["error"]["code"] == "invalid_encoding"
    unreadable = _upload(world, world.admin, "名称\n西湖龙井\n".encode(), "a.csv", "products").json()
    status = world.api(world.admin).get(f"/api/v1/workspaces/{world.workspace.pk}/erp/imports/{unreadable['id']}")
    assert status.json()["state"] == "failed" and "missing required column" in status.json()["failure"]
    other_ws = world.other_workspace.pk
    other = world.api(world.outsider).get(f"/api/v1/workspaces/{other_ws}/erp/imports/{unreadable['id']}")
    assert other.status_code == 404
