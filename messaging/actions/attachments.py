"""Attachment writes: an upload becomes a stored file (+ thumbnail) and an ``Attachment`` row,
attached to a message later through ``attachment_ids`` on send."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from hub.errors import HubError
from hub.models import Member
from hub.policy.quotas import check_storage_quota
from messaging import access
from messaging import attachments as files
from messaging.actions._common import check_send_rate
from messaging.models import Attachment, Conversation


def check_upload_attachment(member: Member, conversation: Conversation, upload: UploadedFile) -> Attachment:
    access.check_can_post(member, conversation)
    size = upload.size or 0
    if size > settings.HUB_UPLOAD_MAX_BYTES:
        raise HubError("file_too_large", f"files are limited to {settings.HUB_UPLOAD_MAX_BYTES} bytes", status=413)
    if size == 0:
        raise HubError("empty_file", "the file is empty")
    check_storage_quota(conversation.workspace_id, size)
    inspected = files.inspect_upload(upload)
    # Uploads share the send budget: a flood of files is a flood of messages.
    check_send_rate(member.user_id)
    return do_create_attachment(member, conversation, upload, inspected)


def do_create_attachment(
    member: Member, conversation: Conversation, upload: UploadedFile, inspected: files.Inspected
) -> Attachment:
    stored = files.save_upload(upload, inspected)
    try:
        thumb = files.make_thumbnail(upload) if inspected.is_image else None
    except OSError:
        # The disk filled up between the file and its thumbnail: no orphan file either.
        files.delete_stored(stored)
        raise
    try:
        with transaction.atomic():
            return Attachment.objects.create(
                workspace_id=conversation.workspace_id,
                conversation=conversation,
                uploader_id=member.user_id,
                file=stored,
                thumbnail=thumb[0] if thumb else "",
                original_name=inspected.display_name,
                content_type=inspected.content_type,
                size=upload.size or 0,
                width=inspected.width,
                height=inspected.height,
            )
    except Exception:
        # No row, no file: never leave orphans on disk.
        files.delete_stored(stored, thumb[0] if thumb else "")
        raise
