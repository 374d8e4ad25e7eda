"""``/healthz`` (the process answers) and ``/readyz`` (its dependencies answer)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _layer_roundtrip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    probe = {"type": "health.probe", "nonce": uuid.uuid4().hex}
    await layer.send(channel, probe)
    received = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if received.get("nonce") != probe["nonce"]:
        raise RuntimeError("channel layer returned a different message")


def _check_search_storage() -> None:
    index_dir = Path(settings.SEARCH_INDEX_DIR)
    index_dir.mkdir(parents=True, exist_ok=True)
    probe = index_dir / f".ready-{uuid.uuid4().hex}"
    probe.write_bytes(b"ok")
    probe.unlink()


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _check_database,
        "channel_layer": async_to_sync(_layer_roundtrip),
        "search": _check_search_storage,
    }
    results: dict[str, str] = {}
    failed: list[str] = []
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 — any failure means "not ready", reported by name
            results[name] = f"error: {type(exc).__name__}: {exc}"[:300]
            failed.append(name)
    status = 503 if failed else 200
    return JsonResponse(
        {"status": "unavailable" if failed else "ok", "failed": failed, "checks": results}, status=status
    )
