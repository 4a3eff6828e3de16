"""Account pages (registration, sign-in, sign-out, password reset).

The views only translate between HTTP and ``services``.  Nothing here tells a visitor
whether an address has an account: registering a known address, asking for a reset
link or for a new confirmation link all end on the same "check your e-mail" page.
"""
from __future__ import annotations

import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config

from grants.i18n import _, format_datetime, ngettext, site_zone, translate
from grants.web import safe_came_from

from . import services, throttling
from grants.forms import flash_done, form_failed, make_form

from .forms import ChangePasswordSchema, EmailOnlySchema, LoginSchema, NewPasswordSchema, RegisterSchema
from .sessions import end_sessions

TEMPLATES = "grants.templates:accounts/"
CHECK_EMAIL = TEMPLATES + "check_email.pt"
TOKEN_INVALID = TEMPLATES + "token_invalid.pt"
VERIFY_AGAIN = TEMPLATES + "verify_again.pt"

HOURS = {purpose: int(lifetime.total_seconds() // 3600) for purpose, lifetime in services.TOKEN_LIFETIMES.items()}


def _page(request, form_html: str, errors=(), **extra) -> dict:
    return {
        "form_html": form_html,
        "errors": list(errors),
        **extra,
    }


def _render(request, template: str, values: dict, status: int = 200):
    response = render_to_response(template, values, request=request)
    response.status = status
    return response


def _failed(request, failure: deform.ValidationFailure, **extra) -> dict:
    return {**form_failed(request, failure), **extra}


def _no_referrer(request) -> None:
    # The address of these pages holds a secret; keep it out of Referer headers.
    request.response.headers["Referrer-Policy"] = "no-referrer"


def resend_form(request, email: str = "") -> str:
    form = make_form(request, EmailOnlySchema(), "resend", _("Send me a new link"))
    form.action = request.route_url("login")
    return form.render({"email": email} if email else {})


def _check_email(request, kind: str, email: str):
    values = _page(request, resend_form(request, email) if kind != "reset" else "",
                   kind=kind, email=email, hours=HOURS[services.RESET if kind == "reset" else services.VERIFY])
    return _render(request, CHECK_EMAIL, values)


# --- registration and verification ----------------------------------------------------


@view_config(route_name="register", renderer=TEMPLATES + "register.pt", request_method=("GET", "POST"),
             permission=NO_PERMISSION_REQUIRED)
def register(request):
    form = make_form(request, RegisterSchema(), "register", _("Create account"))
    if request.method == "GET":
        return _page(request, form.render())
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return _failed(request, failure)
    result = services.register(request.dbsession, name=data["name"], email=data["email"],
                               password=data["password"], locale=data["locale"])
    if result.already_registered:
        services.mail_already_registered(request.registry, request.tm, result.user,
                                         request.route_url("login"), request.route_url("reset_request"))
    else:
        services.mail_verification_link(request.registry, request.tm, result.user,
                                        request.route_url("verify", token=result.token))
    return _check_email(request, "registered", data["email"])


@view_config(route_name="verify", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def verify(request):
    _no_referrer(request)
    try:
        services.verify_email(request.dbsession, request.matchdict["token"])
    except services.InvalidToken as exc:
        return _token_invalid(request, services.VERIFY, exc.reason)
    flash_done(request, _("Your e-mail address is confirmed. You can sign in now."))
    return HTTPFound(location=request.route_url("login"))


def _token_invalid(request, purpose: str, reason: str):
    values = _page(request, resend_form(request) if purpose == services.VERIFY else "",
                   purpose=purpose, reason=reason, hours=HOURS[purpose])
    response = _render(request, TOKEN_INVALID, values, status=400)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@view_config(route_name="login", request_method="POST", request_param="__formid__=resend",
             permission=NO_PERMISSION_REQUIRED)
def resend_verification(request):
    """The "send me a new link" form, shown where a confirmation link is needed (the
    sign-in page for an unconfirmed account, an expired link, "check your e-mail")."""
    form = make_form(request, EmailOnlySchema(), "resend", _("Send me a new link"))
    form.action = request.route_url("login")
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        values = _failed(request, failure)
        return _render(request, VERIFY_AGAIN, values, status=400)
    issued = services.resend_verification(request.dbsession, data["email"])
    if issued is not None:
        user, token = issued
        services.mail_verification_link(request.registry, request.tm, user, request.route_url("verify", token=token))
    return _check_email(request, "resent", data["email"])


# --- signing in and out ---------------------------------------------------------------


@view_config(route_name="login", renderer=TEMPLATES + "login.pt", request_method=("GET", "POST"),
             permission=NO_PERMISSION_REQUIRED)
def login(request):
    form = make_form(request, LoginSchema(), "login", _("Sign in"))
    if request.method == "GET":
        return _page(request, form.render({"came_from": request.params.get("came_from", "")}))
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return _failed(request, failure)
    try:
        user = services.authenticate(request.dbsession, data["email"], data["password"],
                                     client=throttling.client_address(request))
    except services.LoginRefused as refused:
        return _login_refused(request, form, data, refused)
    came_from = data["came_from"]
    request.session.invalidate()  # a new session for the signed-in person: no fixation
    headers = remember(request, str(user.id))
    return HTTPFound(location=safe_came_from(request, came_from), headers=headers)


def _login_refused(request, form, data, refused: services.LoginRefused) -> dict:
    target = form["email"].oid  # the input the error summary links to
    extra = {}
    if refused.reason == "throttled":
        message = _throttled(request, refused)
        if refused.scope == "account":
            extra["reset_offered"] = True  # the owner's way in while a stranger keeps the account locked
    elif refused.reason == "unverified":
        request.response.status = 403
        message = _("You need to confirm your e-mail address before you can sign in. "
                    "Open the link we sent you, or ask for a new one below.")
        extra["resend_html"] = resend_form(request, data["email"])
        target = "resend-email"
    else:
        request.response.status = 400
        message = _("The e-mail address or password is not right")
    # form.render() shows what was typed (never the password).
    return _page(request, form.render(), [(target, translate(request, message))], **extra)


def _throttled(request, refused: services.LoginRefused):
    minutes = refused.minutes_to_wait()
    request.response.status = 429
    request.response.headers["Retry-After"] = str(minutes * 60)
    # The moment in the site's zone: a visitor who has not signed in belongs to no round.
    mapping = {"time": format_datetime(refused.retry_at, site_zone(request))}
    if refused.scope == "client":
        return ngettext("There have been too many attempts to sign in from your network. "
                        "Try again in ${count} minute, after ${time}.",
                        "There have been too many attempts to sign in from your network. "
                        "Try again in ${count} minutes, after ${time}.", minutes, mapping)
    return ngettext("There have been too many attempts to sign in with this e-mail address. "
                    "Try again in ${count} minute, after ${time}, or choose a new password: "
                    "the link we e-mail you works even now.",
                    "There have been too many attempts to sign in with this e-mail address. "
                    "Try again in ${count} minutes, after ${time}, or choose a new password: "
                    "the link we e-mail you works even now.", minutes, mapping)


@view_config(route_name="logout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def logout(request):
    """Signing out ends every session of the account, not only this browser's: a copied
    or forgotten cookie elsewhere stops working too."""
    if request.user is not None:
        end_sessions(request.dbsession, request.user.id)
    headers = forget(request)
    request.session.invalidate()
    request.session.flash(translate(request, _("You have signed out.")), "info")
    return HTTPFound(location=request.resource_url(request.root), headers=headers)


@view_config(route_name="logout", request_method="GET", renderer=TEMPLATES + "logout.pt",
             permission=NO_PERMISSION_REQUIRED)
def logout_confirm(request):
    """Someone who types /logout gets a button rather than a "not found"."""
    return {}


# --- password reset -------------------------------------------------------------------


@view_config(route_name="reset_request", renderer=TEMPLATES + "reset_request.pt", request_method=("GET", "POST"),
             permission=NO_PERMISSION_REQUIRED)
def reset_request(request):
    form = make_form(request, EmailOnlySchema(), "reset_request", _("Send me a link"))
    if request.method == "GET":
        return _page(request, form.render())
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return _failed(request, failure)
    issued = services.request_password_reset(request.dbsession, data["email"])
    if issued is not None:
        user, token = issued
        services.mail_reset_link(request.registry, request.tm, user, request.route_url("reset", token=token))
    return _check_email(request, "reset", data["email"])


@view_config(route_name="reset", renderer=TEMPLATES + "reset.pt", request_method=("GET", "POST"),
             permission=NO_PERMISSION_REQUIRED)
def reset(request):
    _no_referrer(request)
    token = request.matchdict["token"]
    try:
        services.check_token(request.dbsession, token, services.RESET)
    except services.InvalidToken as exc:
        return _token_invalid(request, services.RESET, exc.reason)
    form = make_form(request, NewPasswordSchema(), "reset", _("Save new password"))
    if request.method == "GET":
        return _page(request, form.render())
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return _failed(request, failure)
    services.reset_password(request.dbsession, token, data["password"])
    request.session.invalidate()  # its row may be one the reset just ended
    flash_done(request, _("Your password has been changed. Sign in with your new password."))
    return HTTPFound(location=request.route_url("login"))


# --- changing the password --------------------------------------------------------------


@view_config(route_name="change_password", renderer=TEMPLATES + "change_password.pt", request_method=("GET", "POST"),
             permission=NO_PERMISSION_REQUIRED)
def change_password(request):
    user = request.user
    if user is None:
        raise HTTPForbidden()  # anonymous visitors are sent to sign in
    form = make_form(request, ChangePasswordSchema(), "change_password", _("Change password"))
    if request.method == "GET":
        return _page(request, form.render())
    try:
        data = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        return _failed(request, failure)
    try:
        services.change_password(request.dbsession, user, data["current"], data["password"])
    except services.LoginRefused as refused:
        message = _throttled(request, refused)
        return _page(request, form.render(), [(form["current"].oid, translate(request, message))])
    except services.WrongPassword:
        request.response.status = 400
        message = _("Your current password is not right")
        return _page(request, form.render(), [(form["current"].oid, translate(request, message))])
    # Every session of the account has ended, this one too: carry on in a new one.
    request.session.invalidate()
    headers = remember(request, str(user.id))
    flash_done(request, _("Your password has been changed. You have been signed out everywhere else."))
    return HTTPFound(location=request.resource_url(request.root), headers=headers)
