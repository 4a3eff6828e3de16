"""Pages of the reviewer side of review: the round's reviewer pool (``@@reviewers``) and
assignments (``@@assignments``) for officers; ``/reviews`` for the reviewer (invitations,
then their applications); an application's ``@@declare`` (conflict of interest) and
``@@score`` (the answers, read-only, and the rubric).

Views translate between HTTP and ``services``: a refusal comes back beside the field it
is about, with everything typed kept, and a 400."""
from __future__ import annotations

import re
from decimal import Decimal

import colander
import deform
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from grants import multilingual
from grants.accounts.models import User
from grants.applications.models import Application
from grants.forms import _describe, flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_datetime, format_number, ngettext, translate
from grants.money import Money, format_money
from grants.programmes.models import Round
from grants.resources import Root
from grants.security import Permission

from . import scoring, services
from .models import APPLICATION_STAGE, PROPOSAL_STAGE, STAGES, ReviewAssignment, RoundReviewer, criterion_fallback

T = "grants.templates:review/"
ERROR_PAGE = "grants.templates:error.pt"
CRITERION_TEMPLATE = "grants.templates:review/criterion.pt"


class RadiosWidget(deform.widget.RadioChoiceWidget):
    """Radios in a fieldset whose legend is the question.  The widget draws its own legend,
    hint and error (``hidden``: deform's item template adds none of them)."""

    template = "grants.templates:review/radios.pt"
    hidden = True


STAGE_TITLES = {APPLICATION_STAGE: _("First-stage applications"), PROPOSAL_STAGE: _("Full proposals")}
STATUS_TITLES = {services.INVITED: _("Invited — no answer yet"), services.ACCEPTED: _("Accepted"),
                 services.DECLINED: _("Declined")}


def _signed_in(request) -> User:
    """The signed-in user; anyone else is sent to sign in (the forbidden view does it)."""
    if request.user is None:
        raise HTTPForbidden()
    return request.user


def _errors_from(request, problems, field_ids: dict) -> list[tuple[str, str]]:
    """A refusal's problems as error-summary entries (input id, message)."""
    return [(field_ids.get(name, field_ids.get(None, "main")), translate(request, reason)) for name, reason in problems]


# -- the round's reviewer pool ---------------------------------------------------------------


class InviteSchema(colander.MappingSchema):
    email = colander.SchemaNode(
        colander.String(), title=_("E-mail address of the person to invite"),
        description=_("They need an account: ask them to register first if they have none."),
        preparer=lambda v: v.strip() if isinstance(v, str) else v,
        missing_msg=_("Enter the e-mail address of the person to invite."),
        widget=deform.widget.TextInputWidget(attributes={"dir": "ltr", "autocomplete": "off", "type": "email",
                                                         "spellcheck": "false"}))


POOL_SORTS = {  # key -> (columns, title); the id last, so a page never repeats or skips anyone
    "invited": ([RoundReviewer.invited_at, RoundReviewer.id], _("Invited, earliest first")),
    "name": ([User.name, RoundReviewer.id], _("Name")),
}


def _pool_query(rnd: Round, params):
    """The round's reviewer pool the filters keep: the answer (status), and text in the
    reviewer's name or e-mail address."""
    from sqlalchemy import select
    from sqlalchemy.orm import contains_eager

    from grants import listing

    query = (select(RoundReviewer).join(RoundReviewer.user).options(contains_eager(RoundReviewer.user))
             .where(RoundReviewer.round_id == rnd.id))
    if params.state == services.DECLINED:
        query = query.where(RoundReviewer.declined_at.is_not(None))
    elif params.state == services.ACCEPTED:
        query = query.where(RoundReviewer.accepted_at.is_not(None), RoundReviewer.declined_at.is_(None))
    elif params.state == services.INVITED:
        query = query.where(RoundReviewer.accepted_at.is_(None), RoundReviewer.declined_at.is_(None))
    if params.text:
        query = query.where(listing.text_filter(params.text, User.name, User.email))
    return query


def _reviewers_page(request, rnd: Round, form_html: str, errors=()) -> dict:
    """The invitation form and a page of the pool, each reviewer with their load at each
    stage, counted for that page's reviewers only."""
    from grants import listing

    db = request.dbsession
    params = listing.read(request, POOL_SORTS, states=STATUS_TITLES, default_sort="invited")
    page = listing.page(request, _pool_query(rnd, params), params, POOL_SORTS[params.sort][0],
                        request.resource_url(rnd, "reviewers"),
                        sorts={k: title for k, (_cols, title) in POOL_SORTS.items()}, states=STATUS_TITLES,
                        state_label=_("Status"), text_label=_("Search names and e-mail addresses"))
    ids = [inv.user_id for inv in page.rows]
    loads = {stage: services.reviewer_load(db, rnd, stage, among=ids) for stage in STAGES}
    pool = [(inv, services.invitation_status(inv)) for inv in page.rows]
    return {"rnd": rnd, "programme": rnd.programme, "form_html": form_html, "errors": list(errors), "pool": pool,
            "page": page, "filtered": params.filtered,
            "loads": loads, "status_titles": STATUS_TITLES, "stages": STAGES, "stage_titles": STAGE_TITLES}


@view_config(context=Round, name="reviewers", renderer=T + "reviewers.pt", permission=Permission.ProgrammesRoundManage)
def round_reviewers(context, request):
    form = make_form(request, InviteSchema(), "invite", _("Invite to review"))
    if request.method != "POST":
        return _reviewers_page(request, context, form.render())
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page = form_failed(request, failure)
        return _reviewers_page(request, context, page["form_html"], page["errors"])
    try:
        invitation = services.invite_reviewer_by_email(
            request.dbsession, request.registry, context, data["email"], request.user,
            transaction_manager=request.tm, reviews_url=request.resource_url(request.root, "reviews"))
    except services.ReviewRefused as refused:
        page = form_refused(request, form, refused.problems)
        return _reviewers_page(request, context, page["form_html"], page["errors"])
    flash_done(request, _("Invited ${name} to review in this round. They have been sent an e-mail.",
                          mapping={"name": invitation.user.name}))
    return HTTPFound(location=request.resource_url(context, "reviewers"))


# -- assignments -----------------------------------------------------------------------------


class AutoAssignSchema(colander.MappingSchema):
    per_application = colander.SchemaNode(
        colander.Integer(), title=_("Reviewers per application"),
        description=_("Applications that already have reviewers keep them and get only the ones they lack."),
        validator=colander.Range(min=1, max=20, min_err=_("Give each application at least 1 reviewer"),
                                 max_err=_("Give each application 20 reviewers or fewer")),
        missing_msg=_("Enter how many reviewers each application should have, like 3"),
        widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={
            "inputmode": "numeric", "size": "3", "dir": "ltr", "autocomplete": "off"}))
    stage = colander.SchemaNode(colander.String(), widget=deform.widget.HiddenWidget(),
                                validator=colander.OneOf(STAGES), missing=APPLICATION_STAGE)


def _stage(request) -> str:
    stage = request.params.get("stage", APPLICATION_STAGE)
    return stage if stage in STAGES else APPLICATION_STAGE


def _wanted(request) -> int | None:
    """The number of reviewers per application the officer asked for last (carried in the
    address after an automatic assignment), or None to infer it."""
    value = _int(request.params.get("per_application"))
    return value if value is not None and 1 <= value <= 20 else None


def _assignment_sorts(stage: str) -> dict:
    """The orders the assignments list offers: key -> (columns, title); the id last, so a
    page never repeats or skips an application."""
    return {
        "reference": ([Application.id], _("Reference")),
        "title": ([Application.title, Application.id], _("Title")),
        "reviewers": ([services.active_reviewers(stage), Application.id], _("Fewest reviewers first")),
    }


def _assignment_states(request, stage: str) -> dict:
    """The states an application waits for review in at ``stage``, by their titles: a
    filter only where a variant has several."""
    from grants.lifecycle.meanings import states_meaning

    definition = request.registry.workflows.get("application").definition
    states = {sid: _(state.title) for sid, state in definition.states.items()
              if sid in states_meaning("application", services.STAGE_MEANINGS[stage])}
    return states if len(states) > 1 else {}


def _short_only(request) -> bool:
    """``?short=1``: only the applications with fewer reviewers than wanted."""
    value = (request.GET.get("short") or "").strip()
    if value not in ("", "1"):
        raise HTTPBadRequest(translate(request, _("Show either every application or only those short of "
                                                  "reviewers.")))
    return value == "1"


class _AssignmentList:
    """What the officer asked of the assignments list: its stage, the list parameters
    (``grants.listing``), whether only applications short of reviewers, and the number of
    reviewers wanted.  Read (and checked: a 400 otherwise) before any form is acted on."""

    def __init__(self, request, rnd: Round, stage: str):
        from grants import listing

        self.stage, self.sorts = stage, _assignment_sorts(stage)
        self.states = _assignment_states(request, stage)
        self.params = listing.read(request, self.sorts, states=self.states, regions_filter=True,
                                   default_sort="reference")
        self.short = _short_only(request)
        self.per_application = _wanted(request)
        self.wanted = services.wanted_reviewers(request.dbsession, rnd, stage, self.per_application)
        self.keep = {"stage": stage}  # the page's own parameters, kept in its links and forms
        if self.per_application:
            self.keep["per_application"] = self.per_application
        if self.short:
            self.keep["short"] = "1"

    def query(self, rnd: Round):
        from grants import listing

        query = listing.application_filters(services.stage_applications_query(rnd, self.stage), self.params)
        if self.short:
            query = query.where(services.active_reviewers(self.stage) < self.wanted)
        return query

    def url(self, request, rnd: Round, **keep) -> str:
        """The list's address with its filters (and ``keep`` changed)."""
        return request.resource_url(rnd, "assignments", query={**self.keep, **keep, **self.params.query()})


def _assignments_page(request, rnd: Round, asked: _AssignmentList, auto_html: str, errors=(), chosen=None) -> dict:
    from sqlalchemy.orm import joinedload

    from grants import listing

    db, stage = request.dbsession, asked.stage
    query = asked.query(rnd).options(joinedload(Application.organisation))
    page = listing.page(request, query, asked.params, asked.sorts[asked.params.sort][0],
                        request.resource_url(rnd, "assignments"),
                        sorts={k: title for k, (_cols, title) in asked.sorts.items()}, states=asked.states,
                        regions=True, keep=asked.keep, fields=("short",))
    rows = services.reviewers_of(db, page.rows, stage, asked.wanted)
    blocked = services.unassignable_by_application(db, page.rows, stage)
    reviewers = services.accepted_reviewers(db, rnd)
    filtered = asked.params.filtered or asked.short
    return {"rnd": rnd, "programme": rnd.programme, "stage": stage, "stages": STAGES, "stage_titles": STAGE_TITLES,
            "rows": [(row, [u for u in reviewers if u.id not in blocked[row.application.id]]) for row in rows],
            "page": page, "short_only": asked.short, "filtered": filtered, "auto_html": auto_html,
            "errors": list(errors), "load": services.reviewer_load(db, rnd, stage),
            "reviewers": reviewers, "chosen": chosen or {}, "status": services.assignment_status,
            "wanted": asked.wanted}


def _assignments_csv(request, rnd: Round, asked: _AssignmentList):
    """Every application the filters keep, with its reviewers, a few hundred at a time."""
    from sqlalchemy.orm import joinedload

    from grants import listing

    db = request.dbsession
    query = (asked.query(rnd).options(joinedload(Application.organisation))
             .order_by(*asked.sorts[asked.params.sort][0]))
    definition = request.registry.workflows.get("application").definition

    def state_title(state):
        found = definition.states.get(state)
        return translate(request, _(found.title)) if found is not None else state

    def rows():
        for chunk in listing.chunks(db, query):
            for row in services.reviewers_of(db, chunk, asked.stage, asked.wanted):
                application = row.application
                yield (application.reference, application.title, application.organisation.legal_name,
                       state_title(application.state), row.active, row.wanted,
                       "; ".join(a.reviewer.name for a in row.assignments if not a.conflict),
                       "; ".join(a.reviewer.name for a in row.assignments if a.conflict))

    header = [_("Reference"), _("Application"), _("Organisation"), _("State"),
              _("Reviewers without a conflict of interest"), _("Reviewers wanted"), _("Reviewers"),
              _("Declared a conflict of interest")]
    return listing.csv_response(request, f"assignments-round-{rnd.id}-{asked.stage}.csv", header, rows())


def _auto_form(request, stage):
    return make_form(request, AutoAssignSchema(), "auto", _("Assign reviewers"))


#: Shortfalls after an automatic assignment told one by one; the rest are counted, and the
#: list's "short of reviewers" filter shows them all.
SHORT_FLASHES = 10


@view_config(context=Round, name="assignments", renderer=T + "assignments.pt",
             permission=Permission.ProgrammesRoundManage)
def round_assignments(context, request):
    """One stage at a time (``?stage=proposal``), a page of applications at a time
    (``grants.listing``; ``?short=1``: only those short of reviewers; ``?format=csv``:
    every application the filters keep).  Three forms post here: ``auto`` (automatic
    assignment, of the whole stage), ``assign`` (one reviewer to one application) and
    ``unassign``."""
    stage = _stage(request)
    db = request.dbsession
    form = _auto_form(request, stage)
    asked = _AssignmentList(request, context, stage)
    here = asked.url(request, context)
    formid = request.POST.get("__formid__") if request.method == "POST" else None
    wanted = asked.wanted
    if formid is None:
        if request.GET.get("format") == "csv":
            return _assignments_csv(request, context, asked)
        return _assignments_page(request, context, asked, form.render({"per_application": wanted, "stage": stage}))

    if formid == "auto":
        try:
            data = form.validate(list(request.POST.items()))
        except deform.ValidationFailure as failure:
            page = form_failed(request, failure)
            return _assignments_page(request, context, asked, page["form_html"], page["errors"])
        summary = services.auto_assign(db, context, per_application=data["per_application"], stage=data["stage"],
                                       assigned_by=request.user)
        flash_done(request, ngettext("Made ${count} assignment.", "Made ${count} assignments.", summary.assigned_count))
        for short in summary.short[:SHORT_FLASHES]:
            request.session.flash(translate(request, ngettext(
                "${reference} “${title}” has ${have} of ${count} reviewer. ${reason}",
                "${reference} “${title}” has ${have} of ${count} reviewers. ${reason}", short.wanted,
                mapping={"reference": short.application.reference, "title": short.application.title,
                         "have": short.reviewers, "reason": short.reason})), "info")
        more = len(summary.short) - SHORT_FLASHES
        if more > 0:
            request.session.flash(translate(request, ngettext(
                "${count} more application has fewer reviewers than asked: show only those short of reviewers "
                "to see it.",
                "${count} more applications have fewer reviewers than asked: show only those short of reviewers "
                "to see them.", more)), "info")
        return HTTPFound(location=asked.url(request, context, stage=data["stage"],
                                            per_application=data["per_application"]))

    auto_html = form.render({"per_application": wanted, "stage": stage})
    if formid == "assign":
        application = _application_in(db, context, request.POST.get("application"))
        reviewer = _row(db, User, request.POST.get("reviewer"))
        select_id = f"assign-{application.id}"
        if reviewer is None:
            request.response.status = 400
            return _assignments_page(request, context, asked, auto_html, [(select_id, translate(
                request, _("Choose a reviewer for ${reference}.", mapping={"reference": application.reference})))])
        try:
            services.assign(db, application, reviewer, request.user, stage)
        except services.ReviewRefused as refused:
            request.response.status = 400
            return _assignments_page(request, context, asked, auto_html,
                                     _errors_from(request, refused.problems, {None: select_id, "reviewer": select_id,
                                                                              "application": select_id}),
                                     chosen={application.id: reviewer.id})
        flash_done(request, _("${name} will review ${reference}.",
                              mapping={"name": reviewer.name, "reference": application.reference}))
        return HTTPFound(location=here)

    if formid == "unassign":
        assignment = _row(db, ReviewAssignment, request.POST.get("assignment"))
        if assignment is None or assignment.application.round_id != context.id:
            raise HTTPNotFound()
        name, reference = assignment.reviewer.name, assignment.application.reference
        try:
            services.unassign(db, assignment, request.user)
        except services.ReviewRefused as refused:
            request.response.status = 400
            row_id = f"row-{assignment.application_id}"
            return _assignments_page(request, context, asked, auto_html,
                                     _errors_from(request, refused.problems, {None: row_id}))
        flash_done(request, _("${name} no longer reviews ${reference}.",
                              mapping={"name": name, "reference": reference}))
        return HTTPFound(location=here)
    raise HTTPNotFound()


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _row(db, model, value):
    """The row whose id was posted, or None (a missing or garbled id included)."""
    key = _int(value)
    return db.get(model, key) if key is not None else None


def _application_in(db, rnd, value) -> Application:
    application = _row(db, Application, value)
    if application is None or application.round_id != rnd.id:
        raise HTTPNotFound()
    return application


# -- the reviewer's page ---------------------------------------------------------------------


@view_config(context=Root, name="reviews", renderer=T + "my_reviews.pt", permission=NO_PERMISSION_REQUIRED)
def my_reviews(context, request):
    """Invitations to answer, then the applications: declare first, then score."""
    user = _signed_in(request)
    db = request.dbsession
    errors = []
    if request.method == "POST":
        invitation = _row(db, RoundReviewer, request.POST.get("invitation"))
        if invitation is None or invitation.user_id != user.id:
            raise HTTPNotFound()
        if request.POST.get("answer") not in ("accept", "decline"):
            raise HTTPBadRequest(translate(request, _("Choose to accept or to decline the invitation.")))
        accept = request.POST.get("answer") == "accept"
        try:
            services.respond(db, invitation, user, accept)
        except services.ReviewRefused as refused:
            request.response.status = 400
            errors = _errors_from(request, refused.problems, {None: f"invitation-{invitation.id}"})
        else:
            if accept:
                flash_done(request, _("You accepted to review in ${round}. Applications given to you will appear "
                                      "here.", mapping={"round": invitation_round(db, invitation).title}))
            else:
                flash_done(request, _("You declined to review in ${round}.",
                                      mapping={"round": invitation_round(db, invitation).title}))
            return HTTPFound(location=request.resource_url(request.root, "reviews"))
    page = _my_assignments_page(request, user)
    groups = {key: [] for key in (services.TO_DECLARE, services.TO_SCORE, services.SUBMITTED, services.CONFLICT,
                                  services.CLOSED)}
    for assignment in page.rows:
        groups[services.assignment_status(assignment)].append(assignment)
    invitations = [(inv, invitation_round(db, inv)) for inv in services.pending_invitations(db, user)]
    return {"invitations": invitations, "groups": groups, "errors": errors, "stage_titles": STAGE_TITLES,
            "any_assignment": bool(page.total), "page": page, "review_total": _review_total,
            "when": lambda moment, rnd: format_datetime(moment, rnd.timezone) if moment else "—"}


def _review_total(review) -> int | float:
    """A submitted review's total: the sum of its numeric scores."""
    return sum(v for v in (review.scores or {}).values() if isinstance(v, (int, float)) and not isinstance(v, bool))


def _my_assignments_page(request, user):
    """The reviewer's assignments, a page at a time, in the order they act on them: to
    declare, to score, then the submitted ones (latest first), conflicts, and those whose
    review closed.  The status is computed in SQL so that the order holds across pages."""
    from sqlalchemy import case, select
    from sqlalchemy.orm import contains_eager

    from grants import listing
    from grants.review.models import Review
    from grants.work import _in_review_stage

    params = listing.read(request, {""})
    rank = case((ReviewAssignment.declared_at.is_(None), 0),
                (ReviewAssignment.conflict.is_(True), 3),
                (Review.submitted_at.is_not(None), 2),
                (_in_review_stage(ReviewAssignment, Application), 1), else_=4)
    query = (select(ReviewAssignment).join(Application, Application.id == ReviewAssignment.application_id)
             .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
             .where(ReviewAssignment.reviewer_id == user.id)
             .options(contains_eager(ReviewAssignment.application).joinedload(Application.round),
                      contains_eager(ReviewAssignment.review)))
    if params.text:
        query = query.where(listing.text_filter(params.text, Application.title))
    order = [rank, Review.submitted_at.desc().nulls_last(), Application.round_id, Application.id, ReviewAssignment.id]
    return listing.page(request, query, params, order, request.resource_url(request.root, "reviews"), sorts={"": ""},
                        text_label=_("Search titles"))


def invitation_round(db, invitation: RoundReviewer) -> Round:
    return db.get(Round, invitation.round_id)


# -- declaring a conflict of interest ------------------------------------------------------


DECLARATIONS = (("none", _("I have no conflict of interest with this application")),
                ("conflict", _("I have a conflict of interest with this application")))


@colander.deferred
def _declaration_widget(node, kw):
    request = kw["request"]
    return RadiosWidget(values=[(v, translate(request, t)) for v, t in DECLARATIONS])


class DeclareSchema(colander.MappingSchema):
    declaration = colander.SchemaNode(
        colander.String(), title=_("Do you have a conflict of interest?"), widget=_declaration_widget,
        validator=colander.OneOf([v for v, _t in DECLARATIONS]),
        missing_msg=_("Say whether you have a conflict of interest with this application."))
    reason = colander.SchemaNode(
        colander.String(), title=_("If you have a conflict, what is it?"), missing="",
        description=_("For example: you work for the organisation, sit on its board, or are related to someone "
                      "who does. Required if you have a conflict."),
        widget=deform.widget.TextAreaWidget(rows=3, attributes={"dir": "auto"}))


def _declare_page(request, assignment, form_html, errors=()) -> dict:
    application = assignment.application
    # The organisation's name is shown even in a blind round: nobody can say whether they
    # have a conflict of interest without knowing who applied.  Nothing else identifying is.
    return {"application": application, "rnd": application.round, "organisation": application.organisation,
            "assignment": assignment, "form_html": form_html, "errors": list(errors),
            "stage_titles": STAGE_TITLES}


@view_config(context=Application, name="declare", renderer=T + "declare.pt", permission=NO_PERMISSION_REQUIRED)
def declare(context, request):
    """Only for a reviewer with an undeclared assignment on this application (else 404:
    the page does not exist for anyone else)."""
    user = _signed_in(request)
    db = request.dbsession
    assignment = services.undeclared_assignment(db, context, user)
    if assignment is None:
        raise HTTPNotFound()
    form = make_form(request, DeclareSchema(), "declare", _("Send my declaration"))
    if request.method != "POST":
        return _declare_page(request, assignment, form.render())
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page = form_failed(request, failure)
        return _declare_page(request, assignment, page["form_html"], page["errors"])
    conflict = data["declaration"] == "conflict"
    try:
        services.declare(db, assignment, user, conflict=conflict, reason=data["reason"])
    except services.ReviewRefused as refused:
        page = form_refused(request, form, refused.problems)
        return _declare_page(request, assignment, page["form_html"], page["errors"])
    if conflict:
        flash_done(request, _("Your conflict of interest with ${reference} is recorded. You will not see or score "
                              "it; the programme team will give it to another reviewer.",
                              mapping={"reference": context.reference}))
        return HTTPFound(location=request.resource_url(request.root, "reviews"))
    flash_done(request, _("Thank you. You can now read and score ${reference}.",
                          mapping={"reference": context.reference}))
    if services.stage_of(context) == assignment.stage:
        return HTTPFound(location=request.resource_url(context, "score"))
    return HTTPFound(location=request.resource_url(request.root, "reviews"))


# -- refusing a reviewer with a conflict, clearly ---------------------------------------------


class ConflictRefusedPredicate:
    """``review_conflict_refused=<permission>``: the signed-in user declared a conflict of
    interest with this application and lacks ``permission`` on it.  Lets the pages below
    say why (a bare 403 would leave them guessing)."""

    def __init__(self, permission, config):
        self.permission = permission

    def text(self):
        return f"review_conflict_refused = {self.permission}"

    phash = text

    def __call__(self, context, request):
        if request.user is None or not isinstance(context, Application):
            return False
        if not services.has_declared_conflict(request.dbsession, context, request.user):
            return False
        return not request.has_permission(self.permission, context)


@view_config(context=Application, name="score", renderer=ERROR_PAGE, permission=NO_PERMISSION_REQUIRED,
             review_conflict_refused=Permission.ReviewApplicationScore)
@view_config(context=Application, name="", renderer=ERROR_PAGE, permission=NO_PERMISSION_REQUIRED,
             review_conflict_refused=Permission.ApplicationsApplicationView)
def conflict_refused(context, request):
    request.response.status = 403
    return {"title": _("You cannot open this application"), "detail": services.CONFLICT_REFUSAL}


# -- scoring ---------------------------------------------------------------------------------


IDENTIFYING_KEYS = {"legal_name", "alternative_name", "organisation_name", "organization_name", "registration_number",
                    "email", "phone", "address", "website"}


def _identifying(key: str) -> bool:
    key = key.lower()
    return key in IDENTIFYING_KEYS or key.startswith("contact") or key.endswith(("_email", "_phone", "_address"))


def _answer_text(value, locale: str) -> str:
    if isinstance(value, dict) and "amount" in value and "currency" in value:
        try:
            return format_money(Money(Decimal(str(value["amount"])), value["currency"]), locale)
        except Exception:  # an amount stored by an older form: show it as it is
            return f"{value['amount']} {value['currency']}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
        # The rows of a table (a built form's budget lines): a line each, its cells in order.
        return "\n".join("; ".join(_answer_text(cell, locale) for cell in row.values()) if isinstance(row, dict)
                         else _answer_text(row, locale) for row in value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "✓" if value else "—"
    return str(value)


def _form_labels(request, application, stage):
    """{section: (title, {question: title})} from the application's form, when it is
    installed; the page falls back to the stored keys."""
    try:
        from grants.applications.formdefs import form_for
    except ImportError:
        return {}
    try:
        form = form_for(request.registry, application, stage)
    except (LookupError, ValueError):
        return {}
    labels = {}
    for section in form.sections:
        questions = {}
        if section.schema_factory is not None:
            questions = {node.name: node.title for node in section.schema_factory().children}
        labels[section.name] = (section.title, questions)
    return labels


def _humane(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _masker(request, application: Application):
    """A function that replaces the organisation's names and registration number, wherever
    a text quotes them, with "[the applicant]" (for blind review)."""
    org = application.organisation
    names = sorted({n.strip() for n in (org.legal_name, org.alternative_name, org.registration_number)
                    if n and n.strip()}, key=len, reverse=True)  # the longest first: a name may hold another
    if not names:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)
    placeholder = translate(request, _("[the applicant]"))
    return lambda text: pattern.sub(placeholder, text)


def answer_sections(request, application: Application, stage: str, blind: bool) -> list:
    """[(section title, [(question, answer text)])] for reading.  In a blind round the
    identifying questions (names, registration numbers, contacts) are left out, and the
    organisation's names and registration number are masked wherever an answer quotes them."""
    answers = application.proposal if stage == PROPOSAL_STAGE else application.answers
    labels = _form_labels(request, application, stage)
    mask = _masker(request, application)
    sections = []
    order = list(labels) + [k for k in (answers or {}) if k not in labels]
    for section in order:
        values = (answers or {}).get(section)
        if not isinstance(values, dict) or not values:
            continue
        title, questions = labels.get(section, (_humane(section), {}))
        known = list(questions) + [k for k in values if k not in questions]
        rows = []
        for key in known:
            if key not in values or key.startswith("_"):
                continue
            if blind and _identifying(key):
                continue
            text = _answer_text(values[key], request.locale_name)
            if blind:
                text = mask(text)
            rows.append((translate(request, questions.get(key, _humane(key))), text))
        if rows:
            sections.append((translate(request, title), rows))
    return sections


def _score_schema(request, rubric: scoring.Rubric) -> colander.Schema:
    schema = colander.Schema()
    for criterion in rubric.criteria:
        group = colander.MappingSchema(
            name=criterion.id, title=translate(request, _(criterion.title)),
            widget=deform.widget.MappingWidget(template=CRITERION_TEMPLATE, category="structural"))
        group.weight = format_number(criterion.weight, request.locale_name)  # shown beside the criterion
        group.add(colander.SchemaNode(
            colander.String(), name="score", title=_("Score"), missing="",
            validator=colander.OneOf([str(v) for v in scoring.SCORE_VALUES], msg_err=_(
                "Choose a score from ${min} to ${max}", mapping={"min": scoring.MIN_SCORE, "max": scoring.MAX_SCORE})),
            widget=RadiosWidget(values=[
                (str(v), f"{v} — {translate(request, _(criterion.label(v)))}") for v in scoring.SCORE_VALUES])))
        group.add(colander.SchemaNode(
            colander.String(), name="rationale", title=_("Why this score?"), missing="",
            description=_("Required: say what in the application led you to this score."),
            widget=deform.widget.TextAreaWidget(rows=4, attributes={"dir": "auto"})))
        schema.add(group)
    return schema


def _fallback_titles(request, stored) -> dict:
    """The criteria of a rubric made in the browser with no title in the reader's language:
    ``{id: (plain text, markup)}``, the default language's title marked as such — plain
    text with "(not translated)" after it where no markup goes (the error summary), the
    markup (its lang and dir, and the note) in the page."""
    if stored is None:
        return {}
    out = {}
    for criterion in stored.criteria:
        language = criterion_fallback(criterion, request.locale_name)
        if language is not None:
            text = criterion["title"]
            out[criterion["id"]] = (f"{text} {translate(request, multilingual.NOT_TRANSLATED)}",
                                    multilingual.fallback_markup(text, language, request.locale_name))
    return out


def _score_form(request, rubric, stored=None):
    schema = _score_schema(request, rubric)
    fallbacks = _fallback_titles(request, stored)
    for group in schema.children:  # a rubric made in the browser may tell reviewers what each criterion means
        guidance = stored.guidance(group.name, request.locale_name) if stored is not None else ""
        if guidance:
            group.guidance = guidance
        if group.name in fallbacks:
            group.title, group.marked_title = fallbacks[group.name]
    form = make_form(request, schema, "score", _("Submit scores"))
    form.buttons = (deform.Button("save", translate(request, _("Save draft")), css_class="btn-outline-primary"),
                    deform.Button("submit", translate(request, _("Submit scores")), css_class="btn-primary"))
    for group in form.children:
        for child in group.children:
            child.oid = f"{group.oid}-{child.name}"  # score-relevance-rationale
            if child.description:
                _describe(child, f"help-{child.oid}")
    return form


def _scored_rows(request, rubric, review, stored=None) -> list[tuple[str, int | None, str, str]]:
    """(criterion, score, its label, rationale) of a review, for reading it back."""
    if review is None:
        return []
    fallbacks = _fallback_titles(request, stored)
    rows = []
    for c in rubric.criteria:
        value = review.scores.get(c.id)
        label = translate(request, _(c.label(value))) if value in scoring.SCORE_VALUES else ""
        title = fallbacks[c.id][1] if c.id in fallbacks else translate(request, _(c.title))
        rows.append((title, value, label, review.rationales.get(c.id, "")))
    return rows


def _score_page(request, assignment, rubric, form_html, errors=(), stored=None) -> dict:
    application = assignment.application
    blind = application.round.blind_review
    return {"application": application, "rnd": application.round, "blind": blind, "assignment": assignment,
            "title": _masker(request, application)(application.title) if blind else application.title,
            "review": assignment.review, "rubric": rubric, "form_html": form_html, "errors": list(errors),
            "sections": answer_sections(request, application, assignment.stage, blind),
            # A full proposal is read beside the first application it grew from.
            "first_sections": (answer_sections(request, application, APPLICATION_STAGE, blind)
                               if assignment.stage == PROPOSAL_STAGE else []),
            "amount": format_money(application.amount, request.locale_name) if application.amount else None,
            "scored": _scored_rows(request, rubric, assignment.review, stored),
            "stage_titles": STAGE_TITLES, "submitted_at": (format_datetime(assignment.review.submitted_at,
                                                                            application.round.timezone)
                                                           if assignment.review and assignment.review.submitted_at
                                                           else None)}


@view_config(context=Application, name="score", renderer=T + "score.pt", permission=Permission.ReviewApplicationScore)
def score(context, request):
    db = request.dbsession
    stage = services.stage_of(context)
    assignment = services.assignment_for(db, context, request.user, stage) if stage else None
    if assignment is None:
        raise HTTPNotFound()
    stored_rubric = services.rubric_of(db, assignment)
    rubric = stored_rubric.scoring_rubric(request.locale_name)  # titles in the reader's language
    submitted = assignment.review is not None and assignment.review.submitted_at is not None
    form = _score_form(request, rubric, stored_rubric)
    if request.method != "POST" or submitted:
        if request.method == "POST":  # a submitted review is final
            raise services.ReviewRefused([(None, services.score_refusal(db, request.registry, assignment,
                                                                         request.user))])
        review = assignment.review
        current = {}
        if review is not None:
            current = {c.id: {"score": str(review.scores[c.id]) if c.id in review.scores else "",
                              "rationale": review.rationales.get(c.id, "")} for c in rubric.criteria}
        return _score_page(request, assignment, rubric, None if submitted else form.render(current),
                           stored=stored_rubric)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page = form_failed(request, failure)
        return _score_page(request, assignment, rubric, page["form_html"], page["errors"])
    submit = "submit" in request.POST
    scores = {cid: int(values["score"]) if values["score"] else None for cid, values in data.items()
              if cid != "csrf_token"}
    rationales = {cid: values["rationale"] for cid, values in data.items() if cid != "csrf_token"}
    try:
        services.save_review(db, request.registry, assignment, request.user, scores=scores, rationales=rationales,
                             submit=submit)
    except services.ReviewRefused as refused:
        nested = {f"{c.id}.{part}": (c.id, part) for c in rubric.criteria for part in ("score", "rationale")}
        page = form_refused(request, form, refused.problems, nested)
        return _score_page(request, assignment, rubric, page["form_html"], page["errors"])
    if submit:
        flash_done(request, _("Your scores for ${reference} are submitted. Thank you.",
                              mapping={"reference": context.reference}))
        return HTTPFound(location=request.resource_url(request.root, "reviews"))
    flash_done(request, _("Draft saved. You can come back and finish it later."))
    return HTTPFound(location=request.resource_url(context, "score"))


def includeme(config):
    config.add_view_predicate("review_conflict_refused", ConflictRefusedPredicate)
    config.scan(__name__)
