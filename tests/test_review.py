"""The reviewer side of review: rubrics, invitations, assignment (manual and automatic,
balanced, never against a conflict), conflict-of-interest declarations, scoring and its
refusals, and the officer's and reviewer's pages."""
from __future__ import annotations

import random
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import factories as f
from grants.accounts.models import Membership
from grants.applications.models import Application
from grants.i18n import _, translate_for
from grants.lifecycle.services import WorkflowService
from grants.programmes.models import Round
from grants.review import scoring, services
from grants.review.models import APPLICATION_STAGE, PROPOSAL_STAGE, Review, ReviewAssignment, RoundReviewer, Rubric
from grants.review.services import ReviewRefused
from grants.security import Permission, local_roles


def reasons(exc_info) -> list[str]:
    return [r.interpolate() if hasattr(r, "interpolate") else str(r) for r in exc_info.value.reasons]


def eligible_application(db, registry, rnd, org, *, title="Theatre clubs in Kebili", answers=None,
                         state="eligible") -> Application:
    """An application waiting for review, brought there through the real transitions
    (its round declares no eligibility rules, so screening confirms it)."""
    return f.application(db, registry, rnd, org, title=title, state=state, answers=answers)


def reviewer(db, registry, rnd, *, email=None, name="Reviewer", locale="en"):
    """A person who was invited to ``rnd`` and accepted."""
    user = f.user(db, email=email, name=name, locale=locale)
    invitation = services.invite_reviewer(db, registry, rnd, user, None)
    services.respond(db, invitation, user, accept=True)
    return user


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def full_scores(rubric: Rubric, value=4):
    ids = [c["id"] for c in rubric.criteria]
    return {i: value for i in ids}, {i: f"Because of {i}." for i in ids}


# -- rubrics ----------------------------------------------------------------------------------


LABELS = {"1": "Poor", "2": "Weak", "3": "Fair", "4": "Good", "5": "Excellent"}


def test_a_rubric_is_checked_before_it_is_stored(registry):
    with registry.database.transaction() as (_tm, db):
        rubric = services.create_rubric(db, "Call 4", [
            {"id": "need", "title": "Need", "weight": "2", "labels": LABELS},
            {"id": "plan", "title": "Plan", "weight": Decimal("0.5"), "labels": LABELS}])
        assert rubric.scoring_rubric().total_weight == Decimal("2.5")
        assert rubric.criteria[1]["weight"] == "0.5"
        with pytest.raises(ReviewRefused) as refused:
            services.create_rubric(db, "", [
                {"id": "need", "title": "Need", "weight": "0", "labels": LABELS},
                {"id": "need", "title": "", "weight": "1", "labels": {**LABELS, "5": ""}}])
        text = " | ".join(reasons(refused))
        assert "Give the rubric a title." in text
        assert "Criterion 1: its weight must be a number greater than 0." in text
        assert "Criterion 2: give it a title." in text
        assert "Criterion 2: give a label for each score from 1 to 5." in text
        assert "Each criterion needs its own id: need is used twice." in text
        with pytest.raises(ReviewRefused):
            services.create_rubric(db, "Empty", [])
        assert count(db, Rubric) == 1


def test_the_default_rubric_is_made_once_and_rounds_use_their_own_when_set(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        default = services.rubric_for(db, rnd)
        assert default.title == services.GENERAL_RUBRIC_TITLE
        assert [c["id"] for c in default.criteria] == ["relevance", "feasibility", "value_for_money", "capacity",
                                                       "sustainability"]
        assert [c["weight"] for c in default.criteria] == ["3", "2", "2", "2", "1"]
        assert all(len(c["labels"]) == 5 for c in default.criteria)
        assert services.default_rubric(db).id == default.id
        own = services.create_rubric(db, "Own", [{"id": "need", "title": "Need", "weight": 1, "labels": LABELS}])
        rnd.rubric_id = own.id
        assert services.rubric_for(db, rnd).id == own.id
        assert count(db, Rubric) == 2


# -- invitations ------------------------------------------------------------------------------


def test_an_invitation_is_mailed_after_commit_and_cannot_be_sent_twice(registry):
    with registry.database.transaction() as (tm, db):
        officer = f.user(db, name="Leila")
        rnd = f.round_(db, registry)
        sami = f.user(db, email="sami@example.org", name="Sami", locale="fr")
        invitation = services.invite_reviewer(db, registry, rnd, sami, officer, transaction_manager=tm,
                                              reviews_url="http://grants.example/reviews")
        assert services.invitation_status(invitation) == services.INVITED
        assert registry.mailer.sent() == []  # not before the commit
        with pytest.raises(ReviewRefused) as refused:
            services.invite_reviewer(db, registry, rnd, sami, officer, transaction_manager=tm)
        assert reasons(refused) == ["Sami is already invited to this round and has not answered yet."]
        with pytest.raises(ReviewRefused) as refused:
            services.invite_reviewer_by_email(db, registry, rnd, "nobody@example.org", officer)
        assert reasons(refused) == ["There is no account for nobody@example.org; ask them to register first."]
        assert refused.value.problems[0][0] == "email"
    (message,) = registry.mailer.sent()
    assert message["To"] == "sami@example.org"
    # In Sami's language (his account's), whatever the language of the page that invited him.
    assert message["Subject"] == translate_for(registry, "fr", _("Invitation to review applications to ${round}",
                                                                 mapping={"round": "Round 1"}))
    assert "Round 1" in message["Subject"]
    body = message.get_content()
    assert "Leila" in body and "Round 1" in body and "Sami" in body
    assert "http://grants.example/reviews" in body
    with registry.database.transaction() as (_tm, db):
        assert count(db, RoundReviewer) == 1


def test_only_the_invited_person_answers_once_and_only_accepted_reviewers_are_assignable(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        application = eligible_application(db, registry, rnd, f.organisation(db))
        sami, nour, other = f.user(db, name="Sami"), f.user(db, name="Nour"), f.user(db)
        sami_invitation = services.invite_reviewer(db, registry, rnd, sami, None)
        nour_invitation = services.invite_reviewer(db, registry, rnd, nour, None)
        with pytest.raises(ReviewRefused) as refused:
            services.respond(db, sami_invitation, other, accept=True)
        assert reasons(refused) == ["This invitation is addressed to someone else."]
        assert services.pending_invitations(db, sami) == [sami_invitation]
        with pytest.raises(ReviewRefused) as refused:
            services.assign(db, application, sami, None)
        assert "Sami is not a reviewer in this round" in reasons(refused)[0]
        services.respond(db, sami_invitation, sami, accept=True)
        services.respond(db, nour_invitation, nour, accept=False)
        with pytest.raises(ReviewRefused) as refused:
            services.respond(db, nour_invitation, nour, accept=True)
        assert reasons(refused) == ["You have already declined this invitation."]
        with pytest.raises(ReviewRefused) as refused:
            services.invite_reviewer(db, registry, rnd, nour, None)
        assert reasons(refused) == ["Nour was already invited to this round and declined."]
        assert services.pending_invitations(db, sami) == []
        assert [u.id for u in services.accepted_reviewers(db, rnd)] == [sami.id]
        with pytest.raises(ReviewRefused):
            services.assign(db, application, nour, None)
        assignment = services.assign(db, application, sami, None)
        assert assignment.conflict is None and assignment.stage == APPLICATION_STAGE


# -- manual assignment ---------------------------------------------------------------------------


def test_manual_assignment_refusals_change_nothing(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        member = reviewer(db, registry, rnd, name="Member")
        org = f.organisation(db, member)
        application = eligible_application(db, registry, rnd, org)
        draft = eligible_application(db, registry, rnd, org, state="draft")
        sami = reviewer(db, registry, rnd, name="Sami")
        nour = reviewer(db, registry, rnd, name="Nour")
        services.assign(db, application, sami, None)
        conflicted = services.assign(db, application, nour, None)
        services.declare(db, conflicted, nour, conflict=True, reason="I sit on its board.")
        before = count(db, ReviewAssignment)
        cases = [
            (application, member, "Member is a member of the organisation that applied."),
            (application, sami, "Sami is already assigned to this application."),
            (application, nour, "Nour declared a conflict of interest with this application."),
            (draft, sami, "This application is not waiting for review at this stage."),
        ]
        for target, person, message in cases:
            with pytest.raises(ReviewRefused) as refused:
                services.assign(db, target, person, None)
            assert reasons(refused) == [message]
        # A conflict at the first stage keeps them off the full proposal too.
        WorkflowService(registry.workflows, db).fire(application, "incubate", actor=f.SYSTEM,
                                                     data={"funder_reference": ""})
        f.fill_proposal(db, registry, application)
        WorkflowService(registry.workflows, db).fire(application, "submit_proposal", actor=f.SYSTEM)
        with pytest.raises(ReviewRefused) as refused:
            services.assign(db, application, nour, None, PROPOSAL_STAGE)
        assert reasons(refused) == ["Nour declared a conflict of interest with this application."]
        assert count(db, ReviewAssignment) == before


def test_unassigning_keeps_conflicts_and_submitted_scores(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        application = eligible_application(db, registry, rnd, f.organisation(db))
        sami, nour, rim = (reviewer(db, registry, rnd, name=n) for n in ("Sami", "Nour", "Rim"))
        a_sami, a_nour, a_rim = (services.assign(db, application, u, None) for u in (sami, nour, rim))
        services.declare(db, a_nour, nour, conflict=True, reason="My sister runs it.")
        services.declare(db, a_rim, rim, conflict=False)
        scores, rationales = full_scores(services.rubric_for(db, rnd))
        services.save_review(db, registry, a_rim, rim, scores=scores, rationales=rationales, submit=True)
        with pytest.raises(ReviewRefused) as refused:
            services.unassign(db, a_nour)
        assert "the declaration is kept so that the application is never given to them again" in reasons(refused)[0]
        with pytest.raises(ReviewRefused) as refused:
            services.unassign(db, a_rim)
        assert reasons(refused) == ["Rim has already submitted scores for this application."]
        services.unassign(db, a_sami)
        assert sorted(a.reviewer.name for a in db.scalars(select(ReviewAssignment))) == ["Nour", "Rim"]


# -- automatic assignment ------------------------------------------------------------------------


def _scenario(db, registry, title):
    """Six reviewers (one a member of the organisation behind three applications), twelve
    applications, two conflicts declared beforehand."""
    rnd = f.round_(db, registry, title=title)
    people = [reviewer(db, registry, rnd, name=f"Reviewer {i}") for i in range(6)]
    own_org = f.organisation(db, people[0])
    other_org = f.organisation(db)
    applications = [eligible_application(db, registry, rnd, own_org if i < 3 else other_org, title=f"Project {i}")
                    for i in range(12)]
    for person, application in ((people[1], applications[4]), (people[2], applications[5])):
        assignment = services.assign(db, application, person, None)
        services.declare(db, assignment, person, conflict=True, reason="I worked there last year.")
    return rnd, people, applications


def _blocked(db, application):
    members = set(db.scalars(select(Membership.user_id).where(
        Membership.organisation_id == application.organisation_id)))
    conflicts = set(db.scalars(select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.application_id == application.id, ReviewAssignment.conflict.is_(True))))
    return members, conflicts


def test_auto_assignment_is_balanced_and_never_gives_a_conflict(registry):
    with registry.database.transaction() as (_tm, db):
        rnd, people, applications = _scenario(db, registry, "Call A")
        summary = services.auto_assign(db, rnd, per_application=3, stage=APPLICATION_STAGE)
        assert summary.assigned_count == 36 and summary.short == []
        for application in applications:
            members, conflicts = _blocked(db, application)
            active = [a.reviewer_id for a in db.scalars(select(ReviewAssignment).where(
                ReviewAssignment.application_id == application.id)) if a.conflict is not True]
            assert len(active) == len(set(active)) == 3
            assert not set(active) & (members | conflicts)
        load = services.reviewer_load(db, rnd, APPLICATION_STAGE)
        assert sum(load.values()) == 36
        assert max(load.values()) - min(load.values()) <= 1, load
        assert summary.load == load
        # Running it again finds nothing to do.
        assert services.auto_assign(db, rnd, per_application=3).assigned_count == 0


def test_auto_assignment_is_deterministic(registry):
    def pattern(db, rnd, people, applications):
        index = {p.id: i for i, p in enumerate(people)}
        where = {a.id: i for i, a in enumerate(applications)}
        summary = services.auto_assign(db, rnd, per_application=2)
        return sorted((where[a.application_id], index[a.reviewer_id]) for a in summary.assigned)

    with registry.database.transaction() as (_tm, db):
        first = pattern(db, *_scenario(db, registry, "Call A"))
        second = pattern(db, *_scenario(db, registry, "Call B"))
        assert first == second and len(first) == 24


@pytest.mark.parametrize("seed", range(6))
def test_auto_assignment_respects_every_conflict_whatever_they_are(registry, seed):
    rng = random.Random(seed)
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        people = [reviewer(db, registry, rnd, name=f"R{i}") for i in range(5)]
        orgs = [f.organisation(db, *rng.sample(people, rng.randint(0, 1))) for _i in range(3)]
        applications = [eligible_application(db, registry, rnd, rng.choice(orgs), title=f"P{i}") for i in range(9)]
        for _i in range(6):
            person, application = rng.choice(people), rng.choice(applications)
            try:
                assignment = services.assign(db, application, person, None)
            except ReviewRefused:
                continue
            services.declare(db, assignment, person, conflict=True, reason="Conflict.")
        summary = services.auto_assign(db, rnd, per_application=3)
        short = {s.application.id: s for s in summary.short}
        for application in applications:
            members, conflicts = _blocked(db, application)
            active = [a.reviewer_id for a in db.scalars(select(ReviewAssignment).where(
                ReviewAssignment.application_id == application.id)) if a.conflict is not True]
            assert not set(active) & (members | conflicts)
            assert len(active) == len(set(active))
            possible = len({p.id for p in people} - members - conflicts)
            assert len(active) == min(3, possible)
            assert (application.id in short) == (possible < 3)


def test_an_application_nobody_can_take_is_reported_short_with_the_reason(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        sami = reviewer(db, registry, rnd, name="Sami")
        reviewer(db, registry, rnd, name="Nour")
        application = eligible_application(db, registry, rnd, f.organisation(db, sami))
        summary = services.auto_assign(db, rnd, per_application=2)
        (short,) = summary.short
        assert short.application.id == application.id and short.reviewers == 1 and short.wanted == 2
        assert short.reason.interpolate() == (
            "Not enough reviewers can take it: 2 accepted the invitation; 0 declared a conflict of interest with it "
            "and 1 belong to the organisation that applied.")
        with pytest.raises(ReviewRefused):
            services.auto_assign(db, rnd, per_application=0)
        empty = f.round_(db, registry, title="Empty")
        eligible_application(db, registry, empty, f.organisation(db))
        (short,) = services.auto_assign(db, empty, per_application=1).short
        assert short.reason.interpolate() == "No reviewer has accepted an invitation to this round yet."


def test_an_application_that_loses_a_reviewer_to_a_conflict_shows_as_short(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        people = [reviewer(db, registry, rnd, name=f"R{i}") for i in range(3)]
        first, second = (eligible_application(db, registry, rnd, f.organisation(db), title=t) for t in "AB")
        services.auto_assign(db, rnd, per_application=2)
        assert [row.short for row in services.assignment_overview(db, rnd)] == [False, False]
        assignment = next(a for a in db.scalars(select(ReviewAssignment)) if a.application_id == first.id)
        services.declare(db, assignment, assignment.reviewer, conflict=True, reason="Former employer.")
        rows = services.assignment_overview(db, rnd)
        assert [(row.application.id, row.active, row.short) for row in rows] == [(first.id, 1, True),
                                                                                 (second.id, 2, False)]
        already = {a.reviewer_id for a in db.scalars(select(ReviewAssignment).where(
            ReviewAssignment.application_id == first.id))}
        summary = services.auto_assign(db, rnd, per_application=2)
        (added,) = summary.assigned
        assert added.application_id == first.id
        assert added.reviewer_id == ({p.id for p in people} - already).pop()
        assert not any(row.short for row in services.assignment_overview(db, rnd))


# -- conflicts of interest -------------------------------------------------------------------------


def _can(registry, application, user, permission) -> bool:
    state = registry.workflows.for_object(application).state_of(application)
    return bool(state.roles_for(permission) & local_roles(application, user))


def test_a_reviewer_sees_and_scores_only_after_declaring_no_conflict(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        clear, conflicted = (eligible_application(db, registry, rnd, f.organisation(db), title=t) for t in "AB")
        sami = reviewer(db, registry, rnd, name="Sami")
        a_clear, a_conflict = services.assign(db, clear, sami, None), services.assign(db, conflicted, sami, None)
        for application in (clear, conflicted):
            assert not _can(registry, application, sami, Permission.ApplicationsApplicationView)
            assert not _can(registry, application, sami, Permission.ReviewApplicationScore)
        services.declare(db, a_clear, sami, conflict=False)
        services.declare(db, a_conflict, sami, conflict=True, reason="I am its treasurer.")
        assert _can(registry, clear, sami, Permission.ApplicationsApplicationView)
        assert _can(registry, clear, sami, Permission.ReviewApplicationScore)
        assert not _can(registry, conflicted, sami, Permission.ApplicationsApplicationView)
        assert not _can(registry, conflicted, sami, Permission.ReviewApplicationScore)
        assert a_conflict.conflict_reason == "I am its treasurer." and a_conflict.declared_at is not None


def test_declaration_refusals(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        application = eligible_application(db, registry, rnd, f.organisation(db))
        sami, nour = reviewer(db, registry, rnd, name="Sami"), reviewer(db, registry, rnd, name="Nour")
        assignment = services.assign(db, application, sami, None)
        with pytest.raises(ReviewRefused) as refused:
            services.declare(db, assignment, nour, conflict=False)
        assert reasons(refused) == ["This application is not assigned to you."]
        with pytest.raises(ReviewRefused) as refused:
            services.declare(db, assignment, sami, conflict=True, reason="  ")
        assert refused.value.problems[0][0] == "reason"
        assert assignment.declared_at is None and assignment.conflict is None
        services.declare(db, assignment, sami, conflict=True, reason="Board member.")
        with pytest.raises(ReviewRefused) as refused:
            services.declare(db, assignment, sami, conflict=False)
        assert "a declaration is final" in reasons(refused)[0]
        assert assignment.conflict is True


# -- scoring ----------------------------------------------------------------------------------------


def _scoring_setup(db, registry):
    rnd = f.round_(db, registry)
    application = eligible_application(db, registry, rnd, f.organisation(db))
    sami = reviewer(db, registry, rnd, name="Sami")
    assignment = services.assign(db, application, sami, None)
    return rnd, application, sami, assignment


def test_scoring_with_a_conflict_is_refused_and_changes_nothing(registry):
    with registry.database.transaction() as (_tm, db):
        rnd, application, sami, assignment = _scoring_setup(db, registry)
        scores, rationales = full_scores(services.rubric_for(db, rnd))
        with pytest.raises(ReviewRefused) as refused:
            services.save_review(db, registry, assignment, sami, scores=scores, rationales=rationales, submit=False)
        assert reasons(refused) == [
            "Declare whether you have a conflict of interest with this application before you score it."]
        services.declare(db, assignment, sami, conflict=True, reason="I founded it.")
        with pytest.raises(ReviewRefused) as refused:
            services.save_review(db, registry, assignment, sami, scores=scores, rationales=rationales, submit=True)
        assert reasons(refused) == [
            "You declared a conflict of interest with this application; you cannot see or score it."]
        assert count(db, Review) == 0 and assignment.review is None


def test_only_the_assignee_scores_and_only_while_the_application_is_in_review(registry):
    with registry.database.transaction() as (_tm, db):
        rnd, application, sami, assignment = _scoring_setup(db, registry)
        services.declare(db, assignment, sami, conflict=False)
        scores, rationales = full_scores(services.rubric_for(db, rnd))
        intruder = reviewer(db, registry, rnd, name="Nour")
        with pytest.raises(ReviewRefused) as refused:
            services.save_review(db, registry, assignment, intruder, scores=scores, rationales=rationales, submit=True)
        assert reasons(refused) == ["This application is not assigned to you."]
        WorkflowService(registry.workflows, db).fire(application, "withdraw", actor=f.SYSTEM)
        with pytest.raises(ReviewRefused) as refused:
            services.save_review(db, registry, assignment, sami, scores=scores, rationales=rationales, submit=True)
        assert reasons(refused) == ["Scoring for this application has closed."]
        assert count(db, Review) == 0


def test_a_draft_may_be_partial_a_submission_must_be_complete_and_is_final(registry):
    with registry.database.transaction() as (_tm, db):
        rnd, application, sami, assignment = _scoring_setup(db, registry)
        services.declare(db, assignment, sami, conflict=False)
        rubric = services.rubric_for(db, rnd)
        draft = services.save_review(db, registry, assignment, sami, scores={"relevance": 5, "feasibility": None},
                                     rationales={"relevance": "A real need in Kebili."}, submit=False)
        assert draft.scores == {"relevance": 5} and draft.submitted_at is None
        with pytest.raises(ReviewRefused) as refused:
            services.save_review(db, registry, assignment, sami, scores={"relevance": 9}, rationales={}, submit=False)
        assert refused.value.problems[0][0] == "relevance.score"
        scores, rationales = full_scores(rubric, 3)
        rationales["capacity"] = "   "
        del scores["value_for_money"]
        with pytest.raises(ReviewRefused) as refused:
            services.save_review(db, registry, assignment, sami, scores=scores, rationales=rationales, submit=True)
        assert sorted(name for name, _reason in refused.value.problems) == ["capacity.rationale",
                                                                            "value_for_money.score"]
        assert sorted(reasons(refused)) == ["Give a rationale for the score for “Organisational capacity”.",
                                            "“Value for money” has not been scored."]
        assert draft.scores == {"relevance": 5} and draft.submitted_at is None  # nothing changed
        scores, rationales = full_scores(rubric, 4)
        scores["relevance"] = 5
        review = services.save_review(db, registry, assignment, sami, scores=scores, rationales=rationales,
                                      submit=True)
        assert review.id == draft.id and review.submitted_at is not None
        # weighted: (3·5 + 2·4 + 2·4 + 2·4 + 1·4) / 10 = 4.3
        assert scoring.weighted_score(rubric.scoring_rubric(), review.scoring_review()) == Decimal("4.3")
        with pytest.raises(ReviewRefused) as refused:
            services.save_review(db, registry, assignment, sami, scores=full_scores(rubric, 1)[0],
                                 rationales=rationales, submit=True)
        assert reasons(refused) == ["You have already submitted your scores; they can no longer be changed."]
        assert review.scores["value_for_money"] == 4
        assert services.submitted_reviews(db, rnd) == [review]
        assert services.assignment_status(assignment) == services.SUBMITTED


def test_unknown_criteria_are_refused(registry):
    with registry.database.transaction() as (_tm, db):
        rnd, application, sami, assignment = _scoring_setup(db, registry)
        services.declare(db, assignment, sami, conflict=False)
        with pytest.raises(ReviewRefused) as refused:
            services.save_review(db, registry, assignment, sami, scores={"charisma": 5}, rationales={}, submit=False)
        assert reasons(refused) == ["“charisma” is not a criterion of this rubric."]
        assert assignment.review is None


def test_my_assignments_follow_the_reviewer_through_the_steps(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        apps = [eligible_application(db, registry, rnd, f.organisation(db), title=t) for t in "ABC"]
        sami = reviewer(db, registry, rnd, name="Sami")
        assignments = [services.assign(db, a, sami, None) for a in apps]
        services.declare(db, assignments[0], sami, conflict=True, reason="Board.")
        services.declare(db, assignments[1], sami, conflict=False)
        assert [services.assignment_status(a) for a in services.my_assignments(db, sami)] == [
            services.CONFLICT, services.TO_SCORE, services.TO_DECLARE]
        assert services.undeclared_assignment(db, apps[2], sami).id == assignments[2].id
        assert services.undeclared_assignment(db, apps[1], sami) is None


# -- pages ------------------------------------------------------------------------------------------


def _officer_round(registry, *, blind=False):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        rnd = f.round_(db, registry)
        rnd.blind_review = blind
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        return rnd.id, f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"


def test_an_officer_invites_by_email_and_an_address_without_account_is_refused_beside_the_field(testapp, registry):
    rnd_id, url = _officer_round(registry)
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="sami@example.org", name="Sami")
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/@@reviewers")
    form = f.main_form(page)
    form["email"] = "nobody@example.org"
    failed = form.submit("submit", status=400)
    summary = failed.html.select_one(".error-summary")
    assert summary.a["href"] == "#invite-email"
    assert summary.a.get_text(strip=True) == "There is no account for nobody@example.org; ask them to register first."
    assert failed.html.find(id="invite-email")["aria-invalid"] == "true"
    assert f.main_form(failed)["email"].value == "nobody@example.org"
    form = f.main_form(failed)
    form["email"] = " Sami@Example.org "
    done = form.submit("submit").follow()
    assert "Invited Sami to review in this round." in done.text
    assert "Invited — no answer yet" in done.html.find(id="pool").get_text()
    (message,) = registry.mailer.sent()
    assert message["To"] == "sami@example.org" and "http://localhost/reviews" in message.get_content()
    form = f.main_form(done)
    form["email"] = "sami@example.org"
    again = form.submit("submit", status=400)
    assert "Sami is already invited to this round" in again.html.select_one(".error-summary").get_text()
    with registry.database.transaction() as (_tm, db):
        assert count(db, RoundReviewer) == 1


def test_the_reviewer_pages_are_for_officers_only(testapp, registry):
    rnd_id, url = _officer_round(registry)
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="sami@example.org")
    assert testapp.get(url + "/@@assignments", status=302).location.startswith("http://localhost/login")
    assert testapp.get("/reviews", status=302).location.startswith("http://localhost/login")
    f.sign_in(testapp, "sami@example.org")
    testapp.get(url + "/@@reviewers", status=403)
    testapp.get(url + "/@@assignments", status=403)


def test_an_officer_assigns_automatically_and_by_hand_and_sees_conflicts(testapp, registry):
    rnd_id, url = _officer_round(registry)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        sami, nour, rim = (reviewer(db, registry, rnd, name=n) for n in ("Sami", "Nour", "Rim"))
        first = eligible_application(db, registry, rnd, f.organisation(db, nour, rim, name="AFEK"), title="Clubs")
        second = eligible_application(db, registry, rnd, f.organisation(db), title="Radio")
        ids = {"first": first.id, "second": second.id, "sami": sami.id, "nour": nour.id, "rim": rim.id}
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/@@assignments")
    form = page.forms["auto"]
    form["per_application"] = "0"
    failed = form.submit("submit", status=400)
    assert "Give each application at least 1 reviewer" in failed.html.select_one(".error-summary").get_text()
    form = failed.forms["auto"]
    form["per_application"] = "2"
    done = form.submit("submit").follow()
    assert "Made 3 assignments." in done.text
    # Nour and Rim belong to AFEK: only Sami can take the first application.
    assert "has 1 of 2 reviewers" in done.text and "2 belong to the organisation that applied" in done.text
    row = done.html.find(id=f"row-{ids['first']}")
    assert "Needs 1 more reviewer." in row.get_text(" ", strip=True)
    assert row.find("select") is None  # nobody else can take it
    # The officer forces it anyway: refused beside the select, nothing changed.
    forced = testapp.post(url + "/@@assignments?stage=application", {
        "csrf_token": _csrf(done), "__formid__": "assign", "application": ids["first"], "reviewer": ids["rim"]},
        status=400)
    summary = forced.html.select_one(".error-summary")
    assert summary.a["href"] == f"#assign-{ids['first']}"
    assert "Rim is a member of the organisation that applied." in summary.get_text()
    nobody = testapp.post(url + "/@@assignments?stage=application", {
        "csrf_token": _csrf(done), "__formid__": "assign", "application": ids["second"], "reviewer": ""}, status=400)
    assert nobody.html.select_one(".error-summary").a.get_text(strip=True).startswith("Choose a reviewer for A-")
    # Take Nour off the second application, then give it back by hand.
    with registry.database.transaction() as (_tm, db):
        assignment_id = db.scalar(select(ReviewAssignment.id).where(
            ReviewAssignment.application_id == ids["second"], ReviewAssignment.reviewer_id == ids["nour"]))
    removed = testapp.post(url + "/@@assignments?stage=application", {
        "csrf_token": _csrf(done), "__formid__": "unassign", "assignment": assignment_id}).follow()
    assert "Nour no longer reviews A-" in removed.text
    select_box = removed.html.find(id=f"assign-{ids['second']}")
    assert [o.get_text(strip=True) for o in select_box.find_all("option")][1:] == ["Sami (1)", "Nour (0)"]
    added = testapp.post(url + "/@@assignments?stage=application", {
        "csrf_token": _csrf(done), "__formid__": "assign", "application": ids["second"],
        "reviewer": ids["nour"]}).follow()
    assert "Nour will review A-" in added.text
    with registry.database.transaction() as (_tm, db):
        assert count(db, ReviewAssignment) == 3
        assignment = db.scalar(select(ReviewAssignment).where(ReviewAssignment.application_id == ids["second"],
                                                              ReviewAssignment.reviewer_id == ids["nour"]))
        services.declare(db, assignment, assignment.reviewer, conflict=True, reason="I advise them.")
    page = testapp.get(url + "/@@assignments?per_application=2")
    row = page.html.find(id=f"row-{ids['second']}").get_text(" ", strip=True)
    assert "Conflict of interest" in row and "I advise them." in row and "Needs 1 more reviewer." in row
    reviewers_page = testapp.get(url + "/@@reviewers")
    cells = [td.get_text(strip=True) for td in reviewers_page.html.find(id=f"reviewer-{ids['nour']}").find_all("td")]
    assert cells[2] == "Accepted" and cells[3] == "0"  # a conflict is not work


def test_automatic_assignment_tells_the_first_shortfalls_and_counts_the_rest_and_forms_keep_the_filters(
        testapp, registry):
    from grants.review.views import SHORT_FLASHES

    rnd_id, url = _officer_round(registry)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        sami = reviewer(db, registry, rnd, name="Sami")
        sami_id = sami.id
        ids = [eligible_application(db, registry, rnd, f.organisation(db), title=f"Project {i:02d}").id
               for i in range(SHORT_FLASHES + 2)]
    f.sign_in(testapp, "leila@example.org")
    form = testapp.get(url + "/@@assignments").forms["auto"]
    form["per_application"] = "2"  # one reviewer in the pool: every application is short of one
    done = form.submit("submit").follow()
    told = done.text.count("has 1 of 2 reviewers")
    assert told == SHORT_FLASHES
    assert "2 more applications have fewer reviewers than asked" in done.text
    assert "short=1" not in done.request.url and "per_application=2" in done.request.url
    short = testapp.get(url + "/@@assignments", params={"per_application": "2", "short": "1", "size": "25"})
    assert len(short.html.find(id="assignments").tbody.find_all("tr")) == len(ids)
    # a form posted from a filtered page comes back to it, its filters kept
    with registry.database.transaction() as (_tm, db):
        assignment_id = db.scalar(select(ReviewAssignment.id).where(ReviewAssignment.application_id == ids[0],
                                                                    ReviewAssignment.reviewer_id == sami_id))
    removed = testapp.post(short.request.url, {"csrf_token": _csrf(short), "__formid__": "unassign",
                                               "assignment": assignment_id})
    assert "short=1" in removed.location and "size=25" in removed.location and "per_application=2" in removed.location
    row = removed.follow().html.find(id=f"row-{ids[0]}").get_text(" ", strip=True)
    assert "Needs 2 more reviewers." in row


def _csrf(page) -> str:
    return page.html.find("input", attrs={"name": "csrf_token"})["value"]


def _reviewer_with_clearance(registry, *, blind):
    rnd_id, url = _officer_round(registry, blind=blind)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        sami = reviewer(db, registry, rnd, email="sami@example.org", name="Sami")
        owner = f.user(db)
        org = f.registered_organisation(db, owner, legal_name="جمعية أفق — AFEK", registration_number="2011-0457",
                                        contact_email="afek@example.org")
        application = eligible_application(db, registry, rnd, org, title="Association Afek: theatre clubs", answers={
            "mission": "Theatre for the young people of Kebili.", "year_founded": 2011,
            "project_title": "Theatre clubs", "summary": "Association AFEK (reg. 2011-0457) will run weekly clubs."})
        assignment = services.assign(db, application, sami, None)
        services.declare(db, assignment, sami, conflict=False)
        return f"{url}/applications/{application.id}", application.reference


def test_a_blind_round_hides_who_applied_from_the_scoring_page(testapp, registry):
    app_url, reference = _reviewer_with_clearance(registry, blind=True)
    f.sign_in(testapp, "sami@example.org")
    page = testapp.get(app_url + "/@@score")
    text = page.html.find(id="main").get_text(" ", strip=True)
    assert reference in text and "Blind review" in text
    assert page.html.h1.get_text(" ", strip=True) == f"{reference} [the applicant]: theatre clubs"
    for identifying in ("AFEK", "أفق", "2011-0457", "afek@example.org"):
        assert identifying not in text, identifying
    answers = page.html.find(id="answers").get_text(" ", strip=True)
    assert "Theatre for the young people of Kebili." in answers and "2011" in answers
    assert "[the applicant] (reg. [the applicant]) will run weekly clubs." in answers


def test_an_open_round_shows_the_organisation_and_the_answers(testapp, registry):
    app_url, reference = _reviewer_with_clearance(registry, blind=False)
    f.sign_in(testapp, "sami@example.org")
    page = testapp.get(app_url + "/@@score")
    details = page.html.find(id="application-details").get_text(" ", strip=True)
    assert "AFEK" in details and "Association Afek: theatre clubs" in page.html.h1.get_text()
    answers = page.html.find(id="answers").get_text(" ", strip=True)
    assert "Association AFEK (reg. 2011-0457) will run weekly clubs." in answers
    assert page.html.find(id="score-relevance-score") is not None  # the rubric's first criterion
    labels = [label.get_text(strip=True) for label in page.html.find(id="score-relevance-score").find_all("label")]
    assert labels[0] == "1 — Does not address the programme's aims" and len(labels) == 5
    arabic = testapp.get(app_url + "/@@score", {"_LOCALE_": "ar"})
    assert arabic.html.html["dir"] == "rtl" and arabic.html.find(id="score-relevance-score") is not None


def test_full_proposals_are_assigned_and_scored_at_their_own_stage(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        first_stage = eligible_application(db, registry, rnd, f.organisation(db), title="Still eligible")
        proposal = eligible_application(db, registry, rnd, f.organisation(db), title="Proposal",
                                        state="proposal_submitted")
        sami = reviewer(db, registry, rnd, name="Sami")
        summary = services.auto_assign(db, rnd, per_application=1, stage=PROPOSAL_STAGE)
        (assignment,) = summary.assigned
        assert (assignment.application_id, assignment.stage) == (proposal.id, PROPOSAL_STAGE)
        assert services.reviewer_load(db, rnd, PROPOSAL_STAGE) == {sami.id: 1}
        assert services.reviewer_load(db, rnd, APPLICATION_STAGE) == {sami.id: 0}
        with pytest.raises(ReviewRefused):
            services.assign(db, first_stage, sami, None, PROPOSAL_STAGE)
        services.declare(db, assignment, sami, conflict=False)
        scores, rationales = full_scores(services.rubric_for(db, rnd), 2)
        review = services.save_review(db, registry, assignment, sami, scores=scores, rationales=rationales,
                                      submit=True)
        assert review.stage == PROPOSAL_STAGE
        assert services.submitted_reviews(db, rnd, PROPOSAL_STAGE) == [review]
        assert services.submitted_reviews(db, rnd, APPLICATION_STAGE) == []


def test_the_declaration_page_names_the_organisation_even_in_a_blind_round_and_only_for_the_assignee(
        testapp, registry):
    rnd_id, url = _officer_round(registry, blind=True)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        sami = reviewer(db, registry, rnd, email="sami@example.org", name="Sami")
        f.user(db, email="nour@example.org")
        application = eligible_application(db, registry, rnd, f.organisation(db, name="Association Afek"))
        services.assign(db, application, sami, None)
        app_url = f"{url}/applications/{application.id}"
    assert testapp.get(app_url + "/@@declare", status=302).location.startswith("http://localhost/login")
    f.sign_in(testapp, "nour@example.org")
    testapp.get(app_url + "/@@declare", status=404)
    f.sign_in(testapp, "sami@example.org")
    page = testapp.get(app_url + "/@@declare")
    details = page.html.find(id="declare-details").get_text(" ", strip=True)
    assert "Association Afek" in details and "Theatre clubs in Kebili" in details and "A-" in details
    assert "This round is reviewed blind" in page.text
    failed = f.main_form(page).submit("submit", status=400)
    assert (failed.html.select_one(".error-summary").a.get_text(strip=True)
            == "Say whether you have a conflict of interest with this application.")
    form = f.main_form(failed)
    form["declare-declaration"] = "none"
    scoring_page = form.submit("submit").follow()
    assert "Association Afek" not in scoring_page.html.find(id="main").get_text()  # blind from here on


def test_an_invitation_is_answered_on_the_reviews_page(testapp, registry):
    rnd_id, url = _officer_round(registry)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        sami = f.user(db, email="sami@example.org", name="Sami")
        services.invite_reviewer(db, registry, rnd, sami, None)
    f.sign_in(testapp, "sami@example.org")
    page = testapp.get("/reviews")
    form = f.main_form(page)
    testapp.post("/reviews", {"csrf_token": form["csrf_token"].value, "invitation": form["invitation"].value},
                 status=400)
    done = form.submit("answer", value="decline").follow()
    assert "You declined to review in Round 1." in done.text
    with registry.database.transaction() as (_tm, db):
        (invitation,) = db.scalars(select(RoundReviewer)).all()
        assert services.invitation_status(invitation) == services.DECLINED
