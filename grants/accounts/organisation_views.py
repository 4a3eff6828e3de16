"""Organisation pages: "Your organisations", registering one, its page with members,
editing it, inviting and removing members; and the invitation's own pages, where the
person invited accepts or declines (creating an account first if they have none).

Routes under /organisations, added by ``grants.accounts.includeme``.  Every page needs a signed-in
person (``Permission.AccountsOrganisationManage``, which the root grants to everyone
signed in; anonymous visitors are sent to sign in).  Who may see or change one
organisation is the services' business: members see it, owners change it.
"""
from __future__ import annotations

import deform
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from grants.forms import flash_done, form_failed, make_form
from grants.i18n import _, translate
from grants.security import Permission

from . import organisations as services
from .models import Organisation, User
from .invitation_pages import register_then_accept
from .organisation_forms import InviteMemberSchema, OrganisationSchema

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
    from grants.home import organisation_lists
    from grants.web import shown_value

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
        "invitations": services.waiting_invitations(dbsession, org) if services.can_manage(dbsession, user, org)
        else [],
        # the last owner cannot be removed, nor leave
        "removable": {m.user_id for m in members if m.kind != services.OWNER or owners > 1},
        "user": user,
        # its applications and grants, each linked (reports and payments are on the grant's page)
        "lists": organisation_lists(request, user, org),
        "show": shown_value(request),
    }


@view_config(route_name="organisation_members", renderer=TEMPLATES + "add_member.pt",
             request_method=("GET", "POST"), permission=MANAGE)
def invite_member(request):
    """Owners invite by address.  The page then says the same thing whether or not the
    address has an account, and names nobody: the owner learns who joined only when they
    accept."""
    org = _organisation(request)
    _require_manager(request, org)
    form = make_form(request, InviteMemberSchema(), "add_member", _("Send the invitation"))
    values = {"org": org, "errors": []}
    if request.method == "GET":
        return {**values, "form_html": form.render()}
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return {**values, **form_failed(request, failure)}
    try:
        invitation, token = services.invite_member(request.dbsession, _user(request), org, data["email"],
                                                   data["kind"], locale=data["locale"])
    except services.OrganisationError as exc:
        request.response.status = 400
        target = form[exc.field or "email"].oid
        return {**values, "form_html": form.render(data), "errors": [(target, translate(request, exc.message))]}
    services.mail_invitation(request.registry, request.tm, request.dbsession, invitation,
                             request.route_url("invitation", token=token))
    flash_done(request, _("We have sent an invitation to ${email}. If they accept it, they become a member of the "
                          "organisation; until then they are listed below as invited.",
                          mapping={"email": invitation.email}))
    return HTTPFound(location=request.route_url("organisation", id=org.id))


@view_config(route_name="organisation_invitation_cancel", request_method="POST", permission=MANAGE)
def cancel_invitation(request):
    org = _organisation(request)
    _require_manager(request, org)
    try:
        invitation = services.cancel_invitation(request.dbsession, _user(request), org,
                                                int(request.matchdict["invitation_id"]))
    except services.InvalidInvitation as exc:
        if exc.reason == "unknown":
            raise HTTPNotFound() from None
        request.session.flash(translate(request, _("That invitation has already been answered or withdrawn.")),
                              "error")
        return HTTPFound(location=request.route_url("organisation", id=org.id))
    flash_done(request, _("The invitation to ${email} is withdrawn: its link no longer works.",
                          mapping={"email": invitation.email}))
    return HTTPFound(location=request.route_url("organisation", id=org.id))


# --- answering an invitation -------------------------------------------------------------


def _invitation(request):
    """The invitation behind the link, or the page saying why it cannot be used."""
    request.response.headers["Referrer-Policy"] = "no-referrer"  # the address holds a secret
    try:
        return services.invitation_for(request.dbsession, request.matchdict["token"]), None
    except services.InvalidInvitation as exc:
        return None, _unusable(request, exc.reason)


def _unusable(request, reason: str):
    values = {"reason": reason, "days": services.INVITATION_LIFETIME.days}
    response = render_to_response(TEMPLATES + "invitation_invalid.pt", values, request=request)
    response.status = 400
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@view_config(route_name="invitation", renderer=TEMPLATES + "invitation.pt", request_method=("GET", "POST"),
             permission=NO_PERMISSION_REQUIRED)
def answer_invitation(request):
    invitation, refusal = _invitation(request)
    if refusal is not None:
        return refusal
    user = request.user
    values = {"invitation": invitation, "org": invitation.organisation, "user": user,
              "for_someone_else": user is not None and user.email != invitation.email}
    if request.method == "GET":
        return values
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        raise HTTPBadRequest(translate(request, _("Choose whether to accept or decline the invitation.")))
    if answer == "accept" and user is None:
        raise HTTPForbidden()  # sent to sign in, and back here
    try:
        if answer == "decline":
            services.decline_invitation(request.dbsession, request.matchdict["token"])
        else:
            services.accept_invitation(request.dbsession, request.matchdict["token"], user)
    except services.InvalidInvitation as exc:  # answered a moment ago, in another tab
        return _unusable(request, exc.reason)
    except services.InvitationForSomeoneElse:
        request.response.status = 403
        return values
    if answer == "decline":
        request.session.flash(translate(request, _("You have declined the invitation to join ${organisation}.",
                                                   mapping={"organisation": invitation.organisation.legal_name})),
                              "info")
        return HTTPFound(location=request.resource_url(request.root))
    flash_done(request, _("You are now a member of ${organisation}.",
                          mapping={"organisation": invitation.organisation.legal_name}))
    return HTTPFound(location=request.route_url("organisation", id=invitation.organisation_id))


@view_config(route_name="invitation_register", renderer=TEMPLATES + "invitation_register.pt",
             request_method=("GET", "POST"), permission=NO_PERMISSION_REQUIRED)
def register_from_invitation(request):
    """Someone without an account creates one and lands as a member.  The link reached the
    invited mailbox, so the address needs no confirmation link of its own."""
    invitation, refusal = _invitation(request)
    if refusal is not None:
        return refusal
    done = register_then_accept(
        request, invitation, {"invitation": invitation, "org": invitation.organisation},
        lambda user: services.accept_invitation(request.dbsession, request.matchdict["token"], user),
        unusable=_unusable)
    if isinstance(done, dict):
        return done
    _membership, headers = done
    flash_done(request, _("Your account is ready and you are now a member of ${organisation}.",
                          mapping={"organisation": invitation.organisation.legal_name}))
    return HTTPFound(location=request.route_url("organisation", id=invitation.organisation_id), headers=headers)


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
