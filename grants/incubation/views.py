"""Incubation pages.  For the round's officers: the cohort, its members, sessions and
registers (``@@incubation``) and each member's needs assessment
(``@@incubation-member?member=<id>``).  For the applicant: what their organisation
attended and how its capacity was scored (the application's ``@@incubation-record``).

Views translate between HTTP and ``services``: a refusal comes back as errors beside the
fields it is about, with everything typed kept (400)."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import deform
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import func, select

from grants.applications.models import Application
from grants.forms import flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_date, format_percent_figure, ngettext, translate
from grants.lifecycle.meanings import means, state_means
from grants.programmes.models import Round
from grants.security import Permission

from . import services
from .forms import (
    COHORT_FIELDS,
    SESSION_FIELDS,
    AttendanceSchema,
    SessionSchema,
    area_fields,
    area_lines,
    capacity_schema,
    cohort_schema,
    stable_ids,
)
from .models import ENTRY, EXIT, CohortMember, IncubationSession

T = "grants.templates:incubation/"


def _flash_refusal(request, refused) -> None:
    request.session.flash("; ".join(translate(request, r) for r in refused.reasons), "error")


def _state_title(request, application):
    return request.workflows.workflow(application).state_of(application).title


# -- forms ------------------------------------------------------------------------------------


def _cohort_form(request):
    defaults = services.default_capacity_areas(request.registry, request.context.programme)
    form = make_form(request, cohort_schema([translate(request, services.area_title(a)) for a in defaults]),
                     "cohort", _("Create the cohort"))
    stable_ids(form)
    return form


def _session_form(request, cohort):
    form = make_form(request, SessionSchema(), f"add-session-{cohort.id}", _("Add the session"))
    stable_ids(form)
    return form


def _member_choices(cohort):
    return [(str(m.id), m.application.organisation.legal_name) for m in cohort.members]


def _attendance_form(request, session):
    return make_form(request, AttendanceSchema(), f"attendance-{session.id}", _("Save the register"),
                     bind={"members": _member_choices(session.cohort)})


def _attendance_values(session) -> dict:
    return {"present": {str(a.member_id) for a in session.attendance if a.present}}


# -- the round's incubation page ----------------------------------------------------------------------


def _overview(context, request, *, forms: dict | None = None, errors=()) -> dict:
    """The page's values; ``forms`` holds the html of a form that failed (by form id)."""
    forms = dict(forms or {})
    cohorts = services.cohorts_of(request.dbsession, context)
    waiting = request.dbsession.scalar(
        select(func.count(Application.id)).where(
            Application.round_id == context.id, state_means(Application, services.INCUBATION),
            Application.id.not_in(select(CohortMember.application_id)))) or 0
    sections = []
    for cohort in cohorts:
        summary = services.cohort_summary(request.dbsession, cohort)
        rows = []
        for ms in summary.members:
            application = ms.application
            can_drop = (means(application, services.INCUBATION)
                        and request.has_permission(Permission.ApplicationsApplicationDecide, application))
            rows.append({
                "summary": ms,
                "application": application,
                "state": _state_title(request, application),
                "capacity_url": request.resource_url(context, "incubation-member", query={"member": ms.member.id}),
                "drop_url": request.resource_url(application, "transition", query={"trigger": "not_fund"})
                if can_drop else None,
            })
        registers = []
        for session in cohort.sessions:
            formid = f"attendance-{session.id}"
            html = forms.get(formid)
            if html is None and cohort.members:
                html = _attendance_form(request, session).render(_attendance_values(session))
            registers.append({"session": session, "form_html": html,
                              "present": sum(1 for a in session.attendance if a.present),
                              "taken": bool(session.attendance)})
        session_formid = f"add-session-{cohort.id}"
        sections.append({
            "cohort": cohort,
            "summary": summary,
            "rows": rows,
            "registers": registers,
            "session_form_html": forms.get(session_formid) or _session_form(request, cohort).render(),
            "session_form_open": session_formid in forms,
            "can_invite": any(means(r["application"], services.INCUBATION) for r in rows),
        })
    return {
        "rnd": context,
        "programme": context.programme,
        "sections": sections,
        "waiting": waiting,
        "create_form_html": forms.get("cohort") or _cohort_form(request).render({"months": 4}),
        "create_open": "cohort" in forms,
        "errors": list(errors),
        "kind_titles": services.KIND_TITLES,
        "display": lambda value: services.display(value, request.locale_name),
        "percent": lambda rate: _percent(rate, request.locale_name),
    }


def _percent(rate, locale_name: str) -> str:
    if rate is None:
        return "—"
    return format_percent_figure((rate * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN), locale_name)


def _find_cohort(request, rnd, cohort_id: str):
    cohort = next((c for c in services.cohorts_of(request.dbsession, rnd) if str(c.id) == cohort_id), None)
    if cohort is None:
        raise HTTPNotFound()
    return cohort


def _find_session(request, rnd, session_id: str) -> IncubationSession:
    try:
        session = request.dbsession.get(IncubationSession, int(session_id))
    except ValueError:
        session = None
    if session is None or session.cohort.round_id != rnd.id:
        raise HTTPNotFound()
    return session


@view_config(context=Round, name="incubation", renderer=T + "round.pt", permission=Permission.ProgrammesRoundManage)
def incubation_page(context, request):
    """GET shows the round's cohorts; POST handles the form named by ``__formid__``:
    ``cohort`` (create), ``add-session-<cohort>`` (add a session), ``attendance-<session>``."""
    if request.method != "POST":
        return _overview(context, request)
    formid = request.POST.get("__formid__", "")
    if formid == "cohort":
        return _create_cohort(context, request)
    kind, _dash, key = formid.rpartition("-")
    if kind == "add-session":
        return _add_session(context, request, _find_cohort(request, context, key))
    if kind == "attendance":
        return _take_register(context, request, _find_session(request, context, key))
    raise HTTPNotFound()


def _failed_page(context, request, formid, failed):
    return _overview(context, request, forms={formid: failed["form_html"]}, errors=failed["errors"])


def _create_cohort(context, request):
    form = _cohort_form(request)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed_page(context, request, "cohort", form_failed(request, failure))
    try:
        cohort = services.create_cohort(request.dbsession, context, title=data["title"], starts_on=data["starts_on"],
                                        months=data["months"], capacity_areas=area_lines(data["capacity_areas"]),
                                        registry=request.registry)
    except services.IncubationRefused as refused:
        request.tm.doom()
        return _failed_page(context, request, "cohort", form_refused(request, form, refused.problems, COHORT_FIELDS))
    flash_done(request, _("Cohort created: ${title}, from ${start} to ${end}.",
                          mapping={"title": cohort.title, "start": format_date(cohort.starts_on),
                                   "end": format_date(cohort.ends_on)}))
    return HTTPFound(location=request.resource_url(context, "incubation"))


def _add_session(context, request, cohort):
    form = _session_form(request, cohort)
    formid = form.formid
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed_page(context, request, formid, form_failed(request, failure))
    try:
        session = services.add_session(request.dbsession, cohort, title=data["title"], kind=data["kind"],
                                       held_on=data["held_on"], facilitator=data["facilitator"], notes=data["notes"])
    except services.IncubationRefused as refused:
        request.tm.doom()
        return _failed_page(context, request, formid, form_refused(request, form, refused.problems, SESSION_FIELDS))
    flash_done(request, _("Added the session “${title}”.", mapping={"title": session.title}))
    return HTTPFound(location=request.resource_url(context, "incubation"))


def _take_register(context, request, session):
    form = _attendance_form(request, session)
    formid = form.formid
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed_page(context, request, formid, form_failed(request, failure))
    try:
        rows = services.record_attendance(request.dbsession, session, [int(v) for v in data["present"]])
    except services.IncubationRefused as refused:
        request.tm.doom()
        return _failed_page(context, request, formid, form_refused(request, form, refused.problems, {"present": "present"}))
    flash_done(request, ngettext("Saved the register of “${title}”: ${present} of ${count} participant present.",
                                 "Saved the register of “${title}”: ${present} of ${count} participants present.",
                                 len(rows), mapping={"title": session.title,
                                                     "present": sum(1 for r in rows if r.present)}))
    return HTTPFound(location=request.resource_url(context, "incubation", anchor=f"register-{session.id}"))


@view_config(context=Round, name="incubation-enrol", request_method="POST",
             permission=Permission.ProgrammesRoundManage)
def incubation_enrol(context, request):
    """Enrol every application of the round in incubation into the chosen cohort."""
    cohort = _find_cohort(request, context, request.POST.get("cohort", ""))
    members = services.enrol_incubated(request.dbsession, cohort)
    if members:
        flash_done(request, ngettext("Enrolled ${count} application in “${cohort}”.",
                                     "Enrolled ${count} applications in “${cohort}”.",
                                     len(members), mapping={"cohort": cohort.title}))
    else:
        request.session.flash(translate(request, _("No application in incubation is waiting to join a cohort.")),
                              "info")
    return HTTPFound(location=request.resource_url(context, "incubation"))


@view_config(context=Round, name="incubation-invite", request_method="POST",
             permission=Permission.ProgrammesRoundManage)
def incubation_invite(context, request):
    """Write to the cohort's members still in incubation: the full proposal is open."""
    cohort = _find_cohort(request, context, request.POST.get("cohort", ""))
    try:
        sent = services.invite_to_second_stage(request.dbsession, request.registry, cohort,
                                               transaction_manager=request.tm, base_url=request.application_url)
    except services.IncubationRefused as refused:
        _flash_refusal(request, refused)
    else:
        flash_done(request, ngettext("Invited the cohort “${cohort}” to submit full proposals: ${count} message sent.",
                                     "Invited the cohort “${cohort}” to submit full proposals: ${count} messages sent.",
                                     sent, mapping={"cohort": cohort.title}))
    return HTTPFound(location=request.resource_url(context, "incubation"))


# -- one member's needs assessment --------------------------------------------------------------------


def _capacity_form(request, member, phase):
    button = _("Save the entry assessment") if phase == ENTRY else _("Save the exit assessment")
    form = make_form(request, capacity_schema(member.cohort.capacity_areas), f"capacity-{phase}", button)
    form.action = request.resource_url(request.context, "incubation-member", query={"member": member.id})
    return form


def _capacity_values(member, phase) -> dict:
    values = {}
    fields = area_fields(member.cohort.capacity_areas)
    for area, row in services.scores_of(member, phase).items():
        if area in fields:
            values[fields[area]] = str(row.score)
            values[f"{fields[area]}_note"] = row.note
    return values


def _area_titles(areas) -> dict:
    return {area: services.area_title(area) for area in areas}


def _member_page(context, request, member, *, forms: dict | None = None, errors=()) -> dict:
    forms = dict(forms or {})
    summary = services.cohort_summary(request.dbsession, member.cohort)
    has_entry = bool(services.scores_of(member, ENTRY))
    html = {}
    for phase in (ENTRY, EXIT):
        formid = f"capacity-{phase}"
        if formid in forms:
            html[phase] = forms[formid]
        elif phase == ENTRY or has_entry:
            html[phase] = _capacity_form(request, member, phase).render(_capacity_values(member, phase))
        else:
            html[phase] = None
    application = member.application
    return {
        "rnd": context,
        "programme": context.programme,
        "member": member,
        "application": application,
        "state": _state_title(request, application),
        "cohort": member.cohort,
        "ms": summary.member(member.id),
        "entry_form_html": html[ENTRY],
        "exit_form_html": html[EXIT],
        "errors": list(errors),
        "area_titles": _area_titles(member.cohort.capacity_areas),
        "percent": lambda rate: _percent(rate, request.locale_name),
        "overview_url": request.resource_url(context, "incubation"),
    }


def _find_member(request, rnd) -> CohortMember:
    try:
        member = request.dbsession.get(CohortMember, int(request.params.get("member", "")))
    except ValueError:
        member = None
    if member is None or member.cohort.round_id != rnd.id:
        raise HTTPNotFound()
    return member


@view_config(context=Round, name="incubation-member", renderer=T + "member.pt",
             permission=Permission.ProgrammesRoundManage)
def incubation_member(context, request):
    """A member's attendance and its needs assessment at entry and at exit (the exit form
    appears once the entry assessment is recorded)."""
    member = _find_member(request, context)
    if request.method != "POST":
        return _member_page(context, request, member)
    formid = request.POST.get("__formid__", "")
    phase = {"capacity-entry": ENTRY, "capacity-exit": EXIT}.get(formid)
    if phase is None:
        raise HTTPNotFound()
    form = _capacity_form(request, member, phase)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        failed = form_failed(request, failure)
        return _member_page(context, request, member, forms={formid: failed["form_html"]}, errors=failed["errors"])
    fields = area_fields(member.cohort.capacity_areas)
    try:
        services.record_capacity(request.dbsession, member, request.user, phase=phase,
                                 scores={a: int(data[f]) for a, f in fields.items()},
                                 notes={a: data[f"{f}_note"] for a, f in fields.items()})
    except services.IncubationRefused as refused:
        request.tm.doom()
        failed = form_refused(request, form, refused.problems, fields)
        return _member_page(context, request, member, forms={formid: failed["form_html"]}, errors=failed["errors"])
    name = member.application.organisation.legal_name
    flash_done(request, _("Saved the entry assessment of ${name}.", mapping={"name": name}) if phase == ENTRY
               else _("Saved the exit assessment of ${name}.", mapping={"name": name}))
    return HTTPFound(location=request.resource_url(context, "incubation-member", query={"member": member.id}))


# -- the applicant's view ----------------------------------------------------------------------------------


@view_config(context=Application, name="incubation-record", renderer=T + "record.pt",
             permission=Permission.ApplicationsApplicationView)
def incubation_record(context, request):
    """What the organisation sees of its incubation: its cohort, every session and whether
    it attended, and its capacity scores at entry and at exit."""
    member = services.cohort_of(request.dbsession, context)
    page = {"application": context, "member": member,
            "area_titles": _area_titles(member.cohort.capacity_areas) if member else {},
            "kind_titles": services.KIND_TITLES,
            "percent": lambda rate: _percent(rate, request.locale_name),
            "proposal_url": request.resource_url(context, "@@proposal")
            if request.has_permission(Permission.ApplicationsProposalEdit, context) else None}
    if member is None:
        return page
    summary = services.cohort_summary(request.dbsession, member.cohort)
    register = {}
    for session in member.cohort.sessions:
        row = next((a for a in session.attendance if a.member_id == member.id), None)
        register[session.id] = None if row is None else row.present
    page.update(cohort=member.cohort, ms=summary.member(member.id), register=register,
                entry_notes={a: s.note for a, s in services.scores_of(member, ENTRY).items()},
                exit_notes={a: s.note for a, s in services.scores_of(member, EXIT).items()})
    return page


def includeme(config):
    config.scan(__name__)
