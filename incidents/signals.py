"""Signals other apps listen to, so that ``incidents`` imports none of them.

``timeline_event_logged`` is sent inside the transaction that wrote the event: a receiver
that writes rows (an outgoing notification, say) commits or rolls back together with it.
"""

from django.dispatch import Signal

timeline_event_logged = Signal()  # kwargs: event

# An incident ended (closed or cancelled), sent inside the transaction that ended it; sent
# again when its ended record changes (a task made or done afterwards). The review side
# (the metrics row, the month's figures) listens.
incident_ended = Signal()  # kwargs: incident
