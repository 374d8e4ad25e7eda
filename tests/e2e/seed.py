"""Seed data for the browser tests, run inside the test server's environment with
``manage.py shell < seed.py``; prints one JSON line with the ids the tests need.

Two staff members of one workspace (Chinese and Latin names), a handful of channels so that
every test has a conversation of its own, and a 150-message history spread over three calendar days
(for infinite scroll, day separators and grouping).
"""

import json
import uuid
from datetime import timedelta

from django.utils import timezone

from hub import actions as hub_actions
from hub.models import Member, User
from messaging import actions as messaging_actions
from messaging.models import Conversation, Message

PASSWORD = "pw-E2e-Secret-2026"

alice = User.objects.create_user(email="alice@e2e.test", password=PASSWORD, display_name="王小明")
bob = User.objects.create_user(email="bob@e2e.test", password=PASSWORD, display_name="Bob Li")
dave = User.objects.create_user(email="dave@e2e.test", password=PASSWORD, display_name="陈大伟")
workspace = hub_actions.do_create_workspace(alice, "杭州西湖茶业")
Member.objects.create(workspace=workspace, user=bob, role=Member.Role.MEMBER)
Member.objects.create(workspace=workspace, user=dave, role=Member.Role.MEMBER)
alice_member = Member.objects.get(workspace=workspace, user=alice)
bob_member = Member.objects.get(workspace=workspace, user=bob)


def channel(name: str, kind: str = "public") -> int:
    return messaging_actions.check_create_conversation(alice_member, kind, name, [bob.pk]).pk


ids = {
    "workspace": workspace.pk,
    "alice": alice.pk,
    "bob": bob.pk,
    "dave": dave.pk,
    "chat": channel("销售部"),
    "offline": channel("仓库"),
    "sender_offline": channel("采购"),
    "unread": channel("random"),
    "history": channel("历史记录", "private"),
    "phone": channel("手机"),
    "grouping": channel("分组"),
    "gap": channel("丢包"),
    # Public, but Bob has not joined: he finds it under "other channels".
    "search": channel("搜索"),
    "actions": channel("操作"),
    "browse": messaging_actions.check_create_conversation(alice_member, "public", "茶话会", []).pk,
}

ids["mention"] = channel("提及")
ids["receipts"] = messaging_actions.check_create_conversation(alice_member, "public", "回执", [bob.pk, dave.pk]).pk
ids["dm"] = messaging_actions.check_create_conversation(alice_member, "dm", "", [bob.pk]).pk

# A customer's contact, a guest who sees only the channel shared with their company.
customer = hub_actions.do_create_partner(alice_member, "西湖茶馆", "customer")
carol = User.objects.create_user(email="carol@customer.test", password=PASSWORD, display_name="赵顾客")
Member.objects.create(workspace=workspace, user=carol, role=Member.Role.GUEST, partner=customer)
shared = Conversation.objects.get(pk=channel("客户对接"))
messaging_actions.check_share(alice_member, shared, customer)
ids["shared"] = shared.pk
ids["carol"] = carol.pk

# A second workspace of Alice's, for the workspace switcher.
branch = hub_actions.do_create_workspace(alice, "上海分公司")
branch_owner = Member.objects.get(workspace=branch, user=alice)
ids["branch"] = branch.pk
ids["branch_channel"] = messaging_actions.check_create_conversation(branch_owner, "public", "上海总群", []).pk

# 150 messages over about two and a half days, in runs of three by the same sender a minute
# apart (grouped under one header), runs 70 minutes apart (a new header each).
conversation_id = ids["history"]
conversation = Conversation.objects.get(pk=conversation_id)
start = timezone.now() - timedelta(minutes=70 * 50 + 5)
for i in range(150):
    sender = alice_member if (i // 3) % 2 == 0 else bob_member
    body = f"历史消息 {i + 1} — history message {i + 1}"
    if i == 6:
        body += " 碧螺春样品"  # a word found only here, for the jump-from-search test
    message, _ = messaging_actions.check_send_message(sender, conversation, body, uuid.uuid4())
    Message.objects.filter(pk=message.pk).update(created_at=start + timedelta(minutes=70 * (i // 3) + i % 3))

print("SEED " + json.dumps(ids))
