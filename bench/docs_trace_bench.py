"""Documents benchmark: replay the "B4" editing trace (automerge-paper, 259,778 single-character
patches) through the server's apply path, and the same trace through Yjs in Node.js as the
baseline, in the same run.

    .venv/bin/python bench/docs_trace_bench.py
    .venv/bin/python bench/docs_trace_bench.py --limit 50000 --no-node
    .venv/bin/python bench/docs_trace_bench.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Steps: a pycrdt client turns each patch into one Yjs update (one transaction per patch, the
way an editor sends keystrokes; not timed as server work). The server path then handles each
update as a socket frame exactly as ``docs_collab.room.Room`` does: decode the y-protocols
frame, apply to the room's Doc (validation), take the update Yrs integrated, encode the relay
frame — timed per update. The integrated updates are written to the log in batches of
``HUB_DOCS_FLUSH_UPDATES`` with ``store.append_batches`` (timed apart). Then: persisted bytes,
load time from the full log, compaction (``store.compact``) time and snapshot size, load time
from the snapshot, and resident memory per open document (RSS delta over N loaded copies —
tracemalloc cannot see Yrs's Rust allocations).

The database is a throwaway SQLite file (or a throwaway PostgreSQL database with
``--database-url``). Prints figures; asserts only that the text is right.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRACE = ROOT.parent / "shared" / "data" / "editing-traces" / "automerge-paper.json.gz"
NODE_DIR = ROOT / "tests" / "node"


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def setup_django(data_dir: Path, database_url: str | None) -> None:
    os.environ["HUB_DATA_DIR"] = str(data_dir)
    os.environ["HUB_DEMO"] = "0"
    os.environ["DATABASE_URL"] = database_url or ""
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def load_patches(path: Path, limit: int | None) -> tuple[list[tuple[int, int, str]], str]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        trace = json.load(handle)
    patches = [tuple(p) for txn in trace["txns"] for p in txn["patches"]]
    if limit:
        patches = patches[:limit]
    return patches, trace["endContent"] if not limit else ""  # type: ignore[return-value]


def client_updates(patches: list[tuple[int, int, str]]) -> tuple[list[bytes], str]:
    from pycrdt import Doc, XmlElement, XmlFragment, XmlText

    doc: Doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    paragraph = fragment.children.append(XmlElement("paragraph"))
    text = paragraph.children.append(XmlText())
    mirror: list[str] | None = None  # only for non-ASCII traces: pycrdt offsets are UTF-8 bytes
    for pos, delete, insert in patches:
        if mirror is not None or not insert.isascii():
            raise SystemExit("this bench expects an ASCII trace (B4 is ASCII)")
        with doc.transaction():
            if delete:
                del text[pos : pos + delete]
            if insert:
                text.insert(pos, insert)
    return updates, str(text)


def server_apply(document_id: int, updates: list[bytes], batch: int) -> dict[str, Any]:
    from pycrdt import Doc

    from docs_collab import protocol, store
    from docs_collab.room import Room

    frames = [protocol.encode_sync_update(u) for u in updates]
    room = Room(document_id)
    doc: Doc = Doc()
    doc.observe(room._on_transaction)
    room.doc = doc
    apply_ns: list[int] = []
    produced_all: list[bytes] = []
    perf = time.perf_counter_ns
    for frame in frames:
        t0 = perf()
        message = protocol.decode_message(frame)
        assert isinstance(message, protocol.SyncUpdate)
        produced = room._apply(message.update)
        if produced is not None:
            protocol.encode_sync_update(produced)  # the relay frame
            produced_all.append(produced)
        apply_ns.append(perf() - t0)
    persist_started = time.perf_counter()
    rows = 0
    for start in range(0, len(produced_all), batch):
        store.append_batches(document_id, [(None, produced_all[start : start + batch])])
        rows += 1
    persist_s = time.perf_counter() - persist_started
    apply_ns.sort()
    return {
        "updates": len(updates),
        "integrated": len(produced_all),
        "apply_total_s": sum(apply_ns) / 1e9,
        "apply_mean_us": statistics.fmean(apply_ns) / 1000,
        "apply_p50_us": apply_ns[len(apply_ns) // 2] / 1000,
        "apply_p99_us": apply_ns[int(len(apply_ns) * 0.99)] / 1000,
        "apply_max_us": apply_ns[-1] / 1000,
        "persist_s": persist_s,
        "rows": rows,
        "text": str(room.doc.get("default", type=__import__("pycrdt").XmlFragment)),
    }


def persisted_bytes(document_id: int) -> int:
    from docs_collab.models import DocUpdate

    return sum(len(bytes(d)) for d in DocUpdate.objects.filter(document_id=document_id).values_list("data", flat=True))


def timed_load(document_id: int) -> tuple[float, str]:
    from docs_collab import content, store

    t0 = time.perf_counter()
    doc = store.build_doc(store.load_state(document_id))
    elapsed = time.perf_counter() - t0
    return elapsed, content.plain_text(doc)


def memory_probe(document_id: int, copies: int) -> None:
    """Run in a fresh interpreter (``--memory-probe``): freed memory of the replay would
    otherwise be reused by the loaded documents and hide their cost."""
    from docs_collab import store

    state = store.load_state(document_id)
    gc.collect()
    before = rss_bytes()
    docs = [store.build_doc(state) for _ in range(copies)]
    gc.collect()
    after = rss_bytes()
    assert len(docs) == copies
    print(json.dumps({"per_doc_bytes": (after - before) / copies}))


def memory_per_document(document_id: int, copies: int, data_dir: Path, db_url: str | None) -> float:
    env = {**os.environ, "HUB_DATA_DIR": str(data_dir), "DATABASE_URL": db_url or ""}
    args = [sys.executable, __file__, "--memory-probe", str(document_id), "--copies", str(copies)]
    result = subprocess.run(args, env=env, capture_output=True, timeout=600, check=True)
    return float(json.loads(result.stdout.decode().strip().splitlines()[-1])["per_doc_bytes"])


def node_baseline(trace: Path, limit: int | None) -> dict[str, Any] | None:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        print("*** Node.js not found: no Yjs baseline ***")
        return None
    if not (NODE_DIR / "node_modules" / "yjs").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300)
    args = [node, "--expose-gc", str(NODE_DIR / "trace_bench.mjs"), str(trace)]
    if limit:
        args.append(str(limit))
    result = subprocess.run(args, capture_output=True, timeout=600, check=True)
    figures: dict[str, Any] = json.loads(result.stdout.decode().strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trace", type=Path, default=TRACE)
    parser.add_argument("--limit", type=int, default=0, help="replay only the first N patches")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL admin URL (a throwaway database is made)")
    parser.add_argument("--copies", type=int, default=20, help="documents loaded for the memory figure")
    parser.add_argument("--no-node", action="store_true")
    parser.add_argument("--memory-probe", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        setup_django(Path(os.environ["HUB_DATA_DIR"]), os.environ.get("DATABASE_URL") or None)
        memory_probe(args.memory_probe, args.copies)
        return

    data_dir = Path(tempfile.mkdtemp(prefix="hub-docs-bench-"))
    db_url = args.database_url
    throwaway_pg = None
    if db_url:
        import psycopg

        throwaway_pg = f"hub_docs_bench_{os.getpid()}"
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{throwaway_pg}"')
        db_url = db_url.rsplit("/", 1)[0] + "/" + throwaway_pg
    try:
        run(args, data_dir, db_url)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if throwaway_pg:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{throwaway_pg}"')


def run(args: argparse.Namespace, data_dir: Path, db_url: str | None) -> None:
    setup_django(data_dir, db_url)
    from django.conf import settings

    from docs_collab import store
    from docs_collab.models import Document
    from hub import actions as hub_actions
    from hub.models import Member, User

    owner = User.objects.create_user(email="bench@docs.test", password="x")
    workspace = hub_actions.do_create_workspace(owner, "bench")
    member = Member.objects.get(workspace=workspace, user=owner)
    from docs_collab.actions import check_create_document

    document: Document = check_create_document(member, "B4", None)
    batch = settings.HUB_DOCS_FLUSH_UPDATES

    patches, end_content = load_patches(args.trace, args.limit or None)
    print(f"trace: {args.trace.name}, {len(patches):,} patches; database: {settings.DATABASES['default']['ENGINE']}")
    t0 = time.perf_counter()
    updates, client_text = client_updates(patches)
    print(f"client (pycrdt) produced {len(updates):,} updates in {time.perf_counter() - t0:.2f} s (not server work)")
    if end_content:
        assert client_text == end_content, "client replay diverged from endContent"

    figures = server_apply(document.pk, updates, batch)
    assert client_text in figures.pop("text"), "server text differs from the client's"
    log_bytes = persisted_bytes(document.pk)
    load_log_s, text = timed_load(document.pk)
    assert text == client_text
    t0 = time.perf_counter()
    result = store.compact(document.pk)
    compact_s = time.perf_counter() - t0
    assert result is not None
    load_snapshot_s, text = timed_load(document.pk)
    assert text == client_text
    per_doc = memory_per_document(document.pk, args.copies, data_dir, db_url)

    update_bytes = sum(len(u) for u in updates)
    print()
    print("server (pycrdt / Yrs, docs_collab room apply path)")
    print(
        f"  apply per update        mean {figures['apply_mean_us']:.1f} µs · p50 {figures['apply_p50_us']:.1f} µs · "
        f"p99 {figures['apply_p99_us']:.1f} µs · max {figures['apply_max_us']:.0f} µs"
    )
    print(f"  apply total             {figures['apply_total_s']:.2f} s for {figures['updates']:,} updates")
    print(
        f"  persist (batched)       {figures['persist_s']:.2f} s, {figures['rows']:,} rows of ≤{batch} updates "
        f"({figures['updates'] / max(figures['rows'], 1):.0f} updates/row)"
    )
    print(f"  persisted log bytes     {log_bytes:,} (raw updates {update_bytes:,})")
    print(f"  load from full log      {load_log_s * 1000:.0f} ms")
    print(f"  compaction              {compact_s * 1000:.0f} ms → snapshot {result.snapshot_bytes:,} bytes")
    print(f"  load from snapshot      {load_snapshot_s * 1000:.1f} ms")
    print(f"  memory per open doc     {per_doc / 1024:.0f} KiB RSS (mean over {args.copies} loaded copies)")
    print(f"  final text              {len(client_text):,} characters")

    if args.no_node:
        return
    node = node_baseline(args.trace, args.limit or None)
    if node is None:
        return
    print()
    print("baseline: Yjs in Node.js (same trace, same document shape, same run)")
    print(f"  local edits (B4 style)  {node['local_ms']:.0f} ms for {node['patches']:,} patches")
    print(
        f"  apply per update        mean {node['apply_us_per_update']:.1f} µs ({node['apply_ms']:.0f} ms for "
        f"{node['updates']:,} updates)"
    )
    print(f"  encoded document        {node['encoded_bytes']:,} bytes (load {node['load_ms']:.1f} ms)")
    print(f"  memory per open doc     {node['heap_per_loaded_doc_bytes'] / 1024:.0f} KiB JS heap (20 loaded copies)")
    print(f"  text matches endContent {node['text_matches']}")
    print()
    print("ratios (server / Yjs)")
    print(f"  apply per update        {figures['apply_mean_us'] / node['apply_us_per_update']:.2f}×")
    print(f"  snapshot size           {result.snapshot_bytes / node['encoded_bytes']:.2f}×")
    print(f"  load of compacted doc   {load_snapshot_s * 1000 / max(node['load_ms'], 1e-3):.2f}×")
    print(f"  memory per open doc     {per_doc / max(node['heap_per_loaded_doc_bytes'], 1):.2f}×")


if __name__ == "__main__":
    main()
