"""Reads of documents: lists, details, versions, the persisted content."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum
from pycrdt import Doc

from docs_collab import access, content, store
from docs_collab.models import DocActivity, DocImage, Document, DocumentPermission, DocVersion
from hub.models import Member, User


def document_payload(document: Document, role: str | None = None) -> dict[str, Any]:
    return {
        "id": document.pk,
        "title": document.title,
        "workspace_id": document.workspace_id,
        "conversation_id": document.conversation_id,
        "default_access": document.default_access,
        "created_by_id": document.created_by_id,
        "last_editor_id": document.last_editor_id,
        "epoch": document.epoch,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
        "role": role,
        "socket_path": f"/ws/docs/{document.pk}/",
    }


def document_list(member: Member) -> list[dict[str, Any]]:
    documents = list(access.readable_documents(member).order_by("-updated_at", "-pk")[:500])
    overrides = dict(
        DocumentPermission.objects.filter(user_id=member.user_id, document__in=documents).values_list(
            "document_id", "role"
        )
    )
    out = []
    for document in documents:
        role = overrides.get(document.pk) or access._inherited(document)
        if member.is_guest and role == DocumentPermission.Role.OWNER:
            role = DocumentPermission.Role.EDIT
        out.append(document_payload(document, role))
    return out


def version_payload(version: DocVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "name": version.name,
        "kind": version.kind,
        "author_id": version.author_id,
        "created_at": version.created_at,
        "last_seq": version.last_seq,
        "size": len(version.state),
    }


def version_list(document: Document) -> list[dict[str, Any]]:
    versions = DocVersion.objects.filter(document=document).defer("state").order_by("-created_at", "-pk")
    return [
        {
            "id": v.pk,
            "name": v.name,
            "kind": v.kind,
            "author_id": v.author_id,
            "created_at": v.created_at,
            "last_seq": v.last_seq,
        }
        for v in versions
    ]


def persisted_doc(document: Document) -> Doc:
    return store.build_doc(store.load_state(document.pk))


def version_doc(version: DocVersion) -> Doc:
    return content.doc_from_state(bytes(version.state))


def rendered(doc: Doc) -> dict[str, str]:
    return {"markdown": content.to_markdown(doc), "html": content.to_html(doc), "text": content.plain_text(doc)}


def permissions(document: Document) -> list[dict[str, Any]]:
    return [
        {"user_id": uid, "role": role}
        for uid, role in DocumentPermission.objects.filter(document=document)
        .order_by("user_id")
        .values_list("user_id", "role")
    ]


def activity(document: Document, limit: int = 200) -> list[dict[str, Any]]:
    rows = DocActivity.objects.filter(document=document).order_by("-hour", "author_id")[:limit]
    return [{"author_id": r.author_id, "hour": r.hour, "updates": r.updates, "last_at": r.last_at} for r in rows]


MENTIONABLE_MAX = 20


def mentionable(document: Document, q: str) -> list[dict[str, Any]]:
    """Active members of the document's workspace who may read it, whose name or email starts
    with (or, for Chinese names, contains) ``q``: at most ``MENTIONABLE_MAX``."""
    needle = q.strip().lower()
    members = Member.objects.select_related("user").filter(workspace_id=document.workspace_id, is_active=True)
    out = []
    for member in members.order_by("user__display_name", "user_id"):
        name = member.user.name
        if needle and needle not in name.lower() and not member.user.email.lower().startswith(needle):
            continue
        if access.document_role(member, document) is None:
            continue
        out.append({"user_id": member.user_id, "name": name})
        if len(out) >= MENTIONABLE_MAX:
            break
    return out


def people(user_ids: list[int]) -> list[dict[str, Any]]:
    users = User.objects.in_bulk(user_ids)
    return [{"user_id": uid, "name": users[uid].name} for uid in user_ids if uid in users]


def image_bytes(workspace_id: int) -> int:
    """Storage taken by document images (counted in the workspace's storage quota)."""
    total = DocImage.objects.filter(document__workspace_id=workspace_id).aggregate(total=Sum("size"))["total"]
    return int(total or 0)
