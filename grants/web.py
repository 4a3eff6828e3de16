"""The web shell: sessions, CSRF, static files, the layout, the home page, the language
switcher, "my tasks", workflow diagrams, and the error pages."""
from __future__ import annotations

from urllib.parse import urlparse

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender, NewResponse, subscriber
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound
from pyramid.renderers import get_renderer
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.session import SignedCookieSessionFactory
from pyramid.view import forbidden_view_config, notfound_view_config, view_config

from grants.i18n import COOKIE, _, deployment_languages, translate
from grants.resources import Root
from grants.security import Permission
from grants.workflow import Refused

LAYOUT = "grants.templates:layout.pt"
MACROS = "grants.templates:macros.pt"  # the error summary, shared by every form page


@subscriber(BeforeRender)
def add_layout_globals(event):
    request = event.get("request")
    if request is None:
        return
    event["layout"] = get_renderer(LAYOUT).implementation()
    event["macros"] = get_renderer(MACROS).implementation().macros
    event["csrf_token"] = get_csrf_token(request)
    event["languages"] = deployment_languages(request)  # the switcher: code -> name
    event["t"] = lambda message: translate(request, message)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@subscriber(NewResponse)
def add_security_headers(event):
    for name, value in SECURITY_HEADERS.items():
        event.response.headers.setdefault(name, value)


def safe_came_from(request, came_from: str | None) -> str:
    """Only ever redirect back into this site."""
    home = request.resource_url(request.root)
    if not came_from:
        return home
    target, site = urlparse(came_from), urlparse(request.application_url)
    if target.scheme and (target.scheme, target.netloc) != (site.scheme, site.netloc):
        return home
    if not target.scheme and came_from.startswith("//"):
        return home
    return came_from


@view_config(route_name="language", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def choose_language(request):
    lang = request.POST.get("lang")
    if lang not in deployment_languages(request):
        raise HTTPBadRequest(translate(request, _("Choose one of the languages offered.")))
    response = HTTPFound(location=safe_came_from(request, request.POST.get("came_from")))
    response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    if request.user is not None:
        request.user.locale = lang  # mail to them follows the language they chose
    return response


@view_config(context=Root, renderer="grants.templates:home.pt", permission=NO_PERMISSION_REQUIRED)
def home(request):
    from sqlalchemy import select

    from grants.programmes.models import Round

    rounds = request.dbsession.scalars(select(Round).where(Round.state == "open").order_by(Round.closes_at)).all()
    return {"open_rounds": rounds}


@view_config(context=Root, name="tasks", renderer="grants.templates:tasks.pt", permission=NO_PERMISSION_REQUIRED)
def my_tasks(request):
    """Plone's worklists: every object on which the signed-in user can fire a transition now."""
    if request.user is None:
        raise HTTPForbidden()
    from grants.lifecycle.services import worklist

    return {"tasks": worklist(request.workflows, request.user)}


@view_config(context=Root, name="workflows", renderer="grants.templates:workflows.pt",
             permission=Permission.SiteWorkflowView)
def workflows_page(request):
    from grants.workflow.diagram import to_svg

    return {"workflows": [(wf, to_svg(wf.definition, standalone=False)) for wf in request.registry.workflows]}


@forbidden_view_config(renderer="grants.templates:error.pt")
def forbidden(request):
    if request.user is None and request.method == "GET":
        return HTTPFound(location=request.route_url("login", _query={"came_from": request.url}))
    request.response.status = 403
    return {"title": _("You cannot do that"),
            "detail": _("Your account does not have access to this page or action.")}


@notfound_view_config(renderer="grants.templates:error.pt")
def not_found(request):
    request.response.status = 404
    return {"title": _("Page not found"), "detail": _("Check the address, or go back to the home page.")}


@view_config(context=HTTPBadRequest, renderer="grants.templates:error.pt", permission=NO_PERMISSION_REQUIRED)
def bad_request(exc, request):
    request.response.status = 400
    if "CSRF" in (exc.detail or "") or "csrf" in str(exc).lower():
        return {"title": _("The form expired"),
                "detail": _("For your security this form could not be accepted. Go back, reload the page and try again.")}
    return {"title": _("Something in the request was wrong"), "detail": exc.detail or ""}


@view_config(context=Refused, renderer="grants.templates:error.pt", permission=NO_PERMISSION_REQUIRED)
def refused(exc, request):
    request.response.status = 409
    return {"title": _("This step is not possible"), "detail": "", "reasons": exc.reasons}

# Conflicts (409) have their own page: grants.concurrency.


def includeme(config):
    settings = config.get_settings()
    secret = settings.get("grants.secret")
    if not secret:
        raise ValueError("grants.secret is not set: put a long random string in the .ini")
    secure = settings.get("grants.secure_cookies", "false").lower() in ("1", "true", "yes")
    config.set_session_factory(
        SignedCookieSessionFactory(secret, httponly=True, samesite="Lax", secure=secure, timeout=8 * 3600,
                                   reissue_time=600)
    )
    config.set_default_csrf_options(require_csrf=True)  # every POST, PUT, DELETE, PATCH
    config.add_static_view("static", "grants:static", cache_max_age=3600)
    config.add_static_view("deform_static", "deform:static", cache_max_age=3600)
    config.add_route("language", "/language")
    config.scan(".web")
