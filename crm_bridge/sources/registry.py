"""Which adapter class serves which ``ErpSource.kind``. Adapters register themselves at import
(``crm_bridge.apps`` imports them), so adding a kind never edits a central ``if`` chain."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from crm_bridge.sources.base import Source

if TYPE_CHECKING:
    from crm_bridge.models import ErpSource

SourceFactory = Callable[["ErpSource"], Source]
_factories: dict[str, SourceFactory] = {}


def register_kind(kind: str, factory: SourceFactory) -> None:
    _factories[kind] = factory


def build_source(config: ErpSource) -> Source:
    try:
        factory = _factories[config.kind]
    except KeyError:
        raise LookupError(f"no adapter registered for ERP source kind {config.kind!r}") from None
    return factory(config)
