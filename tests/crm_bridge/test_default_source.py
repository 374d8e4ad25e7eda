"""ERP-lite is the embedded default: a new workspace can use record references and slash
commands before anyone configures a source."""

from __future__ import annotations

from crm_bridge import access
from crm_bridge.models import ErpSource
from tests.conftest import World


def test_a_workspace_without_sources_gets_erplite_on_first_need(world: World) -> None:
    assert not ErpSource.objects.filter(workspace=world.workspace).exists()
    source = access.default_source(world.workspace.pk)
    assert source is not None and source.kind == ErpSource.Kind.BUILTIN and source.is_default
    assert access.default_source(world.workspace.pk) == source  # once, not per call
    assert ErpSource.objects.filter(workspace=world.workspace).count() == 1


def test_disabled_sources_are_respected(world: World) -> None:
    source = access.default_source(world.workspace.pk)
    assert source is not None
    ErpSource.objects.filter(pk=source.pk).update(enabled=False)
    assert access.default_source(world.workspace.pk) is None
    assert ErpSource.objects.filter(workspace=world.workspace).count() == 1
