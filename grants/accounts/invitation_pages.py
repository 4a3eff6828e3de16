"""The page an invitee without an account registers on, shared by every kind of invitation
(membership of an organisation, a role on a programme or round): the mailed link reached
the invited mailbox, so the address needs no confirmation link of its own."""
from __future__ import annotations

import deform
from pyramid.security import remember

from grants.forms import form_failed, make_form
from grants.i18n import _, translate

from . import services as account_services
from .invitations import InvalidInvitation
from .organisation_forms import InvitationRegisterSchema


def register_then_accept(request, invitation, values: dict, accept, *, unusable, refused=()):
    """Show the form (GET), or make the account and ``accept(user)`` the invitation.

    Returns the page's values while the form is shown or refused, else ``(accepted,
    headers)``: what ``accept`` returned, and the headers that sign the new person in.
    An invitation answered meanwhile is ``unusable(request, reason)``; an exception of a
    ``refused`` class (with ``reasons``) is a 409 with the form as typed.  Either way the
    account is not kept."""
    form = make_form(request, InvitationRegisterSchema(), "register", _("Create account and accept"))
    values = {"errors": [], **values, "has_account": False}
    if request.method == "GET":
        return {**values, "form_html": form.render()}
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return {**values, **form_failed(request, failure)}
    user = account_services.register_confirmed(request.dbsession, name=data["name"], email=invitation.email,
                                               password=data["password"], locale=data["locale"])
    if user is None:
        # Only someone holding the mailed link gets here, so saying so reveals nothing.
        request.response.status = 409
        return {**values, "has_account": True, "form_html": ""}
    try:
        accepted = accept(user)
    except InvalidInvitation as exc:  # answered a moment ago, in another tab
        request.tm.doom()
        return unusable(request, exc.reason)
    except tuple(refused) as exc:
        request.tm.doom()
        request.response.status = 409
        return {**values, "form_html": form.render(data),
                "errors": [("register", translate(request, r)) for r in exc.reasons]}
    request.session.invalidate()  # a new session for the signed-in person: no fixation
    return accepted, remember(request, str(user.id))
