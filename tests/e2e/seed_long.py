"""A 10,000-message channel for the virtual-timeline test, written in bulk (messages and their
``message.new`` events with gap-free seqs, as the actions would log them) — sending them one
by one through the actions would take minutes. Run with ``manage.py shell < seed_long.py``
in the test server's environment; prints ``LONG {"channel": id}``.

Message #37 carries a word found nowhere else (乌龙茶样品37号) for the jump-from-search test.
"""

import json
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from hub.models import Member, User
from messaging import actions as messaging_actions
from messaging.models import Conversation, Event, Message
from messaging.serializers import message_payload, prime_new_message

COUNT = 10_000
alice = User.objects.get(email="alice@e2e.test")
bob = User.objects.get(email="bob@e2e.test")
member = Member.objects.get(user=alice, workspace__name="杭州西湖茶业")
channel = messaging_actions.check_create_conversation(member, "public", "万条消息", [bob.pk])
start = timezone.now() - timedelta(minutes=3 * COUNT)
with transaction.atomic():
    conversation = Conversation.objects.select_for_update().get(pk=channel.pk)
    first_seq = conversation.last_seq + 1
    rows = []
    for i in range(1, COUNT + 1):
        body = f"第 {i} 条消息 message {i}" + (" 乌龙茶样品37号" if i == 37 else "")
        rows.append(
            Message(
                conversation=conversation,
                seq=first_seq + i - 1,
                sender=alice if (i // 4) % 2 == 0 else bob,
                client_id=uuid.uuid4(),
                body=body,
                html=f"<p>{body}</p>",
                created_at=start + timedelta(minutes=3 * i),
            )
        )
    created = Message.objects.bulk_create(rows, batch_size=1000)
    if created[0].pk is None:  # backends that do not return ids: read them back
        created = list(Message.objects.filter(conversation=conversation, seq__gte=first_seq).order_by("seq"))
    for m in created:
        prime_new_message(m, [])  # no reactions, pin or files yet: no queries per message
    Event.objects.bulk_create(
        [
            Event(
                conversation=conversation,
                seq=m.seq,
                type="message.new",
                payload={
                    "type": "message.new",
                    "conversation_id": conversation.pk,
                    "seq": m.seq,
                    "message": message_payload(m),
                },
                created_at=m.created_at,
            )
            for m in created
        ],
        batch_size=1000,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=first_seq + COUNT - 1)
print("LONG " + json.dumps({"channel": conversation.pk, "first_seq": first_seq}))
