"""HTTP API of ``messaging``. Views authenticate (ninja), check access, call one action,
serialise."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema

from hub.access import access_member
from hub.apicore import authed_user
from hub.errors import HubError
from messaging import access, actions, queries
from messaging.models import Conversation
from messaging.schemas import (
    ConversationIn,
    ConversationOut,
    EventsOut,
    MessageIn,
    MessageOut,
    MessagesOut,
    ReadIn,
    ReadOut,
    ReceiptsOut,
)
from messaging.serializers import conversation_payload, message_payload

router = Router(tags=["messaging"])


@router.get("/conversations", response=list[ConversationOut])
def list_conversations(request: HttpRequest, workspace: int) -> object:
    return queries.conversation_list(access_member(authed_user(request), workspace))


@router.post("/conversations", response={201: ConversationOut})
def create_conversation(request: HttpRequest, payload: ConversationIn) -> tuple[int, object]:
    member = access_member(authed_user(request), payload.workspace_id)
    conversation = actions.check_create_conversation(member, payload.kind, payload.name, payload.member_ids)
    return 201, conversation_payload(conversation)


@router.get("/conversations/{conversation_id}", response=ConversationOut)
def get_conversation(request: HttpRequest, conversation_id: int) -> object:
    _, conversation = access.access_conversation(authed_user(request), conversation_id)
    return conversation_payload(conversation)


@router.post("/conversations/{conversation_id}/messages", response={200: MessageOut, 201: MessageOut})
def send_message(request: HttpRequest, conversation_id: int, payload: MessageIn) -> tuple[int, object]:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    message, created = actions.check_send_message(
        member, conversation, payload.body, payload.client_id, payload.thread_root_id
    )
    return (201 if created else 200), message_payload(message)


class PageParams(Schema):
    before: int | None = None
    after: int | None = None
    limit: int = 50
    thread: int | None = None


@router.get("/conversations/{conversation_id}/messages", response=MessagesOut)
def list_messages(request: HttpRequest, conversation_id: int, params: Query[PageParams]) -> dict[str, object]:
    _, conversation = access.access_conversation(authed_user(request), conversation_id)
    if not 1 <= params.limit <= queries.MESSAGES_MAX:
        raise HubError("invalid_limit", f"limit must be between 1 and {queries.MESSAGES_MAX}")
    messages, has_more = queries.message_page(
        conversation, before=params.before, after=params.after, limit=params.limit, thread_root_id=params.thread
    )
    return {"messages": messages, "has_more": has_more}


@router.get("/conversations/{conversation_id}/events", response=EventsOut)
def list_events(request: HttpRequest, conversation_id: int, after_seq: int = 0) -> dict[str, object]:
    _, conversation = access.access_conversation(authed_user(request), conversation_id)
    if after_seq < 0:
        raise HubError("invalid_seq", "after_seq must not be negative")
    events, has_more = queries.events_after(conversation.pk, after_seq)
    return {"events": events, "last_seq": conversation.last_seq, "has_more": has_more}


@router.post("/conversations/{conversation_id}/read", response=ReadOut)
def mark_read(request: HttpRequest, conversation_id: int, payload: ReadIn) -> dict[str, int]:
    user = authed_user(request)
    _, conversation = access.access_conversation(user, conversation_id)
    return {"last_read_seq": actions.do_mark_read(user, conversation, payload.seq)}


@router.get("/messages/{message_id}/receipts", response=ReceiptsOut)
def message_receipts(request: HttpRequest, message_id: int) -> dict[str, object]:
    member, message = access.access_message(authed_user(request), message_id)
    if not member.workspace.read_receipts_enabled:
        raise HubError("receipts_disabled", "read receipts are turned off in this workspace", status=403)
    read, unread = queries.receipts(message)
    return {"read": read, "unread": unread, "read_count": len(read), "total": len(read) + len(unread)}


__all__ = ["Conversation", "router"]
