"""Documents on paper: an HTML page made into an A4 PDF on the server (WeasyPrint).

The page brings its own CSS inline and draws its charts as inline SVG, so nothing is fetched
while it is made: the fetcher below refuses every address, and the fonts are the machine's
own (DejaVu or Liberation, installed by ``.ci/run`` and the Dockerfile with Pango).
"""

import functools
import logging
from pathlib import Path

from django.contrib.staticfiles import finders

# WeasyPrint reports each step of every document at INFO; keep only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class FetchRefused(ValueError):
    pass


def _no_fetching():
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):
        # An image or stylesheet by address would reach outside the app (or hang on a dead
        # network in the very outage the pack is printed for): the document is whole as it is.
        def fetch(self, url, headers=None):
            raise FetchRefused(f"PDF: no resources are fetched ({url[:80]})")

    return NoFetching()


@functools.cache
def static_text(path):
    """A stylesheet of the app's own, to put inline into a document."""
    found = finders.find(path)
    return Path(found).read_text(encoding="utf-8") if found else ""


def html_to_pdf(html):
    """The PDF of a whole HTML document (A4 comes from its ``@page`` rule)."""
    import weasyprint  # loads Pango; only the processes that make a PDF pay for it

    document = weasyprint.HTML(string=html, url_fetcher=_no_fetching(), base_url=None)
    return document.write_pdf()
