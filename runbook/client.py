"""Who is on the other end of a request: the client's address behind trusted proxies, and the
username a login attempt is recorded under (django-axes, the API's rate limits).

Behind a reverse proxy every request comes from the proxy's address. The address the proxy
saw is in ``X-Forwarded-For``, but anyone can send that header: it is read only when the
request comes from a proxy listed in TRUSTED_PROXIES (addresses or networks), and then from
the right, skipping the trusted proxies, so that what a client wrote itself at the left is
never taken for its address.
"""

import ipaddress

from django.conf import settings

USERNAME_MAX = 150


def _network(entry):
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


def networks(entries):
    """The addresses and networks of a setting's list (TRUSTED_PROXIES,
    METRICS_ALLOWED_NETWORKS). An entry that is neither is left out: it matches nobody, and
    ``manage.py check --deploy`` names it (runbook.checks, E015)."""
    return [network for network in map(_network, entries) if network is not None]


def not_networks(entries):
    """The entries of such a list that are no address or network."""
    return [entry for entry in entries if _network(entry) is None]


def in_networks(address, networks):
    """Whether ``address`` (a string) is an address inside one of ``networks``."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request):
    """The client's address: REMOTE_ADDR, or what trusted proxies say it is."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = networks(settings.TRUSTED_PROXIES)
    if not trusted or not in_networks(remote, trusted):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote  # a garbled header: the proxy's own address, never a guess
        if not in_networks(hop, trusted):
            return hop
    return hops[0] if hops else remote


def axes_client_ip(request):
    return client_ip(request)


def axes_username(request, credentials):
    """The username a login attempt is counted under, never longer than a username can be
    (a 300-character one would not fit the attempts table)."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return (username or "")[:USERNAME_MAX] or None
