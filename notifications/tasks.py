"""Thin Celery tasks: load ids, call a service."""

from celery import shared_task

from . import services


@shared_task(name=services.DELIVER_TASK, ignore_result=True, acks_late=True)
def deliver(notification_id):
    services.deliver(notification_id)


@shared_task(name=services.DELIVER_BATCH_TASK, ignore_result=True, acks_late=True)
def deliver_batch(notification_ids):
    services.deliver_many(notification_ids)


@shared_task(ignore_result=True)
def sweep():
    """Beat entry "notifications-sweep": re-send what is pending and due."""
    services.sweep()
