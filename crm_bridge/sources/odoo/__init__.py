"""Odoo as a source: JSON-RPC (Odoo ≤ 18) or JSON-2 (Odoo ≥ 19). See docs/erp.md "Odoo"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_bridge.resilience import Policy
from crm_bridge.sources.http import HttpTransport
from crm_bridge.sources.odoo.client import Json2Client, JsonRpcClient, OdooClient
from crm_bridge.sources.odoo.config import OdooConfig
from crm_bridge.sources.odoo.source import OdooSource
from crm_bridge.sources.registry import register_kind

if TYPE_CHECKING:
    from crm_bridge.models import ErpSource

__all__ = ["OdooConfig", "OdooSource", "build_odoo", "odoo_from_config"]


def odoo_from_config(config: OdooConfig, credentials: dict[str, str], *, label: str = "Odoo") -> OdooSource:
    policy = Policy.from_config(config.resilience)
    transport = HttpTransport(config.base_url, timeout=policy.timeout, connect_timeout=policy.connect_timeout)
    secret = credentials.get("api_key") or credentials.get("password") or ""
    client: OdooClient
    if config.protocol == "json2":
        client = Json2Client(transport, config.database, secret)
    else:
        client = JsonRpcClient(transport, config.database, config.username, secret)
    return OdooSource(client, config, label=label, webhook_secret=credentials.get("webhook_secret", ""))


def build_odoo(row: ErpSource) -> OdooSource:
    from crm_bridge.credentials import decrypt_credentials

    return odoo_from_config(
        OdooConfig.model_validate(row.config), decrypt_credentials(row.credentials_encrypted), label=row.name
    )


register_kind("odoo", build_odoo)
