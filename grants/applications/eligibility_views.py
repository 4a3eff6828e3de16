"""Screening pages: a round's applications awaiting screening, and the page where an
officer confirms or overrides each automatic eligibility result of one application
(``grants.applications.eligibility`` does the work)."""
from __future__ import annotations

import colander
import deform
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from sqlalchemy import select

from grants.forms import _describe, flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_datetime, translate
from grants.lifecycle.meanings import state_means
from grants.money import format_money
from grants.programmes.models import Round
from grants.security import Permission

from . import eligibility
from .models import Application

T = "grants.templates:eligibility/"
RULE_FIELDSET = T + "rule_fieldset.pt"
DECISION_RADIOS = T + "decision_radios.pt"


class DecisionRadios(deform.widget.RadioChoiceWidget):
    """The two choices in a fieldset of their own, with its legend and error message."""

    template = DECISION_RADIOS
    # Drawn whole by our template: deform's item template would add a <label> that labels
    # no input, and show the error a second time.
    hidden = True


def _rule_node(request, check, description: str | None) -> colander.SchemaNode:
    node = colander.SchemaNode(
        colander.Mapping(), name=f"rule-{check.position}", title=eligibility.rule_title(check.kind),
        widget=deform.widget.MappingWidget(template=RULE_FIELDSET, category="structural"))
    # What the fieldset shows above the choices, already in the page's language.
    node.rule_description = description
    node.passed = check.passed
    node.reason_text = translate(request, eligibility.reason_text(check, request.locale_name)) if check.reason else ""
    node.add(colander.SchemaNode(
        colander.String(), name="decision", title=_("Your decision"), missing="",
        widget=DecisionRadios(values=[(eligibility.CONFIRMED, translate(request, _("Confirm this result"))),
                                      (eligibility.OVERRIDDEN, translate(request, _("Override this result")))])))
    node.add(colander.SchemaNode(
        colander.String(), name="reason", title=_("Reason"), missing="",
        description=_("Needed when you override the result; kept with your decision."),
        validator=colander.Length(max=2000, max_err=_("Keep the reason to 2,000 characters or fewer")),
        widget=deform.widget.TextAreaWidget(rows=2, attributes={"dir": "auto"})))
    return node


def screening_form(request, application: Application) -> deform.Form:
    from grants.programmes.views import describe_rules

    descriptions = describe_rules(request, application.round)
    schema = colander.SchemaNode(colander.Mapping())
    for check in application.eligibility_checks:
        description = descriptions[check.position] if check.position < len(descriptions) else None
        schema.add(_rule_node(request, check, description))
    form = make_form(request, schema, "screen", _("Record the screening decision"))
    for group in form.children:
        for child in group.children:
            child.oid = f"{group.oid}-{child.name}"  # screen-rule-0-decision
            if child.description:
                _describe(child, f"help-{child.oid}")
    return form


def _current_values(application: Application) -> dict:
    return {f"rule-{c.position}": {"decision": c.officer_decision or "", "reason": c.officer_reason or ""}
            for c in application.eligibility_checks}


def _decisions(appstruct: dict, application: Application) -> dict:
    decisions = {}
    for check in application.eligibility_checks:
        values = appstruct.get(f"rule-{check.position}") or {}
        decisions[check.position] = (values.get("decision") or None, values.get("reason") or "")
    return decisions


def _application_summary(request, application: Application) -> dict:
    amount = application.amount
    return {
        "amount": format_money(amount, request.locale_name) if amount is not None else None,
        "submitted": (format_datetime(application.submitted_at, application.round.timezone)
                      if application.submitted_at else None),
    }


@view_config(context=Application, name="screen", renderer=T + "screen.pt",
             permission=Permission.ApplicationsApplicationScreen)
def screen_application(context, request):
    """GET: each rule's automatic result, with a choice to confirm or override it.
    POST: record the decisions and move the application to eligible or ineligible."""
    if not context.eligibility_checks and context.round.eligibility_rules:
        eligibility.run_checks(request.dbsession, context)  # submitted before checks were stored
    form = screening_form(request, context)
    page = {"application": context, "rnd": context.round, "errors": [], "refusal": None,
            "has_rules": bool(context.eligibility_checks), **_application_summary(request, context)}
    if request.method != "POST":
        page["form_html"] = form.render(_current_values(context))
        return page
    try:
        appstruct = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page.update(form_failed(request, failure))
        return page
    try:
        eligible = eligibility.screen(request.dbsession, request.registry, context, request.user,
                                      _decisions(appstruct, context), transaction_manager=request.tm,
                                      locale=request.locale_name)
    except eligibility.ScreeningBlocked as blocked:
        request.tm.doom()  # nothing changes
        request.response.status = 409
        page.update(form_html=form.render(appstruct), refusal=blocked.reasons)
        return page
    except eligibility.EligibilityRefused as refused:
        request.tm.doom()
        page.update(form_refused(request, form, refused.problems))
        return page
    if eligible:
        flash_done(request, _("Screening recorded: “${title}” is eligible and goes to review.",
                              mapping={"title": context.title}))
    else:
        flash_done(request, _("Screening recorded: “${title}” is not eligible. The applicant is told why.",
                              mapping={"title": context.title}))
    rnd = context.round
    if request.has_permission(Permission.ProgrammesRoundManage, rnd):
        return HTTPFound(location=request.resource_url(rnd, "@@screening"))
    return HTTPFound(location=request.resource_url(context))


SCREENING_SORTS = {
    "submitted": ([Application.submitted_at, Application.id], _("Submitted, oldest first")),
    "-submitted": ([Application.submitted_at.desc(), Application.id.desc()], _("Submitted, newest first")),
    "title": ([Application.title, Application.id], _("Title")),
    "-amount": ([Application.amount_minor.desc().nulls_last(), Application.id], _("Amount requested, largest first")),
}


def _screening_query(request, rnd: Round):
    """The round's submitted applications this officer may screen, as SQL: the states
    where the workflow grants screening to a role the officer holds on the round."""
    from grants.lifecycle.meanings import state_permits
    from grants.security import local_roles

    roles = local_roles(rnd, request.user)
    return select(Application).where(Application.round_id == rnd.id, state_means(Application, "submitted"),
                                     state_permits(Application, Permission.ApplicationsApplicationScreen, roles))


def _screening_total(request, rnd: Round) -> int:
    """How many applications :func:`_screening_query` finds, from the counters of the
    round's applications per state (``StateCount``): the same states, a few rows read, where
    counting the round's submitted applications grew with the round."""
    from sqlalchemy import func

    from grants.lifecycle.meanings import columns_permit, counted_meaning
    from grants.lifecycle.models import StateCount
    from grants.security import local_roles

    return request.dbsession.scalar(select(func.coalesce(func.sum(StateCount.n), 0)).where(
        counted_meaning(Application, "submitted"), StateCount.group_id == rnd.id,
        columns_permit(Application.__workflow__, StateCount.workflow_id, StateCount.workflow_version,
                       StateCount.state, Permission.ApplicationsApplicationScreen, local_roles(rnd, request.user))))


def _screening_states(request) -> dict:
    """The states meaning "submitted" (a variant may have several), by their titles."""
    from grants.lifecycle.meanings import states_meaning

    definition = request.registry.workflows.get("application").definition
    return {sid: _(state.title) for sid, state in definition.states.items()
            if sid in states_meaning("application", "submitted")}


@view_config(context=Round, name="screening", renderer=T + "screening.pt",
             permission=Permission.ProgrammesRoundManage)
def round_screening(context, request):
    """The round's submitted applications that this officer may screen, a page at a time
    (``grants.listing``), with how many rules each passed and failed automatically;
    ``?format=csv`` downloads every row the filters keep."""
    from sqlalchemy.orm import joinedload, selectinload

    from grants import listing

    states = _screening_states(request)
    params = listing.read(request, SCREENING_SORTS, states=states, regions_filter=True, default_sort="submitted")
    query = listing.application_filters(_screening_query(request, context), params)
    order = SCREENING_SORTS[params.sort][0]
    query = query.options(joinedload(Application.organisation), selectinload(Application.eligibility_checks))
    if request.GET.get("format") == "csv":
        return _screening_csv(request, context, query.order_by(*order))
    page = listing.page(request, query, params, order, request.resource_url(context, "screening"),
                        sorts={k: title for k, (_cols, title) in SCREENING_SORTS.items()},
                        states=states, regions=True,
                        total=None if params.filtered else _screening_total(request, context))
    rows = []
    for application in page.rows:
        checks = application.eligibility_checks
        rows.append({
            "application": application,
            "passed": sum(1 for c in checks if c.passed),
            "failed": sum(1 for c in checks if not c.passed),
            "url": request.resource_url(application, "@@screen"),
            **_application_summary(request, application),
        })
    return {"rnd": context, "programme": context.programme, "rows": rows, "page": page,
            "rule_count": len(context.eligibility_rules or ())}


def _screening_csv(request, rnd: Round, query):
    from grants import listing

    def rows():
        for application in listing.batches(request.dbsession, query):
            checks = application.eligibility_checks
            yield (application.reference, application.title, application.organisation.legal_name,
                   application.state, application.submitted_at,
                   application.amount.amount if application.amount is not None else None,
                   application.amount.currency if application.amount is not None else None,
                   sum(1 for c in checks if c.passed), sum(1 for c in checks if not c.passed))

    header = [_("Reference"), _("Application"), _("Organisation"), _("State"), _("Submitted"),
              _("Amount requested"), _("Currency"), _("Rules met"), _("Rules not met")]
    return listing.csv_response(request, f"screening-round-{rnd.id}.csv", header, rows())


def includeme(config):
    config.scan(__name__)
