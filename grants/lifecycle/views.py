"""Generic pages for any object with a workflow: its state, what the signed-in user can
do now (and why not), its history, and the page that fires one transition."""
from __future__ import annotations

import colander
import deform
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from grants.i18n import _, translate
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
    schema = schema.bind(request=request, context=context)
    comment = CommentSchema()["comment"].clone()
    if transition.comment_required:
        comment.missing = colander.required
        comment.title = _("Reason")
    schema.add(comment)
    button = deform.Button("fire", translate(request, transition.title), css_class="btn-primary")
    return deform.Form(schema, buttons=(button,), formid="transition")


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
    page = {"obj": context, "transition": transition, "option": option, "form_html": None, "errors": False}
    if request.method == "POST":
        try:
            appstruct = form.validate(request.POST.items())
        except deform.ValidationFailure as failure:
            request.response.status = 400
            page.update(form_html=failure.render(), errors=True)
            return page
        comment = appstruct.pop("comment", "")
        try:
            service.fire(context, trigger, request.user, data=appstruct if transition.form else None, comment=comment)
        except Refused as refusal:
            request.response.status = 409
            page.update(form_html=form.render(request.POST.items()), option=option, refusal=refusal)
            return page
        request.session.flash(
            translate(request, _("Done: ${action}.", mapping={"action": translate(request, transition.title)})),
            "success",
        )
        return HTTPFound(location=request.resource_url(context))
    page["form_html"] = form.render()
    return page


def includeme(config):
    config.scan(".views")
