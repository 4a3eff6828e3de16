"""The applicant's pages: start an application, the task list, one page per section
(with "Save and continue" and "Save and come back later"), documents, check your
answers and submit, withdraw — and, at a programme's second stage, the same for the full
proposal.  Everyone who may see an application gets the read-only page.

Views translate between HTTP and ``services``: a refusal comes back as errors beside the
fields it is about (or at the top), with everything typed kept and nothing stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import colander
import deform
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.renderers import get_renderer
from pyramid.view import view_config

from grants.concurrency import ContentVersion, editing_form, with_version
from grants.forms import flash_done, form_failed, form_refused, make_form
from grants.i18n import PluralLength, _, format_datetime, ngettext, translate
from grants.lifecycle.meanings import means
from grants.money import Money, format_money
from grants.programmes.models import Round
from grants.security import Permission, Role, local_roles

from . import services
from .formdefs import (
    AttachmentSpec,
    RadiosWidget,
    Section,
    UnknownFormVersion,
    bind_schema,
    form_for,
    from_stored,
    partial,
)
from .models import Application

T = "grants.templates:applications/"
STAGES = {
    # stage: (page names: task list, section, documents, check)
    "application": ("", "section", "attachments", "check"),
    "proposal": ("proposal", "proposal-section", "proposal-attachments", "proposal-check"),
}
STATUS_LABELS = {
    services.NOT_STARTED: _("Not yet started"),
    services.IN_PROGRESS: _("In progress"),
    services.COMPLETED: _("Completed"),
    services.PROBLEM: _("There is a problem"),
}
STAFF_ROLES = {Role.ProgrammeOfficer, Role.Admin, Role.Reviewer}


# -- helpers --------------------------------------------------------------------------------


def _macros():
    return get_renderer(T + "macros.pt").implementation().macros


def _url(request, application, stage, page, *elements, **kw):
    name = STAGES[stage][page]
    return request.resource_url(application, name, *elements, **kw) if name else request.resource_url(application)


def _form_or_404(request, application, stage):
    try:
        return form_for(request.registry, application, stage)
    except UnknownFormVersion:
        raise HTTPNotFound() from None


def _is_staff(request, application) -> bool:
    return bool(local_roles(application, request.user) & STAFF_ROLES)


def _state_label(request, application):
    state = request.workflows.workflow(application).state_of(application)
    if _is_staff(request, application):
        return state.title
    return state.public_title or state.title


def _context(request, application) -> dict:
    return {"currency": application.round.programme.currency, "country": application.organisation.country,
            "locale": request.locale_name, "application": application}


def _option_links(request, application) -> list[dict]:
    """What the person can do now, each linked to the page that does it (submitting goes
    through check your answers, withdrawing through its confirm page).  Steps they could
    never take here are left out; steps they may take later are shown with the reason."""
    pages = {"submit": "check", "resubmit": "check", "submit_proposal": "proposal-check", "withdraw": "withdraw"}
    state = request.workflows.workflow(application).state_of(application)
    roles = local_roles(application, request.user)
    links = []
    for option in request.workflows.options(application, request.user):
        trigger = option.transition.trigger
        if not state.roles_for(option.transition.permission) & roles:
            continue
        if trigger in pages:
            href = request.resource_url(application, pages[trigger])
        else:
            href = request.resource_url(application, "transition", query={"trigger": trigger})
        links.append({"option": option, "href": href, "title": option.transition.title})
    return links


def _history(request, application, staff: bool) -> list[dict]:
    definition = request.workflows.workflow(application).definition
    rows = []
    for entry in request.workflows.history(application):
        state = definition.states.get(entry.to_state)
        label = entry.to_state if state is None else (state.title if staff else state.public_title or state.title)
        transition = definition.transition(entry.trigger)
        step = transition.title if transition is not None else (_("Started") if entry.trigger == "create"
                                                               else entry.trigger)
        rows.append({"at": format_datetime(entry.at, application.round.timezone), "step": step, "state": label,
                     "comment": entry.comment})
    return rows


# -- showing answers ------------------------------------------------------------------------


@dataclass
class AnswerRow:
    name: str
    question: Any
    answer: str | None  # None: not provided


@dataclass
class SectionAnswers:
    section: Section
    rows: list[AnswerRow] = field(default_factory=list)
    documents: list[tuple[AttachmentSpec, Any]] = field(default_factory=list)  # (spec, attachment or None)
    change_url: str | None = None


def _display(request, node, value) -> str | None:
    if value in (None, colander.null, "") or (isinstance(value, (set, list, tuple)) and not value):
        return None
    locale = request.locale_name
    if hasattr(node, "display"):  # a built form's table: its rows and their total
        return node.display(value, locale, lambda message: translate(request, message))
    if isinstance(value, Money):
        return format_money(value, locale)
    separator = "، " if locale.startswith("ar") else ", "
    choices = dict(getattr(node.widget, "values", None) or ()) if not getattr(node, "regions", False) else {}
    if choices:  # one or several of fixed choices: their labels, not their codes
        codes = sorted(value) if isinstance(value, (set, list, tuple)) else [value]
        return separator.join(translate(request, choices.get(code, code)) for code in codes)
    if getattr(node, "regions", False) or isinstance(node.typ, colander.Set):
        from grants import regions

        labels = [regions.label(code, locale) for code in value]
        return separator.join(sorted(labels, key=regions.sort_key))
    return str(value)


def answers_summary(request, application, stage="application", *, hide_identity=False,
                    change=False) -> list[SectionAnswers]:
    """Every question of every section with its answer (or "Not provided"), and every
    document with its download link, as the read-only page and check-your-answers show."""
    form = form_for(request.registry, application, stage)
    stored = (application.answers if stage == "application" else application.proposal) or {}
    attached = {a.kind: a for a in application.attachments if a.stage == stage}
    out = []
    for sec in form.sections:
        block = SectionAnswers(sec)
        schema = bind_schema(sec, **_context(request, application), request=request)
        if schema is not None:
            values = from_stored(schema, stored.get(sec.name))
            block.rows = [AnswerRow(node.name, node.title, _display(request, node, values.get(node.name)))
                          for node in schema.children]
            if change:
                block.change_url = _url(request, application, stage, 1, sec.name)
        elif change:
            block.change_url = _url(request, application, stage, 2)
        for spec in sec.attachments:
            if hide_identity and spec.identifying:
                continue
            block.documents.append((spec, attached.get(spec.kind)))
        out.append(block)
    return out


def _attachment_url(request, application, attachment) -> str:
    return request.resource_url(application, "attachment", str(attachment.id))


def document_name(request, application, attachment) -> str:
    """What a document is called to this reader, in links and in the download.  A file's
    name often carries the organisation's ("Budget AFEK 2019.xlsx"), so a reviewer of a
    blind round reads a neutral one made from the document's place in the form: "Document 2
    — Budget sheet.xlsx"."""
    from grants.files.storage import clean_filename, extension_of

    stored = attachment.file
    if not services.hides_identity(application, request.user):
        return stored.filename
    try:
        specs = list(form_for(request.registry, application, attachment.stage).attachments)
    except UnknownFormVersion:
        specs = []
    kinds = [spec.kind for spec in specs]
    number = kinds.index(attachment.kind) + 1 if attachment.kind in kinds else len(kinds) + 1
    title = specs[number - 1].title if attachment.kind in kinds else _("Document")
    name = translate(request, _("Document ${number} — ${title}", mapping={"number": number, "title": title}))
    extension = extension_of(stored.filename)
    return clean_filename(f"{name}.{extension}" if extension else name)


def _base(request, application, stage="application") -> dict:
    return {"app": application, "rnd": application.round, "stage": stage, "answer_macros": _macros(),
            "attachment_url": lambda a: _attachment_url(request, application, a),
            "document_name": lambda a: document_name(request, application, a),
            "size": lambda stored: _size(request, stored),
            "page_url": lambda page, *el: _url(request, application, stage, page, *el),
            "returned_message": services.returned_message(request.registry, application) if stage == "application"
            else None,
            "errors": []}


def _size(request, stored) -> str:
    """A file's size in the reader's language (the units too: an Arabic page says كيلوبايت)."""
    from grants.files.storage import megabytes

    kb = -(-stored.size // 1024)  # a few bytes are 1 KB, never 0
    if kb < 1024:
        return translate(request, _("${size} KB", mapping={"size": kb}))
    return translate(request, _("${size} MB", mapping={"size": megabytes(stored.size)}))


# -- starting ---------------------------------------------------------------------------------


class ApplySchema(colander.MappingSchema):
    organisation = colander.SchemaNode(
        colander.String(), title=_("Which organisation are you applying for?"),
        missing_msg=_("Choose the organisation you are applying for"))
    title = colander.SchemaNode(
        colander.String(), title=_("What is your project called?"),
        description=_("A short name, like “Reading clubs in three village schools”. You can change it later."),
        preparer=lambda v: v.strip() if isinstance(v, str) else v,
        missing_msg=_("Enter your project's title, like “Reading clubs in three village schools”"),
        validator=colander.Length(max=300, max_err=_("Enter a title of 300 characters or fewer")),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))

    def after_bind(self, node, kw):
        choices = kw["organisations"]
        org = node["organisation"]
        org.validator = colander.OneOf([value for value, _label in choices],
                                       msg_err=_("Choose the organisation you are applying for"))
        if len(choices) == 1:
            org.widget = deform.widget.HiddenWidget()
            org.default = choices[0][0]
        else:
            org.widget = RadiosWidget(values=choices)


@view_config(context=Round, name="apply", renderer=T + "apply.pt", permission=Permission.ApplicationsApplicationCreate)
def apply(context, request):
    """Start an application for one of the person's organisations (or say how to
    register one), with the applications they already have in this round."""
    from grants.accounts.organisations import organisations_of

    orgs = organisations_of(request.dbsession, request.user)
    page = {"rnd": context, "organisations": orgs, "errors": [], "form_html": None,
            "existing": services.applications_in_round(request.dbsession, request.user, context),
            "register_url": request.route_url("organisation_new"),
            "closes": format_datetime(context.closes_at, context.timezone) if context.closes_at else None}
    if not orgs:
        return page
    choices = [(str(o.id), o.legal_name) for o in orgs]
    form = make_form(request, ApplySchema(), "apply", _("Start the application"), bind={"organisations": choices})
    if request.method != "POST":
        page["form_html"] = form.render()
        return page
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return {**page, **form_failed(request, failure)}
    org = next(o for o in orgs if str(o.id) == data["organisation"])
    try:
        application = services.create_application(request.dbsession, request.registry, context, org, request.user,
                                                   title=data["title"])
    except services.ApplicationRefused as refused:
        request.tm.doom()
        status = 409 if any(f is None for f, _r in refused.problems) else 400
        failed = form_refused(request, form, refused.problems)
        request.response.status = status
        return {**page, **failed}
    flash_done(request, _("Your application is started. Complete each section, in any order, then check your "
                          "answers and submit."))
    return HTTPFound(location=request.resource_url(application))


# -- the application page -------------------------------------------------------------------


@view_config(context=Application, renderer=T + "application.pt", permission=Permission.ApplicationsApplicationView)
def application_page(context, request):
    """The applicant drafting sees the task list; everyone else who may see the
    application (and the applicant once it is submitted) sees every answer, read-only."""
    if means(context, *services.EDITABLE_IN["application"]) and request.has_permission(
            Permission.ApplicationsApplicationEdit, context):
        request.override_renderer = T + "tasks.pt"
        return task_list_page(context, request, "application")
    return summary_page(context, request)


def summary_page(context, request) -> dict:
    staff = _is_staff(request, context)
    hidden = services.hides_identity(context, request.user)
    page = _base(request, context)
    reasons = None
    if means(context, "ineligible"):
        try:
            from grants.applications.eligibility import ineligible_reasons
        except ImportError:  # the screening rules are not installed: nothing more to say
            ineligible_reasons = None
        if ineligible_reasons is not None:
            reasons = list(ineligible_reasons(context))
    has_proposal = (any(not k.startswith("_") for k in (context.proposal or {}))
                    or any(a.stage == "proposal" for a in context.attachments)
                    or context.proposal_submitted_at is not None)
    page.update(
        staff=staff,
        hide_identity=hidden,
        state_label=_state_label(request, context),
        organisation=None if hidden else context.organisation,
        org_details=None if hidden else _organisation_details(request, context.organisation),
        members=[] if hidden else [m.user for m in context.organisation.memberships],
        ineligible_reasons=reasons,
        summary=_summary_or_none(request, context, "application", hidden),
        proposal_summary=_summary_or_none(request, context, "proposal", hidden) if has_proposal else None,
        proposal_url=(request.resource_url(context, "proposal")
                      if means(context, "incubation") and request.has_permission(
                          Permission.ApplicationsProposalEdit, context) else None),
        options=_option_links(request, context),
        history=_history(request, context, staff),
        submitted=format_datetime(context.submitted_at, context.round.timezone) if context.submitted_at else None,
    )
    return page


def _summary_or_none(request, application, stage, hidden):
    try:
        return answers_summary(request, application, stage, hide_identity=hidden)
    except UnknownFormVersion:
        return None


def _organisation_details(request, org) -> dict:
    from grants.accounts.organisations import organisation_summary

    details = organisation_summary(org, request.locale_name)
    details["legal_form_label"] = translate(request, details["legal_form_label"]) if details["legal_form"] else None
    return details


def task_list_page(context, request, stage) -> dict:
    form = _form_or_404(request, context, stage)
    tasks = services.task_list(request.registry, context, stage, request.locale_name)
    links = {}
    for task in tasks:
        page = 1 if task.section.has_questions else 2
        links[task.section.name] = _url(request, context, stage, page, *([task.section.name] if page == 1 else []))
    page = _base(request, context, stage)
    page.update(
        form=form,
        tasks=tasks,
        links=links,
        status_labels=STATUS_LABELS,
        completed=sum(1 for t in tasks if t.status == services.COMPLETED),
        ready=all(t.status == services.COMPLETED for t in tasks),
        check_url=_url(request, context, stage, 3),
        state_label=_state_label(request, context),
        org_details=_organisation_details(request, context.organisation),
        organisation=context.organisation,
        closes=format_datetime(context.round.closes_at, context.round.timezone) if context.round.closes_at else None,
        options=_option_links(request, context),
    )
    return page


@view_config(context=Application, name="proposal", renderer=T + "tasks.pt",
             permission=Permission.ApplicationsApplicationView)
def proposal_tasks(context, request):
    """The full proposal's task list while in incubation; afterwards, its answers."""
    if means(context, *services.EDITABLE_IN["proposal"]) and request.has_permission(
            Permission.ApplicationsProposalEdit, context):
        return task_list_page(context, request, "proposal")
    return HTTPFound(location=request.resource_url(context))


# -- one section ------------------------------------------------------------------------------


def _section_form(request, application, sec, *, later=False, version=None, table_rows=None):
    schema = sec.schema_factory()
    if later:
        schema = partial(schema)
    if version is not None:
        with_version(schema, version)
    form = make_form(request, schema, "section", _("Save and continue"), button_name="continue",
                     bind={**_context(request, application), "table_rows": table_rows or {}})
    form.buttons = (
        deform.Button("continue", translate(request, _("Save and continue")), css_class="btn-primary"),
        deform.Button("later", translate(request, _("Save and come back later")), css_class="btn-outline-secondary"),
    )
    form.default_button_first = True  # a repeating table's own buttons must not take Enter (templates/form.pt)
    return form


def _initial_values(request, application, sec, stage, form) -> dict:
    stored = ((application.answers if stage == "application" else application.proposal) or {}).get(sec.name)
    values = from_stored(form.schema, stored)
    definition = form_for(request.registry, application, stage)
    if definition.title_field and definition.title_field[0] == sec.name:
        values.setdefault(definition.title_field[1], application.title)
    return values


def _tables(sec) -> dict:
    """The repeating tables of a section (a built form's), by name."""
    from .builder import TableNode

    schema = sec.schema_factory()
    return {node.name: node for node in schema.children if isinstance(node, TableNode)}


def _table_rows(request, tables: dict) -> dict[str, int]:
    """How many rows each table draws: on a POST as many as were posted (nothing typed is
    lost); after a table's button, what the address says (``rows-NAME``)."""
    import peppercorn

    rows = {}
    if request.method == "POST":
        posted = peppercorn.parse(list(request.POST.items()))
        for name in tables:
            value = posted.get(name)
            numbers = [int(k[3:]) for k in value if k.startswith("row") and k[3:].isdigit() and len(k) < 9] \
                if isinstance(value, dict) else []
            if numbers:
                rows[name] = max(numbers)
    else:
        for name in tables:
            raw = request.GET.get(f"rows-{name}", "")
            if raw.isdigit() and len(raw) < 4:
                rows[name] = int(raw)
    return rows


def _table_button(request, tables: dict) -> tuple[str, str] | None:
    """("add" or "remove", table name) when a table's button was pressed."""
    from .builder import ADD_ROW, REMOVE_EMPTY_ROWS

    for key, action in ((ADD_ROW, "add"), (REMOVE_EMPTY_ROWS, "remove")):
        name = request.POST.get(key) if request.method == "POST" else None
        if name in tables:
            return action, name
    return None


def _after_table_button(request, context, stage, sec, form, values, button) -> HTTPFound | dict:
    """Answers saved: the section again, with one more row or none of the empty ones."""
    action, name = button
    answers = ((context.answers if stage == "application" else context.proposal) or {}).get(sec.name) or {}
    kept = len(answers.get(name) or []) if isinstance(answers.get(name), list) else 0
    shown = len(form.schema[name].children) if name in form.schema else kept
    rows = shown + 1 if action == "add" else max(kept, 1)
    flash_done(request, _("Your answers to “${section}” are saved.", mapping={"section": sec.title}))
    return HTTPFound(location=_url(request, context, stage, 1, sec.name, query={f"rows-{name}": rows},
                                   anchor=f"section-{name}"))


def section_page(context, request, stage):
    definition = _form_or_404(request, context, stage)
    if len(request.subpath) != 1:
        raise HTTPNotFound()
    try:
        sec = definition.section(request.subpath[0])
    except KeyError:
        raise HTTPNotFound() from None
    if not sec.has_questions:
        return HTTPFound(location=_url(request, context, stage, 2))
    page = _base(request, context, stage)
    position = [s.name for s in definition.sections].index(sec.name) + 1
    page.update(section=sec, form=definition, position=position, total=len(definition.sections), refusal=None,
                form_html=None, task_list_url=_url(request, context, stage, 0),
                # A section may ask for documents beside its questions (a built form's can).
                attachments_url=_url(request, context, stage, 2) if sec.attachments else None)
    refusal = services.edit_refusal(request.registry, context, request.user, stage)
    if refusal is not None:
        if request.method == "POST":
            request.response.status = 409
        page["refusal"] = refusal
        return page
    tables = _tables(sec)
    button = _table_button(request, tables)
    # A table's buttons save what is typed as "come back later" does: blanks may stay.
    later = request.method == "POST" and ("later" in request.POST or button is not None)

    def drawn_from():
        return ContentVersion(((context.answers if stage == "application" else context.proposal) or {}).get(sec.name))

    form = _section_form(request, context, sec, later=later, version=drawn_from(),
                         table_rows=_table_rows(request, tables))
    if request.method != "POST":
        page["form_html"] = form.render(_initial_values(request, context, sec, stage, form))
        return page
    try:
        values = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return {**page, **form_failed(request, failure)}
    if button is not None and button[1] not in form.schema:  # a table its condition hides now
        button = None
    if button is not None and button[0] == "add" and len(form.schema[button[1]].children) >= tables[button[1]].cap:
        request.tm.doom()
        return {**page, **form_refused(request, form, [(button[1], ngettext(
            "This table takes at most ${count} row.",
            "This table takes at most ${count} rows.", tables[button[1]].cap))])}
    try:
        with editing_form(request, drawn_from, form, values,
                          stored=lambda: _initial_values(request, context, sec, stage, form)):
            services.save_section(request.dbsession, request.registry, context, request.user, sec.name, values,
                                  stage=stage, finished=not later, locale=request.locale_name)
    except services.ApplicationRefused as refused:
        request.tm.doom()
        return {**page, **form_refused(request, form, refused.problems)}
    if button is not None:
        return _after_table_button(request, context, stage, sec, form, values, button)
    if later:
        flash_done(request, _("Your answers to “${section}” are saved. You can come back to them later.",
                              mapping={"section": sec.title}))
        return HTTPFound(location=_url(request, context, stage, 0))
    flash_done(request, _("Your answers to “${section}” are saved.", mapping={"section": sec.title}))
    following = definition.next_section(sec.name)
    if following is None:
        return HTTPFound(location=_url(request, context, stage, 0))
    if following.has_questions:
        return HTTPFound(location=_url(request, context, stage, 1, following.name))
    return HTTPFound(location=_url(request, context, stage, 2))


@view_config(context=Application, name="section", renderer=T + "section.pt",
             permission=Permission.ApplicationsApplicationView)
def application_section(context, request):
    return section_page(context, request, "application")


@view_config(context=Application, name="proposal-section", renderer=T + "section.pt",
             permission=Permission.ApplicationsApplicationView)
def proposal_section(context, request):
    return section_page(context, request, "proposal")


# -- documents ---------------------------------------------------------------------------------


def attachments_page(context, request, stage):
    definition = _form_or_404(request, context, stage)
    specs = definition.attachments
    page = _base(request, context, stage)
    from grants.files.storage import FileRefused, max_upload_bytes, megabytes, read_upload

    page.update(form=definition, specs=specs, field_errors={}, refusal=None,
                limit=megabytes(max_upload_bytes(request.registry.settings)),
                task_list_url=_url(request, context, stage, 0), action=_url(request, context, stage, 2))
    refusal = services.edit_refusal(request.registry, context, request.user, stage)
    if refusal is not None:
        if request.method == "POST":
            request.response.status = 409
        page["refusal"] = refusal
    elif request.method == "POST":
        later = "later" in request.POST
        problems: dict[str, list] = {}
        saved = []
        for spec in specs:
            upload = request.POST.get(spec.kind)
            if upload is None or not getattr(upload, "filename", None):
                continue
            try:
                data = read_upload(upload, request.registry.settings)
                services.attach(request.dbsession, request.registry, context, request.user, kind=spec.kind,
                                filename=upload.filename, data=data, stage=stage)
            except (services.ApplicationRefused, FileRefused) as refused:
                for _name, reason in refused.problems:
                    problems.setdefault(spec.kind, []).append(reason)
            else:
                saved.append(spec)
        attached = {a.kind for a in context.attachments if a.stage == stage}
        if not later:
            for spec in specs:
                if spec.required and spec.kind not in attached and spec.kind not in problems:
                    problems[spec.kind] = [_("Choose the file of your ${document} to upload",
                                             mapping={"document": spec.title})]
        if problems:
            # Each file stands alone: one refused does not undo another accepted.
            request.response.status = 400
            page["field_errors"] = {kind: [translate(request, r) for r in reasons]
                                    for kind, reasons in problems.items()}
            page["errors"] = [(f"attachments-{spec.kind}", message) for spec in specs
                              for message in page["field_errors"].get(spec.kind, ())]
            page["saved"] = saved
        else:
            if saved:
                flash_done(request, _("Your documents are uploaded."))
            return HTTPFound(location=_url(request, context, stage, 0 if later else 3))
    page["attached"] = {a.kind: a for a in context.attachments if a.stage == stage}
    page.setdefault("saved", [])
    return page


@view_config(context=Application, name="attachments", renderer=T + "attachments.pt",
             permission=Permission.ApplicationsApplicationView)
def application_attachments(context, request):
    return attachments_page(context, request, "application")


@view_config(context=Application, name="proposal-attachments", renderer=T + "attachments.pt",
             permission=Permission.ApplicationsApplicationView)
def proposal_attachments(context, request):
    return attachments_page(context, request, "proposal")


@view_config(context=Application, name="attachment", permission=Permission.ApplicationsApplicationView)
def attachment_download(context, request):
    """One document, to whoever may see the application (a reviewer of a blind round
    never gets the ones that name the organisation)."""
    from grants.files.views import file_response

    if len(request.subpath) != 1 or not request.subpath[0].isdigit():
        raise HTTPNotFound()
    attachment = next((a for a in context.attachments if a.id == int(request.subpath[0])), None)
    if attachment is None:
        raise HTTPNotFound()
    if services.hides_identity(context, request.user):
        try:
            spec = form_for(request.registry, context, attachment.stage).attachment(attachment.kind)
        except (KeyError, UnknownFormVersion):
            spec = None
        if spec is None or spec.identifying:
            raise HTTPNotFound()
    return file_response(request, attachment.file, filename=document_name(request, context, attachment))


# -- check your answers and submit ---------------------------------------------------------------


def check_page(context, request, stage):
    _form_or_404(request, context, stage)
    if services.edit_refusal(request.registry, context, request.user, stage) is not None and request.method != "POST":
        return HTTPFound(location=request.resource_url(context))
    page = _base(request, context, stage)
    page.update(
        summary=answers_summary(request, context, stage, change=True),
        missing=services.missing_answers(request.registry, context, stage, locale=request.locale_name),
        refusal=None,
        task_list_url=_url(request, context, stage, 0),
        closes=format_datetime(context.round.closes_at, context.round.timezone) if context.round.closes_at else None,
    )
    if request.method == "POST":
        fire = services.submit if stage == "application" else services.submit_proposal
        try:
            fire(request.dbsession, request.registry, context, request.user, transaction_manager=request.tm)
        except services.ApplicationRefused as refused:
            request.tm.doom()  # the engine changed nothing; nothing else may be kept either
            request.response.status = 409
            page["refusal"] = refused
            return page
        if stage == "application":
            flash_done(request, _("Your application is submitted. We will tell you when it has been screened."))
        else:
            flash_done(request, _("Your full proposal is submitted."))
        return HTTPFound(location=request.resource_url(context))
    return page


@view_config(context=Application, name="check", renderer=T + "check.pt",
             permission=Permission.ApplicationsApplicationView)
def application_check(context, request):
    return check_page(context, request, "application")


@view_config(context=Application, name="proposal-check", renderer=T + "check.pt",
             permission=Permission.ApplicationsApplicationView)
def proposal_check(context, request):
    return check_page(context, request, "proposal")


# -- withdraw ------------------------------------------------------------------------------------


class WithdrawSchema(colander.MappingSchema):
    reason = colander.SchemaNode(
        colander.String(), title=_("Why are you withdrawing? (optional)"), missing="",
        description=_("It helps the programme team; it is kept with the application's history."),
        validator=PluralLength(max=2000, max_err=ngettext("Shorten your answer to ${count} character or fewer",
                                                    "Shorten your answer to ${count} characters or fewer", 2000)),
        widget=deform.widget.TextAreaWidget(rows=3, attributes={"dir": "auto"}))


@view_config(context=Application, name="withdraw", renderer=T + "withdraw.pt",
             permission=Permission.ApplicationsApplicationWithdraw)
def withdraw_page(context, request):
    form = make_form(request, WithdrawSchema(), "withdraw", _("Withdraw the application"), button_name="withdraw")
    form.buttons[0].css_class = "btn-danger"
    page = {**_base(request, context), "form_html": None, "refusal": None}
    if request.method != "POST":
        page["form_html"] = form.render()
        return page
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return {**page, **form_failed(request, failure)}
    try:
        services.withdraw(request.dbsession, request.registry, context, request.user, reason=data["reason"],
                          transaction_manager=request.tm)
    except services.ApplicationRefused as refused:
        request.tm.doom()
        request.response.status = 409
        page.update(refusal=refused, form_html=form.render(data))
        return page
    flash_done(request, _("Your application is withdrawn."))
    return HTTPFound(location=request.resource_url(context))

