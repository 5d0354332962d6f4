"""Where a drill's notices may go: the drill endpoints, checked against the real ones.

A drill (övning) sends its notices for Vårdgivare Skåne, driftinfo and the phone queue only
to ``DRILL_<CHANNEL>_URL`` (the app's own drill receivers at ``/stubs/ovning/<channel>/`` by
default). A drill does not start while one of them is unset or points at a real endpoint
(compared after normalising: case, default port, trailing slash); the outbox refuses to send
a drill notice in that case as well. This module only reads settings, so that the incidents
app (which starts drills) and the notifications app (which sends) share one rule.
"""

from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Channel key -> (the real endpoint's setting, the drill endpoint's setting, what it is).
DRILL_CHANNELS = {
    "vardgivare_skane": ("VARDGIVARE_SKANE_URL", "DRILL_VARDGIVARE_SKANE_URL", gettext_lazy("Vårdgivare Skåne")),
    "driftinfo": ("DRIFTINFO_URL", "DRILL_DRIFTINFO_URL", gettext_lazy("driftinfo")),
    "telephony": ("TELEPHONY_URL", "DRILL_TELEPHONY_URL", gettext_lazy("telefonslingan")),
}
# Every real endpoint a drill endpoint must not be (mail and SMS gateways included).
REAL_SETTINGS = ("VARDGIVARE_SKANE_URL", "DRIFTINFO_URL", "TELEPHONY_URL", "EMAIL_URL", "SMS_URL")
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(url: str) -> str:
    """The address as a receiver sees it: ``HTTP://Host:80/a/`` and ``http://host/a`` are one."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url.lower()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host == "localhost":
        host = "127.0.0.1"
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    path = unquote(parts.path).rstrip("/")
    return f"{scheme}://{host}{path}" + (f"?{parts.query}" if parts.query else "")


def drill_url(channel: str) -> str:
    """The drill endpoint of ``channel`` as configured now ("" when unset)."""
    return (getattr(settings, DRILL_CHANNELS[channel][1], "") or "").strip()


def problem(channel: str) -> str:
    """Why a drill notice may not go to ``channel``'s drill endpoint now, or ""."""
    _real, name, _what = DRILL_CHANNELS[channel]
    url = drill_url(channel)
    if not url:
        return _("%(setting)s är inte inställd: övningens meddelanden till %(what)s har ingen mottagare.") % {
            "setting": name,
            "what": DRILL_CHANNELS[channel][2],
        }
    mine = normalise(url)
    for real in REAL_SETTINGS:
        if mine == normalise(getattr(settings, real, "") or ""):
            return _("%(setting)s pekar på samma adress som %(real)s, den riktiga mottagaren.") % {
                "setting": name,
                "real": real,
            }
    return ""


def problems() -> list[str]:
    """What keeps a drill from starting: one Swedish sentence per drill endpoint at fault."""
    return [p for p in (problem(channel) for channel in DRILL_CHANNELS) if p]
