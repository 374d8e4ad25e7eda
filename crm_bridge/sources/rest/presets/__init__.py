"""Ready-made REST configurations, selected with ``"preset": "<name>"`` in a source's config."""

from __future__ import annotations

from typing import Any

from crm_bridge.sources.rest.presets.erpnext import ERPNEXT

PRESETS: dict[str, dict[str, Any]] = {"erpnext": ERPNEXT}
