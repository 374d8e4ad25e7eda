"""The contributors that make up a workspace archive.

``hub`` knows only this interface; every app that holds workspace data registers one
contributor from its ``portability`` module (found by ``PortabilityConfig.ready``):

* ``name`` — its folder in the zip (``messaging/…``), also the key in the manifest;
* ``order`` — contributors import in ascending order (hub's people first, then messaging,
  then the apps that point at conversations and messages: documents, ERP records);
* ``count(workspace_id)`` — units of work, for the progress bar;
* ``export(ctx)`` — writes its JSON and files through the :class:`~hub.portability.archive.ExportContext`;
* ``import_(ctx)`` — recreates its rows from the archive through the
  :class:`~hub.portability.archive.ImportContext`, mapping old ids to new ones with
  ``ctx.ids`` (users are mapped by hub before any contributor runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hub.portability.archive import ExportContext, ImportContext


class Contributor(Protocol):
    name: str
    order: int

    def count(self, workspace_id: int) -> int: ...

    def export(self, ctx: ExportContext) -> None: ...

    def import_(self, ctx: ImportContext) -> None: ...


_CONTRIBUTORS: dict[str, Contributor] = {}


def register_contributor(contributor: Contributor) -> None:
    _CONTRIBUTORS[contributor.name] = contributor


def contributors() -> list[Contributor]:
    return sorted(_CONTRIBUTORS.values(), key=lambda c: (c.order, c.name))
