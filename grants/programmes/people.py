"""People and their roles on a programme or a round: who the programme officers are,
who evaluates a round, and the roles plugins declare (a panel member, a referee …).

A role is a ``LocalRole`` row on the programme or round; everything below inherits it
(an officer of a programme is an officer of its rounds and their applications).  Which
roles can be given where comes from ``grants.plugins.roles`` — grants' own and those of
the plugins the programme uses.  Every grant and removal is in the audit of
configuration (``grants.audit``), shown on the page.
"""
from __future__ import annotations

from dataclasses import dataclass

import colander
import deform
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants.accounts.models import LocalRole, User
from grants.audit.services import changes_of, record_change
from grants.forms import FormSchema, flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_datetime, translate
from grants.plugins import RoleInfo, in_scope, plugins_in_scope, roles
from grants.security import Permission
from grants.workflow import ProblemsRefused

from .models import Programme, Round

#: Roles grants itself lets officers give here.  Reviewers are invited to a round's
#: review instead (grants.review), and applicants hold their role through membership.
CORE_ROLES = (
    RoleInfo("programme_officer", _("Programme officer"), "", ("programme",)),
    RoleInfo("evaluator", _("Independent evaluator"), "", ("round",)),
)


class PeopleRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` are (field, reason) pairs."""


def _kind(place) -> str:
    return "programme" if isinstance(place, Programme) else "round"


def grantable_roles(registry, place) -> list[RoleInfo]:
    """The roles that can be given on ``place``: grants' own, and those of the plugins its
    programme uses."""
    plugins = plugins_in_scope(place) or ()
    kind = _kind(place)
    found = {**{r.name: r for r in CORE_ROLES}, **roles(registry)}
    return [r for r in found.values() if kind in r.grantable_on and in_scope(r.origin, plugins)]


@dataclass
class Holder:
    role: LocalRole
    user: User
    title: object


def holders(dbsession: Session, registry, place) -> list[Holder]:
    titles = {r.name: r.title for r in grantable_roles(registry, place)}
    rows = dbsession.execute(
        select(LocalRole, User).join(User, User.id == LocalRole.user_id)
        .where(LocalRole.object_type == place.__tablename__, LocalRole.object_id == place.id)
        .order_by(LocalRole.role, User.name, LocalRole.id)).all()
    return [Holder(role, user, titles.get(role.role, role.role)) for role, user in rows]


def grant(dbsession: Session, registry, place, *, email: str, role: str, by=None) -> LocalRole:
    """Give ``role`` on ``place`` to the account with ``email``."""
    available = {r.name: r for r in grantable_roles(registry, place)}
    problems = []
    if role not in available:
        problems.append(("role", _("Choose a role from the list.")))
    user = dbsession.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        problems.append(("email", _("No account uses this e-mail address: ask the person to register first, "
                                    "then give them the role.")))
    PeopleRefused.refuse_if(problems)
    if role == "evaluator":
        from grants.evaluation.services import EvaluationRefused, assign_evaluator

        try:
            row = assign_evaluator(dbsession, place, user)  # refuses an evaluator who is not independent
        except EvaluationRefused as refused:
            raise PeopleRefused(refused.problems) from None
    else:
        existing = dbsession.scalar(select(LocalRole).where(
            LocalRole.user_id == user.id, LocalRole.role == role,
            LocalRole.object_type == place.__tablename__, LocalRole.object_id == place.id))
        if existing is not None:
            raise PeopleRefused([("email", _("${name} already has this role here.", mapping={"name": user.name}))])
        row = LocalRole(user_id=user.id, role=role, object_type=place.__tablename__, object_id=place.id)
        dbsession.add(row)
    record_change(dbsession, place, "role", None, {"role": role, "user_id": user.id, "email": user.email},
                  user=by)
    dbsession.flush()
    return row


def remove(dbsession: Session, place, role_id: int, *, by=None) -> LocalRole:
    """Take back one role given on ``place``."""
    row = dbsession.get(LocalRole, role_id)
    if row is None or (row.object_type, row.object_id) != (place.__tablename__, place.id):
        raise PeopleRefused([(None, _("That role is no longer given here."))])
    user = dbsession.get(User, row.user_id)
    record_change(dbsession, place, "role", {"role": row.role, "user_id": row.user_id, "email": user.email},
                  None, user=by)
    dbsession.delete(row)
    dbsession.flush()
    return row


# -- the page ---------------------------------------------------------------------------------


class GrantSchema(FormSchema):
    email = colander.SchemaNode(colander.String(), title=_("E-mail address"),
                                validator=colander.Length(max=254, max_err=_("Enter 254 characters or fewer")),
                                widget=deform.widget.TextInputWidget(attributes={"autocomplete": "off",
                                                                                 "type": "email", "dir": "ltr"}))
    role = colander.SchemaNode(colander.String(), title=_("Role"))  # choices: those grantable here


def _form(request, place):
    choices = [(r.name, translate(request, r.title)) for r in grantable_roles(request.registry, place)]
    schema = GrantSchema()
    schema["role"].widget = deform.widget.SelectWidget(values=choices)
    schema["role"].validator = colander.OneOf([name for name, _title in choices])
    schema["role"].missing_msg = _("Choose a role from the list.")
    schema["email"].missing_msg = _("Enter the person's e-mail address.")
    return make_form(request, schema, "grant-role", _("Give the role"))


def _page(request, place, form_html: str, errors=()):
    audit = []
    for change in reversed(changes_of(request.dbsession, place)):
        if change.what != "role":
            continue
        value = change.after or change.before or {}
        audit.append({"when": format_datetime(change.at), "who": change.user.name if change.user else "—",
                      "granted": change.after is not None, "email": value.get("email", ""),
                      "role": dict((r.name, r.title) for r in grantable_roles(request.registry, place)).get(
                          value.get("role"), value.get("role"))})
    return {"place": place, "programme": place if isinstance(place, Programme) else place.programme,
            "holders": holders(request.dbsession, request.registry, place), "form_html": form_html,
            "errors": list(errors), "audit": audit}


def people_page(context, request):
    form = _form(request, context)
    if request.method == "POST" and "remove" in request.POST:
        try:
            role_id = int(request.POST["remove"])
        except ValueError:
            role_id = 0
        try:
            row = remove(request.dbsession, context, role_id, by=request.user)
        except PeopleRefused as refused:
            request.response.status = 409  # someone took it back first
            return {**_page(request, context, form.render()), "errors": [("holders", translate(request, r))
                                                                           for r in refused.reasons]}
        flash_done(request, _("Removed the role “${role}”.", mapping={"role": row.role}))
        return HTTPFound(location=request.resource_url(context, "people"))
    if request.method == "POST":
        try:
            data = form.validate(list(request.POST.items()))
        except deform.ValidationFailure as failure:
            return {**_page(request, context, ""), **form_failed(request, failure)}
        try:
            grant(request.dbsession, request.registry, context, email=data["email"], role=data["role"],
                  by=request.user)
        except PeopleRefused as refused:
            return {**_page(request, context, ""), **form_refused(request, form, refused.problems)}
        flash_done(request, _("${email} now has the role.", mapping={"email": data["email"].strip()}))
        return HTTPFound(location=request.resource_url(context, "people"))
    return _page(request, context, form.render())


@view_config(context=Programme, name="people", renderer="grants.templates:programmes/people.pt",
             permission=Permission.ProgrammesProgrammeManage)
def programme_people(context, request):
    return people_page(context, request)


@view_config(context=Round, name="people", renderer="grants.templates:programmes/people.pt",
             permission=Permission.ProgrammesRoundManage)
def round_people(context, request):
    return people_page(context, request)
