"""The import's background job (django-tasks; ``serve`` / ``worker`` run the db worker)."""

from __future__ import annotations

from django_tasks import task

from crm_bridge.importer.run import run_job


@task()
def run_import_job(job_id: int) -> str:
    return run_job(job_id).state
