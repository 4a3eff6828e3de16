"""Award pages.

For the round's officers: the round's awards and the selected applications waiting for
one (``round/@@awards``), and the form that makes one (``round/@@make-award?application=ID``).
For everyone who may see an award (its grantee's members, the officers, the round's
evaluators): the award page (``award/``) — its terms, agreement, amendments, payment
schedule, payments and budget against actual, with the money actions shown only to
officers.  Officers also amend it (``@@amend``), set its schedule (``@@schedule``), keep
its agreement (``@@agreement``), release a tranche (``tranche/@@release``, POST) and
record its payment (``tranche/@@disburse``); the budget page (``@@budget``) lets officers
set the lines and the grantee record spending.

Views translate between HTTP and ``services``: a refusal comes back beside the fields it
is about with everything typed kept (an uploaded agreement too: it is stored at once and
kept with the form)."""
from __future__ import annotations

import copy

import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from grants.accounts.models import Organisation
from grants.applications.models import Application
from grants.concurrency import editing_form, with_version
from grants.forms import flash_done, form_failed, form_refused, make_form, refusal_failure
from grants.i18n import _, translate
from grants.lifecycle.meanings import means
from grants.multilingual import as_form_value, languages_of, option_text
from grants.money import MoneyError, format_amount, parse_money
from grants.programmes.models import Round
from grants.programmes.views import money_formatter
from grants.resources import AwardsContainer
from grants.security import Permission
from grants.workflow import Refused

from grants.incubation.forms import stable_ids

from . import services
from .forms import (
    UPLOAD_FORM_TEMPLATE,
    AgreementSchema,
    DisbursementSchema,
    amend_schema,
    award_money,
    budget_schema,
    currency_choices,
    expenditure_schema,
    make_award_schema,
    parse_decimal,
    schedule_schema,
)
from .models import Award, Tranche

T = "grants.templates:awards/"


# -- helpers ------------------------------------------------------------------------------------------------


def date_formatter(request):
    """For templates: a date as the page's locale writes it (grants.i18n.format_date), or "—"."""
    from grants.i18n import format_date

    def fmt(day, empty="—"):
        return empty if day is None else format_date(day, request.locale_name)

    return fmt


def _page(request, **values) -> dict:
    return {"errors": [], "money": money_formatter(request), "date": date_formatter(request), **values}


def _state_title(request, obj):
    return request.workflows.workflow(obj).state_of(obj).title


def _reports(request, award):
    from grants.mel.models import Report

    return list(request.dbsession.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))


def _report_choices(request, award, reports=None) -> list[tuple[str, str]]:
    return [(str(r.id), translate(request, _("Report ${number} (${period})", mapping={
        "number": r.number, "period": services.report_period(r, request.locale_name)})))
        for r in (reports if reports is not None else _reports(request, award))]


def _upload_form(form) -> None:
    form.widget = deform.widget.FormWidget(template=UPLOAD_FORM_TEMPLATE)


def _show_kept(form, stored) -> None:
    """Say beside the file input which agreement is already uploaded and kept."""
    widget = copy.copy(form["agreement"].widget)
    widget.kept = None if stored is None else stored.filename
    form["agreement"].widget = widget


def _kept_file(request, value):
    """The agreement this person uploaded with an earlier try of the form, if any."""
    from grants.files.models import StoredFile

    try:
        stored = request.dbsession.get(StoredFile, int(value))
    except (TypeError, ValueError):
        return None
    if stored is None or request.user is None or stored.uploaded_by_id != request.user.id:
        return None
    return stored if stored.content_type.startswith("application/pdf") else None


def _take_agreement(request, controls):
    """Store a newly chosen agreement at once, so that a refusal of the rest of the form
    does not lose it.  Returns (the file to use or None, a refusal reason or None, the
    form's controls naming the kept file)."""
    upload = request.POST.get("agreement")
    stored = problem = None
    if getattr(upload, "filename", None):
        from grants.files import FileRefused, read_upload

        try:
            stored = services.store_agreement(request.dbsession, request.registry, filename=upload.filename,
                                              data=read_upload(upload, request.registry.settings), user=request.user)
        except (services.AwardRefused, FileRefused) as refused:
            problem = refused.problems[0][1]
    if stored is None:
        stored = _kept_file(request, request.POST.get("agreement_kept", ""))
    kept = "" if stored is None else str(stored.id)
    controls = [(key, kept if key == "agreement_kept" else value) for key, value in controls]
    return stored, problem, controls


def _failed_with(request, failure, extra_problems):
    """A validation failure, with reasons found outside the schema (a refused upload) added."""
    error = failure.error
    for name, reason in extra_problems:
        error[name] = reason
    failure.field.widget.handle_error(failure.field, error)
    return form_failed(request, failure)


def _rows_map(problems, used: list[int], prefix: str) -> list:
    """A service's problems about the n-th row given to it, renamed to the form's row."""
    renamed = []
    for name, reason in problems:
        if name and name.startswith(prefix):
            head, _dot, tail = name.partition(".")
            index = int(head[len(prefix):]) - 1
            name = f"{prefix}{used[index]}.{tail}" if 0 <= index < len(used) else None
        elif name in ("tranches", "lines"):
            name = None
        renamed.append((name, reason))
    return renamed


# -- the round's awards ---------------------------------------------------------------------------------------


AWARD_SORTS = {  # key -> (columns, title); the id last, so a page never repeats or skips an award
    "made": ([Award.id], _("Made, oldest first")),
    "-made": ([Award.id.desc()], _("Made, newest first")),
    "grantee": ([Organisation.legal_name, Award.id], _("Grantee")),
    "-amount": ([Award.amount_minor.desc(), Award.id], _("Amount, largest first")),
    "starts": ([Award.starts_on, Award.id], _("Start date")),
}
#: Selected applications waiting for an award shown on the awards page, the oldest first;
#: all of them are on their own page (``@@awaiting-award``), a page at a time.
WAITING_SHOWN = 10
WAITING_SORTS = {  # key -> (columns, title); the id last, so a page never repeats or skips one
    "oldest": ([Application.id], _("Oldest first")),
    "grantee": ([Organisation.legal_name, Application.id], _("Organisation")),
    "-amount": ([Application.amount_minor.desc(), Application.id], _("Amount asked, largest first")),
}


def award_states(request) -> dict:
    """The award workflow's states to filter by (the evaluation page lists the same awards)."""
    definition = request.registry.workflows.get("award").definition
    return {sid: _(state.title) for sid, state in definition.states.items()}


def filtered_awards_query(request, rnd, params):
    """The round's awards the filters keep: state, the grantee's region, and text in the
    grantee's name or the award's title."""
    from grants import listing

    return listing.grant_filters(services.awards_query(rnd), params, Award.state)


def round_awards_page(rnd, request):
    """A page of the round's awards (``grants.listing``) with the totals per currency of
    every award the filters keep; ``?format=csv`` downloads them all."""
    from sqlalchemy.orm import contains_eager

    from grants import listing

    db = request.dbsession
    states = award_states(request)
    params = listing.read(request, AWARD_SORTS, states=states, regions_filter=True, default_sort="made")
    query = filtered_awards_query(request, rnd, params)
    order = AWARD_SORTS[params.sort][0]
    if request.GET.get("format") == "csv":
        return _awards_csv(request, rnd, query.order_by(*order))
    awarded, paid = services.award_totals(db, query)
    page = listing.page(request, query.options(contains_eager(Award.application).contains_eager(
                            Application.organisation)), params, order, request.resource_url(rnd, "awards"),
                        sorts={k: title for k, (_cols, title) in AWARD_SORTS.items()}, states=states, regions=True,
                        text_label=_("Search grantees and award titles"))
    rows = services.award_rows(db, page.rows)
    # The oldest few waiting; counted only when there may be more than are shown.
    waiting = services.awaiting_award(db, rnd, limit=WAITING_SHOWN + 1)
    waiting_total = services.count_awaiting_award(db, rnd) if len(waiting) > WAITING_SHOWN else len(waiting)
    return _page(request, rnd=rnd, programme=rnd.programme, page=page,
                 listing=services.RoundAwards(rows, awarded, paid),
                 filtered=params.filtered,
                 waiting=waiting[:WAITING_SHOWN],
                 waiting_total=waiting_total,
                 state_title=lambda obj: _state_title(request, obj),
                 waiting_url=request.resource_url(rnd, "awaiting-award"),
                 make_url=lambda application: request.resource_url(rnd, "make-award",
                                                                   query={"application": application.id}))


def _awards_csv(request, rnd, query):
    from sqlalchemy.orm import contains_eager

    from grants import listing

    db = request.dbsession
    query = query.options(contains_eager(Award.application).contains_eager(Application.organisation))

    def rows():
        for chunk in listing.chunks(db, query):
            for row in services.award_rows(db, chunk):
                award = row.award
                yield (award.reference, award.application.organisation.legal_name, award.title,
                       award.amount.amount, award.currency, award.starts_on, award.ended_on or award.ends_on,
                       translate(request, _(_state_title(request, award))), row.disbursed.amount)

    header = [_("Reference"), _("Grantee"), _("Project"), _("Amount"), _("Currency"), _("From"), _("To"),
              _("State"), _("Paid so far")]
    return listing.csv_response(request, f"awards-round-{rnd.id}.csv", header, rows())


@view_config(context=Round, name="awaiting-award", renderer=T + "awaiting.pt",
             permission=Permission.ProgrammesRoundManage)
def awaiting_award_page(context, request):
    """Every selected application still waiting for an award, a page at a time, filtered
    by the organisation's region and by text; ``?format=csv`` downloads them all.  A page
    of its own rather than a second list on the awards page: each list keeps its own
    filters and page in plain query parameters, and each page has one filters form."""
    from sqlalchemy.orm import contains_eager

    from grants import listing

    db = request.dbsession
    params = listing.read(request, WAITING_SORTS, regions_filter=True, default_sort="oldest")
    query = services.awaiting_query(context).join(Application.organisation).options(
        contains_eager(Application.organisation))
    query = listing.application_filters(query, params)
    order = WAITING_SORTS[params.sort][0]
    if request.GET.get("format") == "csv":
        def rows():
            for application in listing.batches(db, query.order_by(*order)):
                yield (application.reference, application.organisation.legal_name, application.title,
                       translate(request, _(_state_title(request, application))),
                       application.amount.amount if application.amount else "",
                       application.amount.currency if application.amount else "")

        header = [_("Reference"), _("Organisation"), _("Application"), _("State"), _("Amount asked"), _("Currency")]
        return listing.csv_response(request, f"awaiting-award-round-{context.id}.csv", header, rows())
    page = listing.page(request, query, params, order, request.resource_url(context, "awaiting-award"),
                        sorts={k: title for k, (_cols, title) in WAITING_SORTS.items()}, regions=True)
    return _page(request, rnd=context, programme=context.programme, page=page,
                 filtered=bool(params.region or params.text),
                 state_title=lambda obj: _state_title(request, obj),
                 make_url=lambda application: request.resource_url(context, "make-award",
                                                                   query={"application": application.id}))


@view_config(context=Round, name="awards", renderer=T + "round.pt", permission=Permission.ProgrammesRoundManage)
def round_awards(context, request):
    """The round's awards (grantee, amount, dates, state, paid so far), a page at a time,
    with totals per currency, and the selected applications still waiting for an award."""
    return round_awards_page(context, request)


@view_config(context=AwardsContainer, renderer=T + "round.pt", permission=Permission.ProgrammesRoundManage)
def awards_container(context, request):
    """``round/awards/`` is the same list (the round page links there)."""
    return round_awards_page(context.__parent__, request)


# -- making an award ------------------------------------------------------------------------------------------


def _application_to_award(request, rnd) -> Application:
    try:
        application = request.dbsession.get(Application, int(request.params.get("application", "")))
    except ValueError:
        application = None
    if application is None or application.round_id != rnd.id:
        raise HTTPNotFound()
    return application


def _make_award_form(request, rnd, application):
    programme_currency = rnd.programme.currency
    asked = application.amount
    choices = currency_choices(programme_currency, asked.currency if asked else None)
    form = make_form(request, make_award_schema(choices), "award", _("Make the award"))
    form.action = request.resource_url(rnd, "make-award", query={"application": application.id})
    stable_ids(form)
    _upload_form(form)
    return form


def _award_defaults(request, rnd, application) -> dict:
    asked = application.amount
    currency = rnd.programme.currency
    values = {"currency": currency, "cadence": "quarterly"}
    if asked is not None and asked.currency == currency:
        values["amount"] = format_amount(asked, request.locale_name)
    return values


@view_config(context=Round, name="make-award", renderer=T + "make_award.pt",
             permission=Permission.ProgrammesRoundManage)
def make_award_page(context, request):
    """The award for one selected application: amount and currency, dates, reporting
    cadence, the agreement (a PDF) and the source budget in another currency."""
    application = _application_to_award(request, context)
    form = _make_award_form(request, context, application)
    existing = request.dbsession.scalar(select(Award).where(Award.application_id == application.id))
    page = _page(request, rnd=context, programme=context.programme, application=application, existing=existing,
                 state=_state_title(request, application))
    if request.method != "POST":
        _show_kept(form, None)
        page["form_html"] = form.render(_award_defaults(request, context, application))
        return page
    stored, upload_problem, controls = _take_agreement(request, list(request.POST.items()))
    _show_kept(form, stored)
    upload_problems = [("agreement", upload_problem)] if upload_problem else []
    try:
        data = form.validate(controls)
    except deform.ValidationFailure as failure:
        page.update(_failed_with(request, failure, upload_problems))
        return page
    if upload_problems:
        page.update(form_refused(request, form, upload_problems))
        return page
    amount, source, rate, _problems = award_money(data, request.locale_name)
    problems = services.agreement_problems(stored, data["agreement_signed_on"])
    if problems:
        page.update(form_refused(request, form, problems))
        return page
    try:
        award = services.make_award(
            request.dbsession, request.registry, application, amount=amount, starts_on=data["starts_on"],
            ends_on=data["ends_on"], cadence=data["cadence"], agreement_file=stored, source_amount=source,
            fx_rate=rate, fx_date=data["fx_date"], user=request.user)
    except services.AwardRefused as refused:
        # Nothing was changed; the uploaded agreement stays stored for the next try.
        page.update(form_refused(request, form, [(None if name == "application" else name, reason)
                                                 for name, reason in refused.problems]))
        return page
    if data["agreement_signed_on"] is not None:
        try:
            services.record_agreement(request.dbsession, award, signed_on=data["agreement_signed_on"],
                                      user=request.user)
        except services.AwardRefused as refused:
            request.tm.doom()
            page.update(form_refused(request, form, refused.problems))
            return page
    flash_done(request, _("Award made: ${amount} to ${name}.", mapping={
        "amount": money_formatter(request)(award.amount), "name": application.organisation.legal_name}))
    return HTTPFound(location=request.resource_url(award))


# -- the award page -------------------------------------------------------------------------------------------


def award_page(award: Award, request, *, refusal=None, refused_tranche=None) -> dict:
    """The award's terms, agreement, amendments, schedule, payments and budget; money
    actions only for those who hold them."""
    service = request.workflows
    can_manage = bool(request.has_permission(Permission.AwardsAwardManage, award))
    tranches = []
    for tranche in award.tranches:
        can_release = bool(request.has_permission(Permission.AwardsTrancheRelease, tranche))
        tranches.append({
            "tranche": tranche,
            "state": _state_title(request, tranche),
            "condition": services.condition_title(request.registry, tranche.condition),
            "report": tranche.condition_report if tranche.condition_report_id is not None else None,
            "problem": services.tranche_condition_problem(tranche, request.registry)
            if means(tranche, "pending") else None,
            "release_url": request.resource_url(tranche, "release")
            if can_release and means(tranche, "pending") else None,
            "pay_url": request.resource_url(tranche, "disburse") if can_release and means(tranche, "released")
            else None,
            "refusal": refusal if refused_tranche is not None and refused_tranche.id == tranche.id else None,
        })
    payments = sorted((d for t in award.tranches for d in t.disbursements), key=lambda d: (d.paid_on, d.id))
    options = [o for o in service.options(award, request.user)
               if request.has_permission(o.transition.permission, award)]
    amendments = [{"amendment": a, "title": services.AMENDMENT_TITLES.get(a.kind, a.kind),
                   "changes": services.amendment_changes(a)} for a in award.amendments]
    sees_mel = bool(request.has_permission(Permission.MelDataView, award))
    return _page(
        request, award=award, rnd=award.round, programme=award.round.programme,
        organisation=award.application.organisation, state=_state_title(request, award),
        cadence=services.CADENCE_TITLES.get(award.cadence, award.cadence),
        application_url=request.resource_url(award.application)
        if request.has_permission(Permission.ApplicationsApplicationView, award.application) else None,
        agreement_url=request.resource_url(award, "agreement-file") if award.agreement_file_id else None,
        amendments=amendments, tranches=tranches, payments=payments,
        scheduled=services.scheduled(award), committed=services.committed(award),
        disbursed=services.disbursed(award),
        budget=services.budget_vs_actual(award) if award.budget_lines else None,
        options=options, can_manage=can_manage, refusal=refusal,
        mel_links=[("framework", _("Results framework")), ("reports", _("Reports")), ("surveys", _("Surveys")),
                   ("evidence", _("Evidence"))] if sees_mel else [],
    )


@view_config(context=Award, renderer=T + "award.pt", permission=Permission.AwardsAwardView)
def award_view(context, request):
    return award_page(context, request)


@view_config(context=Award, name="agreement-file", permission=Permission.AwardsAwardView)
def agreement_file(context, request):
    """The grant agreement, to whoever may see the award."""
    from grants.files.views import file_response

    if context.agreement_file is None:
        raise HTTPNotFound()
    return file_response(request, context.agreement_file)


def _agreement_current(award) -> dict:
    return {"agreement_signed_on": award.agreement_signed_on} if award.agreement_signed_on else {}


@view_config(context=Award, name="agreement", renderer=T + "agreement.pt", permission=Permission.AwardsAwardManage)
def agreement_page(context, request):
    """Keep the signed agreement's PDF and the day it was signed."""
    form = make_form(request, with_version(AgreementSchema(), context), "agreement", _("Save the agreement"))
    form.action = request.resource_url(context, "agreement")
    stable_ids(form)
    _upload_form(form)
    page = _page(request, award=context, rnd=context.round)
    if request.method != "POST":
        _show_kept(form, None)
        page["form_html"] = form.render(_agreement_current(context))
        return page
    stored, upload_problem, controls = _take_agreement(request, list(request.POST.items()))
    _show_kept(form, stored)
    upload_problems = [("agreement", upload_problem)] if upload_problem else []
    try:
        data = form.validate(controls)
    except deform.ValidationFailure as failure:
        page.update(_failed_with(request, failure, upload_problems))
        return page
    try:
        services.AwardRefused.refuse_if(upload_problems)
        # A file uploaded with a refused edit is not kept (the refusal writes nothing): it is chosen again.
        with editing_form(request, context, form, data, stored=lambda: _agreement_current(context),
                          forget=("agreement_kept",)):
            services.record_agreement(request.dbsession, context, file=stored,
                                      signed_on=data["agreement_signed_on"], user=request.user)
    except services.AwardRefused as refused:
        page.update(form_refused(request, form, refused.problems))
        return page
    flash_done(request, _("The agreement is saved."))
    return HTTPFound(location=request.resource_url(context))


# -- amending ---------------------------------------------------------------------------------------------------


@view_config(context=Award, name="amend", renderer=T + "amend.pt", permission=Permission.AwardsAwardManage)
def amend_page(context, request):
    """Change the amount or the dates, with a reason kept beside the award."""
    form = make_form(request, with_version(amend_schema(context, request.locale_name), context), "amend",
                     _("Amend the award"))
    stable_ids(form)
    page = _page(request, award=context, rnd=context.round, committed=services.committed(context),
                 disbursed=services.disbursed(context))

    def current():
        return {"amount": context.amount, "starts_on": context.starts_on, "ends_on": context.ends_on}

    if request.method != "POST":
        page["form_html"] = form.render(current())
        return page
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page.update(form_failed(request, failure))
        return page
    try:
        with editing_form(request, context, form, data, stored=current):
            services.amend(request.dbsession, request.registry, context, amount=data["amount"],
                           starts_on=data["starts_on"], ends_on=data["ends_on"], reason=data["reason"],
                           user=request.user)
    except services.AwardRefused as refused:
        request.tm.doom()
        page.update(form_refused(request, form, refused.problems))
        return page
    flash_done(request, _("The award is amended."))
    return HTTPFound(location=request.resource_url(context, anchor="amendments"))


# -- the payment schedule -----------------------------------------------------------------------------------------


def _schedule_rows(award) -> int:
    return max(6, len(award.tranches) + 2)


def _schedule_values(request, award) -> dict:
    tranches = award.tranches
    by_percent = not tranches or all(t.percent is not None for t in tranches)
    values = {"mode": "percent" if by_percent else "amount"}
    for number, tranche in enumerate(tranches, start=1):
        row = {"share": format(tranche.percent.normalize(), "f") if by_percent
               else format_amount(tranche.amount, request.locale_name),
               "condition": tranche.condition,
               "condition_report": str(tranche.condition_report_id or "")}
        if tranche.due_on is not None:
            row["due_on"] = tranche.due_on
        values[f"tranche_{number}"] = row
    return values


def _read_schedule(request, award, data, reports_by_id, rows):
    """The tranche specs of the filled rows, the rows used, and problems with what was typed."""
    specs, used, problems = [], [], []
    for number in range(1, rows + 1):
        row = data[f"tranche_{number}"]
        if not row["share"] and row["due_on"] is None and row["condition"] == "none" and not row["condition_report"]:
            continue
        spec = {"due_on": row["due_on"], "condition": row["condition"],
                "condition_report": reports_by_id.get(row["condition_report"])}
        where = f"tranche_{number}.share"
        if row["share"] and data["mode"] == "percent":
            try:
                spec["percent"] = parse_decimal(row["share"])
            except ValueError:
                problems.append((where, _("Enter tranche ${number}'s percentage as a number, like 40",
                                          mapping={"number": number})))
        elif row["share"]:
            try:
                spec["amount"] = parse_money(row["share"], award.currency, request.locale_name)
            except MoneyError as exc:
                problems.append((where, exc.message))
        specs.append(spec)
        used.append(number)
    return specs, used, problems


@view_config(context=Award, name="schedule", renderer=T + "schedule.pt", permission=Permission.AwardsAwardManage)
def schedule_page(context, request):
    """The payment schedule: tranches in percentages or amounts, each with a due date
    and what it waits for.  Read-only once a tranche is released."""
    reports = _reports(request, context)
    rows = _schedule_rows(context)
    form = make_form(request, with_version(schedule_schema(context, _report_choices(request, context, reports), rows,
                                                           request.registry),
                                           context), "schedule", _("Save the payment schedule"))
    stable_ids(form)
    locked = any(not means(t, "pending") for t in context.tranches)
    page = _page(request, award=context, rnd=context.round, locked=locked, form_html=None,
                 tranches=[(t, _state_title(request, t)) for t in context.tranches],
                 condition_titles={name: c.title for name, c in services.tranche_conditions(request.registry).items()})
    if locked:
        if request.method == "POST":
            request.response.status = 409
        return page
    if request.method != "POST":
        page["form_html"] = form.render(_schedule_values(request, context))
        return page
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page.update(form_failed(request, failure))
        return page
    specs, used, problems = _read_schedule(request, context, data, {str(r.id): r for r in reports}, rows)
    if not specs and not problems:
        problems.append((None, _("Give at least one tranche.")))
    if problems:
        page.update(form_refused(request, form, problems))
        return page
    try:
        with editing_form(request, context, form, data, stored=lambda: {
                **{f"tranche_{n}": {"condition": "none"} for n in range(1, rows + 1)},
                **_schedule_values(request, context)}):
            services.set_schedule(request.dbsession, request.registry, context, specs, user=request.user)
    except services.AwardRefused as refused:
        request.tm.doom()
        page.update(form_refused(request, form, _rows_map(refused.problems, used, "tranche_")))
        return page
    flash_done(request, _("The payment schedule is saved."))
    return HTTPFound(location=request.resource_url(context, anchor="schedule"))


# -- releasing and paying tranches ------------------------------------------------------------------------------


@view_config(context=Tranche, permission=Permission.AwardsAwardView)
def tranche_view(context, request):
    """A tranche is shown in its award's payment schedule (links from "My tasks" land there)."""
    return HTTPFound(location=request.resource_url(context.award, anchor=f"tranche-{context.position}"))


@view_config(context=Tranche, name="release", request_method="POST", renderer=T + "award.pt",
             permission=Permission.AwardsTrancheRelease)
def release_tranche(context, request):
    """Release a tranche for payment.  When its condition does not hold, the award page
    comes back saying why (409) and nothing changes."""
    try:
        request.workflows.fire(context, "release", request.user)
    except Refused as refusal:
        request.tm.doom()
        request.response.status = 409
        return award_page(context.award, request, refusal=refusal, refused_tranche=context)
    flash_done(request, _("Tranche ${number} is released for payment.", mapping={"number": context.position}))
    return HTTPFound(location=request.resource_url(context.award, anchor="schedule"))


@view_config(context=Tranche, name="disburse", renderer=T + "disburse.pt", permission=Permission.AwardsTrancheRelease)
def disburse_page(context, request):
    """Record the payment of a released tranche (the tranche workflow's ``disburse``)."""
    form = make_form(request, DisbursementSchema(), "disburse", _("Record the payment"), bind={"context": context})
    stable_ids(form)
    page = _page(request, tranche=context, award=context.award, rnd=context.award.round,
                 state=_state_title(request, context), refusal=None, form_html=None)
    if not means(context, "released"):
        if request.method == "POST":
            request.response.status = 409
        return page
    if request.method != "POST":
        page["form_html"] = form.render({"amount": context.amount})
        return page
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page.update(form_failed(request, failure))
        return page
    values = {k: data[k] for k in ("amount", "paid_on", "reference")}
    try:
        request.workflows.fire(context, "disburse", request.user, data=values)
    except Refused as refusal:
        request.tm.doom()
        request.response.status = 409
        page.update(refusal=refusal, form_html=form.render(data))
        return page
    flash_done(request, _("Payment recorded: ${amount} for tranche ${number}.", mapping={
        "amount": money_formatter(request)(data["amount"]), "number": context.position}))
    return HTTPFound(location=request.resource_url(context.award, anchor="payments"))


# -- budget against actual -------------------------------------------------------------------------------------------


def _budget_rows(award) -> int:
    return max(5, len(award.budget_lines) + 3)


def _budget_form(request, award):
    form = make_form(request, with_version(budget_schema(award, request.locale_name, _budget_rows(award)), award),
                     "budget", _("Save the budget"))
    stable_ids(form)
    for row in form.children:  # a category's inputs are named after their language: budget-line_1-category-ar
        for field in row.children:
            languages = getattr(field.schema, "multilingual", None)
            if languages:
                by_name = {name: code for code, name in languages.items()}
                for child in field.children:
                    child.oid = f"{field.oid}-{by_name[child.name]}"
    return form


def _spend_form(request, award, reports):
    # An option holds no markup: a category not written in the reader's language says so in words.
    lines = [(str(line.id), option_text(request, line, "category")) for line in award.budget_lines]
    form = make_form(request, expenditure_schema(award, request.locale_name, lines,
                                                 _report_choices(request, award, reports)),
                     "spend", _("Record the spending"))
    stable_ids(form)
    return form


def _budget_values(award) -> dict:
    languages = languages_of(award)
    return {f"line_{n}": {"category": as_form_value(line, "category", languages), "planned": line.planned}
            for n, line in enumerate(award.budget_lines, start=1)}


def _budget_page(context, request, *, forms=None, errors=()) -> dict:
    forms = dict(forms or {})
    can_set = bool(request.has_permission(Permission.AwardsAwardManage, context)) and means(context, "active")
    can_spend = bool(request.has_permission(Permission.MelFrameworkEdit, context)) and bool(context.budget_lines)
    reports = _reports(request, context)
    budget_html = forms.get("budget")
    if budget_html is None and can_set:
        budget_html = _budget_form(request, context).render(_budget_values(context))
    spend_html = forms.get("spend")
    if spend_html is None and can_spend:
        spend_html = _spend_form(request, context, reports).render()
    spending = sorted(((e, line) for line in context.budget_lines for e in line.expenditures),
                      key=lambda pair: (pair[0].spent_on, pair[0].id))
    return _page(request, award=context, rnd=context.round, summary=services.budget_vs_actual(context),
                 budget_form_html=budget_html if can_set else None, spend_form_html=spend_html if can_spend else None,
                 spending=spending, reports={r.id: r for r in reports}, errors=list(errors))


@view_config(context=Award, name="budget", renderer=T + "budget.pt", permission=Permission.AwardsAwardView)
def budget_page(context, request):
    """Budget against actual; officers set the lines (``__formid__=budget``), the
    grantee's members record spending (``__formid__=spend``)."""
    if request.method != "POST":
        return _budget_page(context, request)
    formid = request.POST.get("__formid__", "")
    if formid == "budget":
        if not request.has_permission(Permission.AwardsAwardManage, context):
            raise HTTPForbidden()
        return _set_budget(context, request)
    if formid == "spend":
        if not request.has_permission(Permission.MelFrameworkEdit, context):
            raise HTTPForbidden()
        return _record_spending(context, request)
    raise HTTPNotFound()


def _set_budget(context, request):
    form = _budget_form(request, context)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        failed = form_failed(request, failure)
        return _budget_page(context, request, forms={"budget": failed["form_html"]}, errors=failed["errors"])
    lines, used, problems = [], [], []
    for number in range(1, _budget_rows(context) + 1):
        row = data[f"line_{number}"]
        if not row["category"] and row["planned"] is None:
            continue
        if row["planned"] is None:
            category = row["category"]  # {language: text} when the programme has several languages
            if isinstance(category, dict):
                category = next((category[code] for code in languages_of(context) if category.get(code)), "")
            problems.append((f"line_{number}.planned", _("Enter the amount planned for “${category}”",
                                                         mapping={"category": category})))
        lines.append((row["category"], row["planned"]))
        used.append(number)
    try:
        services.AwardRefused.refuse_if(problems)
        with editing_form(request, context, form, data, stored=lambda: {
                **{f"line_{n}": {} for n in range(1, _budget_rows(context) + 1)}, **_budget_values(context)}):
            services.set_budget(request.dbsession, context, lines, user=request.user)
    except services.AwardRefused as refused:
        request.tm.doom()
        failed = form_failed(request, refusal_failure(form, _rows_map(refused.problems, used, "line_")))
        return _budget_page(context, request, forms={"budget": failed["form_html"]}, errors=failed["errors"])
    flash_done(request, _("The budget is saved."))
    return HTTPFound(location=request.resource_url(context, "budget"))


def _record_spending(context, request):
    reports = _reports(request, context)
    form = _spend_form(request, context, reports)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        failed = form_failed(request, failure)
        return _budget_page(context, request, forms={"spend": failed["form_html"]}, errors=failed["errors"])
    line = next(line for line in context.budget_lines if str(line.id) == data["line"])
    report = next((r for r in reports if str(r.id) == data["report"]), None)
    try:
        services.record_expenditure(request.dbsession, line, amount=data["amount"], spent_on=data["spent_on"],
                                    report=report, note=data["note"], user=request.user)
    except services.AwardRefused as refused:
        request.tm.doom()
        failed = form_refused(request, form, refused.problems)
        return _budget_page(context, request, forms={"spend": failed["form_html"]}, errors=failed["errors"])
    flash_done(request, _("Spending recorded: ${amount} on “${category}”.", mapping={
        "amount": money_formatter(request)(data["amount"]), "category": option_text(request, line, "category")}))
    return HTTPFound(location=request.resource_url(context, "budget", anchor="spending"))


def includeme(config):
    config.scan(__name__)

