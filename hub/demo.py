"""The demo workspace: a Hangzhou tea and packaging trader, its staff, one customer and one
supplier with guest contacts, and some conversation history in Chinese and English.

Deterministic: the same people, channels and messages (client ids are uuid5 of a fixed key)
on every fresh start, so tests and benchmarks can rely on it. Idempotent: loading it again
finds the existing workspace and changes nothing.

This module is part of the composition root (like ``hub/urls.py``): it creates data through
the actions of ``hub`` *and* ``messaging``. It imports messaging lazily and nothing in the
rest of ``hub`` imports this module, so the layering rule (hub imports no app above it)
holds for everything the apps themselves use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction

from hub import actions
from hub.models import Member, PartnerOrg, User, Workspace
from hub.signals import demo_workspace_created

if TYPE_CHECKING:
    from messaging.models import Conversation, Message

DEMO_WORKSPACE_NAME = "杭州西湖茶业有限公司"
DEMO_PASSWORD = "xiaowei-demo-2026"
_CLIENT_ID_NAMESPACE = uuid.UUID("6f1c2b1e-1d4a-4f39-9a57-2f3f0f5e7a10")


@dataclass(frozen=True)
class DemoPerson:
    key: str
    email: str
    display_name: str
    role: str
    title: str
    partner: str = ""  # key of the partner organisation, for guests


STAFF: tuple[DemoPerson, ...] = (
    DemoPerson("owner", "owner@demo.xiaowei.test", "陈建国", Member.Role.OWNER, "总经理"),
    DemoPerson("finance", "finance@demo.xiaowei.test", "周丽华", Member.Role.ADMIN, "财务经理"),
    DemoPerson("sales", "sales@demo.xiaowei.test", "林晓燕", Member.Role.MEMBER, "销售经理"),
    DemoPerson("purchasing", "purchasing@demo.xiaowei.test", "王志强", Member.Role.MEMBER, "采购主管"),
    DemoPerson("warehouse", "warehouse@demo.xiaowei.test", "赵德明", Member.Role.MEMBER, "仓库主管"),
)

PARTNERS: dict[str, tuple[str, str]] = {
    "customer": ("上海悦茗茶饮连锁有限公司", PartnerOrg.Kind.CUSTOMER),
    "supplier": ("安吉竹韵包装有限公司", PartnerOrg.Kind.SUPPLIER),
}

GUESTS: tuple[DemoPerson, ...] = (
    DemoPerson("customer", "customer@demo.xiaowei.test", "孙悦 (Sun Yue)", Member.Role.GUEST, "采购经理", "customer"),
    DemoPerson("supplier", "supplier@demo.xiaowei.test", "吴海峰", Member.Role.GUEST, "业务经理", "supplier"),
)

PEOPLE: tuple[DemoPerson, ...] = STAFF + GUESTS


@dataclass(frozen=True)
class DemoConversation:
    key: str
    kind: str
    name: str
    creator: str
    members: tuple[str, ...]
    shared_with: tuple[str, ...] = ()
    # (sender key, body, thread reply to message index or None)
    messages: tuple[tuple[str, str, int | None], ...] = ()


_ALL_STAFF = tuple(p.key for p in STAFF)

CONVERSATIONS: tuple[DemoConversation, ...] = (
    DemoConversation(
        "general",
        "public",
        "综合",
        "owner",
        _ALL_STAFF,
        messages=(
            ("owner", "大家早上好！今年明前龙井的第一批货下周二到仓，请各部门提前准备。", None),
            ("warehouse", "收到，冷库已经腾出 B2 区，预计能放 **1.2 吨**。", None),
            ("purchasing", "竹韵那边的礼盒包装也是下周到，我会跟他们确认具体时间。", None),
            ("finance", "提醒：本月报销单请在 25 号前提交。Expense reports are due on the 25th.", None),
            ("sales", "好的，春茶预售页面今天上线 👍", 0),
        ),
    ),
    DemoConversation(
        "sales",
        "public",
        "销售",
        "sales",
        ("owner", "sales", "finance"),
        messages=(
            ("sales", "悦茗连锁本季度想追加 300 盒西湖龙井礼盒，单价还在谈。", None),
            ("owner", "底价不要低于 ¥268/盒，运费我们承担。", None),
            ("sales", "Also: the Hamburg tea shop asked for an English price list and samples.", None),
            ("finance", "悦茗上一笔货款 ¥86,400 已到账，可以继续发货。", None),
        ),
    ),
    DemoConversation(
        "management",
        "private",
        "管理层",
        "owner",
        ("owner", "finance"),
        messages=(
            ("owner", "下个月考虑给仓库加一名临时工，春茶季太忙。", None),
            ("finance", "预算可以，我做一下人工成本测算。", None),
        ),
    ),
    DemoConversation(
        "customer_room",
        "private",
        "悦茗合作",
        "sales",
        ("owner", "sales", "warehouse"),
        shared_with=("customer",),
        messages=(
            ("sales", "孙经理您好，这是我们和悦茗的共享频道，订单和发货都可以在这里沟通。", None),
            ("customer", "好的林经理！300 盒礼盒最晚 4 月 10 日前能到上海吗？", None),
            ("warehouse", "可以，4 月 6 日发顺丰冷链，预计 4 月 8 日送达。", None),
            ("customer", "Great, thank you! 请顺便寄两份新包装的样品。", None),
        ),
    ),
    DemoConversation(
        "supplier_room",
        "private",
        "竹韵包装采购",
        "purchasing",
        ("owner", "purchasing", "warehouse"),
        shared_with=("supplier",),
        messages=(
            ("purchasing", "吴经理，礼盒 5000 套的交期能提前到 3 月 28 日吗？", None),
            ("supplier", "竹材已经备好，3 月 28 日可以先发 3000 套，余下 4 月 3 日发。", None),
            ("purchasing", "可以，请把发货单发到这里。", None),
        ),
    ),
    DemoConversation(
        "dm_owner_sales",
        "dm",
        "",
        "owner",
        ("sales",),
        messages=(
            ("owner", "晓燕，悦茗的合同这周能签下来吗？", None),
            ("sales", "周四去上海见孙经理，争取当面签。", None),
        ),
    ),
    DemoConversation(
        "group_spring",
        "group",
        "春茶备货",
        "sales",
        ("sales", "purchasing", "warehouse"),
        messages=(
            ("sales", "预售已经卖出 420 盒，备货量要不要上调？", None),
            ("purchasing", "茶农那边还能再供 200 斤，我先锁定。", None),
            ("warehouse", "OK, I'll reserve two more pallets in cold storage.", None),
        ),
    ),
)


@dataclass
class DemoData:
    workspace: Workspace
    created: bool
    users: dict[str, User] = field(default_factory=dict)
    partners: dict[str, PartnerOrg] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)


def client_id_for(conversation_key: str, index: int) -> uuid.UUID:
    return uuid.uuid5(_CLIENT_ID_NAMESPACE, f"demo:{conversation_key}:{index}")


def find_demo_workspace() -> Workspace | None:
    return (
        Workspace.objects.filter(
            name=DEMO_WORKSPACE_NAME, members__user__email=STAFF[0].email, members__role=Member.Role.OWNER
        )
        .order_by("pk")
        .first()
    )


def load_demo() -> DemoData:
    """Create the demo workspace, or return the existing one untouched."""
    existing = find_demo_workspace()
    if existing is not None:
        return _existing(existing)
    with transaction.atomic():
        return _create()


def _existing(workspace: Workspace) -> DemoData:
    from messaging.models import Conversation

    data = DemoData(workspace=workspace, created=False)
    data.users = {p.key: User.objects.get(email=p.email) for p in PEOPLE}
    data.partners = {key: PartnerOrg.objects.get(workspace=workspace, name=name) for key, (name, _) in PARTNERS.items()}
    for spec in CONVERSATIONS:
        conversation = _find_conversation(Conversation, workspace, spec, data)
        if conversation is not None:
            data.conversations[spec.key] = conversation
    demo_workspace_created.send(sender=DemoData, data=data)
    return data


def _find_conversation(
    model: type[Conversation], workspace: Workspace, spec: DemoConversation, data: DemoData
) -> Conversation | None:
    rows = model.objects.filter(workspace=workspace, kind=spec.kind)
    if spec.kind == "dm":
        low, high = sorted([data.users[spec.creator].pk, data.users[spec.members[0]].pk])
        return rows.filter(dm_key=f"dm:{low}:{high}").first()
    return rows.filter(name=spec.name).order_by("pk").first()


def _create() -> DemoData:
    from messaging import actions as messaging_actions

    owner_spec = STAFF[0]
    users = {p.key: _user(p) for p in PEOPLE}
    workspace = actions.do_create_workspace(users[owner_spec.key], DEMO_WORKSPACE_NAME)
    owner = Member.objects.get(workspace=workspace, user=users[owner_spec.key])
    owner.title = owner_spec.title
    owner.save(update_fields=["title"])
    partners = {key: actions.do_create_partner(owner, name, kind) for key, (name, kind) in PARTNERS.items()}
    members: dict[str, Member] = {owner_spec.key: owner}
    for person in PEOPLE[1:]:
        members[person.key] = actions.do_add_member(
            owner,
            workspace,
            users[person.key],
            person.role,
            partner=partners[person.partner] if person.partner else None,
            title=person.title,
        )
    data = DemoData(workspace=workspace, created=True, users=users, partners=partners)
    for spec in CONVERSATIONS:
        creator = members[spec.creator]
        # Guests of a shared channel get in through the share, not as invited participants.
        staff_ids = [users[k].pk for k in spec.members if not members[k].is_guest]
        conversation = messaging_actions.check_create_conversation(creator, spec.kind, spec.name, staff_ids)
        for partner_key in spec.shared_with:
            _share(creator, conversation, partners[partner_key])
        sent: list[Message] = []
        for index, (sender_key, body, reply_to) in enumerate(spec.messages):
            root_id = sent[reply_to].pk if reply_to is not None else None
            message, _ = messaging_actions.check_send_message(
                members[sender_key], conversation, body, client_id_for(spec.key, index), root_id
            )
            sent.append(message)
        data.conversations[spec.key] = conversation
    # As documented in hub.signals: also on creation, not only for an existing demo.
    demo_workspace_created.send(sender=DemoData, data=data)
    return data


def _user(person: DemoPerson) -> User:
    # Demo accounts sign in at once; allauth would otherwise ask to verify the address.
    return actions.do_create_user(person.email, DEMO_PASSWORD, person.display_name, email_verified=True)


def _share(member: Member, conversation: Conversation, partner: PartnerOrg) -> None:
    from messaging import actions as messaging_actions

    messaging_actions.check_share(member, conversation, partner)


def accounts_table() -> list[tuple[str, str, str]]:
    """(email, name, role) of every demo account, for the banner ``serve`` prints."""
    return [(p.email, p.display_name, p.role if not p.partner else f"guest · {PARTNERS[p.partner][0]}") for p in PEOPLE]
