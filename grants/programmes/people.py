"""People and their roles on a programme or a round: who the programme officers are,
who evaluates a round, who reviews in it, and the roles plugins declare (a panel member,
a referee …).

A role is a ``LocalRole`` row on the programme or round; everything below inherits it
(an officer of a programme is an officer of its rounds and their applications).  Which
roles can be given where comes from ``grants.plugins.roles`` — grants' own and those of
the plugins the programme uses.

Roles are given by invitation, as organisation memberships are
(``grants.accounts.invitations``): an officer invites an e-mail address to a role
(:func:`invite`); the person at that address gets a mail in their language with a link,
and accepts after signing in (:func:`accept`) — or registers from the link first and
lands signed in with the role.  Only the addressee may accept.  What the officer is told
is the same whether or not the address has an account.  Waiting invitations are listed
on the page and can be withdrawn (:func:`withdraw`); they expire.  :func:`grant` gives a
role at once, without asking, for the demo, the command line and tests.

Every invitation, answer, grant and removal is in the audit of configuration
(``grants.audit``): ``what`` is "role" (before/after: ``{"role", "user_id", "email"}``,
with ``"by_invitation": true`` when accepted from one) or "role_invitation" (``{"role",
"email", "status"}``, status "waiting", "withdrawn" or "declined").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace

import colander
import deform
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from grants.accounts import invitations
from grants.accounts.invitations import INVITATION_LIFETIME, InvalidInvitation
from grants.accounts.models import LocalRole, RoleInvitation, User
from grants.accounts.forms import _current_language, email_node
from grants.accounts.services import normalise_email
from grants.audit.models import ConfigurationChange
from grants.audit.services import record_change
from grants.forms import FormSchema, flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_datetime, ngettext, language_choice_validator, language_choice_widget, translate
from grants.plugins import RoleInfo, in_scope, plugins_in_scope, roles
from grants.security import Permission
from grants.workflow import ProblemsRefused

from .models import Programme, Round

#: The round's reviewer pool (grants.review): not a local role — accepting the invitation
#: puts the person in the pool as a reviewer who said yes.
REVIEWER = "reviewer"

#: Roles grants itself lets officers give here.  Applicants hold their role through
#: membership of an organisation.
CORE_ROLES = (
    RoleInfo("programme_officer", _("Programme officer"), "", ("programme",)),
    RoleInfo("evaluator", _("Independent evaluator"), "", ("round",)),
    RoleInfo(REVIEWER, _("Reviewer"), "", ("round",)),
)


class PeopleRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` are (field, reason) pairs."""


class InvitationForSomeoneElse(PeopleRefused):
    """The signed-in account's address is not the one invited."""


def _kind(place) -> str:
    return "programme" if isinstance(place, Programme) else "round"


def grantable_roles(registry, place) -> list[RoleInfo]:
    """The roles that can be given on ``place``: grants' own, and those of the plugins its
    programme uses."""
    plugins = plugins_in_scope(place) or ()
    kind = _kind(place)
    found = {**{r.name: r for r in CORE_ROLES}, **roles(registry)}
    return [r for r in found.values() if kind in r.grantable_on and in_scope(r.origin, plugins)]


def role_title(registry, place, role: str):
    """The role's name for people (a TranslationString), or its id if no longer offered."""
    return {r.name: r.title for r in grantable_roles(registry, place)}.get(role, role)


@dataclass
class Holder:
    role: LocalRole
    user: User
    title: object


HOLDER_SORTS = {  # key -> (columns, title); the id last, so a page never repeats or skips a holder
    "role": ([LocalRole.role, User.name, LocalRole.id], _("Role")),
    "name": ([User.name, LocalRole.id], _("Name")),
}


def holders(dbsession: Session, registry, place) -> list[Holder]:
    titles = {r.name: r.title for r in grantable_roles(registry, place)}
    rows = dbsession.execute(_holders_query(place).order_by(*HOLDER_SORTS["role"][0])).all()
    return [Holder(role, user, titles.get(role.role, role.role)) for role, user in rows]


def _holders_query(place, role: str = "", text: str = ""):
    """The roles held on ``place`` with their holders: only ``role`` when given, only those
    whose name or e-mail address contains ``text`` when given."""
    from grants import listing

    query = (select(LocalRole, User).join(User, User.id == LocalRole.user_id)
             .where(LocalRole.object_type == place.__tablename__, LocalRole.object_id == place.id))
    if role:
        query = query.where(LocalRole.role == role)
    if text:
        query = query.where(listing.text_filter(text, User.name, User.email))
    return query


def _holders_page(request, place):
    """A page of the role holders, filtered by role and by text."""
    from grants import listing

    titles = {r.name: r.title for r in grantable_roles(request.registry, place)}
    params = listing.read(request, HOLDER_SORTS, states=titles, default_sort="role")
    page = listing.page(request, _holders_query(place, params.state, params.text), params,
                        HOLDER_SORTS[params.sort][0], request.resource_url(place, "people"), tuples=True,
                        sorts={k: title for k, (_cols, title) in HOLDER_SORTS.items()}, states=titles,
                        state_label=_("Role"), text_label=_("Search names and e-mail addresses"))
    page.rows = [Holder(role, user, titles.get(role.role, role.role)) for role, user in page.rows]
    return page


def _holds(dbsession: Session, place, role: str, email: str) -> User | None:
    """The account with ``email`` if it already holds ``role`` on ``place``."""
    if role == REVIEWER:
        from grants.review.models import RoundReviewer

        return dbsession.scalar(
            select(User).join(RoundReviewer, RoundReviewer.user_id == User.id)
            .where(RoundReviewer.round_id == place.id, func.lower(User.email) == email,
                   RoundReviewer.declined_at.is_(None)))
    return dbsession.scalar(
        select(User).join(LocalRole, LocalRole.user_id == User.id)
        .where(LocalRole.role == role, LocalRole.object_type == place.__tablename__,
               LocalRole.object_id == place.id, func.lower(User.email) == email))


def _give(dbsession: Session, place, user: User, role: str, *, by=None, by_invitation: bool = False):
    """Give ``role`` on ``place`` to ``user`` and record it."""
    if role == "evaluator":
        from grants.evaluation.services import EvaluationRefused, assign_evaluator

        try:
            row = assign_evaluator(dbsession, place, user)  # refuses an evaluator who is not independent
        except EvaluationRefused as refused:
            raise PeopleRefused(refused.problems) from None
    elif role == REVIEWER:
        from grants.review.models import RoundReviewer

        # They said yes to the invitation: they join the pool as a reviewer who accepted.
        now = dt.datetime.now(dt.timezone.utc)
        row = RoundReviewer(round_id=place.id, user_id=user.id, invited_by_id=getattr(by, "id", None),
                            invited_at=now, accepted_at=now)
        dbsession.add(row)
    else:
        row = LocalRole(user_id=user.id, role=role, object_type=place.__tablename__, object_id=place.id)
        dbsession.add(row)
    after = {"role": role, "user_id": user.id, "email": user.email}
    if by_invitation:
        after["by_invitation"] = True
    record_change(dbsession, place, "role", None, after, user=by)
    dbsession.flush()
    return row


def grant(dbsession: Session, registry, place, *, email: str, role: str, by=None) -> LocalRole:
    """Give ``role`` on ``place`` to the account with ``email`` at once, without asking
    them (the demo, the command line, tests).  People use :func:`invite`."""
    available = {r.name: r for r in grantable_roles(registry, place)}
    problems = []
    if role not in available:
        problems.append(("role", _("Choose a role from the list.")))
    email = normalise_email(email or "")
    user = dbsession.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        problems.append(("email", _("No account uses this e-mail address: ask the person to register first, "
                                    "then give them the role.")))
    PeopleRefused.refuse_if(problems)
    if _holds(dbsession, place, role, email) is not None:
        raise PeopleRefused([("email", _("${name} already has this role here.", mapping={"name": user.name}))])
    return _give(dbsession, place, user, role, by=by)


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


# -- invitations ------------------------------------------------------------------------------


def _looks_like_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in email) and len(email) <= 254)


def _invitation_value(invitation: RoleInvitation, status: str) -> dict:
    return {"role": invitation.role, "email": invitation.email, "status": status}


def invite(dbsession: Session, registry, place, *, email: str, role: str, by=None, locale: str = "en",
           now: dt.datetime | None = None) -> tuple[RoleInvitation, str]:
    """Invite the person at ``email`` to ``role`` on ``place``.  Returns the invitation
    and the raw token to mail (only its hash is stored).  An earlier invitation of the
    same address to the same role still waiting is withdrawn, so only the newest link
    works.  Refused only for a role not offered here, an address that is not one, or
    someone who already holds the role (the page lists them): never because the address
    has, or has no, account.  ``locale`` is the mail's language if the address has no
    account; an account's own language wins."""
    now = now or dt.datetime.now(dt.timezone.utc)
    email = normalise_email(email or "")
    problems = []
    if role not in {r.name for r in grantable_roles(registry, place)}:
        problems.append(("role", _("Choose a role from the list.")))
    if not email:
        problems.append(("email", _("Enter the person's e-mail address.")))
    elif not _looks_like_email(email):
        problems.append(("email", _("Enter an e-mail address in the right format, like name@example.org")))
    PeopleRefused.refuse_if(problems)
    if _holds(dbsession, place, role, email) is not None:
        raise PeopleRefused([("email", _("${email} already has this role here.", mapping={"email": email}))])
    dbsession.execute(
        update(RoleInvitation)
        .where(RoleInvitation.object_type == place.__tablename__, RoleInvitation.object_id == place.id,
               RoleInvitation.email == email, RoleInvitation.role == role, *invitations.waiting(RoleInvitation))
        .values(cancelled_at=now)
        .execution_options(synchronize_session="fetch"))
    token, token_hash = invitations.new_token()
    invitation = RoleInvitation(object_type=place.__tablename__, object_id=place.id, role=role, email=email,
                                locale=locale, token_hash=token_hash, invited_by_id=getattr(by, "id", None),
                                created_at=now, expires_at=now + INVITATION_LIFETIME)
    dbsession.add(invitation)
    record_change(dbsession, place, "role_invitation", None, _invitation_value(invitation, "waiting"), user=by,
                  now=now)
    dbsession.flush()
    return invitation, token


def place_of(dbsession: Session, invitation: RoleInvitation):
    """The programme or round an invitation is to."""
    model = {Programme.__tablename__: Programme, Round.__tablename__: Round}.get(invitation.object_type)
    return dbsession.get(model, invitation.object_id) if model is not None else None


def invitation_for(dbsession: Session, token: str, *, now: dt.datetime | None = None) -> RoleInvitation:
    """The invitation behind a mailed link, if it can still be answered; raises
    ``InvalidInvitation`` otherwise (also when its programme or round is gone)."""
    invitation = invitations.find(dbsession, RoleInvitation, token, now=now)
    if place_of(dbsession, invitation) is None:
        raise InvalidInvitation("unknown")
    return invitation


def accept(dbsession: Session, token: str, user: User, *, now: dt.datetime | None = None):
    """``user`` accepts: they get the role (the place's refusals still hold: an evaluator
    must be independent).  Only the account with the invited address may accept
    (``InvitationForSomeoneElse``).  Someone who meanwhile got the role keeps it once.
    On a refusal the caller rolls back (the pages doom the request's transaction), so the
    invitation can still be answered later."""
    now = now or dt.datetime.now(dt.timezone.utc)
    invitation = invitation_for(dbsession, token, now=now)
    if normalise_email(user.email) != invitation.email:
        raise InvitationForSomeoneElse([(None, _("This invitation was sent to ${email}. Sign in with that address "
                                                 "to accept it.", mapping={"email": invitation.email}))])
    place = place_of(dbsession, invitation)
    invitations.close(dbsession, invitation, "accepted_at", now)
    if _holds(dbsession, place, invitation.role, invitation.email) is None:
        _give(dbsession, place, user, invitation.role, by=user, by_invitation=True)
    return place


def decline(dbsession: Session, token: str, *, now: dt.datetime | None = None) -> RoleInvitation:
    """The person at the address says no; the mailed link is proof enough, so no account
    is needed to decline."""
    now = now or dt.datetime.now(dt.timezone.utc)
    invitation = invitation_for(dbsession, token, now=now)
    invitations.close(dbsession, invitation, "declined_at", now)
    record_change(dbsession, place_of(dbsession, invitation), "role_invitation",
                  _invitation_value(invitation, "waiting"), _invitation_value(invitation, "declined"), now=now)
    dbsession.flush()
    return invitation


def withdraw(dbsession: Session, place, invitation_id: int, *, by=None,
             now: dt.datetime | None = None) -> RoleInvitation:
    """Withdraw an invitation to ``place`` still waiting for an answer: its link stops
    working.  ``InvalidInvitation`` if it is not one of ``place``'s or was answered."""
    now = now or dt.datetime.now(dt.timezone.utc)
    invitation = dbsession.get(RoleInvitation, invitation_id)
    if invitation is None or (invitation.object_type, invitation.object_id) != (place.__tablename__, place.id):
        raise InvalidInvitation("unknown")
    invitations.close(dbsession, invitation, "cancelled_at", now)
    record_change(dbsession, place, "role_invitation", _invitation_value(invitation, "waiting"),
                  _invitation_value(invitation, "withdrawn"), user=by, now=now)
    dbsession.flush()
    return invitation


INVITATION_SORTS = {  # key -> (columns, title); the id last, so a page never repeats or skips one
    "oldest": ([RoleInvitation.created_at, RoleInvitation.id], _("Oldest first")),
    "-sent": ([RoleInvitation.created_at.desc(), RoleInvitation.id.desc()], _("Newest first")),
    "email": ([RoleInvitation.email, RoleInvitation.id], _("E-mail address")),
}


def _waiting_query(place, *, now: dt.datetime | None = None, role: str = "", text: str = ""):
    """Invitations to ``place`` nobody has answered yet and that still work (with who sent
    them): only to ``role`` when given, only to an address containing ``text`` when given."""
    from grants import listing

    now = now or dt.datetime.now(dt.timezone.utc)
    query = (select(RoleInvitation)
             .where(RoleInvitation.object_type == place.__tablename__, RoleInvitation.object_id == place.id,
                    RoleInvitation.expires_at > now, *invitations.waiting(RoleInvitation))
             .options(joinedload(RoleInvitation.invited_by)))
    if role:
        query = query.where(RoleInvitation.role == role)
    if text:
        query = query.where(listing.text_filter(text, RoleInvitation.email))
    return query


def waiting_invitations(dbsession: Session, place, *, now: dt.datetime | None = None,
                        limit: int | None = None) -> list[RoleInvitation]:
    """Invitations to ``place`` nobody has answered yet and that still work, oldest first
    (the ``limit`` oldest when given)."""
    return list(dbsession.scalars(_waiting_query(place, now=now).order_by(*INVITATION_SORTS["oldest"][0])
                                  .limit(limit)))


def count_waiting_invitations(dbsession: Session, place) -> int:
    return dbsession.scalar(select(func.count()).select_from(_waiting_query(place).subquery()))


def mail_invitation(registry, tm, dbsession: Session, invitation: RoleInvitation, link: str) -> None:
    """Mail the invitation after ``tm`` commits, in the language of the account with that
    address if there is one, else in the language the officer chose for it."""
    from grants.mail import notify

    place = place_of(dbsession, invitation)
    person = dbsession.scalars(select(User).where(func.lower(User.email) == invitation.email)).one_or_none()
    recipient = SimpleNamespace(email=invitation.email,
                                locale=person.locale if person is not None else invitation.locale)
    programme = place if isinstance(place, Programme) else place.programme
    mapping = {"inviter": invitation.invited_by.name if invitation.invited_by else "",
               "role": role_title(registry, place, invitation.role), "place": place.title,
               "programme": programme.title, "link": link,
               "lifetime": ngettext("${count} day", "${count} days", INVITATION_LIFETIME.days)}
    body = _("Hello,\n\n"
             "${inviter} invites you to take the role “${role}” on ${place} (${programme}) on grants.\n\n"
             "To accept or decline, open this link:\n\n${link}\n\n"
             "The link works for ${lifetime}. If you have no account yet, you can create one from that page "
             "and you will have the role as soon as it is created.\n\n"
             "If you do not know ${inviter} or this programme, ignore this message: nothing will happen.",
             mapping=mapping)
    subject = _("Invitation to the role “${role}” on ${place}", mapping={"role": mapping["role"],
                                                                        "place": place.title})
    notify(registry, recipient, subject, body, transaction_manager=tm, dbsession=dbsession)


# -- the pages --------------------------------------------------------------------------------


class InviteSchema(FormSchema):
    email = email_node(description=_("We will e-mail them an invitation. They get the role only when they accept "
                                     "it; if they have no account yet, they can create one then."))
    role = colander.SchemaNode(colander.String(), title=_("Role"))  # choices: those grantable here
    locale = colander.SchemaNode(
        colander.String(), title=_("Language of the invitation"),
        description=_("If they already have an account, the invitation is written in their own language instead."),
        default=_current_language, validator=language_choice_validator,
        missing_msg=_("Choose one of the languages offered"), widget=language_choice_widget)


def _form(request, place):
    choices = [(r.name, translate(request, r.title)) for r in grantable_roles(request.registry, place)]
    schema = InviteSchema()
    schema["email"].title = _("Their e-mail address")
    schema["email"].missing_msg = _("Enter the person's e-mail address.")
    schema["role"].widget = deform.widget.SelectWidget(values=choices)
    schema["role"].validator = colander.OneOf([name for name, _title in choices])
    schema["role"].missing_msg = _("Choose a role from the list.")
    return make_form(request, schema, "grant-role", _("Send the invitation"))


def _role_sentence(change, title):
    """What a "role" or "role_invitation" change did, as a sentence for the page."""
    value = change.after or change.before or {}
    mapping = {"email": value.get("email", ""), "role": title(value.get("role"))}
    if change.what == "role" and change.after is None:
        return _("took back from ${email} the role “${role}”", mapping=mapping)
    if change.what == "role":
        if value.get("by_invitation"):
            return _("accepted the invitation: ${email} now has the role “${role}”", mapping=mapping)
        return _("gave ${email} the role “${role}”", mapping=mapping)
    status = (change.after or {}).get("status")
    if status == "withdrawn":
        return _("withdrew the invitation of ${email} to the role “${role}”", mapping=mapping)
    if status == "declined":
        return _("${email} declined the invitation to the role “${role}”", mapping=mapping)
    return _("invited ${email} to the role “${role}”", mapping=mapping)


#: Waiting invitations and role changes the People page shows (the oldest invitations, the
#: newest changes); each list is whole on its own page, a page at a time (``@@invitations``,
#: ``@@role-changes``): each list keeps its own filters and page in plain query parameters,
#: and each page has one filters form.
SHOWN = 10

#: The kinds of change the role changes list shows, to filter it by.
CHANGE_KINDS = {"role": _("Roles given and taken back"), "role_invitation": _("Invitations")}
CHANGE_SORTS = {  # key -> (columns, title): the audit's ids are in the order of the changes
    "-when": ([ConfigurationChange.id.desc()], _("Newest first")),
    "when": ([ConfigurationChange.id], _("Oldest first")),
}


def _zone(place) -> str:
    return place.timezone if isinstance(place, Round) else "UTC"


def _waiting_rows(request, place, found) -> list[dict]:
    zone = _zone(place)
    return [{"invitation": i, "role": role_title(request.registry, place, i.role),
             "expires": format_datetime(i.expires_at, zone), "by": i.invited_by.name if i.invited_by else "—"}
            for i in found]


def _changes_query(place, kind: str = "", text: str = ""):
    """The role and invitation changes of ``place`` (with who made them): only of ``kind``
    when given, only those whose address or author's name contains ``text`` when given."""
    from grants import listing

    query = (select(ConfigurationChange)
             .where(ConfigurationChange.object_type == place.__tablename__, ConfigurationChange.object_id == place.id,
                    ConfigurationChange.what.in_([kind] if kind else list(CHANGE_KINDS)))
             .options(joinedload(ConfigurationChange.user)))
    if text:
        # The address is in the change's value after it (before it, for a role taken back).
        email = func.coalesce(ConfigurationChange.after["email"].as_string(),
                              ConfigurationChange.before["email"].as_string())
        query = query.where(listing.text_filter(text, email)
                            | ConfigurationChange.user_id.in_(select(User.id).where(
                                listing.text_filter(text, User.name))))
    return query


def _change_rows(request, place, found) -> list[dict]:
    zone = _zone(place)

    def title(role):
        return role_title(request.registry, place, role)

    return [{"when": format_datetime(change.at, zone), "who": change.user.name if change.user else "—",
             "text": _role_sentence(change, title)} for change in found]


def _page(request, place, form_html: str, errors=()):
    db = request.dbsession
    page = _holders_page(request, place)
    return {"place": place, "programme": place if isinstance(place, Programme) else place.programme,
            "holders": page.rows, "page": page,
            "filtered": page.params.filtered, "form_html": form_html,
            "errors": list(errors),
            "audit": _change_rows(request, place, db.scalars(
                _changes_query(place).order_by(*CHANGE_SORTS["-when"][0]).limit(SHOWN))),
            "waiting": _waiting_rows(request, place, waiting_invitations(db, place, limit=SHOWN)),
            "waiting_total": count_waiting_invitations(db, place),
            "reviews_here": any(r.name == REVIEWER for r in grantable_roles(request.registry, place))}


def _withdraw_posted(request, place, again):
    """Withdraw the invitation the form names.  None once done (the caller redirects);
    else the page ``again(errors)`` renders, a 409: someone answered or withdrew it first."""
    try:
        invitation_id = int(request.POST["withdraw"])
    except ValueError:
        raise HTTPBadRequest(translate(request, _("That invitation has already been answered or withdrawn."))
                             ) from None
    try:
        invitation = withdraw(request.dbsession, place, invitation_id, by=request.user)
    except InvalidInvitation:
        request.response.status = 409  # answered, or withdrawn by someone else, a moment ago
        return again([("waiting", translate(request, _("That invitation has already been answered or withdrawn.")))])
    flash_done(request, _("The invitation to ${email} is withdrawn: its link no longer works.",
                          mapping={"email": invitation.email}))
    return None


def people_page(context, request):
    form = _form(request, context)
    here = request.resource_url(context, "people")
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
        flash_done(request, _("Removed the role “${role}”.",
                              mapping={"role": role_title(request.registry, context, row.role)}))
        return HTTPFound(location=here)
    if request.method == "POST" and "withdraw" in request.POST:
        refused = _withdraw_posted(request, context,
                                   lambda errors: {**_page(request, context, form.render()), "errors": errors})
        return refused if refused is not None else HTTPFound(location=here)
    if request.method == "POST":
        try:
            data = form.validate(list(request.POST.items()))
        except deform.ValidationFailure as failure:
            return {**_page(request, context, ""), **form_failed(request, failure)}
        try:
            invitation, token = invite(request.dbsession, request.registry, context, email=data["email"],
                                       role=data["role"], by=request.user, locale=data["locale"])
        except PeopleRefused as refused:
            return {**_page(request, context, ""), **form_refused(request, form, refused.problems)}
        mail_invitation(request.registry, request.tm, request.dbsession, invitation,
                        request.route_url("role_invitation", token=token))
        # The same words whether or not the address has an account.
        flash_done(request, _("We have sent an invitation to ${email}. They get the role when they accept it; "
                              "until then it is listed below as waiting.", mapping={"email": invitation.email}))
        return HTTPFound(location=here)
    return _page(request, context, form.render())


@view_config(context=Programme, name="people", renderer="grants.templates:programmes/people.pt",
             permission=Permission.ProgrammesProgrammeManage)
def programme_people(context, request):
    return people_page(context, request)


@view_config(context=Round, name="people", renderer="grants.templates:programmes/people.pt",
             permission=Permission.ProgrammesRoundManage)
def round_people(context, request):
    return people_page(context, request)


def _invitations_page(context, request, errors=()):
    """Every invitation waiting for an answer, a page at a time, filtered by role and by
    address."""
    from grants import listing

    titles = {r.name: r.title for r in grantable_roles(request.registry, context)}
    params = listing.read(request, INVITATION_SORTS, states=titles, default_sort="oldest")
    page = listing.page(request, _waiting_query(context, role=params.state, text=params.text), params,
                        INVITATION_SORTS[params.sort][0], request.resource_url(context, "invitations"),
                        sorts={k: title for k, (_cols, title) in INVITATION_SORTS.items()}, states=titles,
                        state_label=_("Role"), text_label=_("Search e-mail addresses"))
    page.rows = _waiting_rows(request, context, page.rows)
    return {"place": context, "programme": context if isinstance(context, Programme) else context.programme,
            "page": page, "filtered": params.filtered, "errors": list(errors)}


def invitations_page(context, request):
    if request.method == "POST" and "withdraw" in request.POST:
        refused = _withdraw_posted(request, context, lambda errors: _invitations_page(context, request, errors))
        # Back to the same page of the list, its filters kept.
        return refused if refused is not None else HTTPFound(location=request.url)
    return _invitations_page(context, request)


@view_config(context=Programme, name="invitations", renderer="grants.templates:programmes/invitations.pt",
             permission=Permission.ProgrammesProgrammeManage)
def programme_invitations(context, request):
    return invitations_page(context, request)


@view_config(context=Round, name="invitations", renderer="grants.templates:programmes/invitations.pt",
             permission=Permission.ProgrammesRoundManage)
def round_invitations(context, request):
    return invitations_page(context, request)


def role_changes_page(context, request):
    """Every role given or taken back and every invitation sent, answered or withdrawn,
    a page at a time, newest first, filtered by kind and by address or author."""
    from grants import listing

    params = listing.read(request, CHANGE_SORTS, states=CHANGE_KINDS, default_sort="-when")
    page = listing.page(request, _changes_query(context, params.state, params.text), params,
                        CHANGE_SORTS[params.sort][0], request.resource_url(context, "role-changes"),
                        sorts={k: title for k, (_cols, title) in CHANGE_SORTS.items()}, states=CHANGE_KINDS,
                        state_label=_("Change"), text_label=_("Search e-mail addresses and names"))
    page.rows = _change_rows(request, context, page.rows)
    return {"place": context, "programme": context if isinstance(context, Programme) else context.programme,
            "page": page, "filtered": params.filtered, "zone": _zone(context)}


@view_config(context=Programme, name="role-changes", renderer="grants.templates:programmes/role_changes.pt",
             permission=Permission.ProgrammesProgrammeManage)
def programme_role_changes(context, request):
    return role_changes_page(context, request)


@view_config(context=Round, name="role-changes", renderer="grants.templates:programmes/role_changes.pt",
             permission=Permission.ProgrammesRoundManage)
def round_role_changes(context, request):
    return role_changes_page(context, request)


# -- answering an invitation ------------------------------------------------------------------

TEMPLATES = "grants.templates:programmes/"


def _invitation(request):
    """The invitation behind the link, or the page saying why it cannot be used."""
    request.response.headers["Referrer-Policy"] = "no-referrer"  # the address holds a secret
    try:
        return invitation_for(request.dbsession, request.matchdict["token"]), None
    except InvalidInvitation as exc:
        return None, _unusable(request, exc.reason)


def _unusable(request, reason: str):
    values = {"reason": reason, "days": INVITATION_LIFETIME.days, "to_a_role": True}
    response = render_to_response("grants.templates:organisations/invitation_invalid.pt", values, request=request)
    response.status = 400
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _invitation_values(request, invitation):
    place = place_of(request.dbsession, invitation)
    user = request.user
    return {"invitation": invitation, "place": place, "role": role_title(request.registry, place, invitation.role),
            "programme": place if isinstance(place, Programme) else place.programme, "user": user,
            "for_someone_else": user is not None and normalise_email(user.email) != invitation.email,
            "errors": []}


def _accepted(request, place, invitation, headers=None):
    flash_done(request, _("You now have the role “${role}” on ${place}.",
                          mapping={"role": role_title(request.registry, place, invitation.role),
                                   "place": place.title}))
    return HTTPFound(location=request.resource_url(place), headers=headers)


@view_config(route_name="role_invitation", renderer=TEMPLATES + "role_invitation.pt",
             request_method=("GET", "POST"), permission=NO_PERMISSION_REQUIRED)
def answer_invitation(request):
    invitation, refusal = _invitation(request)
    if refusal is not None:
        return refusal
    values = _invitation_values(request, invitation)
    if request.method == "GET":
        return values
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        raise HTTPBadRequest(translate(request, _("Choose whether to accept or decline the invitation.")))
    if answer == "accept" and request.user is None:
        raise HTTPForbidden()  # sent to sign in, and back here
    try:
        if answer == "decline":
            decline(request.dbsession, request.matchdict["token"])
        else:
            place = accept(request.dbsession, request.matchdict["token"], request.user)
    except InvalidInvitation as exc:  # answered a moment ago, in another tab
        return _unusable(request, exc.reason)
    except InvitationForSomeoneElse:
        request.response.status = 403
        return values
    except PeopleRefused as refused:  # an evaluator who is no longer independent, say
        request.tm.doom()
        request.response.status = 409
        return {**values, "errors": [("answer", translate(request, r)) for r in refused.reasons]}
    if answer == "decline":
        request.session.flash(translate(request, _("You have declined the invitation.")), "info")
        return HTTPFound(location=request.resource_url(request.root))
    return _accepted(request, place, invitation)


@view_config(route_name="role_invitation_register", renderer=TEMPLATES + "role_invitation_register.pt",
             request_method=("GET", "POST"), permission=NO_PERMISSION_REQUIRED)
def register_from_invitation(request):
    """Someone without an account creates one and lands signed in with the role.  The link
    reached the invited mailbox, so the address needs no confirmation link of its own."""
    from grants.accounts.invitation_pages import register_then_accept

    invitation, refusal = _invitation(request)
    if refusal is not None:
        return refusal
    done = register_then_accept(request, invitation, _invitation_values(request, invitation),
                                lambda user: accept(request.dbsession, request.matchdict["token"], user),
                                unusable=_unusable, refused=(PeopleRefused,))
    if isinstance(done, dict):
        return done
    place, headers = done
    return _accepted(request, place, invitation, headers)

