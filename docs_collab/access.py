"""Who may view, edit and own which document. Every documents permission rule lives here, one
condition per line.

The rule: a per-user ``DocumentPermission`` wins; otherwise access is inherited — from the
conversation the document lives in (its readers get ``default_access``), or, for a document
outside any conversation, from being staff of the workspace. Guests reach a document only
through a conversation shared with their organisation, whatever the overrides say.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from docs_collab.models import Document, DocumentPermission
from hub.access import access_member
from hub.errors import NotFound, PermissionDenied
from hub.models import Member, User
from messaging.access import can_read, readable_conversations

Role = DocumentPermission.Role
_RANK = {Role.VIEW: 1, Role.EDIT: 2, Role.OWNER: 3}


@dataclass(frozen=True)
class DocumentGrant:
    member: Member
    document: Document
    role: str  # "owner" | "edit" | "view"

    @property
    def can_edit(self) -> bool:
        return _RANK[Role(self.role)] >= _RANK[Role.EDIT]

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


def _inherited(document: Document) -> str | None:
    if document.default_access == Document.Access.EDIT:
        return Role.EDIT
    if document.default_access == Document.Access.VIEW:
        return Role.VIEW
    return None


def document_role(member: Member, document: Document) -> str | None:
    if document.workspace_id != member.workspace_id:
        return None
    if document.deleted_at is not None:
        return None
    override = (
        DocumentPermission.objects.filter(document=document, user_id=member.user_id)
        .values_list("role", flat=True)
        .first()
    )
    if member.is_guest:
        if document.conversation is None:
            return None
        if not can_read(member, document.conversation):
            return None
        if override == Role.OWNER:
            return Role.EDIT  # guests never own a workspace's document
        return override or _inherited(document)
    if override is not None:
        return override
    if document.conversation is not None and not can_read(member, document.conversation):
        return None
    return _inherited(document)


def access_document(user: User, document_id: int, need: str = Role.VIEW) -> DocumentGrant:
    """The document with the caller's role, or 404 if they may not see it, 403 if they see it
    but lack ``need``."""
    document = Document.objects.select_related("conversation").filter(pk=document_id).first()
    if document is None:
        raise NotFound("document")
    try:
        member = access_member(user, document.workspace_id)
    except NotFound:
        raise NotFound("document") from None
    role = document_role(member, document)
    if role is None:
        raise NotFound("document")
    if _RANK[Role(role)] < _RANK[Role(need)]:
        raise PermissionDenied(f"you need {need} access to this document", code="document_" + need + "_required")
    return DocumentGrant(member, document, role)


def readable_documents(member: Member) -> QuerySet[Document]:
    """Documents of the member's workspace the member may at least view (same rule as
    ``document_role``, as one query)."""
    base = Document.objects.filter(workspace_id=member.workspace_id, deleted_at__isnull=True)
    conversations = readable_conversations(member).values("pk")
    overridden = DocumentPermission.objects.filter(user_id=member.user_id).values("document_id")
    inherited = ~Q(default_access=Document.Access.NONE) & ~Q(pk__in=overridden)
    if member.is_guest:
        in_shared = Q(conversation_id__in=conversations)
        return base.filter(in_shared & (Q(pk__in=overridden) | inherited))
    return base.filter(
        Q(pk__in=overridden) | (inherited & (Q(conversation__isnull=True) | Q(conversation_id__in=conversations)))
    )


def check_can_grant(grant: DocumentGrant, target: Member) -> None:
    if not grant.is_owner:
        raise PermissionDenied("only the document's owners can change who has access", code="document_owner_required")
    if target.workspace_id != grant.document.workspace_id:
        raise NotFound("user")
