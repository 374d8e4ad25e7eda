"""A ready-made contributor for apps whose workspace data is plain rows (the ERP bridge, the
built-in ERP-lite): every row of the listed models that belongs to the workspace, exported with
Django's JSON serializer and imported with its foreign keys re-pointed at the new rows.

Foreign keys are mapped by the target model:

* the workspace → the new workspace; people → ``ctx.user`` (matched by email);
* partner organisations, conversations, messages, attachments, documents → the rows their
  contributors created (kinds ``partner``, ``conversation``, ``message``, ``attachment``,
  ``document`` in ``ctx.ids``);
* another model of the same contributor → the row created for it (list models so that a row's
  targets come first);
* anything else, or a target the archive lacks → NULL when the field allows it, else the row
  is skipped (a reference can only be lost, never pointed at someone else's row).

``exclude`` names fields left out of the archive (secrets encrypted with this deployment's key,
job payloads); they get their defaults on import.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import serializers
from django.db.models import Model

from hub.portability.archive import ExportContext, ImportContext

CHUNK = 500

# Rows created by other contributors, by model label → the kind they register in ctx.ids.
_SHARED_KINDS = {
    "hub.partnerorg": "partner",
    "messaging.conversation": "conversation",
    "messaging.message": "message",
    "messaging.attachment": "attachment",
    "docs_collab.document": "document",
}


@dataclass
class ModelRowsContributor:
    name: str
    order: int
    # (model, lookup from the model to its workspace id, e.g. "workspace" or "source__workspace")
    models: Sequence[tuple[type[Model], str]]
    exclude: dict[str, set[str]] = field(default_factory=dict)  # model label → field names

    def _rows(self, model: type[Model], path: str, workspace_id: int) -> Any:
        return model._default_manager.filter(**{f"{path}_id": workspace_id}).order_by("pk")

    def _archive_name(self, model: type[Model]) -> str:
        return f"{self.name}/{model._meta.label_lower}.jsonl"

    def count(self, workspace_id: int) -> int:
        return sum(self._rows(m, p, workspace_id).count() for m, p in self.models)

    def export(self, ctx: ExportContext) -> None:
        for model, path in self.models:
            label = model._meta.label_lower
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if not f.primary_key and f.name not in self.exclude.get(label, set())
            ]
            people = [f for f in model._meta.concrete_fields if f.is_relation and _is_user_model(f)]
            rows = self._rows(model, path, ctx.workspace_id)
            for f in people:
                for user_id in rows.exclude(**{f"{f.attname}__isnull": True}).values_list(f.attname, flat=True):
                    ctx.person(user_id)
            with ctx.jsonl(self._archive_name(model)) as write:
                after: Any = None
                while True:
                    page = rows if after is None else rows.filter(pk__gt=after)
                    chunk = list(page[:CHUNK])
                    if not chunk:
                        break
                    after = chunk[-1].pk
                    # Django's serializer handles dates, decimals and bytes; one row per line.
                    for row in json.loads(serializers.serialize("json", chunk, fields=fields)):
                        write(row)
                    ctx.advance(len(chunk))

    def import_(self, ctx: ImportContext) -> None:
        for model, _path in self.models:
            label = model._meta.label_lower
            for row in ctx.iter_jsonl(self._archive_name(model)):
                for item in serializers.deserialize("json", json.dumps([row])):
                    instance = item.object
                    old_pk = instance.pk
                    if self._remap(ctx, instance):
                        instance.pk = None
                        instance._state.adding = True
                        instance.save(force_insert=True)
                        ctx.ids.set(label, old_pk, instance.pk)
                    ctx.advance()

    def _remap(self, ctx: ImportContext, instance: Model) -> bool:
        """Points the instance's foreign keys at this deployment's rows; False = skip the row."""
        for f in instance._meta.concrete_fields:
            related = f.related_model
            if not f.is_relation or related is None or isinstance(related, str):
                continue
            old = getattr(instance, f.attname)
            if old is None:
                continue
            target = related._meta.label_lower
            new: int | None
            if _is_user_model(f):
                new = ctx.user(old)
            elif target == "hub.workspace":
                new = ctx.workspace_id
            else:
                new = ctx.ids.get(_SHARED_KINDS.get(target, target), old)
            if new is None and not f.null:
                return False
            setattr(instance, f.attname, new)
        return True


def _is_user_model(f: Any) -> bool:
    return bool(f.related_model is not None and f.related_model._meta.label == settings.AUTH_USER_MODEL)
