"""Record-card figures on ERP-lite's demo data: one card from the cache and from the source,
a page of 50 cards (the batch API's path), reference detection on a message that has
references and on one that has none, and a live-update fan-out to many conversations.

    .venv/bin/python bench/cards_bench.py [--rounds 200] [--conversations 500] [--pg]

Runs in a fresh SQLite database in a temporary directory (or a fresh PostgreSQL database with
``--pg``), removed afterwards. Prints figures; asserts nothing (timing belongs here, not in
tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--pg", action="store_true", help="use a fresh database on the local PostgreSQL")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="hub-cards-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="hub.settings", HUB_DATA_DIR=data_dir, HUB_SEARCH_INDEXING="off", LOG_LEVEL="WARNING"
    )
    os.environ.pop("REDIS_URL", None)
    db_name = f"hubcards_{uuid.uuid4().hex[:10]}"
    admin_url = os.environ.get("HUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    sys.path.insert(0, str(ROOT))
    from bench.cluster import _pg_admin, _with_dbname

    if args.pg:
        _pg_admin(admin_url, f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = _with_dbname(admin_url, db_name)
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        run(args.rounds, args.conversations)
    finally:
        if args.pg:
            from django.db import connections

            connections.close_all()
            _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    return 0


def _time(rounds: int, work: Callable[[], object]) -> str:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) >= 20 else ordered[-1]
    return f"median {statistics.median(ordered) * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms (n={rounds})"


def run(rounds: int, conversation_count: int) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Background work runs inline here, so the fan-out figure includes the events' writes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    call_command("migrate", verbosity=0)
    from crm_bridge import live, queries, references
    from crm_bridge.cards import build_card
    from crm_bridge.erplite.receivers import prime_cache
    from crm_bridge.models import RecordLink, RecordSnapshot
    from crm_bridge.sources.base import RecordRef, RecordType
    from crm_bridge.sources.builtin import ensure_default_source
    from hub.demo import PEOPLE, load_demo
    from hub.models import Member
    from messaging import actions as messaging_actions

    demo = load_demo()
    source_row = ensure_default_source(demo.workspace)
    primed = prime_cache(source_row)
    owner_email = next(p.email for p in PEOPLE if p.key == "owner")
    guest_email = next(p.email for p in PEOPLE if p.key == "customer")
    owner = Member.objects.select_related("user", "workspace", "partner").get(user__email=owner_email)
    guest = Member.objects.select_related("user", "workspace", "partner").get(user__email=guest_email)
    so = RecordSnapshot.objects.get(source=source_row, number="SO-1001")
    ref = RecordRef(RecordType(so.record_type), so.key)
    print(f"demo data: {primed} records cached")

    print(f"card from the cache (staff): {_time(rounds, lambda: queries.card_for(owner, source_row, ref))}")
    print(f"card from the cache (guest): {_time(rounds, lambda: queries.card_for(guest, source_row, ref))}")
    print(
        "card re-read from the source (ERP-lite): "
        + _time(rounds, lambda: queries.card_for(owner, source_row, ref, force=True))
    )
    snapshots = list(RecordSnapshot.objects.filter(source=source_row).select_related("source")[:50])
    refs = [f"{s.source_id}:{s.record_type}:{s.key}" for s in snapshots]
    page = _time(max(rounds // 4, 20), lambda: queries.cards_batch(owner, refs, []))
    print(f"page of {len(refs)} cards (batch API path): {page}")
    print(f"build_card only (no I/O): {_time(rounds * 5, lambda: build_card(owner, snapshots[0]))}")

    channel = messaging_actions.check_create_conversation(owner, "public", "基准")
    counter = iter(range(10**9))

    def send(body: str) -> None:
        message, _ = messaging_actions.check_send_message(owner, channel, f"{body} {next(counter)}", uuid.uuid4())
        references.process_message(message.pk)

    resolved = _time(max(rounds // 4, 20), lambda: send("SO-1001 和 TEA-500G 的库存"))
    print(f"send + resolve 'SO-1001 和 TEA-500G': {resolved}")
    frame = {"message": {"id": 0, "body": "今天下午三点开会，记得带样品", "blocks": []}}
    print(
        "reference check on a plain message: "
        + _time(rounds * 5, lambda: references.on_event_logged(None, channel.pk, "message.new", frame))
    )

    conversations = [
        messaging_actions.check_create_conversation(owner, "public", f"门店 {i}") for i in range(conversation_count)
    ]
    RecordLink.objects.bulk_create([RecordLink(snapshot=so, conversation=c) for c in conversations])
    started = time.perf_counter()
    told = live.do_publish_record_updated(so, live.linked_conversation_ids(so.pk))
    seconds = time.perf_counter() - started
    print(f"record.updated fan-out: {told} conversations in {seconds:.2f} s = {told / seconds:,.0f} conversations/s")


if __name__ == "__main__":
    raise SystemExit(main())
