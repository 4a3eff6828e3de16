"""A round's set-up checklist (the GOV.UK "task list" pattern): what must be set before
the call opens, each task with its status and a link to the page that sets it.

Each task is a :class:`SetupTask`: a name, a title, a ``check(rnd, registry)`` that
answers ``COMPLETED``, ``INCOMPLETE`` or ``NOT_STARTED``, the round's page that sets it,
and whether it is required.  An optional task that is not done shows "Optional".  The
round workflow's guard :func:`setup_complete` refuses to open the call — whoever fires it,
``grants tick`` too — while a required task is not completed, and names every one.

grants' own tasks are :data:`CORE_TASKS`.  A plugin adds its own with the directive
``config.add_setup_task(name, title, check, view, required=False)``; they show on the
rounds of the programmes that use the plugin, after grants' own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pyramid.view import view_config
from sqlalchemy import or_, select
from sqlalchemy.orm import object_session

from grants.i18n import _
from grants.lifecycle.meanings import means
from grants.security import Permission

from .models import Programme, ProgrammeFunder, Round

COMPLETED, INCOMPLETE, NOT_STARTED = "completed", "incomplete", "not_started"
#: How each status reads (an optional task not done reads "Optional").
STATUS_TITLES = {COMPLETED: _("Completed"), INCOMPLETE: _("Incomplete"), NOT_STARTED: _("Not started"),
                 "optional": _("Optional")}
REGISTRY_KEY = "grants.setup_tasks"


@dataclass(frozen=True)
class SetupTask:
    name: str
    title: Any  # a TranslationString
    check: Callable[[Round, Any], str]  # (round, Pyramid registry or None) -> a status
    view: str  # the round's page that sets it ("edit"); "programme:NAME" for one of its programme's
    required: bool = False
    origin: str = ""  # the plugin that adds it; "" for grants' own


@dataclass(frozen=True)
class TaskStatus:
    task: SetupTask
    status: str  # COMPLETED, INCOMPLETE or NOT_STARTED

    @property
    def done(self) -> bool:
        return self.status == COMPLETED

    @property
    def label(self) -> str:
        """The status shown: an optional task that is not done is "optional"."""
        return self.status if self.done or self.task.required else "optional"


# -- grants' own checks -------------------------------------------------------------------------


def _dates(rnd, registry) -> str:
    if rnd.opens_at is None and rnd.closes_at is None:
        return NOT_STARTED
    if rnd.opens_at is None or rnd.closes_at is None or rnd.closes_at <= rnd.opens_at or not rnd.timezone:
        return INCOMPLETE
    return COMPLETED


def _budget(rnd, registry) -> str:
    return COMPLETED if rnd.budget_minor is not None else NOT_STARTED


def _tiers(rnd, registry) -> str:
    return COMPLETED if rnd.tiers else NOT_STARTED


def _funders(rnd, registry) -> str:
    """A funder contributes to the whole programme or to this round; a contribution that
    says it matches another funder's money needs that funder in the programme too."""
    applying = [c for c in rnd.programme.contributions if c.round_id in (None, rnd.id)]
    if not applying:
        return NOT_STARTED
    present = {c.funder_id for c in rnd.programme.contributions}
    if any(c.matches_funder_id is not None and c.matches_funder_id not in present for c in applying):
        return INCOMPLETE
    return COMPLETED


def _form(rnd, registry) -> str:
    """The form the round names (or, naming none, the programme's default) is installed
    and offered to this programme."""
    if registry is None:
        return COMPLETED  # a bare engine in a script knows no forms but grants' own
    from grants.applications.formdefs import form_refusal

    return INCOMPLETE if form_refusal(registry, rnd.programme, rnd.application_form_version) else COMPLETED


def _rubric(rnd, registry) -> str:
    return COMPLETED if rnd.rubric_id is not None else NOT_STARTED


def _eligibility(rnd, registry) -> str:
    return COMPLETED if rnd.eligibility_rules else NOT_STARTED


def _people(rnd, registry) -> str:
    """Someone is a programme officer of the round or its programme (they screen and
    decide); an evaluator or reviewers may come later."""
    from grants.accounts.models import LocalRole

    dbsession = object_session(rnd)
    officer = dbsession.scalar(select(LocalRole.id).where(LocalRole.role == "programme_officer", or_(
        (LocalRole.object_type == Programme.__tablename__) & (LocalRole.object_id == rnd.programme_id),
        (LocalRole.object_type == Round.__tablename__) & (LocalRole.object_id == rnd.id))).limit(1))
    return COMPLETED if officer is not None else NOT_STARTED


def _workflow(rnd, registry) -> str:
    """The workflow new applications will run is one this programme may use (the base, or
    a variant of a plugin it uses)."""
    if registry is None:
        return COMPLETED
    from grants.lifecycle.services import workflow_choice_at, workflows_of

    from .services import workflow_options

    chosen, pinned = workflow_choice_at(rnd, "application")
    if chosen not in {d.id for d in workflow_options(registry, rnd, "application")}:
        return INCOMPLETE
    # A pinned version must still be one that runs here (released, and checking).
    return COMPLETED if pinned is None or (chosen, pinned) in workflows_of(registry) else INCOMPLETE


def _public_report(rnd, registry) -> str:
    """Defaults are safe (cells under 5 suppressed, every funder named); a round that
    changed them has made its choice."""
    return COMPLETED if rnd.small_cell_threshold != 5 or rnd.hidden_funder_ids else NOT_STARTED


CORE_TASKS = (
    SetupTask("dates", _("Dates and time zone"), _dates, "edit", required=True),
    SetupTask("budget", _("Budget"), _budget, "edit", required=True),
    SetupTask("tiers", _("Grant-size tiers and match funding"), _tiers, "tiers"),
    SetupTask("funders", _("Funders and match funding"), _funders, "programme:add-funder"),
    SetupTask("form", _("Application form"), _form, "edit", required=True),
    SetupTask("rubric", _("Review rubric"), _rubric, "edit"),
    SetupTask("eligibility", _("Eligibility rules"), _eligibility, "edit"),
    SetupTask("people", _("People: officers, reviewers and evaluator"), _people, "people"),
    SetupTask("workflow", _("Workflow for applications"), _workflow, "edit", required=True),
    SetupTask("public_report", _("Public report settings"), _public_report, "public-report-settings"),
)


# -- the registry of tasks ------------------------------------------------------------------------


def add_setup_task(config, name: str, title, check, view: str, required: bool = False) -> None:
    """The directive ``config.add_setup_task``: a task on the set-up checklist of the
    rounds of programmes that use the plugin.  ``check(rnd, registry)`` returns
    ``COMPLETED``, ``INCOMPLETE`` or ``NOT_STARTED``; ``view`` is the round's page that
    sets it; a ``required`` task must be completed before the call can open."""
    from grants.plugins import PluginError, current_plugin, register_change

    if name in {t.name for t in CORE_TASKS}:
        raise PluginError(f"set-up task {name!r}: grants has a task of that name")
    task = SetupTask(name, title, check, view, bool(required), current_plugin(config))
    register_change(config, ("grants:setup-task", name), f"add set-up task {name!r}",
                    lambda: config.registry.setdefault(REGISTRY_KEY, []).append(task))


def setup_tasks(registry, programme) -> list[SetupTask]:
    """grants' own tasks, then those of the plugins ``programme`` uses."""
    from grants.plugins import in_scope

    registry = getattr(registry, "app_registry", None) or registry
    added = registry.get(REGISTRY_KEY) if registry is not None and hasattr(registry, "get") else None
    return [*CORE_TASKS, *(t for t in added or () if in_scope(t.origin, programme.plugins))]


def checklist(registry, rnd) -> list[TaskStatus]:
    registry = getattr(registry, "app_registry", None) or registry
    return [TaskStatus(task, task.check(rnd, registry)) for task in setup_tasks(registry, rnd.programme)]


def missing(registry, rnd) -> list[SetupTask]:
    """The required tasks not completed: what stops the call opening."""
    return [s.task for s in checklist(registry, rnd) if s.task.required and not s.done]


def setup_complete(ctx):
    """Guard on the round's ``open``: every required set-up task completed."""
    tasks = missing(getattr(ctx.env, "app", None) if ctx.env is not None else None, ctx.obj)
    if tasks:
        return _("Complete the round's set-up first: ${tasks}.", mapping={"tasks": [t.title for t in tasks]})
    return None


# -- the page ---------------------------------------------------------------------------------


def task_url(request, rnd, task: SetupTask) -> str:
    if task.view.startswith("programme:"):
        return request.resource_url(rnd.programme, task.view.partition(":")[2])
    return request.resource_url(rnd, task.view)


@view_config(context=Round, name="setup", renderer="grants.templates:programmes/setup.pt",
             permission=Permission.ProgrammesRoundManage)
def setup_page(context, request):
    """The checklist, and "Open the call" once every required task is done (while the
    round is a draft)."""
    statuses = checklist(request.registry, context)
    open_option = next((o for o in request.workflows.options(context, request.user)
                        if o.transition.trigger == "open"), None)
    return {
        "rnd": context,
        "programme": context.programme,
        "rows": [{"status": s, "url": task_url(request, context, s.task)} for s in statuses],
        "status_titles": STATUS_TITLES,
        "completed": sum(1 for s in statuses if s.done),
        "draft": means(context, "draft"),
        "missing": [s.task for s in statuses if s.task.required and not s.done],
        "open_option": open_option,
        "open_url": request.resource_url(context, "transition", query={"trigger": "open"}),
    }
