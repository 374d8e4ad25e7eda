"""The configuration of a generic REST source — configured, not coded. Everything the adapter
needs to know about a system's HTTP API is data here: the auth header, one endpoint per record
type, dotted field paths into its JSON, paging, the updated-since filter, the business calls
behind transitions, notes and the webhook signature. A *preset* (``presets/erpnext.py``)
supplies a whole configuration; what the admin sets on top overrides it key by key.

Templates: strings may contain ``{name}`` placeholders, filled at request time (``{key}``,
``{query}``, ``{since}``, ``{until}``, ``{start}``, ``{end}``, ``{product_keys}``, ``{body}``,
``{author}``, credentials such as ``{key}``/``{secret}`` in the auth template). A string that is
exactly one placeholder is replaced by the raw value (so ``"{product_keys}"`` becomes a JSON
list); a query parameter whose template is a list or object is sent JSON-encoded (as Frappe's
``filters`` expects).
"""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from crm_bridge.sources.base import RecordType, Status, Transition


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldMap(_Strict):
    """Dotted paths into one record's JSON. ``a|b`` takes the first non-empty of two paths."""

    key: str = "id"
    number: str = "id"
    title: str = "name"
    updated_at: str = "updated_at"
    version: str = ""  # default: updated_at
    status: str = ""
    counterparty_key: str = ""
    counterparty_name: str = ""
    amount: str = ""
    amount_due: str = ""
    currency: str = ""
    due_date: str = ""
    owner: str = ""
    lines: str = ""  # the list of lines (read from the single-record endpoint)
    extra: dict[str, str] = Field(default_factory=dict)  # card field name → path
    internal: dict[str, str] = Field(default_factory=dict)  # never shown to guests


class LineMap(_Strict):
    name: str = "name"
    quantity: str = "quantity"
    sku: str = ""
    product_key: str = ""
    unit_price: str = ""
    amount: str = ""


class Request(_Strict):
    method: Literal["GET", "POST", "PUT"] = "GET"
    path: str
    params: dict[str, Any] = Field(default_factory=dict)
    body: Any = None


class TransitionCall(_Strict):
    allowed_from: list[Status]
    request: Request


class TypeConfig(_Strict):
    list: Request  # the collection endpoint (search, changes, number look-up)
    item: str  # path of one record: "/api/resource/Customer/{key}"
    search_params: dict[str, Any] = Field(default_factory=dict)  # added when searching for {query}
    number_params: dict[str, Any] = Field(default_factory=dict)  # added to find exactly {number}
    changes_params: dict[str, Any] = Field(default_factory=dict)  # {since} ≤ modified ≤ {until}, oldest first
    fields: FieldMap
    line: LineMap | None = None
    status_map: dict[str, Status] = Field(default_factory=dict)
    default_status: Status = Status.ACTIVE
    ui_url: str = ""  # "{base_url}/app/sales-order/{key}"
    line_stock: bool = False  # flag order lines short of stock (one stock call per record)
    transitions: dict[Transition, TransitionCall] = Field(default_factory=dict)
    webhook_name: str = ""  # how the system names this type in webhooks ("Sales Order")


class Paging(_Strict):
    style: Literal["offset", "page"] = "offset"
    limit_param: str = "limit"
    offset_param: str = "offset"  # style "offset"
    page_param: str = "page"  # style "page"
    first_page: int = 1


class StockConfig(_Strict):
    request: Request  # with {product_keys}
    product_key: str
    warehouse: str
    on_hand: str
    reserved: str = ""
    reorder_point: str = ""


class PriceConfig(_Strict):
    request: Request  # with {product_key}
    unit_price: str
    price_list: str
    currency: str = ""
    customer_key: str = ""  # a price row for one customer only
    min_quantity: str = ""
    customer_price_list: str = ""  # path in the customer record to its default price list
    default_price_list: str = ""  # the list that applies when nothing more specific does


class SalesSummaryConfig(_Strict):
    request: Request  # confirmed orders with {start} ≤ time < {end}
    time: str
    amount: str
    currency: str = ""
    top_products: bool = True  # read each order's lines (one call per order, at most 200)


class NoteConfig(_Strict):
    request: Request  # with {key}, {body}, {author}, {type_name}


class WebhookConfig(_Strict):
    header: str = "X-Signature"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""  # e.g. "sha256=" before the digest
    type_path: str = "type"  # where the body names the record type
    key_path: str = "id"


class RestConfig(_Strict):
    base_url: HttpUrl
    preset: Literal["erpnext"] | None = None
    auth_header: str = "Authorization"
    auth_template: str = "Bearer {token}"
    time_zone: str = "UTC"  # naive datetimes in the API are in this zone
    datetime_format: str = "%Y-%m-%d %H:%M:%S"  # how {since}/{until}/{start}/{end} are written
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    list_path: str = "data"  # where a collection response keeps its items ("" = the body)
    item_path: str = "data"  # where a single-record response keeps the record
    page_size: int = Field(default=100, ge=1, le=1000)
    paging: Paging = Field(default_factory=Paging)
    lookback_seconds: int = Field(default=300, ge=0, le=86_400)
    types: dict[RecordType, TypeConfig]
    stock: StockConfig | None = None
    price: PriceConfig | None = None
    sales_summary: SalesSummaryConfig | None = None
    note: NoteConfig | None = None
    webhook: WebhookConfig = Field(default_factory=WebhookConfig)
    health_path: str = "/"
    resilience: dict[str, Any] = Field(default_factory=dict)
    # Which ERP parties belong to which partner organisation (guests see only theirs):
    # {"<partner id>": ["customer:42"]} — read by crm_bridge.access.
    partner_parties: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from None
        return value

    @property
    def base(self) -> str:
        return str(self.base_url).rstrip("/")


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``, recursively for mappings (lists are replaced)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(raw: dict[str, Any]) -> RestConfig:
    """Validate an ``ErpSource.config`` of kind ``rest``, with its preset applied first."""
    from crm_bridge.sources.rest.presets import PRESETS

    preset = raw.get("preset")
    base = PRESETS.get(preset or "", {})
    return RestConfig.model_validate(deep_merge(base, raw))
