"""ERP-lite figures: import throughput (rows/s, CSV and xlsx), BuiltinSource.get and search
latency, and a watch-rule pass, on a synthetic catalogue.

    .venv/bin/python bench/erplite_bench.py --products 5000 [--pg]

Runs in a fresh SQLite database in a temporary directory (or a fresh PostgreSQL database with
``--pg``), removed afterwards. Prints figures; asserts nothing (timing belongs here, not in
tests).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--pg", action="store_true", help="use a fresh database on the local PostgreSQL")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="hub-erplite-bench-")
    os.environ.update(DJANGO_SETTINGS_MODULE="hub.settings", HUB_DATA_DIR=data_dir, HUB_SEARCH_INDEXING="off")
    os.environ.pop("REDIS_URL", None)
    db_name = f"huberp_{uuid.uuid4().hex[:10]}"
    admin_url = os.environ.get("HUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    sys.path.insert(0, str(ROOT))
    from bench.cluster import _pg_admin, _with_dbname

    if args.pg:
        _pg_admin(admin_url, f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = _with_dbname(admin_url, db_name)
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        run(args.products)
    finally:
        if args.pg:
            from django.db import connections

            connections.close_all()
            _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    return 0


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) >= 20 else ordered[-1]
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def run(count: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from openpyxl import Workbook

    from crm_bridge import rules
    from crm_bridge.erplite.receivers import prime_cache
    from crm_bridge.importer.run import run_import
    from crm_bridge.rule_models import WatchRule
    from crm_bridge.sources.base import RecordType
    from crm_bridge.sources.builtin import BuiltinSource, ensure_default_source
    from hub import actions
    from hub.models import Member
    from messaging import actions as messaging_actions

    owner = actions.do_create_user("bench@erp.test", None, "基准")
    ws = actions.do_create_workspace(owner, "基准茶业")
    names = ["西湖龙井", "安吉白茶", "九曲红梅", "碧螺春", "铁观音", "大红袍", "普洱"]
    csv_text = "产品编码,产品名称,单位,售价(元),成本价\n" + "".join(
        f"SKU-{i:06d},{names[i % len(names)]} {i} 号,盒,{100 + i % 300},{50 + i % 100}\n" for i in range(count)
    )
    started = time.perf_counter()
    report = run_import(ws, "products", csv_text.encode("gbk"), "products.csv")
    seconds = time.perf_counter() - started
    rate = report.created / seconds
    print(f"import products, GBK CSV: {report.created} rows in {seconds:.2f} s = {rate:,.0f} rows/s")
    started = time.perf_counter()
    again = run_import(ws, "products", csv_text.encode("gbk"), "products.csv")
    seconds = time.perf_counter() - started
    print(f"re-import unchanged (idempotent): {again.updated} rows in {seconds:.2f} s = {count / seconds:,.0f} rows/s")

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["产品编码", "仓库", "库存数量", "预留", "安全库存"])
    for i in range(count):
        sheet.append([f"SKU-{i:06d}", "杭州总仓", 100 + i % 50, i % 30, 90])
    buffer = io.BytesIO()
    book.save(buffer)
    started = time.perf_counter()
    report = run_import(ws, "stock", buffer.getvalue(), "stock.xlsx")
    seconds = time.perf_counter() - started
    print(f"import stock, xlsx: {report.created} rows in {seconds:.2f} s = {report.created / seconds:,.0f} rows/s")

    source_row = ensure_default_source(ws)
    source = BuiltinSource(source_row)
    refs = [source.resolve(f"SKU-{i:06d}") for i in range(0, count, max(count // 200, 1))]
    samples = []
    for ref in refs:
        assert ref is not None
        t = time.perf_counter()
        source.get(ref)
        samples.append(time.perf_counter() - t)
    print(f"BuiltinSource.get(product) x{len(samples)}: {_ms(samples)}")
    samples = []
    for i in range(100):
        t = time.perf_counter()
        source.search(RecordType.PRODUCT, names[i % len(names)][1:3], limit=10)
        samples.append(time.perf_counter() - t)
    print(f"BuiltinSource.search(Chinese substring, limit 10) x100: {_ms(samples)}")

    started = time.perf_counter()
    cached = prime_cache(source_row)
    seconds = time.perf_counter() - started
    print(f"prime the record cache: {cached} records in {seconds:.2f} s = {cached / seconds:,.0f} records/s")
    member = Member.objects.get(workspace=ws, user=owner)
    channel = messaging_actions.check_create_conversation(member, "public", "预警")
    WatchRule.objects.create(workspace=ws, source=source_row, name="库存", kind="stock_below_reorder", channel=channel)
    started = time.perf_counter()
    opened = rules.evaluate_all(ws.pk)
    seconds = time.perf_counter() - started
    print(f"stock rule pass over {count} products: {opened} alerts opened in {seconds:.2f} s")
    started = time.perf_counter()
    rules.evaluate_all(ws.pk)
    seconds = time.perf_counter() - started
    print(f"stock rule pass again (nothing new): {seconds:.2f} s = {count / seconds:,.0f} products/s")


if __name__ == "__main__":
    raise SystemExit(main())
