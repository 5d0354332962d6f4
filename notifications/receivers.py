"""The notifications app listens to the incidents app; incidents never imports this app."""

from django.dispatch import receiver

from incidents.signals import timeline_event_logged

from . import services


@receiver(timeline_event_logged, dispatch_uid="notifications.on_timeline_event")
def on_timeline_event(sender, event, **kwargs):
    services.on_timeline_event(event)
