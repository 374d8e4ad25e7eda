"""HTTP API of documents: create, list, get, rename/access, permissions, versions, restore,
export. Views are thin: check access, call one action or query, serialise."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Query, Router, Schema, Status

from docs_collab import access, actions, presence, queries, room, search
from docs_collab.models import DocImage, DocumentPermission, DocVersion
from hub.access import access_member
from hub.apicore import authed_user, multipart_upload_body
from hub.errors import HubError, NotFound
from messaging import attachments as files
from messaging.access import access_conversation

router = Router(tags=["documents"])


class DocumentIn(Schema):
    workspace_id: int
    title: str
    conversation_id: int | None = None
    default_access: Literal["edit", "view", "none"] = "edit"


class DocumentPatch(Schema):
    title: str | None = None
    default_access: Literal["edit", "view", "none"] | None = None


class DocumentOut(Schema):
    id: int
    title: str
    workspace_id: int
    conversation_id: int | None
    default_access: str
    created_by_id: int | None
    last_editor_id: int | None
    epoch: int
    created_at: datetime
    updated_at: datetime
    role: str | None
    socket_path: str


class PersonOut(Schema):
    user_id: int
    name: str


class DocumentDetailOut(DocumentOut):
    editing_now: int  # people with the document open, on every server process
    editors: list[PersonOut]  # who they are (the live card's "editing now")
    last_editor: PersonOut | None = None
    permissions: list[PermissionOut] | None = None


class DocumentSearchOut(Schema):
    id: int
    title: str
    conversation_id: int | None
    updated_at: datetime
    snippet: str  # HTML: the text escaped, matches wrapped in <mark>


class MentionableOut(Schema):
    user_id: int
    name: str


class ImageOut(Schema):
    id: int
    url: str  # what the editor's image node points at
    width: int | None
    height: int | None


_UPLOAD_BODY = multipart_upload_body()


class PermissionIn(Schema):
    user_id: int
    role: Literal["owner", "edit", "view"] | None  # null removes the override


class PermissionOut(Schema):
    user_id: int
    role: str


class ActivityOut(Schema):
    author_id: int | None
    hour: datetime
    updates: int
    last_at: datetime


class VersionIn(Schema):
    name: str = ""


class VersionOut(Schema):
    id: int
    name: str
    kind: str
    author_id: int | None
    created_at: datetime
    last_seq: int


class VersionDetailOut(VersionOut):
    markdown: str
    html: str
    text: str


class RestoreOut(Schema):
    document: DocumentOut
    before_restore_version_id: int


DocumentDetailOut.model_rebuild()


@router.post("/documents", response={201: DocumentOut})
def create_document(request: HttpRequest, payload: DocumentIn) -> Status:
    user = authed_user(request)
    member = access_member(user, payload.workspace_id)
    conversation = None
    if payload.conversation_id is not None:
        member, conversation = access_conversation(user, payload.conversation_id)
        if conversation.workspace_id != payload.workspace_id:
            raise HubError("conversation_mismatch", "the conversation is not in this workspace")
    document = actions.check_create_document(member, payload.title, conversation, payload.default_access)
    return Status(201, queries.document_payload(document, DocumentPermission.Role.OWNER))


@router.get("/documents", response=list[DocumentOut])
def list_documents(request: HttpRequest, workspace: int) -> object:
    return queries.document_list(access_member(authed_user(request), workspace))


@router.get("/documents/search", response=list[DocumentSearchOut])
def search_documents(request: HttpRequest, workspace: int, q: str, limit: int = Query(20, ge=1, le=50)) -> object:
    """Documents whose title or text match ``q`` (same query syntax as messages), among those
    the caller may read now."""
    member = access_member(authed_user(request), workspace)
    return [
        {
            "id": hit.document.pk,
            "title": hit.document.title,
            "conversation_id": hit.document.conversation_id,
            "updated_at": hit.document.updated_at,
            "snippet": hit.snippet,
        }
        for hit in search.search_documents(member, q, limit=limit)
    ]


@router.get("/documents/{document_id}/mentionable", response=list[MentionableOut])
def mentionable(request: HttpRequest, document_id: int, q: str = "") -> object:
    """Workspace members who may read the document (what typing ``@`` offers), by name."""
    grant = access.access_document(authed_user(request), document_id)
    return queries.mentionable(grant.document, q)


@router.get("/documents/{document_id}", response=DocumentDetailOut)
def get_document(request: HttpRequest, document_id: int) -> object:
    grant = access.access_document(authed_user(request), document_id)
    open_room = room.open_room(document_id)
    body = queries.document_payload(grant.document, grant.role)
    here = {uid for uid, _ in presence.people(document_id)}
    if open_room is not None:  # this process's sockets, even before its entry is written
        here |= {uid for uid, _ in open_room.people_here()}
    body["editors"] = queries.people(sorted(here))
    body["editing_now"] = len(body["editors"])
    last = grant.document.last_editor_id
    body["last_editor"] = next(iter(queries.people([last])), None) if last is not None else None
    if grant.is_owner:
        body["permissions"] = queries.permissions(grant.document)
    return body


@router.patch("/documents/{document_id}", response=DocumentOut)
def update_document(request: HttpRequest, document_id: int, payload: DocumentPatch) -> object:
    grant = access.access_document(authed_user(request), document_id)
    document = actions.check_update_document(grant, payload.title, payload.default_access)
    return queries.document_payload(document, grant.role)


@router.delete("/documents/{document_id}", response={204: None})
def delete_document(request: HttpRequest, document_id: int) -> Status:
    grant = access.access_document(authed_user(request), document_id)
    actions.check_delete_document(grant)
    return Status(204, None)


@router.post("/documents/{document_id}/permissions", response=list[PermissionOut])
def set_permission(request: HttpRequest, document_id: int, payload: PermissionIn) -> object:
    grant = access.access_document(authed_user(request), document_id)
    actions.check_set_permission(grant, payload.user_id, payload.role)
    return queries.permissions(grant.document)


@router.get("/documents/{document_id}/activity", response=list[ActivityOut])
def document_activity(request: HttpRequest, document_id: int) -> object:
    """Who changed the document when (per author and hour, newest first)."""
    grant = access.access_document(authed_user(request), document_id)
    return queries.activity(grant.document)


@router.get("/documents/{document_id}/versions", response=list[VersionOut])
def list_versions(request: HttpRequest, document_id: int) -> object:
    grant = access.access_document(authed_user(request), document_id)
    return queries.version_list(grant.document)


@router.post("/documents/{document_id}/versions", response={201: VersionOut})
def create_version(request: HttpRequest, document_id: int, payload: VersionIn) -> Status:
    grant = access.access_document(authed_user(request), document_id)
    version = actions.check_create_version(grant, payload.name)
    return Status(201, queries.version_payload(version))


@router.get("/documents/{document_id}/versions/{version_id}", response=VersionDetailOut)
def get_version(request: HttpRequest, document_id: int, version_id: int) -> object:
    grant = access.access_document(authed_user(request), document_id)
    version = DocVersion.objects.filter(pk=version_id, document=grant.document).first()
    if version is None:
        raise HubError("not_found", "version not found", status=404)
    return {**queries.version_payload(version), **queries.rendered(queries.version_doc(version))}


@router.post("/documents/{document_id}/versions/{version_id}/restore", response=RestoreOut)
def restore_version(request: HttpRequest, document_id: int, version_id: int) -> object:
    grant = access.access_document(authed_user(request), document_id)
    document, kept = actions.check_restore_version(grant, version_id)
    return {"document": queries.document_payload(document, grant.role), "before_restore_version_id": kept.pk}


@router.get("/documents/{document_id}/export", response={200: None})
def export_document(
    request: HttpRequest, document_id: int, format: Literal["markdown", "html"] = "markdown"
) -> HttpResponse:
    grant = access.access_document(authed_user(request), document_id)
    rendered = queries.rendered(queries.persisted_doc(grant.document))
    if format == "markdown":
        response = HttpResponse(rendered["markdown"], content_type="text/markdown; charset=utf-8")
        extension = "md"
    else:
        page = (
            f"<!doctype html><meta charset=utf-8><title>{html.escape(grant.document.title)}</title>\n{rendered['html']}"
        )
        response = HttpResponse(page, content_type="text/html; charset=utf-8")
        extension = "html"
    response["Content-Disposition"] = f'attachment; filename="document-{grant.document.pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/documents/{document_id}/images", response={201: ImageOut}, openapi_extra=_UPLOAD_BODY)
def upload_image(request: HttpRequest, document_id: int) -> Status:
    """Multipart upload (field ``file``) of an image for the document; insert the returned
    ``url`` as an image node. Read here (not as a ninja ``File``) so the size limit applies
    while streaming, after access was checked."""
    grant = access.access_document(authed_user(request), document_id)
    request.upload_handlers = [files.SizeLimitHandler(settings.HUB_UPLOAD_MAX_BYTES), *request.upload_handlers]
    upload = request.FILES.get("file")
    if upload is None:
        raise HubError("invalid_request", "send the image as multipart/form-data in the field 'file'", status=422)
    image = actions.check_upload_image(grant, upload)
    return Status(201, {"id": image.pk, "url": actions.image_url(image), "width": image.width, "height": image.height})


@router.get("/documents/{document_id}/images/{image_id}", response={200: None})
def download_image(request: HttpRequest, document_id: int, image_id: int) -> StreamingHttpResponse:
    grant = access.access_document(authed_user(request), document_id)
    image = DocImage.objects.filter(pk=image_id, document=grant.document).first()
    if image is None:
        raise NotFound("image")
    return files.file_response(image.file.name, image.content_type, image.original_name)
