"""ERP bridge benchmark: sync throughput (records/s) against the fake Odoo (JSON-RPC and
JSON-2) and the fake ERPNext, without and with per-request latency; and the time to build a
record card from the cache versus from the source.

    .venv/bin/python bench/erp_bench.py [--records 2000] [--latency-ms 20] [--cards 200]

Runs on a throw-away SQLite database in a temporary directory; prints the figures
(docs/performance.md "ERP bridge" keeps the ones measured on the project's machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def setup_django(data_dir: str) -> None:
    os.environ["HUB_DATA_DIR"] = data_dir
    os.environ["DATABASE_URL"] = ""
    os.environ["HUB_SEARCH_INDEXING"] = "off"
    os.environ["HUB_DEMO"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def grow_odoo(fake: Any, n: int) -> None:
    """n extra customers in the fake Odoo (the seeded set has a handful)."""
    for i in range(n):
        fake.create("res.partner", name=f"客户{i:05d} 茶行", ref=f"B{i:05d}", customer_rank=1, email=f"c{i}@bench.test")


def grow_erpnext(fake: Any, n: int) -> None:
    for i in range(n):
        fake.insert(
            "Customer", {"name": f"B{i:05d}", "customer_name": f"客户{i:05d} 茶行", "email_id": f"c{i}@bench.test"}
        )


def sync_rate(row: Any, record_type: Any) -> tuple[int, float]:
    from crm_bridge.models import RecordSnapshot, SyncState
    from crm_bridge.resilience import reset_guards
    from crm_bridge.sync import sync_source

    RecordSnapshot.objects.filter(source=row).delete()
    SyncState.objects.filter(source=row).delete()
    reset_guards()
    started = time.perf_counter()
    report = sync_source(row, types=[record_type], full=True)
    elapsed = time.perf_counter() - started
    if report.errors:
        raise RuntimeError(report.errors)
    return report.fetched, elapsed


def card_times(row: Any, member: Any, refs: list[Any], repeats: int) -> tuple[list[float], list[float]]:
    from crm_bridge.cards import build_card, load_snapshot

    cached: list[float] = []
    fresh: list[float] = []
    for i in range(repeats):
        ref = refs[i % len(refs)]
        started = time.perf_counter()
        build_card(member, load_snapshot(member, row, ref, force=True))
        fresh.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        build_card(member, load_snapshot(member, row, ref))
        cached.append((time.perf_counter() - started) * 1000)
    return cached, fresh


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--cards", type=int, default=200)
    args = parser.parse_args()
    setup_django(tempfile.mkdtemp(prefix="erp-bench-"))

    from crm_bridge.models import ErpSource
    from crm_bridge.sources.base import RecordType
    from crm_bridge.sources.registry import build_source
    from hub import actions as hub_actions
    from hub.models import Member, User
    from tests.crm_bridge.fakes.erpnext import seeded_erpnext
    from tests.crm_bridge.fakes.odoo import seeded_odoo
    from tests.crm_bridge.remote_fixtures import make_erpnext_row, make_odoo_row

    owner = User.objects.create_user(email="bench@erp.test", password="x")
    ws = hub_actions.do_create_workspace(owner, "ERP bench")
    member = Member.objects.get(workspace=ws, user=owner)
    odoo, erp = seeded_odoo().start(), seeded_erpnext().start()
    grow_odoo(odoo, args.records)
    grow_erpnext(erp, args.records)
    fast = {"rate_per_second": 0, "max_attempts": 1, "timeout": 30}
    rows: dict[str, ErpSource] = {
        "odoo json-rpc": make_odoo_row(ws, odoo, name="odoo-rpc", resilience=fast),
        "odoo json-2": make_odoo_row(ws, odoo, protocol="json2", name="odoo-json2", resilience=fast),
        "erpnext": make_erpnext_row(ws, erp, resilience=fast),
    }
    print(f"sync throughput, {args.records + 2} customers per source, page 200 (full pass into the record cache)")
    for latency in (0.0, args.latency_ms / 1000):
        odoo.latency = erp.latency = latency
        for name, row in rows.items():
            fetched, elapsed = sync_rate(row, RecordType.CUSTOMER)
            head = f"  {name:<14} latency {latency * 1000:>4.0f} ms:"
            print(f"{head} {fetched:>6} records in {elapsed:6.2f} s = {fetched / elapsed:6.0f} records/s")

    print(f"\ncard render time, {args.cards} sales-order cards (SO-1001…SO-1004, 3 HTTP calls per fresh read)")
    for latency in (0.0, args.latency_ms / 1000):
        odoo.latency = erp.latency = latency
        for name, row in rows.items():
            adapter = build_source(row)
            refs = [adapter.resolve(n) for n in ("SO-1001", "SO-1002", "SO-1003", "SO-1004")]
            cached, fresh = card_times(row, member, [r for r in refs if r is not None], args.cards)
            print(
                f"  {name:<14} latency {latency * 1000:>4.0f} ms: from cache p50 {statistics.median(cached):6.2f} ms"
                f" p95 {pct(cached, 95):6.2f} ms | from source p50 {statistics.median(fresh):7.2f} ms"
                f" p95 {pct(fresh, 95):7.2f} ms"
            )
    odoo.stop()
    erp.stop()


if __name__ == "__main__":
    main()
