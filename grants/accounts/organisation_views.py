"""Organisation pages: "Your organisations", registering one, its page with members,
editing it, adding and removing members.

Routes under /organisations, added by ``grants.accounts.includeme``.  Every page needs a signed-in
person (``Permission.AccountsOrganisationManage``, which the root grants to everyone
signed in; anonymous visitors are sent to sign in).  Who may see or change one
organisation is the services' business: members see it, owners change it.
"""
from __future__ import annotations

import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.view import view_config

from grants.forms import flash_done, form_failed, make_form
from grants.i18n import _, translate
from grants.security import Permission

from . import organisations as services
from .models import Organisation, User
from .organisation_forms import AddMemberSchema, OrganisationSchema

TEMPLATES = "grants.templates:organisations/"
MANAGE = Permission.AccountsOrganisationManage


def _user(request) -> User:
    user = request.user
    if user is None:  # the permission already keeps anonymous visitors out
        raise HTTPForbidden()
    return user


def _organisation(request) -> Organisation:
    """The organisation in the URL, if the signed-in person may see it."""
    try:
        org_id = int(request.matchdict["id"])
    except (KeyError, ValueError):
        raise HTTPNotFound() from None
    org = request.dbsession.get(Organisation, org_id)
    if org is None:
        raise HTTPNotFound()
    if not services.can_view(request.dbsession, _user(request), org):
        raise HTTPForbidden()
    return org


def _require_manager(request, org: Organisation) -> None:
    if not services.can_manage(request.dbsession, _user(request), org):
        raise HTTPForbidden()


def _details(request, org: Organisation) -> dict:
    summary = services.organisation_summary(org, request.locale_name)
    summary["legal_form_label"] = translate(request, summary["legal_form_label"])
    separator = "، " if request.locale_name.startswith("ar") else ", "
    summary["regions_text"] = separator.join(summary["region_names"])
    return summary


# --- your organisations ----------------------------------------------------------------


@view_config(route_name="organisations", renderer=TEMPLATES + "list.pt", request_method="GET", permission=MANAGE)
def list_organisations(request):
    user = _user(request)
    orgs = services.organisations_of(request.dbsession, user)
    return {"organisations": [(org, _details(request, org), services.is_owner(request.dbsession, user, org))
                              for org in orgs]}


# --- register and edit --------------------------------------------------------------


@view_config(route_name="organisation_new", renderer=TEMPLATES + "edit.pt", request_method=("GET", "POST"),
             permission=MANAGE)
def register_organisation(request):
    user = _user(request)
    form = make_form(request, OrganisationSchema(), "organisation", _("Register organisation"))
    values = {"org": None, "errors": []}
    if request.method == "GET":
        return {**values, "form_html": form.render()}
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return {**values, **form_failed(request, failure)}
    org = services.register_organisation(request.dbsession, user, data)
    flash_done(request, _("Your organisation is registered. You are its owner."))
    return HTTPFound(location=request.route_url("organisation", id=org.id))


@view_config(route_name="organisation_edit", renderer=TEMPLATES + "edit.pt", request_method=("GET", "POST"),
             permission=MANAGE)
def edit_organisation(request):
    org = _organisation(request)
    _require_manager(request, org)
    form = make_form(request, OrganisationSchema(), "organisation", _("Save changes"))
    values = {"org": org, "errors": []}
    if request.method == "GET":
        return {**values, "form_html": form.render(services.form_data(org))}
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return {**values, **form_failed(request, failure)}
    services.update_organisation(request.dbsession, _user(request), org, data)
    flash_done(request, _("Your changes are saved."))
    return HTTPFound(location=request.route_url("organisation", id=org.id))


# --- the organisation and its members --------------------------------------------------


@view_config(route_name="organisation", renderer=TEMPLATES + "view.pt", request_method="GET", permission=MANAGE)
def view_organisation(request):
    org = _organisation(request)
    user = _user(request)
    dbsession = request.dbsession
    members = services.members_of(dbsession, org)
    owners = sum(1 for m in members if m.kind == services.OWNER)
    return {
        "org": org,
        "details": _details(request, org),
        "members": members,
        "can_manage": services.can_manage(dbsession, user, org),
        # the last owner cannot be removed, nor leave
        "removable": {m.user_id for m in members if m.kind != services.OWNER or owners > 1},
        "user": user,
    }


@view_config(route_name="organisation_members", renderer=TEMPLATES + "add_member.pt",
             request_method=("GET", "POST"), permission=MANAGE)
def add_member(request):
    org = _organisation(request)
    _require_manager(request, org)
    form = make_form(request, AddMemberSchema(), "add_member", _("Add to the organisation"))
    values = {"org": org, "errors": []}
    if request.method == "GET":
        return {**values, "form_html": form.render()}
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return {**values, **form_failed(request, failure)}
    try:
        membership = services.add_member(request.dbsession, _user(request), org, data["email"], data["kind"])
    except services.OrganisationError as exc:
        request.response.status = 400
        target = form[exc.field or "email"].oid
        return {**values, "form_html": form.render(data), "errors": [(target, translate(request, exc.message))]}
    flash_done(request, _("${name} is now a member of the organisation.", mapping={"name": membership.user.name}))
    return HTTPFound(location=request.route_url("organisation", id=org.id))


@view_config(route_name="organisation_member_remove", request_method="POST", permission=MANAGE)
def remove_member(request):
    org = _organisation(request)
    user = _user(request)
    try:
        member = request.dbsession.get(User, int(request.matchdict["user_id"]))
    except ValueError:
        member = None
    if member is None:
        raise HTTPNotFound()
    try:
        services.remove_member(request.dbsession, user, org, member)
    except services.NotAllowed:
        raise HTTPForbidden() from None
    except services.OrganisationError as exc:
        request.session.flash(translate(request, exc.message), "error")
        return HTTPFound(location=request.route_url("organisation", id=org.id))
    if member.id == user.id:
        flash_done(request, _("You have left the organisation."))
        return HTTPFound(location=request.route_url("organisations"))
    flash_done(request, _("${name} is no longer a member of the organisation.", mapping={"name": member.name}))
    return HTTPFound(location=request.route_url("organisation", id=org.id))
