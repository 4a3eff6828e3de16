"""Generic pages for any object with a workflow: its state, what the signed-in user can
do now (and why not), its history, and the page that fires one transition."""
from __future__ import annotations

import colander
import deform
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from grants.forms import flash_done, form_failed, make_form
from grants.i18n import _
from grants.workflow import Refused

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
    return make_form(request, schema, "transition", transition.title, button_name="fire",
                     bind={"context": context})


def object_page(context, request):
    service = request.workflows
    wf = service.workflow(context)
    return {
        "obj": context,
        "state": wf.state_of(context),
        "options": service.options(context, request.user),
        "history": service.history(context),
    }


@view_config(context=WorkflowMixin, name="transition", renderer="grants.templates:transition.pt",
             permission=NO_PERMISSION_REQUIRED)
def fire_transition(context, request):
    """GET shows the form for one transition; POST fires it.  The engine checks the
    permission and the guards, so refusals come back with the engine's own reasons."""
    trigger = request.params.get("trigger", "")
    service = request.workflows
    transition = service.workflow(context).definition.transition(trigger, context.state)
    if transition is None:
        raise HTTPNotFound()
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
        data = {k: v for k, v in appstruct.items() if k not in ("comment", "csrf_token")}
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
