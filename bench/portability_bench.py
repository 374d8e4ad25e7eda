"""How long exporting and importing a workspace takes, by size.

    .venv/bin/python bench/portability_bench.py --messages 20000 [--pg]

Builds a workspace with one channel of ``--messages`` messages (mixed Chinese and English, a
reaction on every tenth) in a fresh SQLite database (or a fresh PostgreSQL database with
``--pg``), then times ``export_workspace`` and ``import_workspace`` and prints rows/s and the
archive size. Everything is created in temporary places and removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--pg", action="store_true", help="use a fresh database on the local PostgreSQL")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="hub-portability-bench-")
    os.environ.update(DJANGO_SETTINGS_MODULE="hub.settings", HUB_DATA_DIR=data_dir, HUB_SEARCH_INDEXING="off")
    os.environ.pop("REDIS_URL", None)
    db_name = f"hubpb_{uuid.uuid4().hex[:10]}"
    admin_url = os.environ.get("HUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    sys.path.insert(0, str(ROOT))
    from bench.cluster import _pg_admin, _with_dbname

    if args.pg:
        _pg_admin(admin_url, f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = _with_dbname(admin_url, db_name)
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        run(args.messages, Path(data_dir))
    finally:
        if args.pg:
            from django.db import connections

            connections.close_all()
            _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    return 0


def run(count: int, data_dir: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from hub import actions as hub_actions
    from hub.models import Member, User
    from hub.portability.actions import export_workspace, import_workspace
    from messaging import actions as messaging_actions
    from messaging.models import Conversation, Event, Message, Reaction

    call_command("migrate", verbosity=0)
    owner = User.objects.create_user(email="owner@bench.test", password=None, display_name="老板")
    workspace = hub_actions.do_create_workspace(owner, "基准测试茶业")
    member = Member.objects.get(workspace=workspace, user=owner)
    conv = messaging_actions.check_create_conversation(member, "public", "大群", [])
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        rows = [
            Message(
                conversation=conv,
                seq=i + 2,
                sender=owner,
                client_id=uuid.uuid4(),
                body=f"第 {i} 条消息：明前龙井 {i % 97} 斤 price {i % 500} 元",
                html=f"<p>第 {i} 条消息：明前龙井 {i % 97} 斤 price {i % 500} 元</p>",
                created_at=now,
            )
            for i in range(count)
        ]
        Message.objects.bulk_create(rows, batch_size=2000)
        events = [
            Event(conversation=conv, seq=m.seq, type="message.new", payload={"message": {"id": m.pk, "body": m.body}})
            for m in rows
        ]
        Event.objects.bulk_create(events, batch_size=2000)
        Reaction.objects.bulk_create([Reaction(message=m, user=owner, emoji="👍") for m in rows[::10]])
        Conversation.objects.filter(pk=conv.pk).update(last_seq=count + 1)
    print(f"seeded {count} messages in {time.perf_counter() - started:.1f} s ({django.db.connection.vendor})")

    archive = data_dir / "bench.zip"
    started = time.perf_counter()
    export_workspace(workspace, archive)
    took = time.perf_counter() - started
    size = archive.stat().st_size
    print(f"export: {took:.2f} s, {count / took:,.0f} messages/s, archive {size / 1e6:.1f} MB")

    started = time.perf_counter()
    result = import_workspace(archive)
    took = time.perf_counter() - started
    imported = Message.objects.filter(conversation__workspace=result.workspace).count()
    print(f"import: {took:.2f} s, {imported / took:,.0f} messages/s ({imported} messages)")


if __name__ == "__main__":
    sys.exit(main())
