"""Applications: the Python API used by the pages, the demo, the CLI and plugins.

Every function takes the SQLAlchemy session first (and the registry: the Pyramid
registry, which carries ``workflows``, ``application_forms`` and the settings), flushes
but never commits, and refuses with :class:`ApplicationRefused`, whose ``problems`` are
(field name or None, reason) pairs and whose ``reasons`` are sentences a person can read
(TranslationStrings, domain ``grants``).  A refusal changes nothing.

Drafting, section by section (the form is ``formdefs.form_for(registry, app, stage)``)::

    app = create_application(db, registry, rnd, org, amel, title="Reading clubs")
    app.form_version                     # "general": the round's version, kept for good
    save_section(db, registry, app, amel, "organisation",
                 {"mission": "…", "year_founded": "٢٠١١", "staff": "4"})   # posted text or values
    save_section(db, registry, app, amel, "budget", {"amount": "300 000,000"})
    # ApplicationRefused: [("amount", "Enter an amount of TND250,000.000 or less.")] — nothing stored
    save_section(db, registry, app, amel, "project", {"summary": "…"}, finished=False)  # come back later
    attach(db, registry, app, amel, kind="budget", filename="budget.xlsx", data=body)
    task_list(registry, app)             # each section: not_started, in_progress, completed or problem
    missing_answers(registry, app)       # what still stops submission, as sentences
    submit(db, registry, app, amel)      # through the workflow: the round must be open, answers complete

After submission nobody edits the answers, officers included::

    save_section(db, registry, app, amel, "organisation", {...})
    # ApplicationRefused: "This application was submitted on 2019-01-20 10:00 (Africa/Tunis); its answers
    #                      can no longer be changed."
    withdraw(db, registry, app, amel, reason="We merged with another association")

A second stage, while the application is in incubation::

    save_section(db, registry, app, amel, "theory_of_change", {...}, stage="proposal")
    attach(db, registry, app, amel, kind="detailed_budget", filename="budget.ods", data=body, stage="proposal")
    submit_proposal(db, registry, app, amel)
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import colander
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from grants.i18n import _, format_datetime
from grants.lifecycle.meanings import means
from grants.money import Money, format_money
from grants.security import Permission, Role, local_roles
from grants.workflow import ProblemsRefused, Refused
from grants.lifecycle.services import holds_permission, settings_of, workflows_of

from .formdefs import (
    PROPOSAL_VERSION_KEY,
    ApplicationForm,
    Section,
    UnknownFormVersion,
    as_cstruct,
    bind_schema,
    built_form,
    form_for,
    is_built_version,
    forms_of,
    from_stored,
    partial,
    to_stored,
)
from .models import Application, ApplicationAttachment

NOT_STARTED, IN_PROGRESS, COMPLETED, PROBLEM = "not_started", "in_progress", "completed", "problem"
#: What the application's state means while each stage's answers may change
#: (grants.lifecycle.meanings): a returned application is changed and resubmitted.
EDITABLE_IN = {"application": ("draft", "returned_for_changes"), "proposal": ("incubation",)}
_EDIT_PERMISSION = {"application": Permission.ApplicationsApplicationEdit,
                    "proposal": Permission.ApplicationsProposalEdit}


class ApplicationRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


_refuse_if = ApplicationRefused.refuse_if


# -- the registry and its parts -----------------------------------------------------------------




def _state_label(registry, obj):
    state = workflows_of(registry).for_object(obj).state_of(obj)
    return state.public_title or state.title


def _form(registry, application, stage) -> ApplicationForm:
    try:
        return form_for(registry, application, stage)
    except UnknownFormVersion as exc:
        raise ApplicationRefused([(None, _unknown_form(exc.version))]) from None


def _unknown_form(version):
    return _("The application form “${version}” is not installed here: tell the programme team.",
             mapping={"version": version})


def _context(application, locale="en") -> dict:
    """What section schemas are bound with."""
    return {"currency": application.round.programme.currency, "country": application.organisation.country,
            "locale": locale or "en", "application": application}


def _answers(application, stage) -> dict:
    return (application.answers if stage == "application" else application.proposal) or {}


def _done_key(stage, section_name) -> str:
    return section_name if stage == "application" else f"proposal:{section_name}"


def _attached(application, stage) -> dict[str, ApplicationAttachment]:
    return {a.kind: a for a in application.attachments if a.stage == stage}


def _flush(dbsession) -> None:
    """Flush, turning a lost race (two tabs saving at once: the row's version moved) into
    the Conflict the pages explain ("someone else changed this first")."""
    from sqlalchemy.orm.exc import StaleDataError

    from grants.concurrency import CHANGED_FIRST
    from grants.workflow import Conflict

    try:
        dbsession.flush()
    except StaleDataError:
        raise Conflict(CHANGED_FIRST) from None


def _normalise(text) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text or "")).split())


# -- the amount asked ---------------------------------------------------------------------------


def round_maximum(rnd, rule: dict | None = None) -> Money | None:
    """The most a round gives one application: ``rule``'s own maximum (an
    ``amount_within_max`` rule), else the explicit maximum of the round's such rule, else
    its largest tier's maximum, else its budget (a round without tiers funds up to its
    budget), else None (no limit).  The one definition the form and eligibility share."""
    currency = rnd.programme.currency
    rules = [rule] if rule else [r for r in rnd.eligibility_rules or () if r.get("kind") == "amount_within_max"]
    for r in rules:
        if r.get("max_minor") is not None:
            return Money.from_minor(int(r["max_minor"]), currency)
    maxima = [t.maximum for t in rnd.tiers if t.currency == currency]
    if maxima:
        return max(maxima)
    return rnd.budget if rnd.budget is not None and rnd.budget.currency == currency else None


def amount_problem(rnd, amount: Money | None, locale: str = "en"):
    """Why ``amount`` cannot be asked of ``rnd`` (a sentence), or None."""
    if amount is None:
        return None
    currency = rnd.programme.currency
    if amount.currency != currency:
        return _("Enter the amount in ${currency}, the round's currency", mapping={"currency": currency})
    maximum = round_maximum(rnd)
    if maximum is not None and amount > maximum:
        return _("Enter an amount of ${max} or less.", mapping={"max": format_money(maximum, locale or "en")})
    return None


# -- who may change what ----------------------------------------------------------------------


def edit_refusal(registry, application, user, stage: str = "application"):
    """Why ``user`` may not change ``application``'s answers at ``stage`` now, or None."""
    zone = application.round.timezone
    if not means(application, *EDITABLE_IN[stage]):
        if stage == "application" and application.submitted_at is not None:
            return _("This application was submitted on ${when}; its answers can no longer be changed.",
                     mapping={"when": format_datetime(application.submitted_at, zone)})
        if stage == "proposal" and application.proposal_submitted_at is not None:
            return _("This proposal was submitted on ${when}; its answers can no longer be changed.",
                     mapping={"when": format_datetime(application.proposal_submitted_at, zone)})
        if stage == "proposal":
            return _("A full proposal is written during incubation; this application is “${state}”.",
                     mapping={"state": _state_label(registry, application)})
        return _("This application is “${state}”; its answers can no longer be changed.",
                 mapping={"state": _state_label(registry, application)})
    if user is None or not holds_permission(registry, application, user, _EDIT_PERMISSION[stage]):
        return _("Only members of the organisation that applies can change this application.")
    return None


def hides_identity(application, user) -> bool:
    """Does ``user`` see ``application`` without who made it?  Reviewers of a blind round
    do; officers and admins never."""
    if not application.round.blind_review:
        return False
    roles = local_roles(application, user)
    return Role.Reviewer in roles and not roles & {Role.ProgrammeOfficer, Role.Admin}


# -- creating --------------------------------------------------------------------------------------


def round_open_problem(rnd, now: dt.datetime | None = None):
    """Why ``rnd`` takes no applications now (a sentence), or None."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if not means(rnd, "open"):
        return _("The round “${round}” is not open for applications.", mapping={"round": rnd.title})
    if rnd.closes_at is not None and now >= rnd.closes_at:
        return _("The round closed on ${when}; applications can no longer be submitted.",
                 mapping={"when": format_datetime(rnd.closes_at, rnd.timezone)})
    return None


def is_member(dbsession: Session, user, organisation) -> bool:
    from grants.accounts.models import Membership

    if user is None or organisation is None:
        return False
    return dbsession.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.organisation_id == organisation.id)) is not None


def create_application(dbsession: Session, registry, rnd, organisation, user, *, title: str,
                       now: dt.datetime | None = None) -> Application:
    """A new draft application by ``organisation`` to ``rnd``, started on the newest
    application workflow.  Only while the round is open, and only for a member of the
    organisation.  It pins the round's form version (or the default one) for good."""
    from grants.lifecycle.services import WorkflowService

    problems = []
    title = _normalise(title)
    if not title:
        problems.append(("title", _(
            "Enter your project's title, like “Reading clubs in three village schools”")))
    elif len(title) > 300:
        problems.append(("title", _("Enter a title of 300 characters or fewer")))
    if organisation is None:
        problems.append(("organisation", _("Choose the organisation you are applying for")))
    elif not is_member(dbsession, user, organisation):
        problems.append(("organisation", _(
            "You are not a member of “${name}”: ask its owner to add you, or register your own organisation.",
            mapping={"name": organisation.legal_name})))
    closed = round_open_problem(rnd, now)
    if closed is not None:
        problems.append((None, closed))
    elif user is None or not holds_permission(registry, rnd, user, Permission.ApplicationsApplicationCreate):
        problems.append((None, _("Sign in to apply.")))
    forms = forms_of(registry)
    version = rnd.application_form_version or forms.default("application", rnd.programme.plugins).version
    if is_built_version(version):
        try:
            built_form(rnd, version)
        except UnknownFormVersion:
            problems.append((None, _unknown_form(version)))
    elif version not in forms or forms.get(version).stage != "application":
        problems.append((None, _unknown_form(version)))
    _refuse_if(problems)
    application = Application(round=rnd, organisation=organisation, title=title, form_version=version,
                              answers={}, sections_done=[], proposal={})
    WorkflowService(workflows_of(registry), dbsession).start(application, user)
    return application


def applications_in_round(dbsession: Session, user, rnd) -> list[Application]:
    """The applications to ``rnd`` by the organisations ``user`` belongs to."""
    from grants.accounts.models import Membership

    if user is None:
        return []
    return list(dbsession.scalars(
        select(Application).join(Membership, Membership.organisation_id == Application.organisation_id)
        .where(Membership.user_id == user.id, Application.round_id == rnd.id).order_by(Application.id)))


# -- answers ---------------------------------------------------------------------------------------


def _invalid_problems(invalid: colander.Invalid) -> list[tuple[str | None, Any]]:
    """(field, message) for every message of a colander failure, in the schema's order."""
    problems = []
    if invalid.msg:
        problems.extend((None, m) for m in invalid.messages())
    for child in invalid.children:
        problems.extend((child.node.name, m) for m in child.messages())
    return problems


def save_section(dbsession: Session, registry, application, user, section: str, data: dict, *,
                 stage: str = "application", finished: bool = True, locale: str | None = None) -> Application:
    """Check and keep the answers to one section.

    ``data`` is what the form posted (text) or the values themselves (Money, numbers,
    sets of region codes).  ``finished`` (the "Save and continue" button) needs every
    required answer and marks the section done; ``finished=False`` ("Save and come back
    later") keeps what is typed — it must be right, but blanks may stay — and leaves the
    section in progress.  The amount asked must be within the round's maximum; it is also
    kept on the application (``amount``)."""
    locale = locale or getattr(user, "locale", None) or "en"
    refusal = edit_refusal(registry, application, user, stage)
    _refuse_if([(None, refusal)] if refusal else [])
    form = _form(registry, application, stage)
    try:
        sec = form.section(section)
    except KeyError:
        raise ApplicationRefused([(None, _("This form has no section “${section}”.",
                                           mapping={"section": section}))]) from None
    if not sec.has_questions:
        raise ApplicationRefused([(None, _("“${section}” asks for documents: attach them instead.",
                                           mapping={"section": sec.title}))])
    schema = bind_schema(sec, **_context(application, locale))
    if not finished:
        schema = partial(schema)
    try:
        values = schema.deserialize(as_cstruct(schema, data or {}))
    except colander.Invalid as invalid:
        raise ApplicationRefused(_invalid_problems(invalid)) from None

    amount_name = form.amount_field[1] if form.amount_field and form.amount_field[0] == sec.name else None
    amount = values.get(amount_name) if amount_name else None
    amount = amount if isinstance(amount, Money) else None
    problem = amount_problem(application.round, amount, locale)
    _refuse_if([(amount_name, problem)] if problem else [])

    answers = dict(_answers(application, stage))  # a new dict, so the JSON column is seen to change
    answers[sec.name] = to_stored(schema, values)
    done = [name for name in application.sections_done or () if name != _done_key(stage, sec.name)]
    if finished:
        done.append(_done_key(stage, sec.name))
    if stage == "application":
        application.answers = answers
        application.form_version = application.form_version or form.version
    else:
        answers.setdefault(PROPOSAL_VERSION_KEY, form.version)
        application.proposal = answers
    application.sections_done = done
    if amount_name:
        application.amount = amount
    if form.title_field and form.title_field[0] == sec.name:
        new_title = values.get(form.title_field[1])
        if isinstance(new_title, str) and new_title.strip():
            application.title = _normalise(new_title)
    _flush(dbsession)
    return application


def attach(dbsession: Session, registry, application, user, *, kind: str, filename: str, data: bytes,
           stage: str = "application") -> ApplicationAttachment:
    """Attach a document the form asks for (``kind``), replacing an earlier one of the
    same kind, while the answers may change.  The file is checked for size and type
    (``grants.files.storage``); a refusal names the document's field (``kind``)."""
    from grants.files.storage import FileRefused, store

    refusal = edit_refusal(registry, application, user, stage)
    _refuse_if([(None, refusal)] if refusal else [])
    form = _form(registry, application, stage)
    try:
        form.attachment(kind)
    except KeyError:
        raise ApplicationRefused([(kind, _("This form does not ask for a document called “${kind}”.",
                                           mapping={"kind": kind}))]) from None
    try:
        stored = store(dbsession, settings_of(registry), filename=filename, data=data, uploaded_by=user)
    except FileRefused as refused:
        raise ApplicationRefused([(kind, reason) for _field, reason in refused.problems]) from None
    attachment = _attached(application, stage).get(kind)
    if attachment is None:
        attachment = ApplicationAttachment(stage=stage, kind=kind, file=stored)
        application.attachments.append(attachment)
    else:
        attachment.file = stored
        attachment.created_at = dt.datetime.now(dt.timezone.utc)
    if stage == "proposal" and PROPOSAL_VERSION_KEY not in (application.proposal or {}):
        application.proposal = {**(application.proposal or {}), PROPOSAL_VERSION_KEY: form.version}
    _flush(dbsession)
    return attachment


# -- where an application stands ---------------------------------------------------------------


@dataclass
class Task:
    """One section on the task list: its status and, unless completed, what is left."""

    section: Section
    status: str
    problems: list = field(default_factory=list)
    attachments: dict = field(default_factory=dict)  # kind -> ApplicationAttachment


def stored_problems(registry, application, section: Section, stage: str = "application",
                    locale: str = "en") -> list[tuple[str | None, Any]]:
    """What is wrong with a section's stored answers when checked again now."""
    form = form_for(registry, application, stage)
    schema = bind_schema(section, **_context(application, locale))
    if schema is None:
        return []
    stored = _answers(application, stage).get(section.name) or {}
    try:
        values = schema.deserialize(as_cstruct(schema, from_stored(schema, stored)))
    except colander.Invalid as invalid:
        return _invalid_problems(invalid)
    if form.amount_field and form.amount_field[0] == section.name:
        amount = values.get(form.amount_field[1])
        problem = amount_problem(application.round, amount if isinstance(amount, Money) else None, locale)
        if problem:
            return [(form.amount_field[1], problem)]
    return []


def task_list(registry, application, stage: str = "application", locale: str = "en") -> list[Task]:
    """Every section of the application's form with its status (GOV.UK's task list):
    ``not_started``, ``in_progress`` (saved to come back later, or documents missing),
    ``completed``, or ``problem`` (finished, but an answer no longer passes its check)."""
    form = form_for(registry, application, stage)
    answers = _answers(application, stage)
    attached = _attached(application, stage)
    done = set(application.sections_done or ())
    tasks = []
    for sec in form.sections:
        mine = {spec.kind: attached[spec.kind] for spec in sec.attachments if spec.kind in attached}
        missing_files = [spec for spec in sec.attachments if spec.required and spec.kind not in attached]
        file_problems = [_("Attach the document “${document}”.", mapping={"document": spec.title})
                         for spec in missing_files]
        started = bool(answers.get(sec.name)) or bool(mine)
        if sec.has_questions:
            finished = _done_key(stage, sec.name) in done
            if finished:
                wrong = [reason for _field, reason in stored_problems(registry, application, sec, stage, locale)]
                if wrong:
                    tasks.append(Task(sec, PROBLEM, wrong, mine))
                    continue
            if finished and not missing_files:
                tasks.append(Task(sec, COMPLETED, [], mine))
                continue
            problems = [] if finished else [_("Complete the section “${section}”.", mapping={"section": sec.title})]
            tasks.append(Task(sec, IN_PROGRESS if started else NOT_STARTED, problems + file_problems, mine))
        else:
            status = COMPLETED if not missing_files else IN_PROGRESS if mine else NOT_STARTED
            tasks.append(Task(sec, status, file_problems, mine))
    return tasks


def missing_answers(registry, application, stage: str = "application", *, locale: str = "en") -> list:
    """What stops ``application`` being submitted at ``stage``, as sentences (empty when
    nothing does): every section not finished or no longer valid, every required document
    missing, an amount over the round's maximum.  Used by the workflow guards
    ``answers_complete`` and ``proposal_complete``.  ``registry`` is the Pyramid registry
    (or None: the forms grants ships)."""
    try:
        tasks = task_list(registry, application, stage, locale)
    except UnknownFormVersion as exc:
        return [_unknown_form(exc.version)]
    return [reason for task in tasks if task.status != COMPLETED for reason in task.problems]


# -- moving on -------------------------------------------------------------------------------------


def _fire(dbsession, registry, application, trigger, user, *, transaction_manager=None, comment="", data=None,
          now=None):
    from grants.lifecycle.services import WorkflowService

    service = WorkflowService(workflows_of(registry), dbsession, transaction_manager=transaction_manager)
    try:
        return service.fire(application, trigger, user, comment=comment, data=data, now=now)
    except ApplicationRefused:
        raise
    except Refused as refused:
        raise ApplicationRefused([(None, reason) for reason in refused.reasons]) from None


def submit(dbsession: Session, registry, application, user, *, transaction_manager=None,
           now: dt.datetime | None = None):
    """Submit the application (workflow trigger ``submit``): refused unless the round is
    open and every answer and document is there (the workflow's guards say which).  An
    application returned for changes is resubmitted (``resubmit``), open round or not."""
    trigger = "resubmit" if means(application, "returned_for_changes") else "submit"
    return _fire(dbsession, registry, application, trigger, user, transaction_manager=transaction_manager,
                 now=now)


def return_for_changes(dbsession: Session, registry, application, user, *, message: str,
                       transaction_manager=None, now: dt.datetime | None = None):
    """Give a submitted application back to its applicant (trigger ``return_for_changes``)
    with ``message`` saying what to change: it is kept in the history and mailed to the
    organisation's members."""
    return _fire(dbsession, registry, application, "return_for_changes", user, comment=(message or "").strip(),
                 transaction_manager=transaction_manager, now=now)


def returned_message(registry, application):
    """The officer's message of the last return for changes, while the application is
    back with its applicant (or None)."""
    if not means(application, "returned_for_changes"):
        return None
    from grants.lifecycle.models import HistoryEntry

    dbsession = object_session(application)
    return dbsession.scalar(
        select(HistoryEntry.comment).where(HistoryEntry.object_type == application.__tablename__,
                                           HistoryEntry.object_id == application.id,
                                           HistoryEntry.trigger == "return_for_changes")
        .order_by(HistoryEntry.id.desc()).limit(1))


def submit_proposal(dbsession: Session, registry, application, user, *, transaction_manager=None,
                    now: dt.datetime | None = None):
    """Submit the second-stage full proposal (trigger ``submit_proposal``) from incubation."""
    return _fire(dbsession, registry, application, "submit_proposal", user, transaction_manager=transaction_manager,
                 now=now)


def withdraw(dbsession: Session, registry, application, user, *, reason: str = "", transaction_manager=None,
             now: dt.datetime | None = None):
    """Withdraw the application (trigger ``withdraw``), with the reason in its history."""
    transition = workflows_of(registry).for_object(application).definition.transition("withdraw", application.state)
    data = {"reason": reason} if transition is not None and transition.form else None
    return _fire(dbsession, registry, application, "withdraw", user, transaction_manager=transaction_manager,
                 comment=(reason or "").strip(), data=data, now=now)
