"""``GET /api/v1/search`` end to end: language, operators, permissions, lag and rebuild."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.models import Member
from hub.search import indexer
from messaging import actions
from messaging import search as message_search
from messaging.models import Conversation, Message
from tests.conftest import World
from tests.search.conftest import found, make_channel, search, send


def test_chinese_words_stems_single_characters_and_full_width_skus(world: World) -> None:
    conv = make_channel(world)
    shipped = send(world, world.owner, conv, "客户的订单已发货")["id"]
    english = send(world, world.owner, conv, "Orders were ordered yesterday")["id"]
    tea = send(world, world.owner, conv, "今天到了一批龙井茶")["id"]
    sku = send(world, world.owner, conv, "请确认 SO-1001 和 TEA-500G 的库存")["id"]
    other_sku = send(world, world.owner, conv, "SO-1002 已取消")["id"]
    assert found(world, world.member, "订单") == [shipped]
    assert found(world, world.member, "发货") == [shipped]
    assert found(world, world.member, "order") == [english]
    assert found(world, world.member, "茶") == [tea]
    assert found(world, world.member, "井茶") == [tea]  # segmented as 龙井/茶: only n-grams find it
    assert found(world, world.member, "ＳＯ－１００１") == [sku]
    assert found(world, world.member, "tea-500g") == [sku]
    assert found(world, world.member, "SO") == []
    assert found(world, world.member, "so-1002") == [other_sku]


def test_result_shape_snippet_and_paging(world: World) -> None:
    conv = make_channel(world, "销售")
    ids = [send(world, world.owner, conv, f"订单 <b>{i}</b>")["id"] for i in range(5)]
    indexer.index_pending()
    body = search(world, world.member, "订单", limit=2).json()
    assert body["total"] == 5 and body["page"] == 1 and len(body["results"]) == 2
    first = body["results"][0]
    assert first["message_id"] == ids[-1]  # newest first by default
    assert first["conversation_id"] == conv and first["conversation_name"] == "销售"
    assert first["sender_id"] == world.owner.user.pk and first["sender_name"] == "王老板"
    assert first["snippet"] == "<mark>订单</mark> &lt;b&gt;4&lt;/b&gt;"
    assert first["seq"] > 0 and first["created_at"]
    page3 = search(world, world.member, "订单", limit=2, page=3).json()
    assert [r["message_id"] for r in page3["results"]] == [ids[0]]


def test_relevance_order(world: World) -> None:
    conv = make_channel(world)
    strong = send(world, world.owner, conv, "发货 发货 发货 发货")["id"]
    weak = send(world, world.owner, conv, "今天的会议记录很长很长很长，顺便提一下发货的事情，还有别的很多事情要说")[
        "id"
    ]
    assert found(world, world.member, "发货", order="relevance") == [strong, weak]
    assert found(world, world.member, "发货", order="newest") == [weak, strong]


def test_phrases_and_exclusions(world: World) -> None:
    conv = make_channel(world)
    a = send(world, world.owner, conv, "the red tea box arrived")["id"]
    b = send(world, world.owner, conv, "the tea is red")["id"]
    c = send(world, world.owner, conv, "客户的订单已发货")["id"]
    d = send(world, world.owner, conv, "订单 客户 发货 已取消")["id"]
    assert found(world, world.member, '"red tea"') == [a]
    assert sorted(found(world, world.member, "red tea")) == [a, b]
    assert found(world, world.member, "tea -box") == [b]
    assert found(world, world.member, '"客户的订单"') == [c]
    assert sorted(found(world, world.member, "订单 客户")) == [c, d]
    assert found(world, world.member, "订单 -取消") == [c]


def test_from_in_mentions_operators(world: World) -> None:
    sales = make_channel(world, "销售")
    ops = make_channel(world, "Ops Team")
    for persona in (world.member, world.member2):
        world.api(persona).post(f"/api/v1/conversations/{sales}/join")
        world.api(persona).post(f"/api/v1/conversations/{ops}/join")
    by_owner = send(world, world.owner, sales, "报价 @张三 看一下")["id"]
    by_member = send(world, world.member, sales, "报价 收到")["id"]
    in_ops = send(world, world.member2, ops, "报价 for ops")["id"]
    assert found(world, world.member, "报价 from:@王老板") == [by_owner]
    assert found(world, world.member, "from:@member") == [by_member]  # email name works too
    assert found(world, world.member, "报价 from:@me") == [by_member]
    assert found(world, world.member, '报价 from:"Lucy Chen"') == [in_ops]
    assert found(world, world.member, "报价 in:#销售") == [by_member, by_owner]
    assert found(world, world.member, '报价 in:"ops team"') == [in_ops]
    assert found(world, world.member, "mentions:@张三") == [by_owner]
    assert found(world, world.member, "mentions:@me") == [by_owner]
    assert found(world, world.member, "报价 from:@nobody") == []
    assert found(world, world.member, "报价 in:#nowhere") == []


def test_excluded_operators(world: World) -> None:
    sales = make_channel(world, "销售")
    chat = make_channel(world, "闲聊")
    world.api(world.member).post(f"/api/v1/conversations/{sales}/join")
    world.api(world.member).post(f"/api/v1/conversations/{chat}/join")
    owner_in_sales = send(world, world.owner, sales, "发货 @张三 https://example.com/x")["id"]
    member_in_sales = send(world, world.member, sales, "发货 收到")["id"]
    owner_in_chat = send(world, world.owner, chat, "发货 吃饭了吗")["id"]
    reply = send(world, world.member, chat, "发货 回复", thread_root_id=owner_in_chat)["id"]
    everything = [reply, owner_in_chat, member_in_sales, owner_in_sales]
    assert found(world, world.member, "发货") == everything
    assert found(world, world.member, "发货 -in:#闲聊") == [member_in_sales, owner_in_sales]
    assert found(world, world.member, "发货 -from:@王老板") == [reply, member_in_sales]
    assert found(world, world.member, "发货 -from:@me -in:#销售") == [owner_in_chat]
    assert found(world, world.member, "发货 -mentions:@me") == [reply, owner_in_chat, member_in_sales]
    assert found(world, world.member, "发货 -has:link") == [reply, owner_in_chat, member_in_sales]
    assert found(world, world.member, "发货 -is:thread") == [member_in_sales, owner_in_sales]
    # Excluding a name that matches nobody excludes nothing (and reveals nothing).
    assert found(world, world.member, "发货 -from:@nobody -in:#nowhere") == everything
    # An operator and its exclusion together leave nothing.
    assert found(world, world.member, "发货 in:#销售 -in:#销售") == []


def test_has_and_is_operators(world: World) -> None:
    conv = make_channel(world)
    link = send(world, world.owner, conv, "报价单 https://example.com/q.pdf")["id"]
    root = send(world, world.owner, conv, "报价单 讨论")["id"]
    reply = send(world, world.owner, conv, "报价单 回复", thread_root_id=root)["id"]
    plain = send(world, world.owner, conv, "报价单 普通")["id"]
    assert found(world, world.member, "报价单 has:link") == [link]
    assert found(world, world.member, "报价单 is:thread") == [reply, root]
    # A new reply does not hide its root while the index catches up.
    send(world, world.owner, conv, "第二条回复", thread_root_id=root)
    res = search(world, world.member, "讨论")
    assert [r["message_id"] for r in res.json()["results"]] == [root]
    assert plain not in found(world, world.member, "has:file")

    def detector(messages: list[Message]) -> set[int]:
        return {m.pk for m in messages if "SO-" in m.body}

    message_search.register_record_detector(detector)
    try:
        record = send(world, world.owner, conv, "报价单 SO-2001")["id"]
        assert found(world, world.member, "报价单 has:record") == [record]
    finally:
        message_search.unregister_record_detector(detector)


def test_has_file_finds_attachments_by_flag_and_name(world: World) -> None:
    conv = make_channel(world)
    message = Message.objects.get(pk=send(world, world.owner, conv, "见附件")["id"])
    # Attach directly (the upload flow is tested with messaging); the index only needs the row.
    message.attachments.create(
        workspace=world.workspace,
        conversation_id=conv,
        uploader=world.owner.user,
        file="attachments/x.pdf",
        original_name="报价单2026.pdf",
        content_type="application/pdf",
        size=10,
    )
    # The attachment arrives after the send event: a rebuild picks it up.
    indexer.rebuild_workspace(world.workspace.pk)
    assert found(world, world.member, "has:file") == [message.pk]
    assert found(world, world.member, "报价单2026") == [message.pk]


def test_dates_use_the_users_time_zone(world: World) -> None:
    conv = make_channel(world)
    late = send(world, world.owner, conv, "对账")["id"]
    early = send(world, world.owner, conv, "对账")["id"]
    # 2026-05-01 23:30 in Shanghai is 15:30 UTC; 2026-05-02 00:30 Shanghai is 16:30 UTC on May 1.
    Message.objects.filter(pk=late).update(created_at=datetime(2026, 5, 1, 16, 30, tzinfo=UTC))
    Message.objects.filter(pk=early).update(created_at=datetime(2026, 5, 1, 15, 30, tzinfo=UTC))
    indexer.rebuild_workspace(world.workspace.pk)
    assert found(world, world.member, "对账 on:2026-05-01") == [early]
    assert found(world, world.member, "对账 on:2026-05-01", order="relevance") == [early]  # NumericRange path
    assert found(world, world.member, "on:2026-05-01") == [early]  # operators alone
    assert found(world, world.member, "对账 on:2026-05-02") == [late]
    assert found(world, world.member, "对账 after:2026-05-01") == [late]
    assert found(world, world.member, "对账 before:2026-05-02") == [early]
    world.member.user.time_zone = "UTC"
    world.member.user.save(update_fields=["time_zone"])
    assert found(world, world.member, "对账 on:2026-05-01") == [late, early]


def test_bad_query_is_a_clear_400(world: World) -> None:
    for q, fragment in (
        ('"订单', "unbalanced quotes"),
        ("color:red", "unknown operator"),
        ("on:2026-13-45", "bad date"),
    ):
        res = search(world, world.member, q)
        assert res.status_code == 400, res.content
        assert res.json()["error"]["code"] == "invalid_query"
        assert fragment in res.json()["error"]["message"]
    res = world.api(world.member).get("/api/v1/search", workspace=world.workspace.pk, q="x", limit=500)
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid_request"
    assert world.api(world.member).get("/api/v1/search", workspace=world.workspace.pk).status_code == 422


def test_outsider_and_anonymous(world: World) -> None:
    conv = make_channel(world)
    send(world, world.owner, conv, "机密订单")
    indexer.index_pending()
    res = search(world, world.outsider, "订单")
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
    assert world.api(None).get("/api/v1/search", workspace=world.workspace.pk, q="订单").status_code == 401
    # The outsider's own workspace has its own index: nothing from ours is in it.
    own = search(world, world.outsider, "订单", workspace_id=world.other_workspace.pk)
    assert own.status_code == 200 and own.json()["results"] == []


def test_one_index_per_workspace(world: World, search_index_dir: object) -> None:
    conv = make_channel(world)
    send(world, world.owner, conv, "订单")
    other_conv = world.api(world.outsider).post(
        "/api/v1/conversations", {"workspace_id": world.other_workspace.pk, "kind": "public", "name": "x"}
    )
    send(world, world.outsider, int(other_conv.json()["id"]), "订单 in other company")
    indexer.index_pending()
    backend = indexer.get_backend()
    assert backend.doc_count(world.workspace.pk) == 1
    assert backend.doc_count(world.other_workspace.pk) == 1
    assert backend.path(world.workspace.pk) != backend.path(world.other_workspace.pk)  # type: ignore[attr-defined]


def test_guest_sees_only_shared_channels(world: World) -> None:
    shared = make_channel(world, "合作")
    internal = make_channel(world, "内部")
    res = world.api(world.owner).post(f"/api/v1/conversations/{shared}/share", {"partner_id": world.customer.pk})
    assert res.status_code == 200, res.content
    ok = send(world, world.owner, shared, "样品 已寄出")["id"]
    send(world, world.owner, internal, "样品 成本价 内部")
    assert found(world, world.guest, "样品") == [ok]
    assert found(world, world.supplier_guest, "样品") == []
    assert len(found(world, world.member, "样品")) == 2


def test_private_channel_members_only_and_leaving_removes_at_once(world: World) -> None:
    private = make_channel(world, "董事会", kind="private", member_ids=[world.member.user.pk])
    secret = send(world, world.owner, private, "年终奖 方案")["id"]
    assert found(world, world.member, "年终奖") == [secret]
    assert found(world, world.member2, "年终奖") == []
    member = Member.objects.get(workspace=world.workspace, user=world.member.user)
    actions.check_leave_conversation(member, Conversation.objects.get(pk=private))
    # No indexing in between: the permission filter is applied at query time.
    res = search(world, world.member, "年终奖")
    assert res.status_code == 200 and res.json()["results"] == []


def test_unshare_removes_guest_results_at_once(world: World) -> None:
    shared = make_channel(world, "合作")
    world.api(world.owner).post(f"/api/v1/conversations/{shared}/share", {"partner_id": world.customer.pk})
    sent = send(world, world.owner, shared, "样品 价格")["id"]
    assert found(world, world.guest, "样品") == [sent]
    owner = Member.objects.get(workspace=world.workspace, user=world.owner.user)
    actions.check_unshare(owner, Conversation.objects.get(pk=shared), world.customer)
    assert search(world, world.guest, "样品").json()["results"] == []


def test_deleted_messages_vanish_even_before_reindexing(world: World) -> None:
    conv = make_channel(world)
    gone = send(world, world.owner, conv, "错误的报价")["id"]
    kept = send(world, world.owner, conv, "正确的报价")["id"]
    indexer.index_pending()
    owner = Member.objects.get(workspace=world.workspace, user=world.owner.user)
    actions.check_delete_message(owner, Message.objects.get(pk=gone))
    assert [r["message_id"] for r in search(world, world.member, "报价").json()["results"]] == [kept]  # index lags
    assert found(world, world.member, "报价") == [kept]  # and after indexing
    assert indexer.check_workspace(world.workspace.pk).ok


def test_edited_messages_are_found_by_new_text_only(world: World) -> None:
    conv = make_channel(world)
    msg_id = send(world, world.owner, conv, "明天发货")["id"]
    indexer.index_pending()
    owner = Member.objects.get(workspace=world.workspace, user=world.owner.user)
    actions.check_edit_message(owner, Message.objects.get(pk=msg_id), "下周退货")
    # Before the index catches up, the old words no longer find it.
    assert search(world, world.member, "发货").json()["results"] == []
    assert found(world, world.member, "发货") == []
    assert found(world, world.member, "退货") == [msg_id]
    drift = indexer.check_workspace(world.workspace.pk)
    assert drift.ok, drift


def test_crash_before_indexing_loses_nothing_and_rebuild_reproduces(world: World) -> None:
    conv = make_channel(world)
    ids = [send(world, world.owner, conv, f"库存 盘点 第{i}批 SO-{1000 + i}")["id"] for i in range(30)]
    # Nothing indexed yet (as after a crash right after commit): the log is the queue.
    assert search(world, world.member, "库存").json()["results"] == []
    drift = indexer.check_workspace(world.workspace.pk)
    assert len(drift.missing) == 30
    assert indexer.index_pending(batch=7).changed == 30  # several batches, one commit each
    queries = ["库存", "so-1005", '"第3批"', "盘点 -SO-1001", "批 from:@王老板"]
    before = {q: found(world, world.member, q, limit=50) for q in queries}
    assert sorted(before["库存"]) == sorted(ids)
    progress: list[tuple[int, int]] = []
    assert indexer.rebuild_workspace(world.workspace.pk, lambda done, total: progress.append((done, total))) == 30
    assert progress[-1] == (30, 30)
    assert {q: found(world, world.member, q, limit=50) for q in queries} == before
    assert indexer.check_workspace(world.workspace.pk).ok
    # Nothing is re-applied after a rebuild: its cursors start at the end of the log.
    assert indexer.index_pending().changed == 0


def test_concurrent_writer_makes_the_indexer_skip_not_block(world: World) -> None:
    conv = make_channel(world)
    msg_id = send(world, world.owner, conv, "锁 测试")["id"]
    held = indexer.get_backend().writer(world.workspace.pk)
    try:
        report = indexer.index_pending()
        assert report.busy == [world.workspace.pk] and report.changed == 0
    finally:
        held.cancel()
    assert found(world, world.member, "锁") == [msg_id]


def test_permission_mask_and_allow_list_give_the_same_answer(world: World) -> None:
    """Readers of most conversations get an exclusion mask, others an allow-list: both exact,
    across several index segments (one commit per send here)."""
    public = [make_channel(world, f"公开{i}") for i in range(3)]
    private = make_channel(world, "私密", kind="private", member_ids=[world.member.user.pk])
    expected_public = []
    for conv in public:
        expected_public.append(send(world, world.owner, conv, "季度 报表")["id"])
        indexer.index_pending()  # a segment per message
    secret = send(world, world.owner, private, "季度 报表 私密")["id"]
    # member2 reads 3 of 4 conversations: the mask path; member reads all 4: no filter at all.
    assert sorted(found(world, world.member2, "季度")) == sorted(expected_public)
    assert sorted(found(world, world.member, "季度")) == sorted([*expected_public, secret])
    # The guest reads none of them, then one shared channel: the allow-list path.
    assert found(world, world.guest, "季度") == []
    world.api(world.owner).post(f"/api/v1/conversations/{public[0]}/share", {"partner_id": world.customer.pk})
    assert found(world, world.guest, "季度") == [expected_public[0]]
