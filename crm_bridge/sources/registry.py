"""Which adapter class serves which ``ErpSource.kind``. Adapters register themselves at import
(``crm_bridge.apps`` imports them), so adding a kind never edits a central ``if`` chain."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from crm_bridge.sources.base import Source

if TYPE_CHECKING:
    from crm_bridge.models import ErpSource

SourceFactory = Callable[["ErpSource"], Source]
_factories: dict[str, SourceFactory] = {}
_built: dict[int, tuple[tuple[str, str, str], Source]] = {}
_built_lock = threading.Lock()


def register_kind(kind: str, factory: SourceFactory) -> None:
    _factories[kind] = factory


def build_source(config: ErpSource) -> Source:
    """The adapter for ``config``, wrapped in the source's rate limit, retries and circuit
    breaker (``crm_bridge.resilience``; tuned by ``config.config["resilience"]``)."""
    from crm_bridge.resilience import Policy, ResilientSource, guard_for

    try:
        factory = _factories[config.kind]
    except KeyError:
        raise LookupError(f"no adapter registered for ERP source kind {config.kind!r}") from None
    policy = Policy.from_config((config.config or {}).get("resilience"))
    if config.kind == "builtin" and "resilience" not in (config.config or {}):
        # ERP-lite is our own database: no reason to ration calls to it.
        policy = Policy(rate_per_second=0)
    # Adapters are thread-safe and keep warm HTTP connections (and Odoo's uid): reuse the one
    # built for this exact row state instead of reconnecting on every card.
    key = (
        f"{config.kind}:{config.workspace_id}:{config.name}",
        json.dumps(config.config, sort_keys=True, default=str),
        config.credentials_encrypted,
    )
    with _built_lock:
        cached = _built.get(config.pk)
    if cached is None or cached[0] != key:
        cached = (key, factory(config))
        if config.pk is not None:
            with _built_lock:
                _built[config.pk] = cached
    return ResilientSource(cached[1], guard_for(str(config.pk), policy))


def build_unguarded_source(config: ErpSource) -> Source:
    """The bare adapter, without rate limit, retries or breaker (benchmarks, diagnostics)."""
    try:
        factory = _factories[config.kind]
    except KeyError:
        raise LookupError(f"no adapter registered for ERP source kind {config.kind!r}") from None
    return factory(config)
