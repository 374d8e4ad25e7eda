"""Collaborative documents: the document row, per-user permission overrides, the append-only
Yjs update log, the compacted snapshot and named/automatic versions.

The document's content is never stored as text: it is the Yjs state, i.e. the snapshot plus
every ``DocUpdate`` row not yet folded into it. See docs/documents.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.models import Workspace
from messaging.models import Conversation


class Document(models.Model):
    class Access(models.TextChoices):
        """What the inherited audience (readers of the conversation, or the workspace's staff
        for a document outside any conversation) may do without a per-user override."""

        EDIT = "edit", _("Can edit")
        VIEW = "view", _("Can view")
        NONE = "none", _("No access")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    default_access = models.CharField(max_length=8, choices=Access.choices, default=Access.EDIT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    last_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Bumped by a restore: a client that connects with an older epoch is told to reload.
    epoch = models.PositiveIntegerField(default=1)
    # The seq of the last DocUpdate row; incremented under the document's row lock inside the
    # transaction that stores the batch, so seqs per document are gap-free and in commit order
    # (a room that has applied up to seq N heals by reading seq > N, nothing can slip in behind).
    last_update_seq = models.BigIntegerField(default=0)
    # One compactor at a time: a lease claimed with a conditional UPDATE. Not a row lock held
    # for the whole compaction, because on SQLite (IMMEDIATE transactions) that would block every
    # writer of the database for as long as the replay takes; a lease also expires by itself
    # if the compacting process dies.
    compaction_lease_until = models.DateTimeField(null=True, blank=True)
    # Bumped by every change search must see (content flushed, renamed, deleted): the search
    # source's cursor per document is the revision it has indexed (docs_collab/search.py).
    revision = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-updated_at"], name="doc_ws_updated")]

    def __str__(self) -> str:
        return self.title


class DocumentPermission(models.Model):
    """A per-user override of the inherited access (it can raise or lower it)."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        EDIT = "edit", _("Can edit")
        VIEW = "view", _("Can view")

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="permissions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=8, choices=Role.choices)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "user"], name="docperm_unique_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} document {self.document_id}"


class DocUpdate(models.Model):
    """One batch of Yjs updates (v1 encoding), several per row: ``data`` is the concatenation of
    var-uint length-prefixed updates (docs_collab.protocol.pack_updates). Append-only: rows are
    only ever deleted by compaction, after their content is in the snapshot."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="updates")
    seq = models.BigIntegerField()
    data = models.BinaryField()
    update_count = models.PositiveIntegerField(default=1)
    # Who typed this batch (a batch holds one author's updates) — "who changed what, when".
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "seq"], name="docupdate_unique_seq")]

    def __str__(self) -> str:
        return f"document {self.document_id} update #{self.seq}"


class DocSnapshot(models.Model):
    """The compacted state: every update up to ``last_seq`` applied to one Doc and re-encoded."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="snapshot")
    state = models.BinaryField()
    last_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"document {self.document_id} snapshot through #{self.last_seq}"


class DocVersion(models.Model):
    class Kind(models.TextChoices):
        NAMED = "named", _("Named version")
        AUTO = "auto", _("Automatic version")
        RESTORE = "restore", _("Before restore")

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NAMED)
    state = models.BinaryField()
    # The log position the state covers, so "changes since this version" is a seq range.
    last_seq = models.BigIntegerField(default=0)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["document", "-created_at"], name="docversion_doc_time")]

    def __str__(self) -> str:
        return self.name or f"{self.kind} version of document {self.document_id}"


class DocActivity(models.Model):
    """Who changed the document when, per author and hour: survives compaction, which deletes
    the log rows (and with them their authors)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="activity")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    hour = models.DateTimeField()
    updates = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "author", "hour"], name="docactivity_unique_hour")]
        indexes = [models.Index(fields=["document", "-hour"], name="docactivity_doc_hour")]

    def __str__(self) -> str:
        return f"document {self.document_id}: {self.updates} updates by {self.author_id} at {self.hour:%Y-%m-%d %H}h"


class DocMention(models.Model):
    """Someone was @mentioned in the document and told so (once per document and person, across
    every server process: the unique row is what decides who notifies)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mentioned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "user"], name="docmention_unique_user")]

    def __str__(self) -> str:
        return f"{self.user_id} mentioned in document {self.document_id}"


class DocImage(models.Model):
    """An image in a document, uploaded like a message attachment (same checks, same storage)
    and served only to people who may read the document. The document's ``image`` node points
    at it by URL."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="images")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="doc-images/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.original_name
