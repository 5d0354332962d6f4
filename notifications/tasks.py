"""Thin Celery tasks: load ids, call a service."""

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def deliver(notification_id):
    from . import services

    services.deliver(notification_id)


@shared_task(ignore_result=True, acks_late=True)
def deliver_batch(notification_ids):
    from . import services

    services.deliver_many(notification_ids)


@shared_task(ignore_result=True)
def sweep():
    """Beat entry "notifications-sweep": re-send what is pending and due."""
    from . import services

    services.sweep()
