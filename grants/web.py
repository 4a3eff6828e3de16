"""The web shell: sessions, CSRF, static files, the layout, the home page, the language
switcher, "my tasks", workflow diagrams, and the error pages."""
from __future__ import annotations

import io
import logging
import string
import unicodedata
from urllib.parse import parse_qsl, quote, urlencode, urlparse

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender, ContextFound, NewResponse, subscriber
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound
from pyramid.renderers import get_renderer
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.tweens import INGRESS
from pyramid.view import forbidden_view_config, notfound_view_config, view_config

from sqlalchemy.exc import DataError

from grants.concurrency import abandon_changes
from grants.db import UnstorableText
from grants.i18n import COOKIE, _, deployment_languages, translate
from grants.lifecycle.meanings import means, state_means, state_tone
from grants.resources import Root
from grants.security import Permission
from grants.text import has_control_characters
from grants.workflow import Refused

LAYOUT = "grants.templates:layout.pt"
MACROS = "grants.templates:macros.pt"  # the error summary, shared by every form page
LISTING = "grants.templates:listing.pt"


@subscriber(BeforeRender)
def add_layout_globals(event):
    request = event.get("request")
    if request is None:
        return
    event["layout"] = get_renderer(LAYOUT).implementation()
    event["macros"] = get_renderer(MACROS).implementation().macros
    event["listing_macros"] = get_renderer(LISTING).implementation().macros  # the lists of home pages
    event["csrf_token"] = get_csrf_token(request)
    event["languages"] = deployment_languages(request)  # the switcher: code -> name
    event["t"] = lambda message: translate(request, message)
    event["means"] = means  # templates ask what a state means, never its id
    event["state_tone"] = state_tone  # the colour of a state badge (macros.state_badge)
    event["task_state"] = lambda task: _task_state(request, task)  # a task's object's state, for its reader
    event["state_named"] = lambda obj, state_id: _named(request, obj, state_id, "state")
    event["step_named"] = lambda obj, trigger: _named(request, obj, trigger, "step")
    event["theme_stylesheets"] = theme_stylesheets(request.registry.settings)


def _task_state(request, task):
    from grants import work

    return work.state_title(request, task)


#: Stylesheets a deployment adds after grants.css, to restyle the theme (docs/configuring.md).
THEME_SETTING = "grants.stylesheets"


def theme_stylesheets(settings) -> list[str]:
    """The asset specs of ``grants.stylesheets`` (``my_plugin:static/theme.css``), in order."""
    return (settings.get(THEME_SETTING) or "").split()


# Pages run no script of their own and carry no inline style: everything comes from our
# own static files.  Images may also be data: URIs, which Bootstrap's stylesheet uses for
# its select arrows and tick boxes; charts and workflow diagrams are inline SVG markup.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
])

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


@subscriber(NewResponse)
def add_security_headers(event):
    for name, value in SECURITY_HEADERS.items():
        event.response.headers.setdefault(name, value)
    # A signed-in person's pages and downloads (their tasks, applications, money) are kept
    # by no cache: not the browser's after signing out, not a shared proxy.  Whether they
    # are signed in is what the request already found out (NewResponse comes after the
    # transaction has ended: no new query).  Static files stay cacheable.
    request = event.request
    static = getattr(request.matched_route, "name", "").startswith("__")  # add_static_view's routes
    if request.__dict__.get("user") is not None and not static:
        event.response.headers["Cache-Control"] = "no-store"


log = logging.getLogger(__name__)

# -- requests that are not text ---------------------------------------------------------------

BAD_REQUEST_FLAG = "grants.undecodable"
UNDECODABLE = _("The address or the form sent characters that are not valid text. Check the address, or go back "
                "and try again.")


def request_text_tween_factory(handler, registry):
    """A path, query string or form body that is not UTF-8, or a query string holding
    control characters, is answered with the 400 page.  WebOb would raise
    UnicodeDecodeError (or DeprecationWarning, for a body in another charset) wherever the
    request is first read — the sign-in check, the language, traversal, a view — so the
    request is checked here, before anything reads it, then made readable — its path the
    home page, its query only the language asked for, its body empty — so that the error
    page itself can read it; the page is raised once the context is found (see
    :func:`refuse_undecodable`), where the error views have what they need."""

    def request_text_tween(request):
        if not _readable(request):
            _make_readable(request)
        return handler(request)

    return request_text_tween


def _make_readable(request) -> None:
    environ = request.environ
    locale = _asked_locale(environ.get("QUERY_STRING", ""), deployment_languages(request))
    environ["PATH_INFO"] = "/"
    environ["QUERY_STRING"] = urlencode({"_LOCALE_": locale}) if locale else ""
    environ["wsgi.input"] = io.BytesIO(b"")
    environ["CONTENT_LENGTH"] = "0"
    environ.pop("CONTENT_TYPE", None)
    for cached in ("webob._parsed_query_vars", "webob._parsed_post_vars", "webob._body_file",
                   "webob.is_body_seekable"):
        environ.pop(cached, None)
    request.__dict__.pop("_charset", None)  # WebOb keeps the charset it read from the old Content-Type
    environ[BAD_REQUEST_FLAG] = True


def _readable(request) -> bool:
    try:
        request.path_info  # noqa: B018 -- decoding is the check
        for key, value in request.GET.items():
            if has_control_characters(key + value, multiline=False):
                return False
        if request.content_type == "application/x-www-form-urlencoded":
            # WebOb would put U+FFFD in place of what is not UTF-8: refuse it instead.  (A form
            # body is ASCII: browsers percent-encode everything else.)
            parse_qsl(request.body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
        request.POST  # noqa: B018 -- a part in another charset, or not UTF-8 in base64
    except (UnicodeError, ValueError, DeprecationWarning):
        return False
    return True


def _asked_locale(query: str, languages) -> str | None:
    for key, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        if key == "_LOCALE_" and value in languages:
            return value
    return None


@subscriber(ContextFound)
def refuse_undecodable(event):
    if event.request.environ.get(BAD_REQUEST_FLAG):
        raise HTTPBadRequest(UNDECODABLE)


def safe_came_from(request, came_from: str | None) -> str:
    """Only ever redirect back into this site, to an address a Location header can carry.
    Anything else — another site, "//host", a backslash (browsers read "/\\host" as
    "//host"), spaces or control characters (which a header refuses, or a browser
    strips) — goes to the home page.  Letters beyond ASCII are percent-encoded."""
    home = request.resource_url(request.root)
    if not came_from or not isinstance(came_from, str):
        return home
    if "\\" in came_from or any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in came_from):
        return home
    target, site = urlparse(came_from), urlparse(request.application_url)
    if target.scheme and (target.scheme, target.netloc) != (site.scheme, site.netloc):
        return home
    if not target.scheme and came_from.startswith("//"):
        return home
    return quote(came_from, safe=string.punctuation)


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


@view_config(route_name="favicon", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def favicon(request):
    """Browsers and feed readers ask for /favicon.ico whatever the page's <link rel=icon>
    says; they get the same SVG icon rather than a 404 in every log."""
    from importlib.resources import files

    from pyramid.response import FileResponse

    path = files("grants") / "static" / "favicon.svg"
    return FileResponse(str(path), request=request, content_type="image/svg+xml", cache_max_age=86400)


@view_config(context=Root, renderer="grants.templates:home.pt", permission=NO_PERMISSION_REQUIRED)
def home(request):
    """Everyone sees the rounds open for applications; a signed-in person first sees their
    own next work, a section per part they play (grants.home)."""
    from sqlalchemy import select

    from grants.home import home_sections
    from grants.programmes.models import Round

    rounds = request.dbsession.scalars(select(Round).where(state_means(Round, "open")).order_by(Round.closes_at)).all()
    sections = home_sections(request, request.user) if request.user is not None else {}
    return {"open_rounds": rounds, "sections": sections, "show": shown_value(request)}


@view_config(context=Root, name="mine", renderer="grants.templates:my_list.pt", permission=NO_PERMISSION_REQUIRED)
def my_list(request):
    """The full list behind one of the home page's lists, a page at a time."""
    if request.user is None:
        raise HTTPForbidden()
    from grants import work
    from grants.home import listings

    listing = listings(request, request.user).get(request.GET.get("list", ""))
    if listing is None:
        raise HTTPBadRequest(translate(request, _("There is no list of that name.")))
    page = page_number(request)
    rows, following = listing.page(request.dbsession, work.PAGE_SIZE, (page - 1) * work.PAGE_SIZE)
    return {"listing": listing, "rows": rows, "page": page, "following": following,
            "total": listing.count(request.dbsession), "show": shown_value(request)}


def _named(request, obj, name: str, kind: str) -> str:
    """A history entry's state or step as its title in the reader's language, not its id;
    nothing for the state before the first (translating "" would give the catalog's
    header).  A name the object's workflow no longer has stays as it was recorded."""
    if not name:
        return ""
    definition = request.workflows.workflow(obj).definition
    found = definition.states.get(name) if kind == "state" else definition.transition(name)
    if found is None:
        return translate(request, _("Started")) if kind == "step" and name == "create" else name
    return translate(request, found.title)


def shown_value(request):
    """For templates: a list cell as the reader reads it — money in their locale's way,
    a message translated, a date or moment as a day, anything else as text.  A moment is
    the day it is where ``of`` (the row's object) has its dates: its round's zone."""
    import datetime as dt

    from grants.i18n import format_date, zone_of
    from grants.money import Money, MoneyBag
    from grants.programmes.views import money_formatter

    money = money_formatter(request)

    def show(value, of=None):
        if value is None:
            return ""
        if isinstance(value, (Money, MoneyBag)):
            return money(value)
        if isinstance(value, (dt.date, dt.datetime)):
            return format_date(value, request.locale_name, zone_of(of))
        return translate(request, value) if hasattr(value, "interpolate") else str(value)

    return show


@view_config(context=Root, name="tasks", renderer="grants.templates:tasks.pt", permission=NO_PERMISSION_REQUIRED)
def my_tasks(request):
    """What waits on the signed-in person (grants.work): a few of each kind, soonest first;
    ``?kind=…&page=…`` is the full list of one kind, a page at a time."""
    if request.user is None:
        raise HTTPForbidden()
    from grants import work

    kind = request.GET.get("kind")
    if kind is None:
        tasks = work.my_tasks(request, request.user)
        return {"tasks": tasks.items, "more": tasks.more, "source": None,
                "state_title": lambda task: work.state_title(request, task)}
    source = work.source_named(request, request.user, kind)
    if source is None:
        raise HTTPBadRequest(translate(request, _("There is no list of tasks of that kind.")))
    page = page_number(request)
    items, following = source.page(request.dbsession, work.PAGE_SIZE, (page - 1) * work.PAGE_SIZE, request.user)
    return {"tasks": items, "more": [], "source": source, "page": page, "following": following,
            "total": source.count(request.dbsession) if source.exact else None,
            "state_title": lambda task: work.state_title(request, task)}


def page_number(request) -> int:
    """The ``page`` asked for (1 when none); anything but a page number is a 400."""
    from grants.listing import MAX_PAGE  # one bound for every paged page

    raw = request.GET.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise HTTPBadRequest(translate(request, _("The page number must be a whole number from 1.")))
    return int(raw)


@view_config(context=Root, name="workflows", renderer="grants.templates:workflows.pt",
             permission=Permission.SiteWorkflowView)
def workflows_page(request):
    from grants.workflow.diagram import to_svg

    # Those who may edit workflows find the editor from here.
    can_edit = bool(request.has_permission(Permission.SiteAdmin, request.root))
    words = diagram_words(request)
    return {"workflows": [(wf, to_svg(wf.definition, standalone=False, words=words))
                          for wf in request.registry.workflows],
            "can_edit": can_edit}


def diagram_words(request):
    """A drawing in the reader's language for a public page: the states' and steps' titles
    translated (each title is its own msgid, or as typed in the workflow editor), and no
    ids — they are the code's names, which the workflow editor shows to administrators."""
    from grants.workflow.diagram import Words

    def tr(message):
        return translate(request, message)

    return Words(
        title=tr,
        timed=lambda title: tr(_("${step} (happens automatically)", mapping={"step": title})),
        heading=lambda title, version: tr(_("${workflow} — version ${version}",
                                            mapping={"workflow": title, "version": version})),
        name=lambda title, version: tr(_("${workflow} (version ${version})",
                                         mapping={"workflow": title, "version": version})),
        legend={"start": "● " + tr(_("start")),
                "final": tr(_("double border: end of the process")),
                "timed": tr(_("dashed: happens automatically at a set date")),
                "back": tr(_("orange: goes back to an earlier step"))},
        ids=False)


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


@view_config(context=UnstorableText, renderer="grants.templates:error.pt", permission=NO_PERMISSION_REQUIRED)
def unstorable_text(exc, request):
    abandon_changes(request)  # the failed statement left the transaction unusable; write nothing
    request.response.status = 400
    return {"title": _("Something in the request was wrong"), "detail": exc.reason}


@view_config(context=DataError, renderer="grants.templates:error.pt", permission=NO_PERMISSION_REQUIRED)
def data_refused(exc, request):
    """The database refused a value (a number past its column's range, text it cannot
    keep): the input was wrong, not the server.  Forms and traversal refuse these first;
    this is the last line, logged so that the input that got through can be caught earlier."""
    log.warning("the database refused a value from %s %s: %s", request.method, request.path_info,
                str(exc.orig).splitlines()[0] if exc.orig else exc)
    abandon_changes(request)
    request.response.status = 400
    return {"title": _("Something in the request was wrong"),
            "detail": _("A value you sent cannot be stored. Check what you typed and try again.")}


@view_config(context=UnicodeDecodeError, renderer="grants.templates:error.pt", permission=NO_PERMISSION_REQUIRED)
def undecodable(exc, request):
    request.response.status = 400
    return {"title": _("Something in the request was wrong"), "detail": UNDECODABLE}


@view_config(context=Refused, renderer="grants.templates:error.pt", permission=NO_PERMISSION_REQUIRED)
def refused(exc, request):
    request.response.status = 409
    return {"title": _("This step is not possible"), "detail": "", "reasons": exc.reasons}

# Conflicts (409) have their own page: grants.concurrency.


def includeme(config):
    # Sessions live in the database; the cookie holds only a signed id (see that module).
    config.include("grants.accounts.sessions")
    config.set_default_csrf_options(require_csrf=True)  # every POST, PUT, DELETE, PATCH
    config.include("grants.static_files")  # /static/ and /deform_static/, under hashed names
    config.add_route("language", "/language")
    config.add_route("favicon", "/favicon.ico")
    config.add_tween("grants.web.request_text_tween_factory", under=INGRESS)  # before anything reads the request
    config.scan(".web")
