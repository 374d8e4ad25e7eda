"""Workspace export → import: the same conversations, messages, files (byte-equal), documents,
partners and members on the other side, searchable after a rebuild; a repeated import is
refused; bad archives get clear errors; admins export over HTTP with progress."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from docs_collab import store
from docs_collab.content import plain_text
from docs_collab.models import Document
from hub.models import Member, PartnerOrg, User, Workspace
from hub.portability.actions import export_workspace, import_workspace
from hub.portability.archive import ArchiveError
from messaging.models import Attachment, Conversation, Event, Message, MessageEdit, Pin, Reaction
from tests.conftest import World
from tests.search.conftest import found, make_channel, send

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def search_index_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    return Path(settings.SEARCH_INDEX_DIR)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def populate(world: World) -> dict[str, Any]:
    """A small company: a shared channel with a thread, an edit, a reaction, a pin and a
    picture; a DM; a document with text."""
    owner, member = world.owner, world.member
    channel = make_channel(world, "采购部", by=owner)
    world.api(owner).post(f"/api/v1/conversations/{channel}/members", {"user_ids": [member.user.pk]})
    world.api(owner).post(f"/api/v1/conversations/{channel}/share", {"partner_id": world.customer.pk})
    picture = _png()
    upload = world.api(member).client.post(
        f"/api/v1/conversations/{channel}/attachments",
        {"file": SimpleUploadedFile("龙井样品照片.png", picture, content_type="image/png")},
        **member.auth,
    )
    assert upload.status_code == 201, upload.content
    root = send(world, owner, channel, "新茶到货 @张三 请查收 longjing-arrival")
    reply = send(
        world,
        member,
        channel,
        "收到，已入库 stocked-ok",
        thread_root_id=root["id"],
        attachment_ids=[upload.json()["id"]],
    )
    edited = send(world, member, channel, "价格 120 元")
    assert (
        world.api(member).patch(f"/api/v1/messages/{edited['id']}", {"body": "价格 128 元 price-fixed"}).status_code
        == 200
    )
    assert world.api(owner).post(f"/api/v1/messages/{root['id']}/reactions", {"emoji": "👍"}).status_code in (200, 201)
    assert world.api(owner).post(f"/api/v1/messages/{root['id']}/pin").status_code in (200, 201, 204)
    dm = world.api(owner).post(
        "/api/v1/conversations", {"workspace_id": world.workspace.pk, "kind": "dm", "member_ids": [member.user.pk]}
    )
    assert dm.status_code in (200, 201), dm.content
    send(world, owner, dm.json()["id"], "私聊 private-note")
    doc_res = world.api(owner).post("/api/v1/documents", {"workspace_id": world.workspace.pk, "title": "采购清单"})
    assert doc_res.status_code in (200, 201), doc_res.content
    ydoc: Doc = Doc()
    fragment = ydoc.get("default", type=XmlFragment)
    fragment.children.append(XmlElement("paragraph", {}, [XmlText("明前龙井 20 斤 tea-list")]))
    store.append_batches(doc_res.json()["id"], [(owner.user.pk, [ydoc.get_update()])])
    return {"channel": channel, "root": root, "reply": reply, "picture": picture, "document": doc_res.json()["id"]}


def messages_of(workspace: Workspace) -> list[tuple[str, str, str, str | None, bool]]:
    """(conversation name, sender email, body, thread root body, deleted) in log order."""
    rows = Message.objects.filter(conversation__workspace=workspace).select_related(
        "conversation", "sender", "thread_root"
    )
    result = []
    for m in rows.order_by("conversation__created_at", "conversation_id", "seq"):
        root = m.thread_root.body if m.thread_root else None
        result.append(
            (m.conversation.name or m.conversation.kind, m.sender.email, m.body, root, m.deleted_at is not None)
        )
    return result


@pytest.mark.django_db
def test_round_trip_in_the_same_deployment(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    data = populate(world)
    archive = tmp_path / "导出.zip"
    progress: list[tuple[int, int]] = []
    manifest = export_workspace(world.workspace, archive, lambda done, total: progress.append((done, total)))
    assert progress[-1][0] == progress[-1][1] > 0
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        # Chinese file names survive as UTF-8 names in the zip.
        picture_names = [n for n in names if n.endswith("龙井样品照片.png")]
        assert len(picture_names) == 1
        assert zf.getinfo(picture_names[0]).flag_bits & 0x800
        assert zf.read(picture_names[0]) == data["picture"]
        assert {"manifest.json", "hub/people.json", "messaging/messages.jsonl", "docs_collab/documents.json"} <= set(
            names
        )
    assert manifest["counts"]["messaging/messages.jsonl"] == 4

    with django_capture_on_commit_callbacks(execute=True):
        result = import_workspace(archive)
    new = result.workspace
    assert new.pk != world.workspace.pk and new.name == "杭州茶叶"
    # Same messages, same people, same threads.
    assert messages_of(new) == messages_of(world.workspace)
    assert MessageEdit.objects.filter(message__conversation__workspace=new).count() == 1
    assert list(Reaction.objects.filter(message__conversation__workspace=new).values_list("emoji", "user__email")) == [
        ("👍", "owner@tea.test")
    ]
    assert Pin.objects.get(conversation__workspace=new).message.body.startswith("新茶到货")

    # Members by email with their roles; the guest keeps its partner; the channel stays shared.
    def roster(ws: Workspace) -> set[tuple[str, str, str | None]]:
        return {
            (m.user.email, m.role, m.partner.name if m.partner else None) for m in Member.objects.filter(workspace=ws)
        }

    assert roster(new) == roster(world.workspace)
    assert set(PartnerOrg.objects.filter(workspace=new).values_list("name", "kind")) == {
        ("西湖茶馆", "customer"),
        ("龙井包装厂", "supplier"),
    }
    channel = Conversation.objects.get(workspace=new, name="采购部")
    assert list(channel.shared_with.values_list("name", flat=True)) == ["西湖茶馆"]
    dm = Conversation.objects.get(workspace=new, kind="dm")
    assert dm.dm_key == f"dm:{world.owner.user.pk}:{world.member.user.pk}"
    # Files byte-equal, under new generated names.
    attachment = Attachment.objects.get(workspace=new)
    original = Attachment.objects.get(workspace=world.workspace)
    assert attachment.original_name == "龙井样品照片.png" and attachment.file.name != original.file.name
    with default_storage.open(attachment.file.name, "rb") as f:
        assert f.read() == data["picture"]
    assert attachment.thumbnail and default_storage.exists(attachment.thumbnail.name)
    assert attachment.message is not None and attachment.message.body.startswith("收到")
    # A compacted, gap-free log: one message.new per message.
    for conv in Conversation.objects.filter(workspace=new):
        seqs = list(Event.objects.filter(conversation=conv).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, conv.last_seq + 1)) and conv.last_seq == conv.messages.count()
    # Documents keep their text.
    document = Document.objects.get(workspace=new)
    assert document.title == "采购清单"
    assert plain_text(store.build_doc(store.load_state(document.pk))).strip() == "明前龙井 20 斤 tea-list"
    # Searchable once indexed (the queue follows the rebuilt log).
    call_command("rebuild_search_index", workspace=[new.pk], stdout=io.StringIO())
    res = world.api(world.owner).get("/api/v1/search", workspace=new.pk, q="stocked")
    assert res.status_code == 200
    hits = [r["message_id"] for r in res.json()["results"]]
    assert hits == [Message.objects.get(conversation__workspace=new, body__contains="stocked-ok").pk]
    # The original is untouched.
    assert found(world, world.owner, "stocked") == [data["reply"]["id"]]

    with pytest.raises(ArchiveError) as refused:
        import_workspace(archive)
    assert refused.value.code == "already_imported" and f"#{new.pk}" in refused.value.message
    assert Workspace.objects.filter(name="杭州茶叶").count() == 2


@pytest.mark.django_db
def test_bad_archives_are_refused_clearly(tmp_path: Path) -> None:
    not_zip = tmp_path / "x.zip"
    not_zip.write_bytes("这不是压缩包".encode())
    with pytest.raises(ArchiveError) as exc:
        import_workspace(not_zip)
    assert exc.value.code == "not_an_archive"
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(newer, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "xiaowei-hub-workspace", "version": 99}))
    with pytest.raises(ArchiveError) as exc:
        import_workspace(newer)
    assert exc.value.code == "unsupported_version"
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ArchiveError) as exc:
        import_workspace(foreign)
    assert exc.value.code == "not_an_archive"
    assert Workspace.objects.count() == 0


@pytest.mark.django_db
def test_failed_import_leaves_nothing_behind(world: World, tmp_path: Path) -> None:
    populate(world)
    archive = tmp_path / "a.zip"
    export_workspace(world.workspace, archive)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docs_collab/documents.json":
                data = b"[{not json"
            dst.writestr(item, data)
    files_before = set(_stored_files())
    workspaces = Workspace.objects.count()
    with pytest.raises(ArchiveError) as exc:
        import_workspace(damaged)
    assert exc.value.code == "archive_damaged"
    assert Workspace.objects.count() == workspaces  # all or nothing
    assert set(_stored_files()) == files_before  # the copied attachment was removed again


@pytest.mark.django_db
def test_hand_edited_archive_is_refused_not_a_crash(world: World, tmp_path: Path) -> None:
    populate(world)
    archive = tmp_path / "a.zip"
    export_workspace(world.workspace, archive)
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(edited, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "messaging/conversations.json":
                rows = json.loads(data)
                del rows[0]["kind"]  # a field the importer needs
                data = json.dumps(rows).encode()
            dst.writestr(item, data)
    workspaces = Workspace.objects.count()
    with pytest.raises(ArchiveError) as exc:
        import_workspace(edited)
    assert exc.value.code == "archive_damaged" and "kind" in exc.value.message
    assert Workspace.objects.count() == workspaces


def _stored_files() -> list[str]:
    root = Path(default_storage.location)  # type: ignore[attr-defined]
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_export_command_shows_progress_and_prints_the_path(world: World, tmp_path: Path) -> None:
    populate(world)
    out = io.StringIO()
    target = tmp_path / "ws.zip"
    call_command("export_workspace", str(world.workspace.pk), output=str(target), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1] == str(target.resolve())
    assert any("Exporting 杭州茶叶" in line and "100%" in line for line in lines)
    assert oct(target.stat().st_mode & 0o777) == "0o600"


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_exports_over_http_with_progress_and_download(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    populate(world)
    path = f"/api/v1/workspaces/{world.workspace.pk}/exports"
    assert world.api(world.member).post(path).status_code == 403
    assert world.api(world.outsider).post(path).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        started = world.api(world.admin).post(path)
    assert started.status_code == 202, started.content
    job_id = started.json()["id"]
    shown = world.api(world.admin).get(f"{path}/{job_id}")
    body = shown.json()
    # The test settings run tasks at once; in production the worker does it and this polls.
    assert body["status"] == "done" and body["done"] == body["total"] > 0, body
    download = world.api(world.owner).get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert "filename*=utf-8''" in download["Content-Disposition"].lower()
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert json.loads(archive.read("manifest.json"))["source"]["workspace_id"] == world.workspace.pk
    assert world.api(world.member).get(body["download_url"]).status_code == 403
    # An export id of another workspace is not found through one's own workspace either.
    assert (
        world.api(world.outsider).get(f"/api/v1/workspaces/{world.other_workspace.pk}/exports/{job_id}").status_code
        == 404
    )


# --- another deployment ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db
def test_import_into_a_fresh_deployment(world: World, tmp_path: Path) -> None:
    """The archive moves to a new installation (its own database and files): people without an
    account there are created inactive, files arrive byte-equal, search finds the messages."""
    data = populate(world)
    archive = tmp_path / "move.zip"
    export_workspace(world.workspace, archive)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUB_DATA_DIR")}
    env.update(DJANGO_SETTINGS_MODULE="hub.settings", HUB_DATA_DIR=str(tmp_path / "other"), HUB_SEARCH_INDEXING="off")

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    manage("migrate", "-v", "0")
    out = manage("import_workspace", str(archive))
    assert "Imported as workspace #1 杭州茶叶" in out and "created inactive" in out
    manage("rebuild_search_index")
    script = """
import json
from django.core.files.storage import default_storage
from hub.models import User
from hub.search.indexer import get_backend
from messaging.models import Attachment, Message
att = Attachment.objects.get()
print(json.dumps({
  "messages": sorted(Message.objects.values_list("body", flat=True)),
  "inactive": sorted(User.objects.filter(is_active=False).values_list("email", flat=True)),
  "file": default_storage.open(att.file.name, "rb").read().hex(),
  "name": att.original_name,
}, ensure_ascii=False))
"""
    state = json.loads(manage("shell", "-c", script).strip().splitlines()[-1])
    assert state["messages"] == sorted(
        Message.objects.filter(conversation__workspace=world.workspace).values_list("body", flat=True)
    )
    assert bytes.fromhex(state["file"]) == data["picture"] and state["name"] == "龙井样品照片.png"
    assert "owner@tea.test" in state["inactive"] and "outsider@other.test" not in state["inactive"]
    assert set(state["inactive"]) == set(
        User.objects.filter(memberships__workspace=world.workspace).values_list("email", flat=True)
    )
    # Search on the new deployment, through the API of a user activated there.
    token = manage("shell", "-c", (
        "from hub.models import User; from hub.actions import do_issue_api_token; "
        "u = User.objects.get(email='owner@tea.test'); u.is_active = True; u.save(); "
        "print(do_issue_api_token(u, 't')[1])"
    )).strip().splitlines()[-1]  # fmt: skip
    query = manage("shell", "-c", (
        "import json; from django.test import Client; "
        "r = Client().get('/api/v1/search', {'workspace': 1, 'q': 'longjing'}, "
        f"HTTP_AUTHORIZATION='Bearer {token}'); "
        "print(json.dumps([x['snippet'] for x in r.json()['results']], ensure_ascii=False))"
    )).strip().splitlines()[-1]  # fmt: skip
    assert len(json.loads(query)) == 1


@pytest.mark.django_db
def test_erp_records_round_trip(world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any) -> None:
    """ERP-lite rows and the bridge's record cards travel through the contributor registry;
    links follow the imported messages; credentials stay behind."""
    from decimal import Decimal

    from crm_bridge.erplite import models as erp
    from crm_bridge.models import ErpSource, RecordLink, RecordSnapshot

    ws = world.workspace
    customer = erp.Party.objects.create(
        workspace=ws, kind="customer", code="C001", name="西湖茶馆", partner=world.customer, owner=world.owner.user
    )
    tea = erp.Product.objects.create(workspace=ws, sku="TEA-500G", name="西湖龙井 500g", list_price=Decimal("388.00"))
    store_room = erp.Warehouse.objects.create(workspace=ws, code="HZ", name="杭州仓")
    erp.Stock.objects.create(workspace=ws, product=tea, warehouse=store_room, on_hand=Decimal("12.500"))
    order = erp.SalesOrder.objects.create(workspace=ws, number="SO-1001", party=customer)
    erp.SalesOrderLine.objects.create(order=order, product=tea, quantity=Decimal("3"), unit_price=Decimal("368.00"))
    source = ErpSource.objects.create(
        workspace=ws, name="ERP-lite", kind="builtin", credentials_encrypted="gAAAA-secret", is_default=False
    )
    channel = make_channel(world, "订单", by=world.owner)
    message = send(world, world.owner, channel, "请看 SO-1001 order-card")
    snapshot = RecordSnapshot.objects.create(
        source=source,
        record_type="sales_order",
        key=str(order.pk),
        number="SO-1001",
        title="西湖茶馆 SO-1001",
        data={"number": "SO-1001", "total": "1104.00"},
        version="1",
        source_updated_at=order.updated_at,
    )
    RecordLink.objects.create(snapshot=snapshot, conversation_id=channel, message_id=message["id"])

    archive = tmp_path / "erp.zip"
    manifest = export_workspace(ws, archive)
    assert {"erplite", "crm_bridge"} <= set(manifest["contributors"])
    with zipfile.ZipFile(archive) as zf:
        assert b"gAAAA-secret" not in b"".join(zf.read(n) for n in zf.namelist())
    with django_capture_on_commit_callbacks(execute=True):
        new = import_workspace(archive).workspace

    new_order = erp.SalesOrder.objects.get(workspace=new, number="SO-1001")
    assert new_order.pk != order.pk and new_order.party.name == "西湖茶馆"
    assert new_order.party.partner is not None and new_order.party.partner.workspace_id == new.pk
    assert new_order.party.owner_id == world.owner.user.pk
    line = erp.SalesOrderLine.objects.get(order=new_order)
    assert (line.product.sku, line.quantity, line.unit_price) == ("TEA-500G", Decimal("3.000"), Decimal("368.00"))
    assert erp.Stock.objects.get(workspace=new).on_hand == Decimal("12.500")
    new_source = ErpSource.objects.get(workspace=new)
    assert new_source.credentials_encrypted == ""  # re-entered by an admin after the move
    new_link = RecordLink.objects.get(snapshot__source=new_source)
    assert new_link.message is not None and new_link.message.body == "请看 SO-1001 order-card"
    assert new_link.conversation.workspace_id == new.pk
    assert new_link.snapshot.data == {"number": "SO-1001", "total": "1104.00"}


@pytest.mark.django_db
def test_export_api_bad_requests(world: World) -> None:
    from hub.portability.models import ExportJob

    base = f"/api/v1/workspaces/{world.workspace.pk}/exports"
    job = ExportJob.objects.create(workspace=world.workspace, requested_by=world.owner.user)  # queued, not run
    early = world.api(world.owner).get(f"{base}/{job.pk}/download")
    assert early.status_code == 409 and early.json()["error"]["code"] == "export_not_ready"
    assert world.api(world.owner).get(f"{base}/999999").status_code == 404
    assert world.api(world.owner).get(f"{base}/abc").status_code == 422
    # While one export is queued, asking again returns it instead of starting a second.
    again = world.api(world.owner).post(base)
    assert again.status_code == 202 and again.json()["id"] == job.pk
    listed = world.api(world.admin).get(base).json()
    assert [e["id"] for e in listed] == [job.pk] and listed[0]["download_url"] is None
