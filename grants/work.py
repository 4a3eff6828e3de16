"""What each signed-in person has to do next: "My tasks" and the sections of the home page.

"My tasks" is built from work, not only from the workflow steps that may fire right now.
A reviewer with a conflict declaration to make cannot fire anything yet, and neither can a
grantee whose report is half written; both still have work.  So the tasks come from
*sources*: each asks the database for the objects in their current state that wait on this
person (a declaration to make, an application to score, a report to write, an application
to screen, an application to finish), says what is still missing, and adds the workflow
steps the person may take now.  Then one source per workflow model adds the steps that may
fire now on anything else (a report to accept, a tranche to release).  Nothing is derived
from history, so an object that has moved on leaves the list by itself.

Every list is bounded in the database: a source counts its rows with one query and loads
at most a page of them (LIMIT/OFFSET, in a stable order: due date, undated last, then id).
A home page or the tasks page shows :data:`CAP` rows of each and links to the full,
paginated list of that kind.  The reader's roles on the rows whose workflow steps are
offered are asked for all of them in one statement before the steps are
(``grants.security.remember_local_roles``), not once per row.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload

from grants.i18n import _, ngettext
from grants.security import remember_local_roles

CAP = 10  # rows of one kind on the tasks page or a home page
PAGE_SIZE = 25  # rows per page of a full list


@dataclass
class Work:
    """One thing a person has to do: ``action`` on ``obj`` at ``url``, by ``due``."""

    kind: str
    obj: Any
    url: str
    action: Any  # a message: what to do
    due: dt.datetime | None = None
    missing: list = field(default_factory=list)  # messages: what is still missing before it can be done
    options: list = field(default_factory=list)  # workflow Options that may fire now

    @property
    def key(self) -> tuple[str, int]:
        return (type(self.obj).__tablename__, self.obj.id)

    @property
    def steps(self) -> list:
        """The everyday steps that may be taken now."""
        return [o for o in self.options if not o.transition.destructive]

    @property
    def destructive_steps(self) -> list:
        """Steps that end, reject or withdraw something: shown apart, never like the others."""
        return [o for o in self.options if o.transition.destructive]

    @property
    def sort_key(self):
        return (self.due is None, self.due or dt.datetime.max.replace(tzinfo=dt.timezone.utc), self.key)


#: Kinds of work the applicant or grantee does: the state of what they work on is shown
#: as applicants and the public read it (a state's public title).
APPLICANT_KINDS = frozenset({"application", "report"})


def state_title(request, work: Work):
    """The title of the state ``work``'s object is in, for the reader of the task list."""
    state = request.workflows.workflow(work.obj).state_of(work.obj)
    return state.public_title if work.kind in APPLICANT_KINDS else state.title


@dataclass
class Source:
    """A kind of task: ``query`` selects its rows (ordered, unlimited); ``make`` turns a row
    into :class:`Work`.  ``exact`` is False when the engine may still drop rows the
    query found (the generic workflow sources), so their count is only an upper bound."""

    kind: str
    heading: Any
    query: Any
    make: Callable[[Any], Work | None]
    exact: bool = True
    # ``make`` offers the row's workflow steps, so it needs the reader's roles on the row:
    # those of a page's rows are asked together first (``remember_local_roles``).
    steps: bool = False
    # A select of how many rows ``query`` finds, where a kept counter answers it for less
    # than counting the rows (the state counters of grants.lifecycle.models.StateCount).
    counted: Any = None

    def count(self, db) -> int:
        if self.counted is not None:
            return db.scalar(self.counted) or 0
        return db.scalar(select(func.count()).select_from(self.query.order_by(None).subquery()))

    def rows(self, db, limit: int, offset: int = 0) -> tuple[list, bool]:
        """Up to ``limit`` rows from ``offset``, and whether rows follow them."""
        rows = db.scalars(self.query.limit(limit + 1).offset(offset)).all()
        return rows[:limit], len(rows) > limit

    def works(self, rows: list) -> list[Work]:
        return [w for w in (self.make(row) for row in rows) if w is not None]

    def page(self, db, limit: int, offset: int = 0, user=None) -> tuple[list[Work], bool]:
        """Up to ``limit`` rows from ``offset`` as Work, and whether rows follow them;
        ``user``'s roles on them asked in one statement when ``make`` needs them."""
        rows, following = self.rows(db, limit, offset)
        if self.steps:
            remember_local_roles(rows, user)
        return self.works(rows), following


def _as_moment(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.timezone.utc)  # a date: its first moment


def _member_of(user):
    from grants.accounts.models import Membership

    return select(Membership.organisation_id).where(Membership.user_id == user.id)


def _held(object_type: str, user, role: str):
    """Ids of ``object_type`` rows on which ``user`` holds ``role`` (their local role)."""
    from grants.accounts.models import LocalRole

    return select(LocalRole.object_id).where(LocalRole.user_id == user.id, LocalRole.role == role,
                                             LocalRole.object_type == object_type)


def officer_round_ids(user):
    """Rounds ``user`` runs as programme officer: of their programmes, or their own."""
    from grants.programmes.models import Round

    return select(Round.id).where(or_(Round.id.in_(_held("rounds", user, "programme_officer")),
                                      Round.programme_id.in_(_held("programmes", user, "programme_officer"))))


def _in_review_stage(assignment_model, application_model):
    """The assignment's application is in the review stage of the assignment."""
    from grants.lifecycle.meanings import state_means
    from grants.review.models import STAGE_MEANINGS

    return or_(*[and_(assignment_model.stage == stage, state_means(application_model, meaning))
                 for stage, meaning in STAGE_MEANINGS.items()])


def _guard_reasons(service, obj, user, triggers: tuple[str, ...]) -> tuple[list, list]:
    """(what is missing, steps allowed now): the refusals of ``triggers`` that ``user``
    holds the permission for (so the guard waits on them), and every allowed step."""
    options = service.options(obj, user)
    state = service.workflow(obj).definition.states[obj.state]
    roles = service.actor(obj, user).roles
    missing = []
    for option in options:
        held = bool(state.permissions.get(option.transition.permission, frozenset()) & roles)
        if option.transition.trigger in triggers and held and not option.allowed:
            missing.extend(r for r in option.reasons if r not in missing)
    return missing, [o for o in options if o.allowed]


def sources(request, user) -> list[Source]:
    """Every kind of task, in the order their headings are shown."""
    from grants.applications.models import Application
    from grants.awards.models import Award
    from grants.evaluation.models import Assessment
    from grants.lifecycle.meanings import counted_meaning, state_means
    from grants.lifecycle.models import StateCount, workflow_models
    from grants.lifecycle.services import worklist_candidates
    from grants.mel.models import Report
    from grants.programmes.models import Round
    from grants.review.models import Review, ReviewAssignment, RoundReviewer

    service = request.workflows
    url = request.resource_url
    found: list[Source] = []

    # Invitations to review, oldest first.
    invitations = (select(RoundReviewer).where(RoundReviewer.user_id == user.id, RoundReviewer.accepted_at.is_(None),
                                               RoundReviewer.declined_at.is_(None))
                   .order_by(RoundReviewer.invited_at, RoundReviewer.id))

    def invitation(row):
        rnd = request.dbsession.get(Round, row.round_id)
        return Work("invitation", rnd, url(request.root, "reviews"), _("Accept or decline the invitation to review"),
                    None, [_("Your answer to the invitation")])

    found.append(Source("invitation", _("Invitations to review"), invitations, invitation))

    # Declarations of interests, then scores: the application must still be in review.
    mine = (select(ReviewAssignment).join(Application, Application.id == ReviewAssignment.application_id)
            .where(ReviewAssignment.reviewer_id == user.id, _in_review_stage(ReviewAssignment, Application)))
    declare = mine.where(ReviewAssignment.declared_at.is_(None)).order_by(ReviewAssignment.assigned_at,
                                                                          ReviewAssignment.id)
    found.append(Source("declare", _("Conflict declarations to make"), declare, lambda a: Work(
        "declare", a.application, url(a.application, "declare"), _("Declare whether you have a conflict of interest"),
        None, [_("Your declaration of interests")])))
    submitted = select(Review.id).where(Review.assignment_id == ReviewAssignment.id, Review.submitted_at.is_not(None))
    score = (mine.where(ReviewAssignment.declared_at.is_not(None), ReviewAssignment.conflict.is_not(True),
                        ~submitted.exists())
             .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id))
    found.append(Source("score", _("Applications to score"), score, lambda a: Work(
        "score", a.application, url(a.application, "score"), _("Score the application"), None,
        [_("Your scores")])))

    # The applicant's own applications that wait on them: a draft, one returned, a proposal.
    applications = (select(Application).join(Round, Round.id == Application.round_id)
                    .where(Application.organisation_id.in_(_member_of(user)),
                           state_means(Application, "draft", "returned_for_changes", "incubation"))
                    .order_by(Round.closes_at.is_(None), Round.closes_at, Application.id))

    def to_finish(app):
        missing, allowed = _guard_reasons(service, app, user, ("submit", "resubmit", "submit_proposal"))
        return Work("application", app, url(app), _("Complete and submit the application"),
                    _as_moment(app.round.closes_at), missing, allowed)

    found.append(Source("application", _("Applications to complete"), applications, to_finish, steps=True))

    # Reports the grantee has to write, by due date.
    reports = (select(Report).where(state_means(Report, "to_write"), Report.award_id.in_(
        select(Award.id).join(Application, Application.id == Award.application_id)
        .where(Application.organisation_id.in_(_member_of(user)))))
        .order_by(Report.due_at, Report.id))

    def to_write(report):
        missing, allowed = _guard_reasons(service, report, user, ("submit",))
        return Work("report", report, url(report), _("Write and submit the report"), report.due_at, missing, allowed)

    found.append(Source("report", _("Reports to write"), reports, to_write, steps=True))

    # Applications the officer has to screen, in the rounds they run (an admin: all).
    screening = select(Application).where(state_means(Application, "submitted"))
    # How many: from the counters of each round's applications per state, not by counting
    # a whole round's submitted applications.
    to_screen_count = select(func.sum(StateCount.n)).where(counted_meaning(Application, "submitted"))
    if not getattr(user, "is_admin", False):
        screening = screening.where(Application.round_id.in_(officer_round_ids(user)))
        to_screen_count = to_screen_count.where(StateCount.group_id.in_(officer_round_ids(user)))
        if not request.dbsession.scalar(select(officer_round_ids(user).exists())):
            # Not an officer: asked once here, rather than left to the database, which
            # would read every submitted application looking for one in their rounds.
            screening, to_screen_count = screening.where(false()), to_screen_count.where(false())
    # The checks come with the rows (one statement for the page, not one per row): the
    # screening guard reads them too.
    screening = screening.order_by(Application.submitted_at, Application.id).options(
        selectinload(Application.eligibility_checks))

    def to_screen(app):
        unchecked = sum(1 for check in app.eligibility_checks if check.officer_decision is None)
        missing = [ngettext("${count} eligibility check to confirm", "${count} eligibility checks to confirm",
                            unchecked)] if unchecked else []
        return Work("screen", app, url(app, "screen"), _("Screen the application"), None, missing,
                    [o for o in service.options(app, user) if o.allowed])

    found.append(Source("screen", _("Applications to screen"), screening, to_screen, steps=True,
                        counted=to_screen_count))

    # Grants the evaluator has still to assess, in the rounds they evaluate, by end date.
    assessed = select(Assessment.id).where(Assessment.award_id == Award.id, Assessment.evaluator_id == user.id,
                                           Assessment.submitted_at.is_not(None))
    to_assess = (select(Award).where(Award.round_id.in_(_held("rounds", user, "evaluator")), ~assessed.exists())
                 .order_by(Award.ends_on, Award.id))
    found.append(Source("assess", _("Grants to assess"), to_assess, lambda award: Work(
        "assess", award, url(award, "assessment"), _("Write and submit your assessment"), None,
        [_("Your assessment")])))

    # Then every other step that may fire now, one source per workflow model.
    for model in workflow_models():
        query = worklist_candidates(service, user, model)
        if query is None:
            continue

        def step(obj):
            allowed = [o for o in service.options(obj, user) if o.allowed]
            # A step that leaves the object where it is (a no-cost extension), or one that
            # only ends or rejects it, is something one may do, not work waiting.
            if not any(o.transition.dest != obj.state and not o.transition.destructive for o in allowed):
                return None
            title = service.workflow(obj).definition.title
            return Work(f"steps-{type(obj).__tablename__}", obj, url(obj), title,
                        _as_moment(getattr(obj, getattr(type(obj), "__worklist_due__", "") or "-", None)), [], allowed)

        newest = service.registry.get(model.__workflow__)
        heading = newest.definition.title  # "Payment tranche", "Report": translated where shown
        found.append(Source(f"steps-{model.__tablename__}", heading, query, step, exact=False, steps=True))
    return found


@dataclass
class Tasks:
    items: list[Work]
    more: list[tuple[Source, int | None]]  # kinds with more than were shown: (source, how many; None if unknown)


def my_tasks(request, user) -> Tasks:
    """The tasks page: up to :data:`CAP` of each kind, merged (a step on an object already
    listed joins its row) and ordered by due date, undated last."""
    db = request.dbsession
    # Every kind's rows first (a generic source reads a few more, as the engine may find
    # no step on some), then the roles on all of them in one statement, not one per row.
    pages = [(source, *source.rows(db, CAP if source.exact else CAP * 3)) for source in sources(request, user)]
    remember_local_roles([row for source, rows, _following in pages if source.steps for row in rows], user)
    by_key: dict[tuple, Work] = {}
    more = []
    for source, rows, following in pages:
        works = source.works(rows)
        new = 0
        for work in works:
            existing = by_key.get(work.key)
            if existing is not None:
                triggers = {o.transition.trigger for o in existing.options}
                existing.options.extend(o for o in work.options if o.transition.trigger not in triggers)
            elif new < CAP:
                by_key[work.key] = work
                new += 1
            else:
                following = True
        if following:
            more.append((source, source.count(db) if source.exact else None))
    return Tasks(sorted(by_key.values(), key=lambda w: w.sort_key), more)


def source_named(request, user, kind: str) -> Source | None:
    for source in sources(request, user):
        if source.kind == kind:
            return source
    return None


__all__ = ["APPLICANT_KINDS", "CAP", "PAGE_SIZE", "Source", "Tasks", "Work", "my_tasks", "officer_round_ids",
           "source_named", "sources", "state_title"]
