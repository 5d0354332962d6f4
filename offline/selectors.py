"""What the device keeps: the routine in force, its caller scripts, the triage guide, contacts."""

from django.utils import timezone

from incidents import pack


def device_pack():
    """The routine pack as the pages kept on the device show it, read now: the same contents
    as the printed emergency pack (``incidents.pack.routine_pack``)."""
    return {"pack": pack.routine_pack(), "made_at": timezone.now()}
