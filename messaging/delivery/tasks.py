"""django-tasks entry points of the delivery pipeline (run by the worker ``serve`` starts)."""

from __future__ import annotations

from django_tasks import task

from messaging.delivery import pipeline


@task()
def collect_notifications(user_id: int) -> int:
    return len(pipeline.collect(user_id))


@task()
def send_notification(delivery_id: int) -> str:
    return pipeline.send(delivery_id)


@task()
def schedule_collects(user_ids: list[int]) -> int:
    pipeline.schedule_collects(user_ids)
    return len(user_ids)
