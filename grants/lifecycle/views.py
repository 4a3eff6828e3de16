"""Generic pages for any object with a workflow: its state, what the signed-in user can
do now (and why not), its history, and the page that fires one transition."""
from __future__ import annotations

import colander
import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from grants.concurrency import CHANGED_FIRST, ROW_VERSION, abandon_changes, posted_version, with_version
from grants.forms import flash_done, form_failed, make_form
from grants.i18n import _, format_datetime, translate, zone_of
from grants.security import local_roles
from grants.workflow import Conflict, EffectFailed, Refused

from .models import WorkflowMixin


class CommentSchema(colander.MappingSchema):
    comment = colander.SchemaNode(
        colander.String(),
        title=_("Comment"),
        description=_("Recorded in the history with this step."),
        missing="",
        widget=deform.widget.TextAreaWidget(rows=3),
    )


def transition_form(request, context, transition):
    wf = request.workflows.workflow(context)
    factory = wf.form_for_transition(transition.trigger)
    schema = factory() if factory is not None else colander.MappingSchema()
    comment = CommentSchema()["comment"].clone()
    if transition.comment_required:
        comment.missing = colander.required
        comment.missing_msg = _("Give a reason for this step: it is kept in the history")
        comment.title = _("Reason")
    schema.add(comment)
    with_version(schema, context)
    return make_form(request, schema, "transition", transition.title, button_name="fire",
                     bind={"context": context})


def object_page(context, request, *, staff: bool = True):
    """The state, the options and the history of ``context``.  ``staff`` is False for a
    page the public and applicants read: they see only the steps they may take (a list
    of steps refused to them tells them nothing they can act on) and no history, whose
    steps and comments are the funder's working notes."""
    service = request.workflows
    wf = service.workflow(context)
    options = service.options(context, request.user)
    return {
        "obj": context,
        "state": wf.state_of(context),
        "options": options if staff else [option for option in options if option.allowed],
        "history": history_rows(wf, service.history(context)) if staff else [],
    }


class HistoryRow:
    """One history entry as a person reads it: the step and the states by their titles
    (an id is shown only for a step the workflow no longer has)."""

    def __init__(self, wf, entry):
        definition = wf.definition
        transition = definition.transition(entry.trigger)
        self.at = entry.at
        self.comment = entry.comment
        self.trigger = (transition.title if transition is not None
                        else _("Created") if entry.trigger == "create" else entry.trigger)
        self.from_state = _state_title(definition, entry.from_state)
        self.to_state = _state_title(definition, entry.to_state)


def _state_title(definition, state_id):
    state = definition.states.get(state_id) if state_id else None
    return state.title if state is not None else (state_id or "")


def history_rows(wf, history) -> list[HistoryRow]:
    return [HistoryRow(wf, entry) for entry in history]


def may_fire(request, context, definition, trigger: str) -> bool:
    """Does the signed-in person hold the permission of the transition ``trigger`` (of
    any of the workflow's transitions when there is no such trigger) on ``context``?

    Asked before anything else, so that whoever may not fire it learns nothing from the
    page: not the object's title, nor its state, nor whether the trigger exists.  Someone
    who held it in a state the transition starts from may still ask: they are the ones
    whose page was overtaken by another person's move (told so as a conflict)."""
    named = [t for t in definition.transitions if t.trigger == trigger]
    if any(request.has_permission(t.permission, context) for t in named or definition.transitions):
        return True
    roles = local_roles(context, request.user)
    return any(definition.states[source].roles_for(t.permission) & roles
               for t in named for source in t.sources if source in definition.states)


def overtaken(request, context, trigger: str):
    """The history entry of the last move, if someone else's move since the person drew
    their page explains why ``trigger`` is no longer possible (or not as they saw it)."""
    history = request.workflows.history(context)
    last = history[-1] if history else None
    return last if last is not None and last.trigger == trigger else None


def overtaken_reason(request, context, entry):
    wf = request.workflows.workflow(context)
    if entry is None:
        return CHANGED_FIRST
    transition = wf.definition.transition(entry.trigger)
    title = _(transition.title) if transition is not None else entry.trigger
    return _("It was already done: “${action}”, ${when}, so what you sent was not saved.",
             mapping={"action": translate(request, title), "when": format_datetime(entry.at, zone_of(context))})


@view_config(context=WorkflowMixin, name="transition", renderer="grants.templates:transition.pt",
             permission=NO_PERMISSION_REQUIRED)
def fire_transition(context, request):
    """GET shows the form for one transition; POST fires it.  The engine checks the
    permission and the guards, so refusals come back with the engine's own reasons.

    The form carries the object's row version: a person whose page was overtaken by
    someone else's move gets the conflict page (409), whether their request arrived while
    the other was writing or after it had committed."""
    trigger = request.params.get("trigger", "")
    service = request.workflows
    definition = service.workflow(context).definition
    if not may_fire(request, context, definition, trigger):
        raise HTTPForbidden()
    transition = definition.transition(trigger, context.state)
    if transition is None:
        if definition.transition(trigger) is not None:
            entry = overtaken(request, context, trigger)
            if entry is not None:
                raise Conflict(overtaken_reason(request, context, entry))
        raise HTTPNotFound()
    if request.method == "POST" and ROW_VERSION in request.POST and posted_version(request) != context.row_version:
        raise Conflict(overtaken_reason(request, context, overtaken(request, context, trigger)))
    option = next(o for o in service.options(context, request.user) if o.transition.trigger == trigger)
    form = transition_form(request, context, transition)
    page = {"obj": context, "transition": transition, "option": option, "form_html": None, "errors": [],
            "refusal": None}
    if request.method == "POST":
        try:
            appstruct = form.validate(list(request.POST.items()))
        except deform.ValidationFailure as failure:
            page.update(form_failed(request, failure))
            return page
        data = {k: v for k, v in appstruct.items() if k not in ("comment", "csrf_token", ROW_VERSION)}
        try:
            service.fire(context, trigger, request.user, data=data if transition.form else None,
                         comment=appstruct.get("comment", ""))
        except Refused as refusal:
            request.response.status = 409
            page.update(form_html=form.render(appstruct), refusal=refusal)  # nothing typed is lost
            return page
        flash_done(request, _("Done: ${action}.", mapping={"action": _(transition.title)}))
        return HTTPFound(location=request.resource_url(context))
    page["form_html"] = form.render()
    return page


def includeme(config):
    config.scan(".views")


@view_config(context=EffectFailed, renderer="grants.templates:error.pt", permission=NO_PERMISSION_REQUIRED)
def effect_failed(exc, request):
    """A step's effect broke (a plugin's bug, an outage): the whole step was undone.  Say
    so plainly, and who to tell; the details are in the server's log."""
    abandon_changes(request)  # the moved state and its history row must not be flushed by the page
    request.response.status = 500
    who = exc.origin or "grants"
    return {"title": _("This step could not be completed"),
            "detail": _("Nothing was changed: “${action}” failed while finishing its work, so it was undone. "
                        "Try again later; if it keeps failing, tell the site's administrators (the problem is in "
                        "${who}).", mapping={"action": _(exc.transition.title), "who": who})}
