"""messaging's part of a workspace archive (hub/portability): conversations with their members
and partner shares, messages with edits and reactions, pins, attachments (files byte for byte)
and the event log.

Import rebuilds the event log instead of copying it: every conversation gets one
``message.new`` event per message, in the original order, with the message as it is now
(edits, deletions, reactions, attachments applied). The copied log's payloads would carry the
source's ids; a compacted log is what a client replaying from 0 needs anyway. Read cursors are
carried over onto the new numbering. Per-person state (saved messages, followed threads,
notification settings) stays behind.
"""

from __future__ import annotations

import bisect
import posixpath
import uuid
from collections import defaultdict
from pathlib import PurePosixPath
from typing import Any

from hub.portability.archive import ExportContext, ImportContext
from hub.portability.registry import register_contributor
from messaging.attachments import storage_name
from messaging.models import (
    Attachment,
    Conversation,
    ConversationShare,
    Event,
    Mention,
    Message,
    MessageEdit,
    Participant,
    Pin,
    Reaction,
)
from messaging.serializers import message_payload

CHUNK = 1000


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _safe_name(name: str) -> str:
    """An archive member name from an uploader's file name: no folders, no dot files."""
    base = PurePosixPath(name.replace("\\", "/")).name.lstrip(".") or "file"
    return base[:150]


class MessagingContributor:
    name = "messaging"
    order = 10

    def count(self, workspace_id: int) -> int:
        conversations = Conversation.objects.filter(workspace_id=workspace_id)
        return (
            conversations.count()
            + Message.objects.filter(conversation__in=conversations).count()
            + Attachment.objects.filter(workspace_id=workspace_id).count()
        )

    # --- export ----------------------------------------------------------------------------

    def export(self, ctx: ExportContext) -> None:
        ws = ctx.workspace_id
        conversations = []
        for conv in Conversation.objects.filter(workspace_id=ws).order_by("pk").prefetch_related("participants"):
            conversations.append(
                {
                    "id": conv.pk,
                    "kind": conv.kind,
                    "name": conv.name,
                    "topic": conv.topic,
                    "purpose": conv.purpose,
                    "created_by": ctx.person(conv.created_by_id),
                    "created_at": _iso(conv.created_at),
                    "archived_at": _iso(conv.archived_at),
                    "last_seq": conv.last_seq,
                    "shared_with": sorted(
                        ConversationShare.objects.filter(conversation=conv).values_list("partner_id", flat=True)
                    ),
                    "participants": [
                        {
                            "user": ctx.person(p.user_id),
                            "role": p.role,
                            "active": p.active,
                            "joined_at": _iso(p.joined_at),
                            "last_read_seq": p.last_read_seq,
                            "notification_level": p.notification_level,
                            "muted": p.muted,
                        }
                        for p in conv.participants.all()
                    ],
                }
            )
        ctx.write_json("messaging/conversations.json", conversations)
        ctx.advance(len(conversations))
        self._export_messages(ctx)
        pins = [
            {"message": p.message_id, "pinned_by": ctx.person(p.pinned_by_id), "pinned_at": _iso(p.pinned_at)}
            for p in Pin.objects.filter(conversation__workspace_id=ws).order_by("pk")
        ]
        ctx.write_json("messaging/pins.json", pins)
        self._export_attachments(ctx)
        with ctx.jsonl("messaging/events.jsonl") as write:
            events = Event.objects.filter(conversation__workspace_id=ws).order_by("conversation_id", "seq")
            for e in events.iterator(chunk_size=CHUNK):
                write(
                    {
                        "conversation": e.conversation_id,
                        "seq": e.seq,
                        "type": e.type,
                        "payload": e.payload,
                        "created_at": _iso(e.created_at),
                    }
                )

    def _export_messages(self, ctx: ExportContext) -> None:
        messages = Message.objects.filter(conversation__workspace_id=ctx.workspace_id).order_by("pk")
        with ctx.jsonl("messaging/messages.jsonl") as write:
            after = 0
            while True:
                chunk = list(messages.filter(pk__gt=after).prefetch_related("edits", "reactions")[:CHUNK])
                if not chunk:
                    return
                after = chunk[-1].pk
                for m in chunk:
                    write(
                        {
                            "id": m.pk,
                            "conversation": m.conversation_id,
                            "seq": m.seq,
                            "sender": ctx.person(m.sender_id),
                            "client_id": str(m.client_id),
                            "body": m.body,
                            "html": m.html,
                            "blocks": m.blocks,
                            "thread_root": m.thread_root_id,
                            "reply_count": m.reply_count,
                            "last_reply_at": _iso(m.last_reply_at),
                            "mentions": [ctx.person(u) for u in m.mentions or []],
                            "mentions_all": m.mentions_all,
                            "forwarded_from": m.forwarded_from_id,
                            "created_at": _iso(m.created_at),
                            "edited_at": _iso(m.edited_at),
                            "deleted_at": _iso(m.deleted_at),
                            "deleted_by": ctx.person(m.deleted_by_id),
                            "edits": [
                                {
                                    "previous_body": e.previous_body,
                                    "edited_by": ctx.person(e.edited_by_id),
                                    "edited_at": _iso(e.edited_at),
                                }
                                for e in m.edits.all()
                            ],
                            "reactions": [
                                {"user": ctx.person(r.user_id), "emoji": r.emoji, "created_at": _iso(r.created_at)}
                                for r in m.reactions.all()
                            ],
                        }
                    )
                ctx.advance(len(chunk))

    def _export_attachments(self, ctx: ExportContext) -> None:
        rows = []
        for a in Attachment.objects.filter(workspace_id=ctx.workspace_id).order_by("pk").iterator(chunk_size=CHUNK):
            folder = f"messaging/files/{a.pk}"
            file_arc = f"{folder}/{_safe_name(a.original_name)}"
            thumb_arc = f"{folder}/thumbnail{posixpath.splitext(a.thumbnail.name)[1]}" if a.thumbnail else None
            rows.append(
                {
                    "id": a.pk,
                    "conversation": a.conversation_id,
                    "message": a.message_id,
                    "uploader": ctx.person(a.uploader_id),
                    "original_name": a.original_name,
                    "content_type": a.content_type,
                    "size": a.size,
                    "width": a.width,
                    "height": a.height,
                    "created_at": _iso(a.created_at),
                    "file": file_arc if ctx.add_file(file_arc, a.file.name) else None,
                    "thumbnail": thumb_arc if thumb_arc and ctx.add_file(thumb_arc, a.thumbnail.name) else None,
                }
            )
            ctx.advance()
        ctx.write_json("messaging/attachments.json", rows)

    # --- import ----------------------------------------------------------------------------

    def import_(self, ctx: ImportContext) -> None:
        conversations = ctx.read_json("messaging/conversations.json", [])
        for row in conversations:
            self._import_conversation(ctx, row)
            ctx.advance()
        new_seqs = self._import_messages(ctx)
        self._import_pins(ctx)
        self._import_attachments(ctx)
        self._rebuild_log(ctx)
        # Read cursors onto the new numbering: read up to old seq N = read every message whose
        # old seq was <= N.
        for row in conversations:
            conv_id = ctx.ids.require("conversation", row["id"])
            old_seqs = new_seqs.get(conv_id, [])
            for p in row["participants"]:
                user_id = ctx.user(p["user"])
                if user_id is not None:
                    read = bisect.bisect_right(old_seqs, int(p["last_read_seq"]))
                    Participant.objects.filter(conversation_id=conv_id, user_id=user_id).update(last_read_seq=read)

    def _import_conversation(self, ctx: ImportContext, row: dict[str, Any]) -> None:
        participants = [(ctx.user(p["user"]), p) for p in row["participants"]]
        dm_key = None
        if row["kind"] == Conversation.Kind.DM:
            ids = sorted(u for u, _ in participants if u is not None)
            dm_key = f"dm:{ids[0]}:{ids[-1]}" if ids else None
        conv = Conversation.objects.create(
            workspace=ctx.workspace,
            kind=row["kind"],
            name=row["name"],
            topic=row.get("topic", ""),
            purpose=row.get("purpose", ""),
            created_by_id=ctx.user(row.get("created_by")),
            created_at=row["created_at"],
            archived_at=row.get("archived_at"),
            dm_key=dm_key,
        )
        ctx.ids.set("conversation", row["id"], conv.pk)
        for partner in row.get("shared_with", []):
            partner_id = ctx.ids.get("partner", partner)
            if partner_id is not None:
                ConversationShare.objects.create(conversation=conv, partner_id=partner_id)
        Participant.objects.bulk_create(
            [
                Participant(
                    conversation=conv,
                    user_id=user_id,
                    role=p["role"],
                    active=p["active"],
                    joined_at=p["joined_at"],
                    notification_level=p.get("notification_level", Participant.Level.ALL),
                    muted=p.get("muted", False),
                )
                for user_id, p in participants
                if user_id is not None
            ]
        )

    def _import_messages(self, ctx: ImportContext) -> dict[int, list[int]]:
        """Creates messages in (conversation, old seq) order with new gap-free seqs; returns the
        old seqs per new conversation id (sorted), for mapping read cursors."""
        rows = sorted(ctx.iter_jsonl("messaging/messages.jsonl"), key=lambda r: (r["conversation"], r["seq"]))
        old_seqs: dict[int, list[int]] = defaultdict(list)
        forwarded: list[tuple[int, int]] = []
        source = str(ctx.manifest["source"]["key"])
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            senders = {u for u in (ctx.user(r["sender"]) for r in chunk) if u is not None}
            clients = [r["client_id"] for r in chunk]
            taken = set(
                Message.objects.filter(client_id__in=clients, sender_id__in=senders).values_list(
                    "sender_id", "client_id"
                )
            )
            kept: list[tuple[dict[str, Any], Message]] = []
            for row in chunk:
                conv_id = ctx.ids.get("conversation", row["conversation"])
                sender_id = ctx.user(row["sender"])
                if conv_id is None or sender_id is None:
                    continue  # written during the export, after its conversation was read
                old_seqs[conv_id].append(int(row["seq"]))
                client_id = uuid.UUID(row["client_id"])
                if (sender_id, client_id) in taken:
                    # The same person's original message lives on this deployment too (a copy of
                    # a workspace): a derived id keeps (sender, client_id) unique.
                    client_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{source}/{client_id}")
                message = Message(
                    conversation_id=conv_id,
                    seq=len(old_seqs[conv_id]),
                    sender_id=sender_id,
                    client_id=client_id,
                    body=row["body"],
                    html=row["html"],
                    blocks=row.get("blocks") or [],
                    thread_root_id=ctx.ids.get("message", row.get("thread_root")),
                    reply_count=row.get("reply_count", 0),
                    last_reply_at=row.get("last_reply_at"),
                    mentions=[u for u in (ctx.user(m) for m in row.get("mentions", [])) if u is not None],
                    mentions_all=row.get("mentions_all", False),
                    created_at=row["created_at"],
                    edited_at=row.get("edited_at"),
                    deleted_at=row.get("deleted_at"),
                    deleted_by_id=ctx.user(row.get("deleted_by")),
                )
                kept.append((row, message))
            Message.objects.bulk_create([m for _, m in kept])
            # A reply whose root is in the same chunk learns the root's new id only now.
            late_roots = []
            for row, message in kept:
                ctx.ids.set("message", row["id"], message.pk)
                if row.get("forwarded_from") is not None:
                    forwarded.append((message.pk, row["forwarded_from"]))
                if row.get("thread_root") is not None and message.thread_root_id is None:
                    message.thread_root_id = ctx.ids.get("message", row["thread_root"])
                    late_roots.append(message)
            Message.objects.bulk_update(late_roots, ["thread_root_id"])
            self._import_details(ctx, kept)
            ctx.advance(len(chunk))
        for new_id, old_source in forwarded:
            Message.objects.filter(pk=new_id).update(forwarded_from_id=ctx.ids.get("message", old_source))
        return {k: sorted(v) for k, v in old_seqs.items()}

    def _import_details(self, ctx: ImportContext, kept: list[tuple[dict[str, Any], Message]]) -> None:
        edits, reactions, mentions = [], [], []
        for row, message in kept:
            message_id, conv_id = message.pk, message.conversation_id
            for e in row.get("edits", []):
                editor = ctx.user(e["edited_by"])
                if editor is not None:
                    edits.append(
                        MessageEdit(
                            message_id=message_id,
                            previous_body=e["previous_body"],
                            edited_by_id=editor,
                            edited_at=e["edited_at"],
                        )
                    )
            for r in row.get("reactions", []):
                user_id = ctx.user(r["user"])
                if user_id is not None:
                    reactions.append(
                        Reaction(message_id=message_id, user_id=user_id, emoji=r["emoji"], created_at=r["created_at"])
                    )
            if row.get("deleted_at") is None:
                for user_id in message.mentions:
                    mentions.append(
                        Mention(message_id=message_id, user_id=user_id, conversation_id=conv_id, seq=message.seq)
                    )
        MessageEdit.objects.bulk_create(edits)
        Reaction.objects.bulk_create(reactions, ignore_conflicts=True)
        Mention.objects.bulk_create(mentions, ignore_conflicts=True)

    def _import_pins(self, ctx: ImportContext) -> None:
        pins = []
        for row in ctx.read_json("messaging/pins.json", []):
            message_id = ctx.ids.get("message", row["message"])
            pinned_by = ctx.user(row["pinned_by"])
            if message_id is None or pinned_by is None:
                continue
            conv_id = Message.objects.filter(pk=message_id).values_list("conversation_id", flat=True).get()
            pins.append(
                Pin(conversation_id=conv_id, message_id=message_id, pinned_by_id=pinned_by, pinned_at=row["pinned_at"])
            )
        Pin.objects.bulk_create(pins)

    def _import_attachments(self, ctx: ImportContext) -> None:
        for row in ctx.read_json("messaging/attachments.json", []):
            conv_id = ctx.ids.get("conversation", row["conversation"])
            uploader = ctx.user(row["uploader"])
            if conv_id is None or uploader is None or not row.get("file"):
                ctx.advance()
                continue
            extension = posixpath.splitext(row["file"])[1].lower()[:10]
            stored = ctx.save_file(row["file"], storage_name("attachments", extension))
            thumb = ""
            if row.get("thumbnail"):
                thumb_ext = posixpath.splitext(row["thumbnail"])[1].lower()[:10]
                thumb = ctx.save_file(row["thumbnail"], storage_name("thumbnails", thumb_ext))
            attachment = Attachment.objects.create(
                workspace=ctx.workspace,
                conversation_id=conv_id,
                message_id=ctx.ids.get("message", row.get("message")),
                uploader_id=uploader,
                file=stored,
                thumbnail=thumb,
                original_name=row["original_name"],
                content_type=row["content_type"],
                size=row["size"],
                width=row.get("width"),
                height=row.get("height"),
                created_at=row["created_at"],
            )
            ctx.ids.set("attachment", row["id"], attachment.pk)
            ctx.advance()

    def _rebuild_log(self, ctx: ImportContext) -> None:
        """One message.new per message, as the message is now; conversations' last_seq follows."""
        for conv in Conversation.objects.filter(workspace=ctx.workspace):
            messages = (
                Message.objects.filter(conversation=conv)
                .select_related("sender", "pin")
                .prefetch_related("reactions", "attachments")
                .order_by("seq")
            )
            last = 0
            batch: list[Event] = []
            for message in messages.iterator(chunk_size=CHUNK):
                frame = {
                    "type": "message.new",
                    "conversation_id": conv.pk,
                    "seq": message.seq,
                    "message": message_payload(message),
                }
                batch.append(
                    Event(
                        conversation=conv,
                        seq=message.seq,
                        type="message.new",
                        payload=frame,
                        created_at=message.created_at,
                    )
                )
                last = message.seq
                if len(batch) >= CHUNK:
                    Event.objects.bulk_create(batch)
                    batch = []
            Event.objects.bulk_create(batch)
            Conversation.objects.filter(pk=conv.pk).update(last_seq=last)


register_contributor(MessagingContributor())
