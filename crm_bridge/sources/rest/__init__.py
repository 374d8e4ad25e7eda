"""A generic REST source, configured rather than coded, with presets (ERPNext/Frappe). See
docs/erp.md "Generic REST and ERPNext"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_bridge.sources.registry import register_kind
from crm_bridge.sources.rest.config import RestConfig, load_config
from crm_bridge.sources.rest.source import RestSource

if TYPE_CHECKING:
    from crm_bridge.models import ErpSource

__all__ = ["RestConfig", "RestSource", "build_rest", "load_config"]


def build_rest(row: ErpSource) -> RestSource:
    from crm_bridge.credentials import decrypt_credentials

    return RestSource(load_config(row.config), decrypt_credentials(row.credentials_encrypted), label=row.name)


register_kind("rest", build_rest)
