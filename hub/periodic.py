"""Periodic background jobs (daily retention, …) without a scheduler service.

Apps register a django-tasks task with an interval (``register_periodic``); ``manage.py
worker`` calls :func:`enqueue_due` every minute beside the ``db_worker`` it supervises. The
schedule's memory is the task queue itself: a job is enqueued again once its last enqueued run
(any state) is older than the interval, so a restart neither skips nor repeats a day. Two
workers may both enqueue in the same minute; periodic jobs are idempotent, so that costs one
extra pass, never a wrong result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    task: Any  # a django_tasks Task
    every: timedelta

    @property
    def path(self) -> str:
        return str(self.task.module_path)


_JOBS: dict[str, PeriodicJob] = {}


def register_periodic(task: Any, every: timedelta) -> None:
    job = PeriodicJob(task, every)
    _JOBS[job.path] = job


def periodic_jobs() -> list[PeriodicJob]:
    return list(_JOBS.values())


def _last_enqueued(path: str) -> datetime | None:
    from django_tasks_db.models import DBTaskResult

    runs = DBTaskResult.objects.filter(task_path=path).order_by("-enqueued_at")
    found: datetime | None = runs.values_list("enqueued_at", flat=True).first()
    return found


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue every registered job whose interval has passed; returns their paths."""
    now = now or timezone.now()
    enqueued = []
    for job in periodic_jobs():
        last = _last_enqueued(job.path)
        if last is None or now - last >= job.every:
            job.task.enqueue()
            enqueued.append(job.path)
            logger.info("periodic job %s enqueued", job.path)
    return enqueued
