"""Incremental sync into the record cache: everything on the first pass, only changes after,
idempotent, errors recorded per type without crashing, the command and the periodic task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command

from crm_bridge.models import ErpSource, RecordSnapshot, SyncState
from crm_bridge.signals import record_changed
from crm_bridge.sources.base import RecordType
from crm_bridge.sync import SYNC_TYPES, sync_source
from tests.crm_bridge.fakes import dataset as ds
from tests.crm_bridge.fakes.odoo import FakeOdoo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def changes() -> Any:
    seen: list[tuple[str, str | None]] = []

    def receiver(sender: Any, snapshot: RecordSnapshot, previous_version: str | None, **kwargs: Any) -> None:
        seen.append((snapshot.number, previous_version))

    record_changed.connect(receiver, weak=False)
    yield seen
    record_changed.disconnect(receiver)


def _numbers(row: ErpSource, record_type: RecordType) -> set[str]:
    return set(RecordSnapshot.objects.filter(source=row, record_type=record_type).values_list("number", flat=True))


@pytest.mark.parametrize("row_fixture", ["odoo_row", "erpnext_row"])
def test_first_pass_caches_every_record(request: pytest.FixtureRequest, row_fixture: str, changes: Any) -> None:
    row = request.getfixturevalue(row_fixture)
    report = sync_source(row, page_size=2)
    assert not report.errors
    assert _numbers(row, RecordType.SALES_ORDER) == {o.number for o in ds.SALES_ORDERS}
    assert _numbers(row, RecordType.PURCHASE_ORDER) == {o.number for o in ds.PURCHASE_ORDERS}
    assert _numbers(row, RecordType.INVOICE) == {i.number for i in ds.INVOICES}
    assert _numbers(row, RecordType.PRODUCT) == {p.sku for p in ds.PRODUCTS}
    assert _numbers(row, RecordType.CUSTOMER) >= {"C0001", "C0002"}
    assert report.changed == report.fetched == RecordSnapshot.objects.filter(source=row).count()
    assert len(changes) == report.changed  # one record_changed per new record
    states = {s.record_type: s for s in SyncState.objects.filter(source=row)}
    assert set(states) == {str(t) for t in SYNC_TYPES}
    assert all(s.cursor and s.last_success_at and not s.last_error for s in states.values())
    assert report.lag_seconds is not None and report.lag_seconds < 3600


def test_second_pass_is_idempotent_and_sees_only_changes(
    world: Any, odoo_fake: FakeOdoo, fresh_guards: None, changes: Any
) -> None:
    from tests.crm_bridge.remote_fixtures import make_odoo_row

    # Everything was written an hour ago; the look-back window is 5 minutes.
    odoo_fake.clock = lambda: datetime.now(UTC) - timedelta(hours=1)
    for table in odoo_fake.tables.values():
        for record in table.values():
            record["write_date"] = odoo_fake.now()
    odoo_fake.clock = lambda: datetime.now(UTC)
    row = make_odoo_row(world.workspace, odoo_fake)
    first = sync_source(row)
    assert first.fetched > 0
    changes.clear()
    second = sync_source(row)
    assert second.errors == {} and second.fetched == 0 and second.changed == 0 and changes == []
    so = odoo_fake.find("sale.order", name="SO-1002")
    odoo_fake.touch("sale.order", so, state="sale")
    third = sync_source(row)
    assert third.changed == 1 and [number for number, _ in changes] == ["SO-1002"]
    snapshot = RecordSnapshot.objects.get(source=row, record_type=RecordType.SALES_ORDER, key=str(so))
    assert snapshot.data["status"] == "confirmed"
    # Re-reading the overlap (a sync right after) changes nothing and signals nothing.
    changes.clear()
    again = sync_source(row)
    assert again.changed == 0 and changes == []


def test_full_pass_rereads_everything_without_signalling(odoo_row: ErpSource, changes: Any) -> None:
    first = sync_source(odoo_row)
    changes.clear()
    full = sync_source(odoo_row, full=True)
    assert full.fetched == first.fetched and full.changed == 0 and changes == []


def test_outage_is_recorded_not_raised(odoo_row: ErpSource, odoo_fake: FakeOdoo) -> None:
    odoo_fake.stop()
    report = sync_source(odoo_row)
    assert report.fetched == 0
    assert set(report.errors) == set(SYNC_TYPES)
    first = SyncState.objects.get(source=odoo_row, record_type=SYNC_TYPES[0])
    assert "cannot reach" in first.last_error and first.last_success_at is None
    assert report.lag_seconds is None


def test_error_in_one_type_does_not_stop_the_others(odoo_row: ErpSource, odoo_fake: FakeOdoo) -> None:
    del odoo_fake.tables["account.move"]  # this Odoo has no accounting module installed
    report = sync_source(odoo_row)
    assert set(report.errors) == {RecordType.INVOICE}
    assert _numbers(odoo_row, RecordType.SALES_ORDER) == {o.number for o in ds.SALES_ORDERS}
    assert "account.move" in SyncState.objects.get(source=odoo_row, record_type="invoice").last_error


def test_undecryptable_credentials_are_recorded(odoo_row: ErpSource) -> None:
    ErpSource.objects.filter(pk=odoo_row.pk).update(credentials_encrypted="gAAAAAB-garbage")
    odoo_row.refresh_from_db()
    report = sync_source(odoo_row)
    assert set(report.errors) == set(SYNC_TYPES)
    assert "decrypted" in SyncState.objects.get(source=odoo_row, record_type="customer").last_error


def test_lag_is_exported_as_a_metric(odoo_row: ErpSource) -> None:
    from hub.metrics import ERP_SYNC_LAG

    sync_source(odoo_row)
    value = ERP_SYNC_LAG.labels(source=f"{odoo_row.workspace_id}/{odoo_row.name}")._value.get()
    assert 0 <= value < 60


def test_sync_erp_command(odoo_row: ErpSource, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("sync_erp", "--source", str(odoo_row.pk))
    out = capsys.readouterr().out
    assert "records read" in out and "sales_order" in out
    assert RecordSnapshot.objects.filter(source=odoo_row).count() > 10


def test_sync_erp_command_exits_1_on_errors(odoo_row: ErpSource, odoo_fake: FakeOdoo, capsys: Any) -> None:
    odoo_fake.stop()
    with pytest.raises(SystemExit) as exited:
        call_command("sync_erp", "--workspace", str(odoo_row.workspace_id), "--full")
    assert exited.value.code == 1
    assert "cannot reach" in capsys.readouterr().out


def test_sync_erp_command_without_sources(world: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("sync_erp", "--source", "nope")


def test_periodic_task_syncs_due_sources(odoo_row: ErpSource, erpnext_row: ErpSource) -> None:
    from crm_bridge.sync_tasks import schedule_sync, sync_erp_sources

    result = sync_erp_sources.enqueue()
    assert result.return_value == {"sources": 2, "with_errors": 0}
    assert RecordSnapshot.objects.filter(source=erpnext_row).exists()
    # Just synced: nothing is due again yet.
    assert sync_erp_sources.enqueue().return_value == {"sources": 0, "with_errors": 0}
    assert schedule_sync() is False  # the immediate backend of the tests cannot defer


def test_migrate_rearms_the_periodic_sync(odoo_row: ErpSource, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    from crm_bridge.sync_tasks import schedule_after_migrate, sync_erp_sources

    schedule_after_migrate()
    queued = [r for r in default_task_backend.results if r.task.module_path == sync_erp_sources.module_path]
    assert len(queued) == 1 and queued[0].task.run_after is not None
