"""The home page of a signed-in person: for each part they play, their next work first.

An applicant sees their applications and the next step of each; a grantee their grants,
the reports they have to write and their payments; a reviewer their invitations, the
declarations and scores waiting, and the reviews they have done; a programme officer
their rounds with what waits in each (screening, assignment, decisions, reports,
tranches), counted; an evaluator their rounds and assessments; whoever runs a programme
(its fund manager) its money and results; an administrator the programmes, the people
pages and the workflows.

Every list is cut at :data:`grants.work.CAP` rows in the database, with its total and a
link to the full list (:func:`listings`, paginated with LIMIT/OFFSET in a stable order);
counts are grouped queries over the rows shown, never a walk over every application.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

from sqlalchemy import func, select

from grants.i18n import _
from grants.work import CAP, _held, _member_of, officer_round_ids


@dataclass
class Row:
    """One line of a list: ``title`` links to ``url``; ``state`` and ``when`` describe it;
    ``next_step`` (linking to ``next_url``) is what the reader does next, if anything."""

    obj: Any
    url: str
    title: str
    state: Any = None
    when: dt.datetime | dt.date | None = None
    detail: Any = None
    tone: str | None = None  # the state badge's colour when ``state`` is not ``obj``'s own
    next_step: Any = None
    next_url: str | None = None


@dataclass
class Listing:
    """A list one person may page through: ``query`` (ordered) and how a row is shown."""

    name: str
    heading: Any
    query: Any
    row: Callable[[Any], Row]

    def count(self, db) -> int:
        return db.scalar(select(func.count()).select_from(self.query.order_by(None).subquery()))

    def page(self, db, limit: int, offset: int = 0) -> tuple[list[Row], bool]:
        rows = db.scalars(self.query.limit(limit + 1).offset(offset)).all()
        return [self.row(obj) for obj in rows[:limit]], len(rows) > limit


@dataclass
class Shown:
    """A listing on the home page: its first rows and its total."""

    listing: Listing
    rows: list[Row]
    total: int


def _public_state(request, obj) -> Any:
    return request.workflows.workflow(obj).state_of(obj).public_title


def _state(request, obj) -> Any:
    return request.workflows.workflow(obj).state_of(obj).title


def listings(request, user) -> dict[str, Listing]:
    """Every list of the home page, by name (the full list's address names it)."""
    from grants.applications.models import Application
    from grants.awards.models import Award, Tranche
    from grants.lifecycle.meanings import means
    from grants.programmes.models import Programme, Round
    from grants.review.models import Review

    url = request.resource_url
    mine = Application.organisation_id.in_(_member_of(user))
    my_awards = select(Award.id).join(Application, Application.id == Award.application_id).where(mine)

    def application_row(app):
        next_step = next_url = None
        if means(app, "draft", "returned_for_changes"):
            next_step, next_url = _("Complete and submit it"), url(app)
        elif means(app, "incubation"):
            next_step, next_url = _("Write the full proposal"), url(app, "proposal")
        return Row(app, url(app), app.title, _public_state(request, app), app.submitted_at or app.created_at,
                   next_step=next_step, next_url=next_url)

    def award_row(award):
        return Row(award, url(award), award.title, _public_state(request, award), award.ends_on,
                   detail=award.amount, next_step=_("Reports"), next_url=url(award, "reports"))

    def tranche_row(tranche):
        # the grant's page shows its schedule, a row per tranche
        return Row(tranche, f"{url(tranche.award)}#tranche-{tranche.position}", tranche.title,
                   _public_state(request, tranche), tranche.due_on, detail=tranche.amount)

    def review_row(review):
        total = sum(v for v in (review.scores or {}).values() if isinstance(v, (int, float)))
        app = request.dbsession.get(Application, review.application_id)
        # The state is the review's (submitted), not its application's: coloured as done.
        return Row(app, url(app), app.title, _("Submitted"), review.submitted_at,
                   detail=_("Score: ${score}", mapping={"score": total}), tone="success")

    def round_row(rnd):
        return Row(rnd, url(rnd), rnd.title, _state(request, rnd), rnd.closes_at, detail=rnd.programme.title)

    def evaluation_row(rnd):
        return Row(rnd, url(rnd), rnd.title, _state(request, rnd), rnd.closes_at, detail=rnd.programme.title,
                   next_step=_("Assessments"), next_url=url(rnd, "evaluation"))

    def programme_row(programme):
        return Row(programme, url(programme), programme.title)

    officer_programmes = Programme.id.in_(_held("programmes", user, "programme_officer"))
    found = [
        Listing("applications", _("Your applications"),
                select(Application).where(mine).order_by(Application.created_at.desc(), Application.id.desc()),
                application_row),
        Listing("grants", _("Your grants"),
                select(Award).where(Award.id.in_(my_awards)).order_by(Award.ends_on.desc(), Award.id.desc()),
                award_row),
        Listing("payments", _("Your payments"),
                select(Tranche).where(Tranche.award_id.in_(my_awards))
                .order_by(Tranche.due_on.is_(None), Tranche.due_on, Tranche.id), tranche_row),
        Listing("reviews", _("Reviews you have done"),
                select(Review).where(Review.reviewer_id == user.id, Review.submitted_at.is_not(None))
                .order_by(Review.submitted_at.desc(), Review.id.desc()), review_row),
        Listing("rounds", _("Rounds you run"),
                select(Round).where(Round.id.in_(officer_round_ids(user)))
                .order_by(Round.closes_at.is_(None), Round.closes_at.desc(), Round.id.desc()), round_row),
        Listing("evaluation", _("Rounds you evaluate"),
                select(Round).where(Round.id.in_(_held("rounds", user, "evaluator")))
                .order_by(Round.closes_at.is_(None), Round.closes_at.desc(), Round.id.desc()), evaluation_row),
        Listing("programmes", _("Programmes you manage"),
                select(Programme).where(officer_programmes).order_by(Programme.title, Programme.id), programme_row),
    ]
    return {listing.name: listing for listing in found}


def _shown(db, listing: Listing) -> Shown | None:
    rows, following = listing.page(db, CAP)
    if not rows:
        return None
    return Shown(listing, rows, listing.count(db) if following else len(rows))


def round_counts(db, round_ids: list[int]) -> dict[int, dict[str, int]]:
    """For each round: how many applications wait for screening, for reviewers, for a
    decision; how many reports wait to be reviewed and tranches to be released.  One
    grouped query each, over these rounds only."""
    from grants.applications.models import Application
    from grants.awards.models import Award, Tranche
    from grants.lifecycle.meanings import counted_meaning, state_means
    from grants.lifecycle.models import StateCount
    from grants.mel.models import Report
    from grants.review.models import ReviewAssignment

    counts: dict[int, dict[str, int]] = {rid: {} for rid in round_ids}
    if not round_ids:
        return counts
    in_review = state_means(Application, "application_review", "proposal_review")

    def now_in(*meanings):
        # Read from the counters the database keeps as applications move: a few rows per
        # round, where counting the round's applications grew with the round.
        return (select(StateCount.group_id, func.sum(StateCount.n)).where(counted_meaning(Application, *meanings))
                .having(func.sum(StateCount.n) > 0))

    queries = {
        "screening": now_in("submitted"),
        "assignment": select(Application.round_id, func.count()).where(
            in_review, ~select(ReviewAssignment.id).where(ReviewAssignment.application_id == Application.id).exists()),
        "decisions": now_in("application_review", "proposal_review"),
        "reports": select(Award.round_id, func.count()).join(Report, Report.award_id == Award.id).where(
            state_means(Report, "submitted")),
        "tranches": select(Award.round_id, func.count()).join(Tranche, Tranche.award_id == Award.id).where(
            state_means(Tranche, "pending", "released")),
    }
    for name, query in queries.items():
        column = query.selected_columns[0]
        for round_id, n in db.execute(query.where(column.in_(round_ids)).group_by(column)):
            counts[round_id][name] = n
    return counts


def programme_figures(db, programme_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For each programme: its budget, awarded and paid money (per currency), how many
    grants it has made and how many reports it has accepted."""
    from grants.awards.models import Award, Disbursement
    from grants.lifecycle.meanings import state_means
    from grants.mel.models import Report
    from grants.money import Money, MoneyBag
    from grants.programmes.models import Round

    figures: dict[int, dict[str, Any]] = {pid: {"budget": MoneyBag(), "awarded": MoneyBag(), "paid": MoneyBag(),
                                                "grants": 0, "reports": 0} for pid in programme_ids}
    if not programme_ids:
        return figures
    money_queries = {
        "budget": select(Round.programme_id, Round.budget_currency, func.sum(Round.budget_minor))
        .where(Round.budget_minor.is_not(None)).group_by(Round.programme_id, Round.budget_currency),
        "awarded": select(Round.programme_id, Award.currency, func.sum(Award.amount_minor))
        .join(Award, Award.round_id == Round.id).group_by(Round.programme_id, Award.currency),
        "paid": select(Round.programme_id, Disbursement.currency, func.sum(Disbursement.amount_minor))
        .join(Award, Award.round_id == Round.id).join(Disbursement, Disbursement.award_id == Award.id)
        .group_by(Round.programme_id, Disbursement.currency),
    }
    for name, query in money_queries.items():
        for pid, currency, minor in db.execute(query.where(Round.programme_id.in_(programme_ids))):
            figures[pid][name] = figures[pid][name] + Money.from_minor(int(minor), currency)
    for pid, n in db.execute(select(Round.programme_id, func.count(Award.id)).join(Award, Award.round_id == Round.id)
                             .where(Round.programme_id.in_(programme_ids)).group_by(Round.programme_id)):
        figures[pid]["grants"] = n
    for pid, n in db.execute(select(Round.programme_id, func.count(Report.id)).join(Award, Award.round_id == Round.id)
                             .join(Report, Report.award_id == Award.id)
                             .where(Round.programme_id.in_(programme_ids), state_means(Report, "accepted"))
                             .group_by(Round.programme_id)):
        figures[pid]["reports"] = n
    return figures


def organisation_lists(request, user, organisation) -> list[Shown]:
    """The organisation page's applications and grants: the reader's lists, narrowed to
    this organisation (the full lists link to all of the reader's)."""
    from grants.applications.models import Application
    from grants.awards.models import Award

    lists = listings(request, user)
    found = []
    for name, clause in (("applications", Application.organisation_id == organisation.id),
                         ("grants", Award.application_id.in_(select(Application.id).where(
                             Application.organisation_id == organisation.id)))):
        listing = lists[name]
        narrowed = Listing(name, listing.heading, listing.query.where(clause), listing.row)
        rows, following = narrowed.page(request.dbsession, CAP)
        if rows:
            found.append(Shown(listing, rows, narrowed.count(request.dbsession) if following else len(rows)))
    return found


def home_sections(request, user) -> dict[str, Any]:
    """What the home page shows ``user``: a section per part they play, empty ones left out."""
    from grants import work

    db = request.dbsession
    lists = listings(request, user)
    shown = {name: _shown(db, listing) for name, listing in lists.items()}
    by_kind = {source.kind: source for source in work.sources(request, user) if source.exact}

    def waiting(kind):
        works, following = by_kind[kind].page(db, CAP, user=user)
        return SimpleNamespace(works=works, total=by_kind[kind].count(db) if following else len(works), kind=kind,
                               heading=by_kind[kind].heading)

    sections: dict[str, Any] = {}
    applications, grants = shown["applications"], shown["grants"]
    if applications:
        sections["applicant"] = SimpleNamespace(applications=applications)
    if grants:
        sections["grantee"] = SimpleNamespace(grants=grants, reports=waiting("report"), payments=shown["payments"])
    reviewer = {kind: waiting(kind) for kind in ("invitation", "declare", "score")}
    if shown["reviews"] or any(w.works for w in reviewer.values()):
        sections["reviewer"] = SimpleNamespace(**reviewer, done=shown["reviews"])
    if shown["rounds"]:
        rounds = shown["rounds"]
        sections["officer"] = SimpleNamespace(rounds=rounds, counts=round_counts(db, [r.obj.id for r in rounds.rows]))
    if shown["evaluation"]:
        rounds = shown["evaluation"]
        sections["evaluator"] = SimpleNamespace(rounds=rounds, assess=waiting("assess"),
                                                counts=evaluation_counts(db, user, [r.obj.id for r in rounds.rows]))
    if shown["programmes"]:
        programmes = shown["programmes"]
        sections["fund_manager"] = SimpleNamespace(
            programmes=programmes, figures=programme_figures(db, [r.obj.id for r in programmes.rows]))
    if getattr(user, "is_admin", False):
        from grants.programmes.models import Programme

        programmes = db.scalars(select(Programme).order_by(Programme.title, Programme.id).limit(CAP)).all()
        sections["admin"] = SimpleNamespace(programmes=programmes, total=db.scalar(select(func.count(Programme.id))))
    return sections


def evaluation_counts(db, user, round_ids: list[int]) -> dict[int, dict[str, int]]:
    """For each round: its grants, and how many of them this evaluator has assessed."""
    from grants.awards.models import Award
    from grants.evaluation.models import Assessment

    counts: dict[int, dict[str, int]] = {rid: {"grants": 0, "assessed": 0} for rid in round_ids}
    if not round_ids:
        return counts
    for rid, n in db.execute(select(Award.round_id, func.count(Award.id)).where(Award.round_id.in_(round_ids))
                             .group_by(Award.round_id)):
        counts[rid]["grants"] = n
    for rid, n in db.execute(select(Award.round_id, func.count(Assessment.id))
                             .join(Assessment, Assessment.award_id == Award.id)
                             .where(Award.round_id.in_(round_ids), Assessment.evaluator_id == user.id,
                                    Assessment.submitted_at.is_not(None))
                             .group_by(Award.round_id)):
        counts[rid]["assessed"] = n
    return counts
