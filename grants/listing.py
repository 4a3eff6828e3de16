"""Long lists of a round — screening, the ranking, a reviewer's reviews — a page at a time.

A list page reads its parameters from the query string with :func:`read` (page, page
size, sort key, state, region, free text), each checked against what the page allows:
anything else is a 400 in the reader's language, never a 500.  :func:`filtered` turns the
filters into SQL and :func:`page` cuts the ordered query with LIMIT/OFFSET, the row's id
last in the order so that a page never repeats or skips a row whatever ties the sort key
has.  The parameters go back into the pagination links and the CSV link, so moving
between pages or downloading keeps the filters.  The form that sets them is a plain GET
form (``templates/listing.pt``, macro ``filters``): it works without JavaScript.

The home page's short lists (:mod:`grants.home`) are cut at a few rows and link to their
full list; these are the lists of one round, which grow with the round.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from typing import Any, Iterable
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from sqlalchemy import exists, func, or_, select

from grants import regions, spreadsheet
from grants.i18n import _, ngettext, translate

PAGE_SIZE = 50  # rows per page unless the reader asks for another size
PAGE_SIZES = (25, 50, 100, 200)  # the sizes offered; more would make pages long again
MAX_PAGE = 100_000
MAX_TEXT = 200  # characters of free text searched for


@dataclass(frozen=True)
class Params:
    """What the reader asked of a list; ``sort`` is a key of the page's allow-list."""

    page: int = 1
    size: int = PAGE_SIZE
    sort: str = ""
    state: str = ""
    region: str = ""
    text: str = ""

    @property
    def filtered(self) -> bool:
        """Does the reader narrow the list (a page then says "nothing matches", not "nothing yet")?"""
        return bool(self.state or self.region or self.text)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def query(self, **changes) -> dict[str, Any]:
        """The query string of these parameters (with ``changes``), defaults left out."""
        p = replace(self, **changes)
        found = {"page": p.page if p.page != 1 else None, "size": p.size if p.size != PAGE_SIZE else None,
                 "sort": p.sort or None, "state": p.state or None, "region": p.region or None, "q": p.text or None}
        return {k: v for k, v in found.items() if v is not None}


@dataclass
class Page:
    """One page of a list, with what the template needs to draw its filters and links."""

    params: Params
    rows: list
    total: int
    sorts: dict[str, Any]  # key -> title, in the order offered
    states: dict[str, Any] = field(default_factory=dict)  # state id -> title; empty: no state filter
    state_label: Any = _("State")  # what the ``state`` parameter filters by (a role, an answer…)
    regions: bool = False  # does the list filter by region?
    url: str = ""  # the list's address, without a query
    sizes: tuple = PAGE_SIZES
    text_label: Any = _("Search titles and organisations")
    keep: dict = field(default_factory=dict)  # the page's own parameters (a stage, say), kept in links
    # Those of ``keep`` the page draws as fields of the filters form (macro slot ``fields``),
    # so the form does not carry them twice as hidden inputs.
    fields: tuple = ()

    @property
    def hidden(self) -> dict:
        """The page's own parameters the filters form carries unseen."""
        return {k: v for k, v in self.keep.items() if k not in self.fields}

    def link(self, **changes) -> str:
        """The list's address with these parameters (and ``changes``): filters kept."""
        query = {**self.keep, **self.params.query(**changes)}
        return f"{self.url}?{urlencode(query)}" if query else self.url

    def csv_link(self) -> str:
        return f"{self.url}?{urlencode({**self.keep, **self.params.query(page=1, size=PAGE_SIZE), 'format': 'csv'})}"

    def region_groups(self, locale: str) -> list:
        """The regions to filter by, a group per country, each named in ``locale``."""
        if not self.regions:
            return []
        return [(regions.country_name(country, locale), [(r.code, r.name(locale)) for r in regions.regions_for(country, locale)])
                for country in regions.COUNTRIES_WITH_REGIONS]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.params.size))

    @property
    def first(self) -> int:
        """The position (from 1) of the page's first row."""
        return self.params.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.params.offset + len(self.rows)


def _refuse(request, message) -> None:
    raise HTTPBadRequest(translate(request, message))


def read(request, sorts: Iterable[str], *, states: Iterable[str] = (), regions_filter: bool = False,
         default_sort: str = "") -> Params:
    """The list parameters of ``request``'s query string, each checked; a 400 for any
    value the page does not offer."""
    get = request.GET
    page = (get.get("page") or "1").strip()
    if not (page.isascii() and page.isdigit() and 1 <= int(page) <= MAX_PAGE):
        _refuse(request, _("The page number must be a whole number from 1."))
    size = (get.get("size") or str(PAGE_SIZE)).strip()
    if not (size.isascii() and size.isdigit() and int(size) in PAGE_SIZES):
        _refuse(request, _("Choose how many rows to show on a page: ${sizes}.",
                           mapping={"sizes": ", ".join(str(s) for s in PAGE_SIZES)}))
    sort = (get.get("sort") or default_sort).strip()
    if sort not in sorts:
        _refuse(request, _("This list cannot be sorted that way."))
    state = (get.get("state") or "").strip()
    if state and state not in states:
        _refuse(request, _("There is no such state to filter this list by."))
    region = (get.get("region") or "").strip()
    if region and not (regions_filter and regions.is_region(region)):
        _refuse(request, _("There is no such region to filter this list by."))
    text = (get.get("q") or "").strip()
    if len(text) > MAX_TEXT:
        _refuse(request, ngettext("Search for ${count} character or fewer.", "Search for ${count} characters or fewer.",
                                  MAX_TEXT))
    return Params(int(page), int(size), sort, state, region, text)


def like(text: str) -> str:
    """A LIKE pattern finding ``text`` anywhere, its own ``%``, ``_`` and ``\\`` taken literally
    (use with ``escape="\\\\"``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def text_filter(text: str, *columns):
    """Rows where any of ``columns`` contains ``text``, whatever its case."""
    pattern = like(text)
    return or_(*[func.lower(column).like(pattern, escape="\\") for column in columns])


def region_filter(code: str, organisation_id_column):
    """Rows whose organisation works in the region ``code``."""
    from grants.accounts.models import OrganisationRegion

    return exists().where(OrganisationRegion.organisation_id == organisation_id_column,
                          OrganisationRegion.region_code == code)


def application_filters(query, params: Params):
    """The state, region and free-text filters on a query of applications (joined to their
    organisation for the text: an application's title or its organisation's name)."""
    from grants.accounts.models import Organisation
    from grants.applications.models import Application

    if params.state:
        query = query.where(Application.state == params.state)
    if params.region:
        query = query.where(region_filter(params.region, Application.organisation_id))
    if params.text:
        query = query.where(Application.organisation_id.in_(
            select(Organisation.id).where(text_filter(params.text, Organisation.legal_name,
                                                      Organisation.alternative_name)))
            | text_filter(params.text, Application.title))
    return query


def grant_filters(query, params: Params, state_column):
    """The state (``state_column``), region and free-text filters on a query joined to an
    award, its application and the grantee (the text: the grantee's names or the award's
    title)."""
    from grants.accounts.models import Organisation
    from grants.applications.models import Application
    from grants.awards.models import Award

    if params.state:
        query = query.where(state_column == params.state)
    if params.region:
        query = query.where(region_filter(params.region, Application.organisation_id))
    if params.text:
        query = query.where(text_filter(params.text, Organisation.legal_name, Organisation.alternative_name,
                                        Award.title))
    return query


def page(request, query, params: Params, order: list, url: str, *, tuples: bool = False, total: int | None = None,
         **shown) -> Page:
    """The page ``params`` asks for of ``query`` (a select of rows, or of tuples of rows
    when ``tuples``), ordered by ``order`` (the sort key's columns, then an id), and the
    number of rows in all: counted, unless the caller knows it (``total``, from a kept
    counter, which costs the same at any size where a count grows with the list)."""
    db = request.dbsession
    if total is None:
        total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    cut = query.order_by(*order).limit(params.size).offset(params.offset)
    rows = [tuple(r) for r in db.execute(cut)] if tuples else list(db.scalars(cut).unique())
    return Page(params, rows, total, url=url, **shown)


def csv_response(request, filename: str, header: list, rows: Iterable[Iterable]) -> Response:
    """A CSV download streamed row by row through the spreadsheet-safe writer
    (:mod:`grants.spreadsheet`); ``header`` is translated for the reader."""
    # Read now: the body is written after the view returns, when the request's database
    # transaction is over.  The rows are plain values, a few hundred bytes each.
    rows = [list(row) for row in rows]

    def chunks():
        out = io.StringIO()
        writer = spreadsheet.writer(out, quoting=csv.QUOTE_MINIMAL)
        writer.writerow([translate(request, h) for h in header])
        for n, row in enumerate(rows, 1):
            writer.writerow(row)
            if n % 500 == 0:  # a few kilobytes at a time, never the whole file in memory
                yield out.getvalue().encode("utf-8")
                out.seek(0)
                out.truncate()
        yield out.getvalue().encode("utf-8")

    response = Response(content_type="text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="{filename}"'
    response.app_iter = chunks()
    return response


def chunks(db, query, size: int = 500):
    """The rows of ``query`` (ordered) in lists of ``size``: what a CSV of a large round
    needs for each row (its reviewers, say) is then fetched once per list, not per row."""
    offset = 0
    while True:
        chunk = list(db.scalars(query.limit(size).offset(offset)).unique())
        if chunk:
            yield chunk
        if len(chunk) < size:
            return
        offset += size


def batches(db, query, size: int = 500):
    """Every row of ``query`` (ordered), fetched ``size`` at a time so a CSV of a large
    round never holds the whole round in memory."""
    for chunk in chunks(db, query, size):
        yield from chunk
