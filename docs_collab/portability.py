"""docs_collab's part of a workspace archive (hub/portability): each live document's title,
conversation, access settings and per-person permissions, its full state as one Yjs update
(base64 — what the editor loads) and its plain text (readable without the hub).

Import stores the state as the document's snapshot; the update log starts empty after it.
Version history stays behind (the current content is what moves).
"""

from __future__ import annotations

import base64
from typing import Any

from django.utils import timezone

from docs_collab.content import plain_text
from docs_collab.models import DocSnapshot, Document, DocumentPermission
from docs_collab.store import build_doc, load_state
from hub.portability.archive import ArchiveError, ExportContext, ImportContext
from hub.portability.registry import register_contributor


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class DocumentsContributor:
    name = "docs_collab"
    order = 20  # after messaging: documents may belong to a conversation

    def _live(self, workspace_id: int) -> Any:
        return Document.objects.filter(workspace_id=workspace_id, deleted_at__isnull=True)

    def count(self, workspace_id: int) -> int:
        return int(self._live(workspace_id).count())

    def export(self, ctx: ExportContext) -> None:
        rows = []
        for document in self._live(ctx.workspace_id).order_by("pk"):
            doc = build_doc(load_state(document.pk))
            rows.append(
                {
                    "id": document.pk,
                    "title": document.title,
                    "conversation": document.conversation_id,
                    "default_access": document.default_access,
                    "created_by": ctx.person(document.created_by_id),
                    "last_editor": ctx.person(document.last_editor_id),
                    "created_at": _iso(document.created_at),
                    "updated_at": _iso(document.updated_at),
                    "state": base64.b64encode(doc.get_update()).decode("ascii"),
                    "text": plain_text(doc),
                    "permissions": [
                        {"user": ctx.person(p.user_id), "role": p.role, "granted_by": ctx.person(p.granted_by_id)}
                        for p in DocumentPermission.objects.filter(document=document).order_by("pk")
                    ],
                }
            )
            ctx.advance()
        ctx.write_json("docs_collab/documents.json", rows)

    def import_(self, ctx: ImportContext) -> None:
        for row in ctx.read_json("docs_collab/documents.json", []):
            try:
                state = base64.b64decode(row["state"], validate=True)
            except (ValueError, TypeError):
                raise ArchiveError("archive_damaged", f"document {row.get('id')} has no valid state") from None
            document = Document.objects.create(
                workspace=ctx.workspace,
                title=row["title"],
                conversation_id=ctx.ids.get("conversation", row.get("conversation")),
                default_access=row["default_access"],
                created_by_id=ctx.user(row.get("created_by")),
                last_editor_id=ctx.user(row.get("last_editor")),
                created_at=row["created_at"],
                updated_at=row.get("updated_at") or timezone.now(),
                # The snapshot covers "seq 1": the store reads a snapshot only past the reader's
                # position, and the next edit is appended as seq 2.
                last_update_seq=1,
            )
            DocSnapshot.objects.create(document=document, state=state, last_seq=1)
            for perm in row.get("permissions", []):
                user_id = ctx.user(perm["user"])
                if user_id is not None:
                    DocumentPermission.objects.create(
                        document=document,
                        user_id=user_id,
                        role=perm["role"],
                        granted_by_id=ctx.user(perm["granted_by"]),
                    )
            ctx.ids.set("document", row["id"], document.pk)
            ctx.advance()


register_contributor(DocumentsContributor())
