"""What an Odoo source needs to know (``ErpSource.config`` for kind ``odoo``). Credentials live
apart, encrypted: ``password`` or ``api_key`` (JSON-RPC), ``api_key`` (JSON-2), and an optional
``webhook_secret``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class OdooConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl  # e.g. https://erp.example.com
    database: str = Field(min_length=1, max_length=120)
    # "jsonrpc" for Odoo ≤ 18 (also works on 19), "json2" for Odoo ≥ 19 with an API key.
    protocol: Literal["jsonrpc", "json2"] = "jsonrpc"
    username: str = Field(default="", max_length=200)  # the login, for JSON-RPC
    currency: str = Field(default="CNY", min_length=3, max_length=3)  # when Odoo does not say
    lookback_seconds: int = Field(default=300, ge=0, le=86_400)  # changes_since overlap
    web_url: HttpUrl | None = None  # links on cards, if users reach Odoo at another address
    default_price_list: str = Field(default="标准价", max_length=80)  # label of the plain list price
    resilience: dict[str, Any] = Field(default_factory=dict)
    # Which ERP parties belong to which partner organisation (guests see only theirs):
    # {"<partner id>": ["customer:42"]} — read by crm_bridge.access.
    partner_parties: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return str(self.url).rstrip("/")

    @property
    def ui_url(self) -> str:
        return str(self.web_url or self.url).rstrip("/")
