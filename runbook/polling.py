"""Cheap polling: a fragment is rendered once per change and an unchanged one costs no render.

A page part that refreshes itself (the live list, a part of the incident page) is keyed by a
*stamp*, a short text that changes whenever anything the part shows changes (for incidents:
``incidents.stamps``). Its ETag is made from the part's key, the stamp, the language, a
*variant* (what differs between viewers, "" when all see the same) and the moment the part
would read differently with nothing changed (a prognosis passing, a task falling overdue).

- A poll that brings back the current ETag costs the stamp's query and nothing else: htmx
  gets an empty 204, which it does not swap, any other client a 304.
- A changed part is rendered once, without the request (nothing of one viewer can leak into
  it), kept in the shared cache (Redis in production, the process's memory in the embedded
  default) and served from there to every other poller of the same key, stamp, language and
  variant. ``{% csrf_token %}`` in it renders a placeholder replaced per response.
- Texts that tick ("om 3 min", "2 h 05 min") are not a reason to render again: the part
  renders absolute times in ``<time>`` elements and ``static/js/app.js`` keeps the relative
  words beside them current (``data-until`` / ``data-since``, see ``relative_time_attrs``).

A list that refreshes itself (the live list) is made of rows kept one by one (``rows``): a
row is rendered once per version of its object and language, so a change to one incident
costs one row's rendering, not the whole list's; the list is then put together from kept rows.

A view uses it in three lines (see ``incidents.views.live`` and ``incidents.views.part``)::

    return polling.respond(request, key="live", stamp=stamps.live_stamp(),
                           template="incidents/_live_table.html", build=build)

where ``build()`` returns ``(context, next_change_at)``. The part's root element carries
``hx-get``, ``hx-trigger="every Ns"``, ``hx-swap="outerHTML"`` and
``hx-headers="{{ poll.headers }}"`` (the ETag it was rendered with).
"""

import hashlib
import json
import logging
import math
import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

log = logging.getLogger(__name__)

# What ``{% csrf_token %}`` renders inside a shared fragment; each response puts the
# viewer's own token in its place.
CSRF_PLACEHOLDER = "csrf-placeholder-5f0c1e"
# How long a whole page's part (CachedPart) is kept at most.
PAGE_PART_SECONDS = 60
# How long a list's row (rows) is kept at most; a newer version has another key anyway.
ROW_SECONDS = 600
# What the rows' template writes after each row (``{{ row_end }}``), to cut them apart.
ROW_END = "<!-- row-end-5f0c1e -->"


@lru_cache(maxsize=1)
def release():
    """A digest of the templates this code renders: a new release never serves old HTML."""
    digest = hashlib.blake2b(digest_size=6)
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += sorted(p for p in Path(settings.BASE_DIR).glob("*/templates") if p.is_dir())
    for root in roots:
        for path in sorted(root.rglob("*.html")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _digest(key, stamp, variant, language):
    raw = f"{key}|{stamp}|{variant}|{language}|{release()}"
    return hashlib.blake2b(raw.encode(), digest_size=10).hexdigest()


def _epoch(moment):
    return 0 if moment is None else math.ceil(moment.timestamp())


def token(key, stamp, next_change_at=None, variant=""):
    """The ``poll`` context of a part rendered now: its ETag and the htmx header carrying it."""
    etag = f'"{_digest(key, stamp, variant, get_language())}.{_epoch(next_change_at)}"'
    return {"etag": etag, "headers": json.dumps({"If-None-Match": etag})}


def _held(request, digest):
    """The client's ETag when it holds the part as it reads now (same digest, and no time
    threshold passed since it was rendered), else None."""
    for candidate in request.headers.get("If-None-Match", "").split(","):
        candidate = candidate.strip().removeprefix("W/")
        found, _dot, until = candidate.strip('"').partition(".")
        if found == digest and until.isdigit():
            return candidate if int(until) == 0 or time.time() < int(until) else None
    return None


def _unchanged(request, etag):
    response = HttpResponse(status=204 if getattr(request, "htmx", False) else 304)
    response["ETag"] = etag
    _no_store(response)
    return response


def _no_store(response):
    # Conditional requests are made by the page itself (hx-headers); the browser's own cache
    # must not answer a poll with an old copy.
    response["Cache-Control"] = "private, no-cache, no-store"
    response["Vary"] = "Cookie, HX-Request, Accept-Language"


def respond(request, *, key, stamp, template, build, variant=""):
    """Answer one poll of a part: 204/304 when unchanged, else the part (rendered once per change).

    ``key`` names the part (and its object: ``f"incident-{pk}-facts"``); ``stamp`` changes with
    every change the part shows; ``build()`` returns ``(context, next_change_at)``, where
    ``next_change_at`` is the first moment the part would read differently with no change
    (or None); ``variant`` tells apart viewers who see different content.
    """
    language = get_language()
    digest = _digest(key, stamp, variant, language)
    held = _held(request, digest)
    if held:
        return _unchanged(request, held)
    cache_key = f"poll:{digest}"
    entry = _cache_get(cache_key)
    now = time.time()
    if entry is None or (entry[1] and now >= entry[1]):
        context, next_change_at = build()
        until = _epoch(next_change_at)
        etag = f'"{digest}.{until}"'
        context = dict(context, poll={"etag": etag, "headers": json.dumps({"If-None-Match": etag})})
        context.setdefault("LANGUAGE_CODE", language)
        context["csrf_token"] = CSRF_PLACEHOLDER
        html = render_to_string(template, context)
        entry = (html, until)
        timeout = 600 if not until else max(1, min(600, until - int(now)))
        _cache_set(cache_key, entry, timeout)
    html, until = entry
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    response = HttpResponse(html)
    response["ETag"] = f'"{digest}.{until}"'
    _no_store(response)
    return response


def rows(key, versions, template, build):
    """The rows of a list as HTML, each kept per (object, version, language), and the first
    moment one of them would read differently with nothing changed (or None).

    ``versions`` is ``[(pk, version), ...]`` in the list's order, read before the rows (a
    change in between gives a newer version, never an older row under a newer one).
    ``build(pks)`` is called for the rows not kept and returns ``(context, moments)``: the
    context renders ``template``, which writes those rows in the order of ``pks``, each
    followed by ``{{ row_end }}``; ``moments`` gives each row's ``next_change_at``, in the
    same order. A row is rendered without the request, like a part.
    """
    language = get_language()
    keys = {pk: f"row:{_digest(f'{key}-{pk}', version, '', language)}" for pk, version in versions}
    found = _cache_get_many(list(keys.values()))
    now = time.time()
    kept = {}
    for pk, cache_key in keys.items():
        entry = found.get(cache_key)
        if entry is not None and (not entry[1] or now < entry[1]):
            kept[pk] = entry
    missing = [pk for pk, _version in versions if pk not in kept]
    if missing:
        context, moments = build(missing)
        html = render_to_string(template, dict(context, row_end=mark_safe(ROW_END)))  # noqa: S308 - a constant
        pieces = html.split(ROW_END)[: len(missing)]
        if len(pieces) != len(missing) or len(moments) != len(missing):
            raise ValueError(f"{template} wrote {len(pieces)} rows for {len(missing)}")
        fresh = {}
        for pk, piece, moment in zip(missing, pieces, moments, strict=True):
            kept[pk] = fresh[keys[pk]] = (piece, _epoch(moment))
        _cache_set_many(fresh, ROW_SECONDS)
    ordered = [kept[pk] for pk, _version in versions]
    until = min((entry[1] for entry in ordered if entry[1]), default=None)
    next_change_at = None if until is None else datetime.fromtimestamp(until, tz=UTC)
    return [mark_safe(entry[0]) for entry in ordered], next_change_at  # noqa: S308 - rendered by templates


def _cache_get_many(keys):
    try:
        return cache.get_many(keys)
    except Exception:  # noqa: BLE001 - without the cache every row renders; none fails
        log.warning("Fragment cache unreachable; rendering", exc_info=True)
        return {}


def _cache_set_many(entries, timeout):
    try:
        cache.set_many(entries, timeout)
    except Exception:  # noqa: BLE001
        log.warning("Fragment cache unreachable; not kept", exc_info=True)


def _cache_get(key):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - without the cache every poll renders; none fails
        log.warning("Fragment cache unreachable; rendering", exc_info=True)
        return None


def _cache_set(key, value, timeout):
    try:
        cache.set(key, value, timeout)
    except Exception:  # noqa: BLE001
        log.warning("Fragment cache unreachable; not kept", exc_info=True)


class CachedPart:
    """A part of a full page kept rendered per (key, stamp, language, variant): the incident page.

    The view asks ``hit`` before it reads anything for the part; on a hit it renders the page
    with only what lies outside the part, and ``{% cached_part %}`` (polling_tags) puts the kept
    HTML in. On a miss the view builds the whole context, sets ``until`` (the first moment the
    part reads differently with nothing changed) and the tag renders, keeps and returns it.
    Kept at most ``PAGE_PART_SECONDS``: what a part shows without a stamp (the contacts) is
    at most that old.
    """

    def __init__(self, key, stamp, variant=""):
        self.digest = _digest(key, stamp, variant, get_language())
        self.cache_key = f"part:{self.digest}"
        self.until = None
        entry = _cache_get(self.cache_key)
        self.entry = entry if entry is not None and (not entry[1] or time.time() < entry[1]) else None

    @property
    def hit(self):
        return self.entry is not None

    def html(self, render, request):
        """The part's HTML for this response: kept, or ``render()`` now (with the CSRF placeholder)."""
        if self.entry is None:
            until = _epoch(self.until)
            self.entry = (render(), until)
            timeout = PAGE_PART_SECONDS if not until else max(1, min(PAGE_PART_SECONDS, until - int(time.time())))
            _cache_set(self.cache_key, self.entry, timeout)
        html = self.entry[0]
        if CSRF_PLACEHOLDER in html and request is not None:
            html = html.replace(CSRF_PLACEHOLDER, get_token(request))
        return html
