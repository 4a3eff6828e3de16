"""The round's public report and its settings.

* ``/programmes/{p}/rounds/{r}/@@public-report`` — anyone may read it once it is
  published; before that only the round's officers (``programmes:round:manage``) see it,
  as a preview, and everyone else gets 404 (its existence is no one else's business).
  Printable: the print stylesheet hides the site's navigation and keeps the charts.
* ``…/@@public-report-settings`` — for the round's officers: publish or withdraw the
  report, the smallest count it shows, and the funders it must not name.
"""
from __future__ import annotations

import colander
import deform
from decimal import Decimal

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.renderers import render
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from grants import regions
from grants.concurrency import editing_form, with_version
from grants.forms import FormSchema, flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_datetime, translate
from grants.programmes.forms import WholeNumber
from grants.programmes.models import Round
from grants.programmes.views import money_formatter
from grants.security import Permission

from . import charts, public

T = "grants.templates:reporting/"
CHECKBOXES = "grants.templates:incubation/checkbox_fieldset.pt"

STAGE_TITLES = {
    "applied": _("Applied"),
    "eligible": _("Eligible"),
    "incubated": _("Incubated"),
    "funded": _("Funded"),
}
ROLE_TITLES = {"lead": _("Lead funder"), "co_funder": _("Co-funder")}
SCOPE_TITLES = {"round": _("This round"), "programme": _("The whole programme")}
AGGREGATE_TITLES = {"sum": _("Total across grantees"), "mean": _("Average across grantees")}
WAVE_TITLES = {"baseline": _("Baseline"), "post": _("After the activities"), "plus_3_months": _("3 months later"),
               "plus_6_months": _("6 months later")}
FIGURE_TITLES = {"baseline": _("Baseline"), "target": _("Target"), "result": _("Latest accepted result")}


def number_formatter(request):
    """For templates: a number as the page's language writes it."""
    locale = request.locale_name

    def fmt(value, empty="—"):
        return empty if value is None else charts.format_number(value, locale)

    return fmt


def percent_formatter(request):
    locale = request.locale_name

    def fmt(share, empty="—"):
        if share is None:
            return empty
        from babel.numbers import format_percent

        return format_percent(share, format="#,##0.#%", locale=locale)

    return fmt


def cell_formatter(request, threshold: int):
    """For templates: a report cell as the page shows it, "fewer than 5" when suppressed."""
    number = number_formatter(request)
    small = translate(request, _("fewer than ${n}", mapping={"n": number(threshold)}))
    secondary = translate(request, _("not shown"))

    def fmt(cell, empty="—"):
        if cell.suppressed:
            return secondary if cell.why == public.SECONDARY else small
        return number(cell.value, empty)

    return fmt


def region_label(request, code: str) -> str:
    if code == public.NO_REGION:
        return translate(request, _("No region given"))
    return regions.label(code, request.locale_name)


# -- the report ---------------------------------------------------------------------------------------


def _charts(request, report: public.PublicReport) -> dict:
    """The report's charts, their words in the page's language.  Suppressed figures are
    left out (the tables say "fewer than N")."""
    tr = lambda message: translate(request, message)  # noqa: E731
    locale, rtl = request.locale_name, request.text_direction == "rtl"
    left_out = tr(_("Counts below ${n} are not shown.", mapping={"n": report.threshold}))
    found = {}
    bars = [charts.Bar(tr(STAGE_TITLES[s]), report.funnel[s].value, i)
            for i, s in enumerate(report.stages) if report.funnel[s].shown]
    if bars:
        found["funnel"] = charts.bar_chart(
            "chart-funnel", tr(_("From application to grant")),
            tr(_("Applications at each stage, from those who applied to those funded.")) + " " + left_out,
            [charts.Bar(b.label, b.value, 0) for b in bars], locale=locale, rtl=rtl)
    groups = []
    for row in report.by_region:
        shown = [charts.Bar(tr(STAGE_TITLES[s]), row.cells[s].value, i)
                 for i, s in enumerate(report.stages) if row.cells[s].shown and row.cells[s].value]
        if shown:
            groups.append(charts.Group(region_label(request, row.region), tuple(shown)))
    if groups:
        found["regions"] = charts.bar_chart(
            "chart-regions", tr(_("Each stage, by region")),
            tr(_("For each region, how many applications reached each stage. An organisation working in two "
                 "regions counts in both.")) + " " + left_out,
            groups, locale=locale, rtl=rtl, legend=[tr(STAGE_TITLES[s]) for s in report.stages])
    indicator_charts = {}
    for n, line in enumerate(report.indicators):
        figures = [("baseline", line.baseline), ("target", line.target), ("result", line.result)]
        shown = [charts.Bar(tr(FIGURE_TITLES[k]), cell.value, i)
                 for i, (k, cell) in enumerate(figures) if cell.shown and cell.value is not None]
        if shown:
            indicator_charts[line.key] = charts.bar_chart(
                f"chart-indicator-{n}", line.title,
                tr(_("Baseline, target and latest accepted result: ${how}.",
                     mapping={"how": tr(AGGREGATE_TITLES[line.aggregate])})),
                shown, locale=locale, rtl=rtl, unit=line.unit if line.unit != "%" else "%")
    found["indicators"] = indicator_charts
    return found


@view_config(context=Round, name="public-report", renderer=T + "public_report.pt",
             permission=NO_PERMISSION_REQUIRED)
def public_report_page(context, request):
    may_manage = bool(request.has_permission(Permission.ProgrammesRoundManage, context))
    if context.report_published_at is None and not may_manage:
        raise HTTPNotFound()
    # The published report is read by anyone, often: kept until its data change
    # (public.cached_public_report); an officer's preview is always gathered afresh.
    gather = public.public_report if context.report_published_at is None else public.cached_public_report
    # Read first: a bad page or filter is a 400 before the figures are gathered.
    grants = public.grants_page(request, context)
    report = gather(request.dbsession, request.registry, context, locale=request.locale_name)
    if context.report_published_at is None:
        request.response.headers["Cache-Control"] = "private, no-store"
    page = {
        "rnd": context,
        "programme": context.programme,
        "report": report,
        "page": grants,  # a page of the funded organisations (listing macros call it ``page``)
        "filtered": grants.params.filtered,
        "charts": _charts(request, report),
        "preview": context.report_published_at is None,
        "may_manage": may_manage,
        "published_on": format_datetime(context.report_published_at, context.timezone or "UTC")
        if context.report_published_at else None,
        "money": money_formatter(request),
        "number": number_formatter(request),
        "show": cell_formatter(request, report.threshold),
        "percent": percent_formatter(request),
        "region_label": lambda code: region_label(request, code),
        "stage_titles": STAGE_TITLES,
        "role_titles": ROLE_TITLES,
        "scope_titles": SCOPE_TITLES,
        "aggregate_titles": AGGREGATE_TITLES,
        "wave_titles": WAVE_TITLES,
        "figure_titles": FIGURE_TITLES,
    }
    page["show_value"] = _value_formatter(request, page)
    page["section_html"] = {content.section.name: render(content.section.template, {**page, "section": content},
                                                          request=request)
                            for content in report.sections if content.section.template}
    return page


def _value_formatter(request, page):
    """For a plugin's section: a value of its table as the page shows it."""
    from grants.money import Money, MoneyBag

    def fmt(value):
        if isinstance(value, public.Cell):
            return page["show"](value)
        if isinstance(value, (Money, MoneyBag)):
            return page["money"](value)
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return page["number"](value)
        if hasattr(value, "interpolate"):
            return translate(request, value)
        return "—" if value is None else str(value)

    return fmt


# -- the settings ---------------------------------------------------------------------------------------


THRESHOLD_MESSAGE = _("Enter the smallest count to show, a whole number from ${min} to ${max}, like 5",
                      mapping={"min": public.MIN_THRESHOLD, "max": public.MAX_THRESHOLD})


@colander.deferred
def _funder_choices(node, kw):
    return deform.widget.CheckboxChoiceWidget(values=kw["funders"], template=CHECKBOXES, category="structural")


@colander.deferred
def _funder_validator(node, kw):
    allowed = {value for value, _label in kw["funders"]}

    def validate(node, value):
        if set(value) - allowed:
            raise colander.Invalid(node, _("Choose funders of this round or of its programme"))

    return validate


class ReportOptionsSchema(FormSchema):
    small_cell_threshold = colander.SchemaNode(
        WholeNumber(minimum=public.MIN_THRESHOLD, maximum=public.MAX_THRESHOLD, message=THRESHOLD_MESSAGE),
        title=_("Smallest count shown"),
        description=_("Counts above 0 and below this are shown as “fewer than …” and left out of the charts, so "
                      "that no one can be recognised in a small group. 5 is usual."),
        missing_msg=THRESHOLD_MESSAGE,
        widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={
            "inputmode": "numeric", "size": "3", "dir": "ltr", "autocomplete": "off"}))
    hidden_funder_ids = colander.SchemaNode(
        colander.Set(), title=_("Funders not named on public pages"), missing=(),
        description=_("Their money is still shown, as “Another funder”. Use this where a funder's name could "
                      "change how communities see the work."),
        widget=_funder_choices, validator=_funder_validator)


OPTIONS_FIELDS = {"small_cell_threshold": "small_cell_threshold", "hidden_funder_ids": "hidden_funder_ids"}


def _options_form(request, rnd):
    funders = [(str(f.id), f.name) for f in public.programme_funders(rnd)]
    return make_form(request, with_version(ReportOptionsSchema(), rnd), "report-options", _("Save the settings"),
                     bind={"funders": funders})


def _options_current(rnd) -> dict:
    return {"small_cell_threshold": rnd.small_cell_threshold,
            "hidden_funder_ids": {str(i) for i in rnd.hidden_funder_ids or ()}}


def _settings_page(context, request, *, form_html=None, errors=()):
    if form_html is None:
        form_html = _options_form(request, context).render(_options_current(context))
    return {
        "rnd": context,
        "programme": context.programme,
        "form_html": form_html,
        "errors": list(errors),
        "published_on": format_datetime(context.report_published_at, context.timezone or "UTC")
        if context.report_published_at else None,
    }


@view_config(context=Round, name="public-report-settings", renderer=T + "settings.pt",
             permission=Permission.ProgrammesRoundManage)
def public_report_settings(context, request):
    if request.method != "POST":
        return _settings_page(context, request)
    formid = request.POST.get("__formid__", "")
    here = request.resource_url(context, "public-report-settings")
    if formid == "publish":
        public.publish_report(request.dbsession, context, user=request.user)
        flash_done(request, _("The public report is published: anyone can read it."))
        return HTTPFound(location=here)
    if formid == "unpublish":
        public.unpublish_report(request.dbsession, context, user=request.user)
        flash_done(request, _("The public report is withdrawn: only the round's officers can see it."))
        return HTTPFound(location=here)
    if formid != "report-options":
        raise HTTPNotFound()
    form = _options_form(request, context)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        failed = form_failed(request, failure)
        return _settings_page(context, request, form_html=failed["form_html"], errors=failed["errors"])
    try:
        with editing_form(request, context, form, data, stored=lambda: _options_current(context)):
            public.set_report_options(request.dbsession, context,
                                      small_cell_threshold=data["small_cell_threshold"],
                                      hidden_funder_ids=[int(i) for i in data["hidden_funder_ids"]],
                                      user=request.user)
    except public.ReportRefused as refused:
        request.tm.doom()
        failed = form_refused(request, form, refused.problems, OPTIONS_FIELDS)
        return _settings_page(context, request, form_html=failed["form_html"], errors=failed["errors"])
    flash_done(request, _("Settings saved."))
    return HTTPFound(location=here)


def includeme(config):
    config.scan(__name__)
