"""Every write of documents, except the update log itself (``store.py``, driven by the room).
``check_*`` validates and calls ``do_*``; ``do_*`` writes inside a transaction and publishes on
commit."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from docs_collab import content, store
from docs_collab.access import DocumentGrant, check_can_grant, document_role
from docs_collab.events import DocAccessChangedMessage, DocReloadMessage, doc_group
from docs_collab.models import DocImage, DocMention, Document, DocumentPermission, DocVersion
from hub.errors import HubError, NotFound
from hub.models import Member
from hub.policy.quotas import check_storage_quota
from messaging import access as messaging_access
from messaging import actions as messaging_actions
from messaging import attachments as files
from messaging.models import Conversation
from messaging.publish import group_send_on_commit

logger = logging.getLogger(__name__)

TITLE_MAX = 200
VERSION_NAME_MAX = 120


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise HubError("title_required", "a document needs a title")
    if len(title) > TITLE_MAX or "\x00" in title:
        raise HubError("invalid_title", f"a title has at most {TITLE_MAX} characters and no NUL")
    return title


def check_create_document(
    member: Member, title: str, conversation: Conversation | None, default_access: str = Document.Access.EDIT
) -> Document:
    """``conversation`` has been fetched with ``messaging.access.access_conversation`` (readable).
    Creating a document in a conversation posts a card there, so it needs posting rights;
    guests may only create documents inside their shared channels."""
    title = _clean_title(title)
    if default_access not in Document.Access.values:
        raise HubError("invalid_access", "default_access is edit, view or none")
    if conversation is not None:
        messaging_access.check_can_post(member, conversation)
    elif member.is_guest:
        raise NotFound("conversation")
    return do_create_document(member, title, conversation, default_access)


def do_create_document(
    member: Member,
    title: str,
    conversation: Conversation | None,
    default_access: str,
    *,
    post_card: bool = True,
) -> Document:
    now = timezone.now()
    with transaction.atomic():
        document = Document.objects.create(
            workspace_id=member.workspace_id,
            title=title,
            conversation=conversation,
            default_access=default_access,
            created_by_id=member.user_id,
            created_at=now,
            updated_at=now,
            revision=1,  # searchable by its title before anyone types
        )
        DocumentPermission.objects.create(
            document=document, user_id=member.user_id, role=DocumentPermission.Role.OWNER, granted_by_id=member.user_id
        )
        if conversation is not None and post_card:
            # The card in the conversation: a ``document`` block (messaging/blocks.py) that the
            # web app renders as a live card (title, last edit, who is editing now), and the
            # link in the body for clients that do not know blocks (and for search).
            body = f"📄 [{title}]({document_url(document)})"
            card = [{"type": "document", "document_id": document.pk}]
            messaging_actions.check_send_message(member, conversation, body, uuid.uuid4(), blocks=card)
    return document


def check_update_document(grant: DocumentGrant, title: str | None, default_access: str | None) -> Document:
    document = grant.document
    fields = []
    if title is not None:
        if not grant.can_edit:
            raise HubError("document_edit_required", "you need edit access to rename this document", status=403)
        document.title = _clean_title(title)
        fields.append("title")
    if default_access is not None:
        if not grant.is_owner:
            raise HubError("document_owner_required", "only owners change the default access", status=403)
        if default_access not in Document.Access.values:
            raise HubError("invalid_access", "default_access is edit, view or none")
        document.default_access = default_access
        fields.append("default_access")
    if fields:
        document.updated_at = timezone.now()
        with transaction.atomic():
            document.save(update_fields=[*fields, "updated_at"])
            if "title" in fields:
                _touch_search(document.pk)
            if "default_access" in fields:
                _publish_access_changed(document.pk)
    return document


def _touch_search(document_id: int) -> None:
    """The search index must see this change (content flushes bump ``revision`` in the store)."""
    Document.objects.filter(pk=document_id).update(revision=F("revision") + 1)


def _publish_access_changed(document_id: int) -> None:
    """Open rooms re-check their sockets: whoever lost access is closed, whoever lost edit
    rights becomes a viewer, at once rather than at their next connection."""
    message: DocAccessChangedMessage = {"type": "doc.access_changed", "origin": "actions"}
    group_send_on_commit(doc_group(document_id), dict(message))


def check_set_permission(grant: DocumentGrant, user_id: int, role: str | None) -> None:
    target = Member.objects.filter(workspace_id=grant.document.workspace_id, user_id=user_id, is_active=True).first()
    if target is None:
        raise NotFound("user")
    check_can_grant(grant, target)
    if role is not None and role not in DocumentPermission.Role.values:
        raise HubError("invalid_role", "role is owner, edit or view")
    if role is None or role != DocumentPermission.Role.OWNER:
        others = DocumentPermission.objects.filter(document=grant.document, role=DocumentPermission.Role.OWNER).exclude(
            user_id=user_id
        )
        if not others.exists():
            raise HubError("last_owner", "a document keeps at least one owner")
    do_set_permission(grant, user_id, role)


def do_set_permission(grant: DocumentGrant, user_id: int, role: str | None) -> None:
    with transaction.atomic():
        if role is None:
            DocumentPermission.objects.filter(document=grant.document, user_id=user_id).delete()
        else:
            DocumentPermission.objects.update_or_create(
                document=grant.document, user_id=user_id, defaults={"role": role, "granted_by_id": grant.member.user_id}
            )
        _publish_access_changed(grant.document.pk)


def check_delete_document(grant: DocumentGrant) -> None:
    if not grant.is_owner:
        raise HubError("document_owner_required", "only owners delete a document", status=403)
    with transaction.atomic():
        Document.objects.filter(pk=grant.document.pk).update(deleted_at=timezone.now())
        _touch_search(grant.document.pk)
        _publish_access_changed(grant.document.pk)


# --- versions ----------------------------------------------------------------------------------


def check_create_version(grant: DocumentGrant, name: str) -> DocVersion:
    name = name.strip()
    if len(name) > VERSION_NAME_MAX or "\x00" in name:
        raise HubError("invalid_name", f"a version name has at most {VERSION_NAME_MAX} characters")
    if not grant.can_edit:
        raise HubError("document_edit_required", "you need edit access to save a version", status=403)
    state, last_seq = store.encoded_state(grant.document.pk)
    return DocVersion.objects.create(
        document=grant.document,
        name=name,
        kind=DocVersion.Kind.NAMED,
        state=state,
        last_seq=last_seq,
        author_id=grant.member.user_id,
    )


def check_restore_version(grant: DocumentGrant, version_id: int) -> tuple[Document, DocVersion]:
    if not grant.can_edit:
        raise HubError("document_edit_required", "you need edit access to restore a version", status=403)
    version = DocVersion.objects.filter(pk=version_id, document=grant.document).first()
    if version is None:
        raise NotFound("version")
    return do_restore_version(grant, version)


def do_restore_version(grant: DocumentGrant, version: DocVersion) -> tuple[Document, DocVersion]:
    """Restore = one new edit that makes the content equal to the version's: the current
    content is first kept as a "before restore" version, then replaced by copies of the old
    nodes. Nothing is rewritten, so clients merge the restore like any edit; the epoch is bumped
    and every open room tells its clients to reload (an editor's undo stack from before the
    restore would otherwise undo into the restored text)."""
    document = grant.document
    state = store.load_state(document.pk)
    current = store.build_doc(state)
    before = current.get_update()
    captured: list[bytes] = []
    subscription = current.observe(lambda event: captured.append(event.update))
    content.replace_content(current, content.doc_from_state(bytes(version.state)))
    current.unobserve(subscription)
    with transaction.atomic():
        kept = DocVersion.objects.create(
            document=document,
            name=f"before restoring {version.name or version.created_at.strftime('%Y-%m-%d %H:%M')}"[:VERSION_NAME_MAX],
            kind=DocVersion.Kind.RESTORE,
            state=before,
            last_seq=state.last_seq,
            author_id=grant.member.user_id,
        )
        if captured:
            store.append_batches(document.pk, [(grant.member.user_id, captured)])
        Document.objects.filter(pk=document.pk).update(epoch=F("epoch") + 1, updated_at=timezone.now())
        document.refresh_from_db()
        message: DocReloadMessage = {"type": "doc.reload", "origin": "actions", "epoch": document.epoch}
        group_send_on_commit(doc_group(document.pk), dict(message))
    return document, kept


# --- @mentions ---------------------------------------------------------------------------------


def document_url(document: Document) -> str:
    return f"/app/w/{document.workspace_id}/d/{document.pk}/"


def do_notify_mentions(document_id: int, author_id: int | None, user_ids: set[int]) -> list[int]:
    """People newly @mentioned in the persisted document are told in chat: a direct message from
    the author naming them (so messaging's mention pipeline — socket event, unread mention count,
    email digest — does the notifying). Once per document and person, whichever process sees
    the mention first (the unique ``DocMention`` row decides). Ids that are not members who may
    read the document are ignored: the ids come from the CRDT, which any editor can write.
    Returns the user ids notified."""
    document = Document.objects.select_related("conversation").filter(pk=document_id, deleted_at__isnull=True).first()
    if document is None or author_id is None:
        return []
    author = (
        Member.objects.select_related("user")
        .filter(workspace_id=document.workspace_id, user_id=author_id, is_active=True)
        .first()
    )
    if author is None:
        return []
    targets = Member.objects.select_related("user").filter(
        workspace_id=document.workspace_id, user_id__in=user_ids - {author_id}, is_active=True
    )
    notified = []
    for target in targets:
        if document_role(target, document) is None:
            continue
        with transaction.atomic():
            _, created = DocMention.objects.get_or_create(
                document=document, user_id=target.user_id, defaults={"mentioned_by_id": author_id}
            )
            if not created:
                continue
            try:
                dm = messaging_actions.check_create_conversation(author, Conversation.Kind.DM, "", [target.user_id])
                body = f"@{target.user.name} 我在文档 📄 [{document.title}]({document_url(document)}) 中提到了你"
                # A fixed client id: a retried notification is the same message, never a second one.
                client_id = uuid.uuid5(uuid.NAMESPACE_URL, f"hub-doc-mention:{document.pk}:{target.user_id}")
                messaging_actions.check_send_message(author, dm, body, client_id)
            except HubError:
                # A guest who may not reach this person, a sender over the rate limit: the
                # mention stays in the document; the notification is lost, not the edit.
                logger.info("document %s: could not notify user %s of a mention", document.pk, target.user_id)
                continue
        notified.append(target.user_id)
    return notified


# --- images ------------------------------------------------------------------------------------


def image_url(image: DocImage) -> str:
    return f"/api/v1/documents/{image.document_id}/images/{image.pk}"


def check_upload_image(grant: DocumentGrant, upload: UploadedFile) -> DocImage:
    """An image for the document: editors only, raster images only (PNG, JPEG, GIF, WebP — never
    SVG or HTML), within the upload size limit and the workspace's storage quota."""
    if not grant.can_edit:
        raise HubError("document_edit_required", "you need edit access to add images", status=403)
    size = upload.size or 0
    if size > settings.HUB_UPLOAD_MAX_BYTES:
        raise HubError("file_too_large", f"files are limited to {settings.HUB_UPLOAD_MAX_BYTES} bytes", status=413)
    if size == 0:
        raise HubError("empty_file", "the file is empty")
    check_storage_quota(grant.document.workspace_id, size)
    inspected = files.inspect_upload(upload)
    if inspected.content_type not in files.SAFE_INLINE_TYPES:
        raise HubError("not_an_image", "only PNG, JPEG, GIF and WebP images go into documents", status=415)
    # Uploads share the person's send budget, as for attachments.
    messaging_actions.check_send_rate(grant.member.user_id)
    return do_upload_image(grant, upload, inspected)


def do_upload_image(grant: DocumentGrant, upload: UploadedFile, inspected: files.Inspected) -> DocImage:
    stored = files.save_upload(upload, inspected)
    try:
        return DocImage.objects.create(
            document=grant.document,
            uploader_id=grant.member.user_id,
            file=stored,
            original_name=inspected.display_name,
            content_type=inspected.content_type,
            size=upload.size or 0,
            width=inspected.width,
            height=inspected.height,
        )
    except Exception:
        files.delete_stored(stored)  # no row, no file
        raise
