"""MEL pages.

On an award: ``@@framework`` (its theory of change and indicators, and for the grantee
and the officer the forms to add to them, or to pick an indicator from the library),
``@@framework-element?element=<id>`` and ``@@framework-indicator?indicator=<id>`` (change
or remove one), and ``@@reports`` (every reporting period and its report).

A report's own page: for the grantee while it is due, overdue or returned, the form
(narrative; per indicator the total and its disaggregated cells) with "Save draft" and
"Submit report"; read-only otherwise, with the officer's comments; for the officer on a
submitted report, "Accept" and "Return with comments".

On a round: ``@@reports-due`` (the officer's list of reports overdue and due soon).

Views translate between HTTP and the services: a refusal comes back as errors beside
the fields it is about, with everything typed kept (400)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.view import view_config

from grants.accounts.models import Organisation
from grants.applications.models import Application
from grants.awards.models import Award
from grants.concurrency import (
    Difference,
    StaleEdit,
    abandon_changes,
    editing,
    editing_form,
    refuse_overtaken,
    with_version,
)
from grants.forms import flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_datetime, translate
from grants.lifecycle.meanings import means
from grants.programmes.models import Round
from grants.resources import ReportsContainer
from grants.security import Permission
from grants.workflow import Refused

from grants.incubation.forms import stable_ids

from . import framework, services
from .forms import (
    indicator_field_map,
    indicator_schema,
    indicator_values,
    library_schema,
    toc_schema,
)
from .models import DIMENSIONS, Indicator, Report, TocElement

T = "grants.templates:mel/"


def _zone(award) -> str:
    return award.round.timezone if award.round is not None else "UTC"


def _state_title(request, obj):
    return request.workflows.workflow(obj).state_of(obj).title


def _require(request, permission, context) -> None:
    if not request.has_permission(permission, context):
        raise HTTPForbidden()


# -- the results framework -----------------------------------------------------------------------


def _toc_form(request, award, *, version_of=None):
    schema = toc_schema(request, award.round.programme)
    if version_of is not None:
        with_version(schema, version_of)
    form = make_form(request, schema, "toc", _("Add to the theory of change"))
    form.action = request.resource_url(award, "framework")
    return form


def _indicator_form(request, award, reports, elements, *, formid="indicator", button=None, action=None,
                    version_of=None):
    schema = indicator_schema(request, award, reports, elements)
    if version_of is not None:
        with_version(schema, version_of)
    form = make_form(request, schema, formid, button or _("Add the indicator"))
    stable_ids(form)
    form.action = action or request.resource_url(award, "framework")
    return form


def _library_form(request, award, reports, elements, entries):
    form = make_form(request, library_schema(request, award, reports, elements, entries), "library",
                     _("Add from the library"))
    stable_ids(form)
    form.action = request.resource_url(award, "framework")
    return form


def _indicator_row(request, indicator, reports, elements_by_id) -> dict:
    targets = framework.targets_by_report(indicator)
    element = elements_by_id.get(indicator.toc_element_id)
    return {
        "indicator": indicator,
        "level": framework.kind_title(indicator.level),
        "measure": framework.MEASURE_TITLES.get(indicator.measure, indicator.measure),
        "method": framework.METHOD_TITLES.get(indicator.method, indicator.method),
        "disaggregation": [framework.DIMENSION_TITLES.get(d, d) for d in indicator.disaggregation or ()],
        "baseline": framework.baseline_text(indicator),
        "targets": [(report, targets.get(report.id)) for report in reports],
        "element": element,
        "edit_url": request.resource_url(request.context, "framework-indicator", query={"indicator": indicator.id}),
    }


def _framework_page(context, request, *, forms: dict | None = None, errors=()) -> dict:
    """The page's values; ``forms`` holds the html of a form that failed (by form id)."""
    forms = dict(forms or {})
    db = request.dbsession
    reports = services.reports_of(db, context)
    elements = framework.toc_elements(db, context)
    elements_by_id = {e.id: e for e in elements}
    can_edit = request.has_permission(Permission.MelFrameworkEdit, context)
    page = {
        "award": context,
        "rnd": context.round,
        "programme": context.round.programme,
        "sections": framework.theory_of_change(db, context),
        "rows": [_indicator_row(request, i, reports, elements_by_id) for i in framework.indicators_of(db, context)],
        "reports": reports,
        "can_edit": can_edit,
        "errors": list(errors),
        "open_form": next(iter(forms), None),
        "element_url": lambda e: request.resource_url(context, "framework-element", query={"element": e.id}),
    }
    if can_edit:
        entries = framework.library_indicators(db)
        page.update(
            toc_form_html=forms.get("toc") or _toc_form(request, context).render(),
            indicator_form_html=forms.get("indicator") or _indicator_form(
                request, context, reports, elements).render({"direction": "up"}),
            library_form_html=forms.get("library") or _library_form(
                request, context, reports, elements, entries).render(),
            library=entries,
        )
    return page


@view_config(context=Award, name="framework", renderer=T + "framework.pt", permission=Permission.MelDataView)
def framework_page(context, request):
    """GET shows the results framework; POST (grantee or officer) handles the form named
    by ``__formid__``: ``toc`` (a box of the theory of change), ``indicator`` (a new
    indicator) or ``library`` (an indicator picked from the library)."""
    if request.method != "POST":
        return _framework_page(context, request)
    _require(request, Permission.MelFrameworkEdit, context)
    formid = request.POST.get("__formid__", "")
    if formid == "toc":
        return _add_toc_element(context, request)
    if formid in ("indicator", "library"):
        return _add_indicator(context, request, formid)
    raise HTTPNotFound()


def _failed(context, request, formid, failed):
    return _framework_page(context, request, forms={formid: failed["form_html"]}, errors=failed["errors"])


def _add_toc_element(context, request):
    form = _toc_form(request, context)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed(context, request, "toc", form_failed(request, failure))
    try:
        element = framework.add_toc_element(request.dbsession, context, kind=data["kind"], text=data["text"])
    except framework.FrameworkRefused as refused:
        request.tm.doom()
        return _failed(context, request, "toc", form_refused(request, form, refused.problems))
    flash_done(request, _("Added to the theory of change: ${kind}.", mapping={
        "kind": framework.kind_title(element.kind)}))
    return HTTPFound(location=request.resource_url(context, "framework", anchor="theory-of-change"))


def _element(request, award, value) -> TocElement | None:
    if not value:
        return None
    try:
        element = request.dbsession.get(TocElement, int(value))
    except (TypeError, ValueError):
        return None
    return element if element is not None and element.award_id == award.id else None


def _indicator_arguments(request, award, reports, data) -> dict:
    targets = data.get("targets") or {}
    return dict(
        baseline_value=data.get("baseline_value"), baseline_date=data.get("baseline_date"),
        baseline_missing_reason=data.get("baseline_missing_reason") or "",
        toc_element=_element(request, award, data.get("toc_element")),
        targets={r: targets.get(f"r{r.id}") for r in reports},
    )


def _add_indicator(context, request, formid):
    db = request.dbsession
    reports = services.reports_of(db, context)
    elements = framework.toc_elements(db, context)
    if formid == "indicator":
        form = _indicator_form(request, context, reports, elements)
    else:
        form = _library_form(request, context, reports, elements, framework.library_indicators(db))
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed(context, request, formid, form_failed(request, failure))
    arguments = _indicator_arguments(request, context, reports, data)
    try:
        if formid == "indicator":
            indicator = framework.add_indicator(
                db, context, code=data["code"], title=data["title"], level=data["level"], measure=data["measure"],
                unit=data["unit"], ascending=data["direction"] == "up", method=data["method"],
                disaggregation=sorted(data["disaggregation"]), **arguments)
        else:
            from .models import LibraryIndicator

            entry = db.get(LibraryIndicator, int(data["entry"]))
            indicator = framework.pick_from_library(db, context, entry, code=data["code"] or None,
                                                    level=data["level"] or None, **arguments)
    except framework.FrameworkRefused as refused:
        request.tm.doom()
        return _failed(context, request, formid, form_refused(request, form, refused.problems,
                                                              indicator_field_map(reports)))
    flash_done(request, _("Added the indicator ${code}.", mapping={"code": indicator.code}))
    return HTTPFound(location=request.resource_url(context, "framework", anchor="indicators"))


@view_config(context=Award, name="framework-element", renderer=T + "framework_element.pt",
             permission=Permission.MelFrameworkEdit)
def framework_element(context, request):
    """Change the words of one box of the theory of change, or remove it."""
    element = _element(request, context, request.params.get("element"))
    if element is None:
        raise HTTPNotFound()
    form = _toc_form(request, context, version_of=element)
    form.action = request.resource_url(context, "framework-element", query={"element": element.id})
    form.buttons[0].title = translate(request, _("Save the change"))
    page = {"award": context, "element": element, "errors": [],
            "framework_url": request.resource_url(context, "framework")}
    def current():
        return {"kind": element.kind, "text": element.text}

    if request.method != "POST":
        page["form_html"] = form.render(current())
        return page
    if "remove" in request.POST:
        with editing(request, element, differences=list, form_html=lambda: None):
            framework.remove_toc_element(request.dbsession, element)
        flash_done(request, _("Removed from the theory of change."))
        return HTTPFound(location=request.resource_url(context, "framework", anchor="theory-of-change"))
    try:
        data = form.validate(list(request.POST.items()))
        with editing_form(request, element, form, data, stored=current):
            framework.edit_toc_element(request.dbsession, element, text=data["text"], kind=data["kind"])
    except deform.ValidationFailure as failure:
        page.update(form_failed(request, failure))
        return page
    except framework.FrameworkRefused as refused:
        request.tm.doom()
        page.update(form_refused(request, form, refused.problems))
        return page
    flash_done(request, _("Saved the change to the theory of change."))
    return HTTPFound(location=request.resource_url(context, "framework", anchor="theory-of-change"))


@view_config(context=Award, name="framework-indicator", renderer=T + "framework_indicator.pt",
             permission=Permission.MelFrameworkEdit)
def framework_indicator(context, request):
    """Change one indicator (its fields, baseline and targets), or remove it."""
    db = request.dbsession
    try:
        indicator = db.get(Indicator, int(request.params.get("indicator", "")))
    except ValueError:
        indicator = None
    if indicator is None or indicator.award_id != context.id:
        raise HTTPNotFound()
    reports = services.reports_of(db, context)
    elements = framework.toc_elements(db, context)
    url = request.resource_url(context, "framework-indicator", query={"indicator": indicator.id})
    form = _indicator_form(request, context, reports, elements, formid="indicator",
                           button=_("Save the indicator"), action=url, version_of=indicator)
    page = {"award": context, "indicator": indicator, "errors": [], "refusal": None,
            "framework_url": request.resource_url(context, "framework")}
    if request.method != "POST":
        page["form_html"] = form.render(indicator_values(indicator))
        return page
    if "remove" in request.POST:
        code = indicator.code
        try:
            with editing(request, indicator, differences=list, form_html=lambda: None):
                framework.remove_indicator(db, indicator)
        except framework.FrameworkRefused as refused:
            request.response.status = 409
            page.update(form_html=form.render(indicator_values(indicator)), refusal=refused)
            return page
        flash_done(request, _("Removed the indicator ${code}.", mapping={"code": code}))
        return HTTPFound(location=request.resource_url(context, "framework", anchor="indicators"))
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page.update(form_failed(request, failure))
        return page
    arguments = _indicator_arguments(request, context, reports, data)
    targets = arguments.pop("targets")
    try:
        with editing_form(request, indicator, form, data, stored=lambda: indicator_values(indicator)):
            framework.edit_indicator(db, indicator, code=data["code"], title=data["title"], level=data["level"],
                                     measure=data["measure"], unit=data["unit"],
                                     ascending=data["direction"] == "up", method=data["method"],
                                     disaggregation=sorted(data["disaggregation"]), targets=targets,
                                     user=request.user, **arguments)
    except framework.FrameworkRefused as refused:
        request.tm.doom()
        page.update(form_refused(request, form, refused.problems, indicator_field_map(reports)))
        return page
    flash_done(request, _("Saved the indicator ${code}.", mapping={"code": indicator.code}))
    return HTTPFound(location=request.resource_url(context, "framework", anchor="indicators"))


# -- reporting periods -------------------------------------------------------------------------------


@view_config(context=Award, name="reports", renderer=T + "reports.pt", permission=Permission.MelDataView)
def award_reports(context, request):
    """Every reporting period of the award: its dates, due date, state and report."""
    zone = _zone(context)
    rows = [{"report": r, "due": format_datetime(r.due_at, zone), "state": _state_title(request, r),
             "url": request.resource_url(r)}
            for r in services.reports_of(request.dbsession, context)]
    return {"award": context, "rows": rows, "framework_url": request.resource_url(context, "framework")}


@view_config(context=ReportsContainer, renderer=T + "reports.pt", permission=Permission.MelDataView)
def reports_container(context, request):
    """``award/reports/`` is the same list: traversal finds the reports' container before
    the award's view of that name, so links to either land here."""
    return award_reports(context.__parent__, request)


# -- one report ----------------------------------------------------------------------------------------


def _region_values(report, indicator) -> list[str]:
    """The regions offered for a region breakdown: the grantee's own, and any already used."""
    organisation = report.award.application.organisation
    offered = list(organisation.regions or ())
    if not offered:
        from grants.regions import regions_for

        offered = [r.code for r in regions_for(organisation.country or "")]
    used = [v.dimensions.get("region") for v in report.values
            if v.indicator_id == indicator.id and "region" in (v.dimensions or {})]
    return list(dict.fromkeys([*offered, *[u for u in used if u]]))


def _cells(report, indicator) -> list[tuple[str, list[dict]]]:
    """(dimension, [{dimension: value}, …]) for every breakdown of the indicator."""
    groups = []
    for dimension in indicator.disaggregation or ():
        values = _region_values(report, indicator) if dimension == "region" else DIMENSIONS.get(dimension, ())
        groups.append((dimension, [{dimension: value} for value in values]))
    return groups


def _shown(value) -> str:
    """A stored value as its input shows it: plain digits a person can edit and the form
    reads back ("40", never the "4E+1" a normalised Decimal prints)."""
    if value is None:
        return ""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _report_rows(request, report, indicators, typed: dict | None, errors: dict) -> list[dict]:
    """Each indicator as the report page shows it, with what was typed (or is stored)."""
    stored = services.values_by_cell(report)
    targets = {}
    for indicator in indicators:
        targets[indicator.id] = framework.targets_by_report(indicator).get(report.id)
    locale = request.locale_name
    rows = []
    for indicator in indicators:
        total_name = services.field_for(indicator)
        total = stored.get((indicator.id, ""))
        qualitative = indicator.measure == "qualitative"
        if typed is not None:
            total_value = typed.get(total_name, "")
        elif qualitative:
            total_value = total.text if total is not None else ""
        else:
            total_value = _shown(total.value) if total is not None else ""
        groups = []
        for dimension, cells in _cells(report, indicator):
            shown_cells = []
            for dimensions in cells:
                name = services.field_for(indicator, dimensions)
                row = stored.get((indicator.id, services.cell_key(dimensions)))
                value = typed.get(name, "") if typed is not None else (_shown(row.value) if row is not None else "")
                shown_cells.append({"name": name, "label": framework.value_title(dimension, dimensions[dimension],
                                                                                 locale),
                                    "value": value, "error": errors.get(name)})
            groups.append({"dimension": dimension, "title": framework.BREAKDOWN_TITLES.get(dimension, dimension),
                           "cells": shown_cells, "id": f"cells-{indicator.id}-{dimension}"})
        rows.append({"indicator": indicator, "name": total_name, "value": total_value, "error": errors.get(total_name),
                     "qualitative": qualitative, "groups": groups, "target": targets[indicator.id],
                     "level": framework.kind_title(indicator.level),
                     "measure": framework.MEASURE_TITLES.get(indicator.measure, indicator.measure)})
    return rows


def _report_page(context, request, *, typed: dict | None = None, narrative: str | None = None, errors=(),
                 review_comment: str = "", refusal=None, conflict=None) -> dict:
    db = request.dbsession
    award = context.award
    indicators = framework.indicators_of(db, award)
    errors = list(errors)
    by_field = {}
    for name, message in errors:
        by_field.setdefault(name, message)
    can_edit = (means(context, services.EDITABLE)
                and request.has_permission(Permission.MelReportSubmit, context))
    can_review = means(context, "submitted") and request.has_permission(Permission.MelReportReview, context)
    history = request.workflows.history(context)
    wf = request.workflows.workflow(context)
    return {
        "report": context,
        "award": award,
        "state": wf.state_of(context),
        "due": format_datetime(context.due_at, _zone(award)),
        "submitted": format_datetime(context.submitted_at, _zone(award)) if context.submitted_at else None,
        "rows": _report_rows(request, context, indicators, typed, by_field),
        "narrative": context.narrative if narrative is None else narrative,
        "narrative_error": by_field.get("narrative"),
        "comments": list(reversed(services.officer_comments(db, context))),
        "history": [(entry, _step_title(wf, entry)) for entry in history],
        "can_edit": can_edit,
        "can_fill_from_survey": can_edit and any(i.instrument_code and i.instrument_item for i in indicators),
        "can_review": can_review,
        "review_comment": review_comment,
        "review_error": by_field.get("review-comment"),
        "errors": [(_input_id(name), translate(request, message)) for name, message in errors],
        "refusal": refusal,
        "conflict": conflict,
        "page_has_errors": bool(errors),
        "reports_url": request.resource_url(award, "reports"),
        "framework_url": request.resource_url(award, "framework"),
        "format_time": lambda moment: format_datetime(moment, _zone(award)),
    }


def _step_title(wf, entry):
    if entry.trigger == "create":
        return _("Reporting period created")
    transition = wf.definition.transition(entry.trigger)
    return transition.title if transition is not None else entry.trigger


def _input_id(name: str | None) -> str:
    return name or "report-form"


def _read_form(request, report, indicators) -> tuple[dict, list, list]:
    """What was typed: the raw text by input name, the values for ``save_report`` and
    the numbers that could not be read."""
    typed, values, problems = {}, [], []
    for indicator in indicators:
        name = services.field_for(indicator)
        raw = request.POST.get(name, "")
        typed[name] = raw
        if indicator.measure == "qualitative":
            values.append((indicator, {}, None, raw))
        else:
            values.append((indicator, {}, _number(raw, name, indicator, problems), ""))
        for _dimension, cells in _cells(report, indicator):
            for dimensions in cells:
                cell_name = services.field_for(indicator, dimensions)
                cell_raw = request.POST.get(cell_name, "")
                typed[cell_name] = cell_raw
                values.append((indicator, dimensions, _number(cell_raw, cell_name, indicator, problems), ""))
    return typed, values, problems


def _number(raw: str, name: str, indicator, problems: list):
    if not raw.strip():
        return None
    try:
        return framework.read_decimal(raw)
    except ValueError:
        problems.append((name, _("Give ${code} as a number, like 12 or 12.5.", mapping={"code": indicator.code})))
        return None


@view_config(context=Report, renderer=T + "report.pt", permission=Permission.MelReportView)
def report_page(context, request):
    """GET shows the report.  POST: ``__formid__=report`` saves the grantee's draft
    (``save``) or saves and submits it (``submit``); ``__formid__=review`` is the
    officer's ``accept`` or ``return_for_changes`` (with a comment)."""
    if request.method != "POST":
        return _report_page(context, request)
    formid = request.POST.get("__formid__", "")
    if formid == "report":
        return _save_report(context, request)
    if formid == "review":
        return _review_report(context, request)
    if formid == "survey":
        return _fill_from_survey(context, request)
    raise HTTPNotFound()


def _fill_from_survey(context, request):
    """The grantee asks for the survey-measured indicators' values to be filled in from
    the aggregated answers they uploaded (grants.mel.surveys.rollup_to_indicators)."""
    from grants.mel.surveys import SurveyRefused, rollup_to_indicators

    _require(request, Permission.MelReportSubmit, context)
    if not means(context, services.EDITABLE):
        raise HTTPForbidden()
    try:
        written = rollup_to_indicators(request.dbsession, context.award, context)
    except SurveyRefused as refused:
        request.tm.doom()
        request.response.status = 400
        return _report_page(context, request, errors=refused.problems)
    if written:
        flash_done(request, _("The values measured by the survey are filled in from your uploaded results. "
                              "Check them before you submit."))
    else:
        flash_done(request, _("There are no survey results for these indicators yet: upload them on the "
                              "surveys page first."))
    return HTTPFound(location=request.resource_url(context))


def _save_report(context, request):
    _require(request, Permission.MelReportSubmit, context)
    if not means(context, services.EDITABLE):
        raise HTTPForbidden()
    db = request.dbsession
    indicators = framework.indicators_of(db, context.award)
    narrative = request.POST.get("narrative", "")
    typed, values, problems = _read_form(request, context, indicators)
    if problems:
        request.response.status = 400
        return _report_page(context, request, typed=typed, narrative=narrative, errors=problems)
    try:
        with editing(request, context, form_html=lambda: None,
                     differences=lambda: _report_differences(request, context, indicators, typed, narrative)):
            services.save_report(db, context, narrative=narrative, values=values, user=request.user)
    except StaleEdit as stale:
        # This page, not the generic one: the form comes back with what they typed, now
        # drawn from the current version.
        abandon_changes(request)
        request.response.status = 409
        return _report_page(context, request, typed=typed, narrative=narrative, conflict=stale.differences)
    except services.ReportRefused as refused:
        request.tm.doom()
        request.response.status = 400
        return _report_page(context, request, typed=typed, narrative=narrative, errors=refused.problems)
    if "submit" not in request.POST:
        flash_done(request, _("Your draft is saved. Submit the report when it is complete."))
        return HTTPFound(location=request.resource_url(context))
    missing = services.report_problem_fields(context)
    if missing:
        # The draft stays saved; the page says what is still missing, beside each input.
        request.response.status = 400
        intro = (None, _("Your draft is saved, but the report cannot be submitted yet:"))
        return _report_page(context, request, typed=typed, narrative=narrative, errors=[intro, *missing])
    try:
        request.workflows.fire(context, "submit", request.user)
    except Refused as refusal:
        request.response.status = 409
        return _report_page(context, request, typed=typed, narrative=narrative,
                            errors=[(None, reason) for reason in refusal.reasons])
    flash_done(request, _("Report ${number} is submitted. The programme officer will review it.",
                          mapping={"number": context.number}))
    return HTTPFound(location=request.resource_url(context))


def _report_differences(request, report, indicators, typed: dict, narrative: str) -> list[Difference]:
    """Where a draft someone else's save overtook differs from the report saved now."""
    out = []
    if narrative.strip() != (report.narrative or "").strip():
        out.append(Difference(_("Narrative"), narrative, report.narrative or ""))
    for row in _report_rows(request, report, indicators, None, {}):
        code = row["indicator"].code
        if typed.get(row["name"], "").strip() != row["value"].strip():
            out.append(Difference(code, typed.get(row["name"], ""), row["value"]))
        for group in row["groups"]:
            for cell in group["cells"]:
                if typed.get(cell["name"], "").strip() != cell["value"].strip():
                    out.append(Difference(f"{code}: {translate(request, cell['label'])}", typed.get(cell["name"], ""),
                                          cell["value"]))
    return out


def _review_report(context, request):
    _require(request, Permission.MelReportReview, context)
    refuse_overtaken(request, context)
    comment = (request.POST.get("comment") or "").strip()
    if "accept" in request.POST:
        trigger = "accept"
    elif "return_for_changes" in request.POST:
        trigger = "return_for_changes"
    else:
        raise HTTPNotFound()
    if trigger == "return_for_changes" and not comment:
        request.response.status = 400
        return _report_page(context, request, review_comment=comment, errors=[
            ("review-comment", _("Write your comments: say what the grantee should correct."))])
    try:
        request.workflows.fire(context, trigger, request.user, comment=comment)
    except Refused as refusal:
        request.response.status = 409
        return _report_page(context, request, review_comment=comment,
                            errors=[(None, reason) for reason in refusal.reasons])
    flash_done(request, _("Report accepted.") if trigger == "accept"
               else _("Report returned to the grantee with your comments."))
    return HTTPFound(location=request.resource_url(context))


# -- the officer's list ----------------------------------------------------------------------------------


DUE_SORTS = {  # key -> (columns, title); the id last, so a page never repeats or skips a report
    "due": ([Report.due_at, Report.id], _("Due by, soonest first")),
    "grantee": ([Organisation.legal_name, Report.due_at, Report.id], _("Grantee")),
}
DAYS = 30  # how far ahead the list looks unless the officer asks otherwise


def _due_states(request) -> dict:
    """The states of a report still to come in (due, overdue), by their titles."""
    from grants.lifecycle.meanings import states_meaning

    definition = request.registry.workflows.get("report").definition
    wanted = states_meaning("report", "due") | states_meaning("report", "overdue")
    return {sid: _(state.title) for sid, state in definition.states.items() if sid in wanted}


def _due_days(request):
    """The ``days`` asked for and what was typed, or the default and the error to show
    beside the field (the list is still shown, with the default)."""
    raw = (request.params.get("days") or "").strip()
    if raw:
        from grants.programmes.forms import normalise_digits

        text = normalise_digits(raw)
        if text.isdigit() and 1 <= int(text) <= 366:
            return int(text), raw, None
        return DAYS, raw, _("Enter a number of days from 1 to 366, like 30")
    return DAYS, str(DAYS), None


@view_config(context=Round, name="reports-due", renderer=T + "reports_due.pt",
             permission=Permission.ProgrammesRoundManage)
def reports_due_page(context, request):
    """The round's reports that are overdue, and those due within ``days`` days (30 by
    default), in due-date order, a page at a time (``grants.listing``: the report's state,
    the grantee's region, text in the grantee's name or the award's title);
    ``?format=csv`` downloads every report the filters keep."""
    from sqlalchemy.orm import contains_eager

    from grants import listing

    days, typed, error = _due_days(request)
    if error:
        request.response.status = 400
    states = _due_states(request)
    params = listing.read(request, DUE_SORTS, states=states, regions_filter=True, default_sort="due")
    now = dt.datetime.now(dt.timezone.utc)
    query = listing.grant_filters(services.reports_due_query(context, now=now, days=days), params, Report.state)
    query = query.options(contains_eager(Report.award).contains_eager(Award.application)
                          .contains_eager(Application.organisation))
    order = DUE_SORTS[params.sort][0]
    zone = context.timezone or "UTC"
    if request.GET.get("format") == "csv" and not error:
        return _reports_due_csv(request, context, query.order_by(*order), now, zone)
    keep = {"days": days} if days != DAYS else {}
    page = listing.page(request, query, params, order, request.resource_url(context, "reports-due"),
                        sorts={k: title for k, (_cols, title) in DUE_SORTS.items()}, states=states, regions=True,
                        keep=keep, fields=("days",), text_label=_("Search grantees and award titles"))
    rows = []
    for report in page.rows:
        award = report.award
        rows.append({"report": report, "award": award, "grantee": award.application.organisation.legal_name,
                     "due": format_datetime(report.due_at, zone),
                     "state": _state_title(request, report), "days_overdue": services.days_overdue(report, now, zone),
                     "url": request.resource_url(report)})
    return {"rnd": context, "rows": rows, "page": page, "days": days, "typed_days": typed,
            "filtered": params.filtered,
            "errors": [("days", translate(request, error))] if error else [], "page_has_errors": bool(error),
            "days_error": error}


def _reports_due_csv(request, rnd, query, now, zone):
    from grants import listing

    def rows():
        for report in listing.batches(request.dbsession, query):
            award = report.award
            yield (award.application.organisation.legal_name, award.title, award.reference, report.number,
                   report.period_start, report.period_end, report.due_at,
                   translate(request, _(_state_title(request, report))), services.days_overdue(report, now, zone))

    header = [_("Grantee"), _("Award"), _("Award reference"), _("Report"), _("Period start"), _("Period end"),
              _("Due by"), _("State"), _("Days overdue")]
    return listing.csv_response(request, f"reports-due-round-{rnd.id}.csv", header, rows())


def includeme(config):
    config.scan(__name__)
