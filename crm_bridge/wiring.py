"""Plugs the conversation features of the bridge into messaging at start-up (called from
``CrmBridgeConfig.ready``): reference detection on messaging's ``event_logged``, live cards
and approval rounds on ``record_changed`` and ``record_staleness_changed``, the ``crm:``
button namespace, the slash commands
and the periodic reconcile pass. Messaging never imports the bridge; this is the one place
that registers with it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

logger = logging.getLogger(__name__)


def _robust(receiver: Callable[..., None]) -> Callable[..., None]:
    """``record_changed`` is sent with ``send`` after commit: a failing receiver would surface
    in the sync pass or request that changed the record. Log it instead — the record change
    itself has been committed."""

    @functools.wraps(receiver)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            logger.exception("%s failed", receiver.__qualname__)

    return wrapper


# Signals hold receivers weakly: keep the wrapped ones alive here.
_RECEIVERS: list[Callable[..., None]] = []


def connect() -> None:
    from crm_bridge import approvals, live, queries, references, rules
    from crm_bridge.commands import register_all
    from crm_bridge.signals import record_changed, record_staleness_changed
    from hub.periodic import register_periodic
    from messaging.interactions import register_action_handler
    from messaging.signals import event_logged

    event_logged.connect(references.on_event_logged, dispatch_uid="crm_bridge.references")
    for uid, receiver in (
        ("live", live.on_record_changed),
        ("approvals", approvals.on_record_changed),
        ("rules", rules.on_record_changed),
    ):
        wrapped = _robust(receiver)
        _RECEIVERS.append(wrapped)
        record_changed.connect(wrapped, dispatch_uid=f"crm_bridge.{uid}")
    staleness = _robust(queries.on_staleness_changed)
    _RECEIVERS.append(staleness)
    record_staleness_changed.connect(staleness, dispatch_uid="crm_bridge.staleness")
    register_action_handler("crm", approvals.handle_action)
    register_all()
    register_periodic(approvals.reconcile_unknown_approvals, timedelta(minutes=1))
    register_periodic(rules.evaluate_watch_rules, rules.EVERY)
