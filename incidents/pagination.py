"""Paging through long lists without counting every row."""

from django.core.paginator import Paginator
from django.http import Http404
from django.utils.functional import cached_property

# Nobody pages this far; a larger page number is a 404, not a query for millions of rows.
MAX_PAGE = 100_000


def page_number(request):
    """The page asked for (``sida``); a number out of range is a 404 with its page."""
    number = request.GET.get("sida")
    if number is None or number == "":
        return None
    if not (number.isdigit() and len(number) <= 6 and 1 <= int(number) <= MAX_PAGE):
        if number.lstrip("-").isdigit():
            raise Http404
        return None  # not a number at all: the first page, as Django's paginator does
    return number


class BoundedPaginator(Paginator):
    """A paginator that counts the rows only as far as ``count_limit``.

    Counting every row a filter matches costs time that grows with the history, and past a
    few hundred rows nobody pages to the end: they narrow the filter. The count reaches at
    least one row past the page asked for, so "next" is always right. ``count`` is exact
    when ``exact`` is true, else a lower bound (``count_limit`` rows and more).
    """

    def __init__(self, object_list, per_page, *, count_limit, page_number=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        try:
            asked = max(int(page_number), 1)
        except (TypeError, ValueError):
            asked = 1
        self.count_limit = max(count_limit, asked * per_page)

    @cached_property
    def count(self):
        # One query: SELECT count(*) FROM (... LIMIT n + 1), which stops at n + 1 rows. The
        # order is dropped: any n + 1 rows will do, so the planner may take the cheapest.
        return self.object_list.order_by()[: self.count_limit + 1].count()

    @property
    def exact(self):
        return self.count <= self.count_limit
