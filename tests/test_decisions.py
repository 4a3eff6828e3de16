"""The officer's side of review, stored: ranking from submitted reviews (mean, weighted,
normalised), moderation with before, after and reason, the suggested selection within the
budget and overrides with reasons, decisions for a whole round with reasons and the
funder's reference, refusals that change nothing, and due diligence."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

import factories as f
from grants.accounts.organisations import add_member_without_invitation
from grants.applications.models import Application
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import WorkflowService
from grants.review import decisions, scoring
from grants.review.decisions import DecisionRefused
from grants.review.models import (
    PROPOSAL_STAGE,
    Decision,
    Review,
    ReviewAssignment,
    Rubric,
    ScoreModeration,
    SelectionOverride,
)
from grants.workflow.engine import plain

LABELS = {str(n): label for n, label in zip(range(1, 6), ("Weak", "Fair", "Good", "Strong", "Excellent"))}


def usd(amount):
    return f.money(amount, "USD")


def texts(refused) -> list[str]:
    return [plain(r) for r in refused.value.reasons]


def fields(refused) -> list:
    return [name for name, _reason in refused.value.problems]


# -- rows, made directly (the review pages and the application form are other helpers' work) --


def rubric(db) -> Rubric:
    """Relevance counts twice as much as capacity."""
    r = Rubric(title="BLADI call 1", criteria=[
        {"id": "relevance", "title": "Relevance", "weight": "2", "labels": LABELS},
        {"id": "capacity", "title": "Capacity", "weight": "1", "labels": LABELS},
    ])
    db.add(r)
    db.flush()
    return r


def review_round(db, registry, *, budget=10_000):
    """A BLADI round, open, with a rubric and a budget in US dollars: add its candidates,
    then :func:`start_review`."""
    rnd = f.round_(db, registry, title="Nabda b houmti")
    rnd.rubric_id = rubric(db).id
    rnd.budget = usd(budget) if budget is not None else None
    return rnd


def start_review(db, registry, rnd):
    service = WorkflowService(registry.workflows, db)
    service.fire(rnd, "close", actor=f.SYSTEM)
    service.fire(rnd, "start_review", actor=f.SYSTEM)


def candidate(db, registry, rnd, name, amount, *, state="eligible", member=None) -> Application:
    """An application competing in ``rnd``, submitted, screened (and for the proposal
    stage incubated and its full proposal submitted) through the real transitions."""
    org = f.organisation(db, *([member] if member else []), name=name)
    return f.application(db, registry, rnd, org, title=f"Project of {name}", state=state, amount=usd(amount))


def review(db, application, reviewer, relevance, capacity, *, stage="application", submitted=True,
           conflict=False) -> Review:
    assignment = ReviewAssignment(application_id=application.id, reviewer_id=reviewer.id, stage=stage,
                                  declared_at=f.now(), conflict=conflict)
    db.add(assignment)
    db.flush()
    r = Review(assignment=assignment, application_id=application.id, reviewer_id=reviewer.id, stage=stage,
               scores={"relevance": relevance, "capacity": capacity},
               rationales={"relevance": "Clear need in the neighbourhood.", "capacity": "A small team."},
               submitted_at=f.now() if submitted else None)
    db.add(r)
    db.flush()
    return r


def officer_of(db, rnd, email=None):
    officer = f.user(db, email=email, name="Leila Ben Salah")
    f.grant_role(db, officer, "programme_officer", rnd.programme)
    return officer


def three_scored(db, registry, **kw):
    """ACEC (4.333, two reviews), Khatwa (3, asks $5,000) and AFEK (3, asks $3,000), and
    Mashhad with only a draft review: not scored."""
    rnd = review_round(db, registry, **kw)
    r1, r2 = f.user(db, name="Reviewer One"), f.user(db, name="Reviewer Two")
    acec = candidate(db, registry, rnd, "ACEC", 6_000)
    khatwa = candidate(db, registry, rnd, "Khatwa", 5_000)
    afek = candidate(db, registry, rnd, "AFEK", 3_000)
    mashhad = candidate(db, registry, rnd, "Mashhad", 2_000)
    review(db, acec, r1, 5, 4)      # total 9, weighted (2·5 + 4)/3 = 14/3
    review(db, acec, r2, 4, 4)      # total 8, weighted 4
    review(db, khatwa, r1, 3, 3)    # total 6, weighted 3
    review(db, afek, r2, 2, 5)      # total 7, weighted (2·2 + 5)/3 = 3
    review(db, mashhad, r1, 5, 5, submitted=False)  # a draft does not count
    start_review(db, registry, rnd)
    return rnd, {"acec": acec, "khatwa": khatwa, "afek": afek, "mashhad": mashhad}


def states(db, apps) -> dict:
    for a in apps.values():
        db.refresh(a)
    return {k: a.state for k, a in apps.items()}


# -- ranking ----------------------------------------------------------------------------------


def test_ranking_from_submitted_reviews_mean_and_weighted(db, registry):
    rnd, apps = three_scored(db, registry)
    f.application(db, registry, rnd, f.organisation(db), state="draft")  # not a candidate
    ranking = decisions.round_ranking(db, rnd, stage="application")

    assert [(r.position, r.label) for r in ranking.rows] == [(1, "ACEC"), (2, "AFEK"), (3, "Khatwa")]
    acec, afek, khatwa = ranking.rows
    assert (acec.reviews, acec.mean_total) == (2, Decimal("8.5"))
    assert scoring.display(acec.weighted) == Decimal("4.333") and acec.final == acec.weighted
    assert acec.normalised is None and not acec.moderated
    # equal weighted scores and review counts: the smaller request ranks first
    assert (afek.weighted, khatwa.weighted) == (Decimal(3), Decimal(3))
    assert (afek.mean_total, khatwa.mean_total) == (Decimal(7), Decimal(6))
    assert (afek.requested, khatwa.requested) == (usd(3_000), usd(5_000))
    assert [a.organisation.legal_name for a in ranking.unscored] == ["Mashhad"]


def test_normalisation_corrects_a_lenient_and_a_harsh_reviewer(db, registry):
    rnd = review_round(db, registry)
    lenient, harsh = f.user(db), f.user(db)
    apps = {name: candidate(db, registry, rnd, name, amount)
            for name, amount in (("ARA", 1_000), ("SOUTKOM", 2_000), ("Kun Sadiqi", 3_000), ("Khatwa", 4_000))}
    review(db, apps["ARA"], lenient, 5, 5)         # 5
    review(db, apps["SOUTKOM"], lenient, 4, 4)     # 4: the lenient reviewer's worst
    review(db, apps["Kun Sadiqi"], harsh, 3, 3)    # 3: the harsh reviewer's best
    review(db, apps["Khatwa"], harsh, 1, 1)        # 1
    start_review(db, registry, rnd)

    plain = decisions.round_ranking(db, rnd, stage="application")
    assert [r.label for r in plain.rows] == ["ARA", "SOUTKOM", "Kun Sadiqi", "Khatwa"]

    normalised = decisions.round_ranking(db, rnd, stage="application", normalise=True)
    # each reviewer's best becomes the pool's mean plus one standard deviation, their worst minus one
    assert [r.label for r in normalised.rows] == ["ARA", "Kun Sadiqi", "SOUTKOM", "Khatwa"]
    pool_mean, pool_std = Decimal("3.25"), Decimal("2.1875").sqrt(scoring.CONTEXT)
    by_label = {r.label: r for r in normalised.rows}
    assert scoring.display(by_label["Kun Sadiqi"].normalised) == scoring.display(pool_mean + pool_std)
    assert scoring.display(by_label["SOUTKOM"].normalised) == scoring.display(pool_mean - pool_std)
    assert by_label["SOUTKOM"].final == by_label["SOUTKOM"].normalised
    assert by_label["SOUTKOM"].weighted == Decimal(4)  # the plain score is still there


def test_a_conflicted_reviewers_score_never_counts(db, registry):
    rnd, apps = three_scored(db, registry)
    review(db, apps["khatwa"], f.user(db), 5, 5, conflict=True)
    row = decisions.round_ranking(db, rnd).row(apps["khatwa"].id)
    assert (row.reviews, row.weighted) == (1, Decimal(3))


def test_proposal_stage_ranks_full_proposals_only(db, registry):
    rnd = review_round(db, registry)
    reviewer = f.user(db)
    first = candidate(db, registry, rnd, "ATTEJ", 9_000, state="proposal_submitted")
    still_eligible = candidate(db, registry, rnd, "Commerçants", 9_000)
    review(db, first, reviewer, 4, 4, stage=PROPOSAL_STAGE)
    review(db, still_eligible, reviewer, 4, 4)  # an application-stage review
    start_review(db, registry, rnd)
    ranking = decisions.round_ranking(db, rnd, stage="proposal")
    assert [r.label for r in ranking.rows] == ["ATTEJ"] and ranking.unscored == ()
    assert [r.label for r in decisions.round_ranking(db, rnd, stage="application").rows] == ["Commerçants"]


# -- moderation -----------------------------------------------------------------------------------


def test_moderation_keeps_the_score_before_and_after_and_the_reason(db, registry):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    record = decisions.moderate(db, apps["khatwa"], officer, score_after=Decimal("4.5"), stage="application",
                                reason="Reviewer One missed the letters of support.")
    assert (record.score_before, record.score_after, record.moderator_id) == ("3", "4.5", officer.id)

    ranking = decisions.round_ranking(db, rnd)
    top = ranking.rows[0]
    assert top.label == "Khatwa" and top.final == Decimal("4.5") and top.computed == Decimal(3) and top.moderated
    stored, applied = top.moderation_history[0]
    assert stored.reason == "Reviewer One missed the letters of support." and not applied.stale

    # a second moderation starts from the moderated score
    again = decisions.moderate(db, apps["khatwa"], officer, score_after=Decimal("4"), stage="application",
                               reason="Agreed at the panel.")
    assert (again.score_before, again.score_after) == ("4.5", "4")
    assert decisions.round_ranking(db, rnd).row(apps["khatwa"].id).final == Decimal(4)


@pytest.mark.parametrize("score, reason, field, message", [
    (Decimal("4"), "  ", "reason", "Give a reason for the moderation."),
    (Decimal("6"), "Too harsh", "score_after", "A moderated score must be from 1 to 5, not 6."),
    (Decimal("0.5"), "Too harsh", "score_after", "A moderated score must be from 1 to 5, not 0.5."),
    (Decimal("3.1415"), "Too harsh", "score_after", "Enter the moderated score with at most 3 decimal places, "
                                                    "like 3.25."),
    ("lots", "Too harsh", "score_after", "Enter the moderated score as a number from 1 to 5, like 3.5."),
])
def test_a_moderation_refused_changes_nothing(db, registry, score, reason, field, message):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    with pytest.raises(DecisionRefused) as refused:
        decisions.moderate(db, apps["khatwa"], officer, score_after=score, reason=reason, stage="application")
    assert message in texts(refused) and field in fields(refused)
    assert db.scalar(select(func.count(ScoreModeration.id))) == 0


def test_an_unscored_application_cannot_be_moderated(db, registry):
    rnd, apps = three_scored(db, registry)
    with pytest.raises(DecisionRefused) as refused:
        decisions.moderate(db, apps["mashhad"], officer_of(db, rnd), score_after=Decimal(4), reason="Good",
                           stage="application")
    assert texts(refused) == ["“Mashhad” has no submitted review yet: there is no score to moderate."]


# -- suggested selection and overrides ----------------------------------------------------------


def test_suggested_selection_fits_the_budget_and_overrides_keep_their_reasons(db, registry):
    rnd, apps = three_scored(db, registry)  # $10,000: ACEC $6,000, AFEK $3,000, Khatwa $5,000
    officer = officer_of(db, rnd)
    pick = decisions.suggested_selection(db, rnd, stage="application")
    ids = {a.id: k for k, a in apps.items()}
    assert [ids[i] for i in pick.selection.suggested] == ["acec", "afek"]
    assert [ids[i] for i in pick.selection.skipped_for_budget] == ["khatwa"]  # $5,000 > $1,000 left
    assert (pick.selection.total, pick.selection.remaining, pick.selection.over_budget) == (
        usd(9_000), usd(1_000), False)

    decisions.override_selection(db, rnd, apps["khatwa"], officer, action="add", stage="application",
                                 reason="The only project in juvenile centres")
    decisions.override_selection(db, rnd, apps["afek"], officer, action="remove", stage="application",
                                 reason="Already funded by another donor")
    pick = decisions.suggested_selection(db, rnd, stage="application")
    assert [ids[i] for i in pick.selection.selected] == ["acec", "khatwa"]
    assert [ids[i] for i in pick.selection.suggested] == ["acec", "afek"]  # the suggestion is kept as computed
    assert (pick.selection.total, pick.selection.remaining, pick.selection.over_budget) == (
        usd(11_000), usd(-1_000), True)
    assert [(o.action, o.reason, o.officer_id) for o in pick.overrides_for(apps["khatwa"].id)] == [
        ("add", "The only project in juvenile centres", officer.id)]
    assert [r.label for r in pick.declined_rows] == ["AFEK"]


@pytest.mark.parametrize("name, action, reason, field, message", [
    ("khatwa", "add", "", "reason", "Give a reason for the override: it is kept with the selection."),
    ("acec", "add", "Strong", "application", "“ACEC” is already in the selection."),
    ("khatwa", "remove", "Weak", "application", "“Khatwa” is not in the selection."),
    ("mashhad", "add", "Strong", "application", "“Mashhad” is not in the ranking: it is not a candidate at this "
                                               "stage, or has no submitted review yet."),
    ("khatwa", "promote", "Strong", "action", "Choose whether to add the application to the selection or remove "
                                             "it."),
])
def test_an_override_refused_changes_nothing(db, registry, name, action, reason, field, message):
    rnd, apps = three_scored(db, registry)
    with pytest.raises(DecisionRefused) as refused:
        decisions.override_selection(db, rnd, apps[name], officer_of(db, rnd), action=action, reason=reason,
                                     stage="application")
    assert message in texts(refused) and field in fields(refused)
    assert db.scalar(select(func.count(SelectionOverride.id))) == 0


def test_incubation_is_capped_by_number_and_needs_a_budget_or_a_number(db, registry):
    rnd, apps = three_scored(db, registry, budget=None)
    with pytest.raises(DecisionRefused) as refused:
        decisions.suggested_selection(db, rnd, stage="application")
    assert fields(refused) == ["budget"]
    pick = decisions.suggested_selection(db, rnd, stage="application", limit=2)
    assert [r.label for r in pick.selected_rows] == ["ACEC", "AFEK"] and pick.budget is None
    assert not pick.selection.over_budget
    with pytest.raises(DecisionRefused) as refused:
        decisions.suggested_selection(db, rnd, stage="application", limit=0)
    assert fields(refused) == ["limit"]


def test_an_override_that_no_longer_applies_is_set_aside(db, registry):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    decisions.override_selection(db, rnd, apps["khatwa"], officer, action="add", reason="Strong local roots",
                                 stage="application")
    # a moderation lifts Khatwa to the top: the suggestion now has it anyway
    decisions.moderate(db, apps["khatwa"], officer, score_after=Decimal(5), reason="Panel", stage="application")
    pick = decisions.suggested_selection(db, rnd, stage="application")
    assert pick.is_selected(apps["khatwa"].id) and pick.overrides == ()
    assert [o.reason for o in pick.ignored] == ["Strong local roots"]


# -- decisions --------------------------------------------------------------------------------------


def test_decide_round_moves_every_candidate_and_records_reasons_and_the_reference(registry):
    with registry.database.transaction() as (tm, db):
        rnd, apps = three_scored(db, registry)
        officer = officer_of(db, rnd)
        member = f.user(db, email="afek@example.org", locale="fr")
        add_member_without_invitation(db, apps["afek"].organisation, member)
        decisions.override_selection(db, rnd, apps["khatwa"], officer, action="add", stage="application",
                                     reason="The only project in juvenile centres")
        done = decisions.decide_round(
            db, registry, rnd, officer, stage="application", selected_trigger="incubate",
            declined_trigger="decline", reason_selected="Strong community roots.",
            reason_declined="Other proposals ranked higher on relevance.", funder_reference="  SC-2019-03 ",
            allow_unscored=True, transaction_manager=tm)
        assert [d.application_id for d in done.selected] == [apps[k].id for k in ("acec", "afek", "khatwa")]
        assert done.declined == () and [a.id for a in done.left_unscored] == [apps["mashhad"].id]
        assert states(db, apps) == {"acec": "incubation", "afek": "incubation", "khatwa": "incubation",
                                    "mashhad": "eligible"}
        stored = decisions.decisions_for(db, apps["afek"])
        assert [(d.outcome, d.to_state, d.reason, d.funder_reference, d.stage, d.decided_by_id) for d in stored] == [
            ("incubate", "incubation", "Strong community roots.", "SC-2019-03", "application", officer.id)]
        assert registry.mailer.sent() == []  # not before the commit
    sent = registry.mailer.sent()
    assert [m["To"] for m in sent] == ["afek@example.org"]


def test_decide_round_declines_the_rest_with_written_feedback(db, registry):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    done = decisions.decide_round(
        db, registry, rnd, officer, stage="application", selected_trigger="select", declined_trigger="decline",
        reason_selected="", reason_declined="Your budget exceeded what remained.", funder_reference="GC 12",
        allow_unscored=True)
    assert [d.application_id for d in done.declined] == [apps["khatwa"].id]
    assert states(db, apps) == {"acec": "selected", "afek": "selected", "khatwa": "declined", "mashhad": "eligible"}
    (declined,) = decisions.decisions_for(db, apps["khatwa"])
    assert (declined.outcome, declined.reason, declined.funder_reference) == (
        "decline", "Your budget exceeded what remained.", "GC 12")
    assert [d.outcome for d, _a in decisions.round_decisions(db, rnd)].count("select") == 2


@pytest.mark.parametrize("changes, field", [
    ({"allow_unscored": False}, "allow_unscored"),
    ({"reason_declined": "  "}, "reason_declined"),
    ({"selected_trigger": "not_fund"}, "selected_trigger"),
    ({"declined_trigger": "not_fund"}, "declined_trigger"),
    ({"funder_reference": "x" * 101}, "funder_reference"),
])
def test_decide_round_refused_changes_nothing(db, registry, changes, field):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    args = dict(stage="application", selected_trigger="incubate", declined_trigger="decline",
                reason_selected="", reason_declined="Ranked lower.", funder_reference="SC-1", allow_unscored=True)
    with pytest.raises(DecisionRefused) as refused:
        decisions.decide_round(db, registry, rnd, officer, **{**args, **changes})
    assert field in fields(refused)
    if field == "allow_unscored":
        assert "Mashhad" in texts(refused)[0]
    assert set(states(db, apps).values()) == {"eligible"}
    assert db.scalar(select(func.count(Decision.id))) == 0


def test_decide_round_by_someone_who_may_not_decide_changes_nothing(db, registry):
    rnd, apps = three_scored(db, registry)
    stranger = f.user(db, name="Not an officer")
    with pytest.raises(DecisionRefused) as refused:
        decisions.decide_round(db, registry, rnd, stranger, stage="application", selected_trigger="incubate",
                               declined_trigger="decline", reason_declined="Ranked lower.", allow_unscored=True)
    assert any("You are not allowed to do “Invite to incubation” here." in t for t in texts(refused))
    assert set(states(db, apps).values()) == {"eligible"}
    assert db.scalar(select(func.count(HistoryEntry.id)).where(HistoryEntry.trigger == "incubate")) == 0


def test_proposal_stage_selects_and_does_not_fund_the_others(db, registry):
    rnd = review_round(db, registry, budget=20_000)
    officer, reviewer = officer_of(db, rnd), f.user(db)
    funded = candidate(db, registry, rnd, "Bithret Amal", 15_000, state="proposal_submitted")
    not_funded = candidate(db, registry, rnd, "Horizon d'Enfance", 15_000, state="proposal_submitted")
    review(db, funded, reviewer, 5, 4, stage=PROPOSAL_STAGE)
    review(db, not_funded, reviewer, 3, 4, stage=PROPOSAL_STAGE)
    start_review(db, registry, rnd)
    with pytest.raises(DecisionRefused) as refused:
        decisions.decide_round(db, registry, rnd, officer, stage="proposal", selected_trigger="incubate",
                               declined_trigger="not_fund", reason_declined="Feedback.")
    assert fields(refused) == ["selected_trigger"]
    decisions.decide_round(db, registry, rnd, officer, stage="proposal", selected_trigger="select",
                           declined_trigger="not_fund", reason_declined="The budget plan needs more detail.",
                           funder_reference="Board 2019-09")
    assert (funded.state, not_funded.state) == ("selected", "not_funded")
    invited, feedback = decisions.decisions_for(db, not_funded)  # to incubation, then on the proposal
    assert (invited.stage, invited.outcome) == ("application", "incubate")
    assert (feedback.stage, feedback.outcome, feedback.reason) == (
        "proposal", "not_fund", "The budget plan needs more detail.")


def test_decline_without_a_reason_is_refused_and_nothing_changes(db, registry):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    with pytest.raises(DecisionRefused) as refused:
        decisions.decide(db, registry, apps["khatwa"], officer, trigger="decline", reason="   ",
                         funder_reference="GC 12")
    assert fields(refused) == ["reason"]
    assert texts(refused) == ["Give a reason for “Decline”: the applicant receives it as written feedback."]
    db.refresh(apps["khatwa"])
    assert apps["khatwa"].state == "eligible"
    assert decisions.decisions_for(db, apps["khatwa"]) == []
    assert db.scalar(select(func.count(HistoryEntry.id)).where(HistoryEntry.trigger == "decline")) == 0


@pytest.mark.parametrize("trigger, message", [
    ("withdraw", "“Withdraw the application” is not a decision."),
    ("clear_for_award", "“Clear for award” is not possible while this is “Eligible — in review”."),
    ("promote", "There is no step called “promote”."),
])
def test_decide_refuses_what_is_not_a_decision_now(db, registry, trigger, message):
    rnd, apps = three_scored(db, registry)
    with pytest.raises(DecisionRefused) as refused:
        decisions.decide(db, registry, apps["acec"], officer_of(db, rnd), trigger=trigger)
    assert texts(refused) == [message]
    assert apps["acec"].state == "eligible"


def test_due_diligence_then_cleared_for_award(db, registry):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    application = apps["acec"]
    selected = decisions.decide(db, registry, application, officer, trigger="select", funder_reference="GC 1")
    assert (selected.outcome, selected.to_state, selected.funder_reference) == ("select", "selected", "GC 1")
    assert decisions.decide(db, registry, application, officer, trigger="start_due_diligence") is None
    assert application.state == "due_diligence"
    cleared = decisions.decide(db, registry, application, officer, trigger="clear_for_award",
                               reason="Accounts and registration checked.", funder_reference="GC 2")
    assert application.state == "cleared"
    assert [d.outcome for d in decisions.decisions_for(db, application)] == ["select", "clear_for_award"]
    assert (cleared.reason, cleared.funder_reference) == ("Accounts and registration checked.", "GC 2")


def test_failing_due_diligence_needs_a_reason_and_declines(db, registry):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    application = apps["afek"]
    decisions.decide(db, registry, application, officer, trigger="select")
    decisions.decide(db, registry, application, officer, trigger="start_due_diligence")
    with pytest.raises(DecisionRefused) as refused:
        decisions.decide(db, registry, application, officer, trigger="fail_due_diligence")
    assert fields(refused) == ["reason"] and application.state == "due_diligence"
    failed = decisions.decide(db, registry, application, officer, trigger="fail_due_diligence",
                              reason="The registration certificate had expired.", funder_reference="GC 3")
    assert application.state == "declined"
    assert (failed.outcome, failed.to_state, failed.reason) == (
        "fail_due_diligence", "declined", "The registration certificate had expired.")


def test_selection_can_be_cleared_without_due_diligence(db, registry):
    rnd, apps = three_scored(db, registry)
    officer = officer_of(db, rnd)
    decisions.decide(db, registry, apps["acec"], officer, trigger="select")
    decisions.decide(db, registry, apps["acec"], officer, trigger="clear_for_award")
    assert apps["acec"].state == "cleared"
