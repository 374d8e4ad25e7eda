"""Background jobs of workspace export (run by ``manage.py worker``)."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from hub.periodic import register_periodic
from hub.portability import actions


@task()
def run_export(job_id: int) -> str:
    return str(actions.run_export_job(job_id).status)


@task()
def delete_old_exports() -> int:
    return actions.do_delete_old_exports()


register_periodic(delete_old_exports, timedelta(days=1))
