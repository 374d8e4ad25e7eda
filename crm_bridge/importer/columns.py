"""Which header means which field, per import type. Headers are matched after normalising
(full-width → half-width, case, spaces, a trailing "*" marking required columns, and a unit in
brackets: "单价（元）*" is "单价"), so exports from Chinese accounting software and
hand-made sheets both work."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crm_bridge.importer.readers import FileUnreadable


@dataclass(frozen=True)
class Column:
    field: str
    aliases: tuple[str, ...]
    required: bool = False


_PARTY = (
    Column("code", ("code", "编码", "编号", "客户编码", "供应商编码", "代码"), required=True),
    Column("name", ("name", "名称", "客户名称", "供应商名称", "公司名称", "单位名称"), required=True),
    Column("phone", ("phone", "电话", "联系电话", "手机")),
    Column("email", ("email", "邮箱", "电子邮件")),
    Column("address", ("address", "地址")),
    Column("credit_limit", ("credit_limit", "credit limit", "信用额度")),
)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "customers": _PARTY,
    "suppliers": _PARTY,
    "products": (
        Column("sku", ("sku", "code", "编码", "产品编码", "商品编码", "货号", "物料编码"), required=True),
        Column("name", ("name", "名称", "产品名称", "商品名称", "品名"), required=True),
        Column("unit", ("unit", "单位", "计量单位")),
        Column("list_price", ("list_price", "list price", "price", "售价", "标准价", "零售价", "单价")),
        Column("cost_price", ("cost_price", "cost price", "cost", "成本", "成本价", "进价")),
    ),
    "stock": (
        Column("sku", ("sku", "code", "编码", "产品编码", "商品编码", "货号"), required=True),
        Column("warehouse", ("warehouse", "仓库", "仓库编码", "仓库名称"), required=True),
        Column(
            "on_hand", ("on_hand", "on hand", "quantity", "qty", "库存", "库存数量", "在库数量", "数量"), required=True
        ),
        Column("reserved", ("reserved", "已预留", "预留", "占用")),
        Column("reorder_point", ("reorder_point", "reorder point", "补货点", "安全库存", "最低库存")),
    ),
    "prices": (
        Column("sku", ("sku", "code", "编码", "产品编码", "商品编码", "货号"), required=True),
        Column("unit_price", ("unit_price", "unit price", "price", "单价", "价格", "售价"), required=True),
        Column("min_quantity", ("min_quantity", "min quantity", "min qty", "起订量", "最小数量", "数量起")),
        Column("price_list", ("price_list", "price list", "价目表", "价格表")),
        Column("customer", ("customer", "客户", "客户编码", "客户名称")),
    ),
}

IMPORT_TYPES = tuple(SCHEMAS)


def normalise(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).strip().lower().lstrip("\ufeff")
    text = re.sub(r"\s*\([^)]*\)\s*$", "", text)  # "单价(元)" — NFKC made （） into ()
    return re.sub(r"\s+", " ", text.strip().strip("*").strip())


def map_headers(import_type: str, headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """field → column index, and the headers that matched nothing (reported, not fatal)."""
    schema = SCHEMAS[import_type]
    lookup = {normalise(alias): column.field for column in schema for alias in column.aliases}
    found: dict[str, int] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        field = lookup.get(normalise(header))
        if field is None:
            if header:
                unknown.append(header)
        elif field not in found:
            found[field] = index
    missing = [c for c in schema if c.required and c.field not in found]
    if missing:
        names = ", ".join(f"{c.field} ({' / '.join(c.aliases[:3])})" for c in missing)
        raise FileUnreadable(f"missing required column(s): {names}")
    return found, unknown
