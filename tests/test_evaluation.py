"""Independent evaluation: evaluators assigned to a round (independent of its grantees),
one assessment per grant and evaluator, the round's findings with their shortcomings — and
an evaluator has no part in funding decisions or money."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

import factories as f
from grants.accounts.models import LocalRole, User
from grants.awards.models import Tranche
from grants.evaluation import services
from grants.evaluation.models import ASSESSMENT_CRITERIA, Assessment, AssessmentFile, RoundEvaluation
from grants.evaluation.services import EvaluationRefused
from grants.files import store
from grants.lifecycle.services import WorkflowService, holds_permission
from grants.programmes.models import Round
from grants.security import Permission
from grants.workflow import Refused
from grants.workflow.engine import plain

NOW = dt.datetime(2020, 12, 10, 9, 0, tzinfo=dt.timezone.utc)
SCORES = {"relevance": 5, "effectiveness": 4, "efficiency": 3, "sustainability": 2, "fidelity": 4, "mel_quality": 3}


def problems(refused) -> list[tuple]:
    return [(name, plain(reason)) for name, reason in refused.value.problems]


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def decided(db, registry, rnd):
    """The round, moved on to decided through its transitions."""
    service = WorkflowService(registry.workflows, db)
    for trigger in ("close", "start_review", "decide"):
        service.fire(rnd, trigger, actor=f.SYSTEM)
    return rnd


# -- evaluators ---------------------------------------------------------------------------------------


def test_an_evaluator_is_a_local_role_on_the_round_given_once(db, registry):
    award = f.award(db, registry)
    rnd = award.round
    eva = f.user(db, name="Eva")
    role = services.assign_evaluator(db, rnd, eva)
    assert (role.role, role.object_type, role.object_id, role.user_id) == ("evaluator", "rounds", rnd.id, eva.id)
    assert services.evaluators_of(db, rnd) == [eva]
    with pytest.raises(EvaluationRefused) as refused:
        services.assign_evaluator(db, rnd, eva)
    assert problems(refused) == [("email", "Eva already evaluates this round.")]
    with pytest.raises(EvaluationRefused):
        services.assign_evaluator(db, rnd, None)
    services.unassign_evaluator(db, rnd, eva)
    assert services.evaluators_of(db, rnd) == []
    with pytest.raises(EvaluationRefused):
        services.unassign_evaluator(db, rnd, eva)


def test_a_member_of_an_organisation_funded_in_the_round_cannot_evaluate_it(db, registry):
    member = f.user(db, name="Amel")
    award = f.award(db, registry, org=f.organisation(db, member))
    elsewhere = f.award(db, registry, org=f.organisation(db, f.user(db, name="Other")))  # another round
    with pytest.raises(EvaluationRefused) as refused:
        services.assign_evaluator(db, award.round, member)
    assert problems(refused) == [
        ("email", "Amel belongs to an organisation funded in this round, so cannot evaluate it independently.")]
    assert count(db, LocalRole) == 0
    services.assign_evaluator(db, elsewhere.round, member)  # independent of that round's grantees


def test_the_evaluator_role_reaches_every_award_of_the_round_but_not_its_money(db, registry):
    member = f.user(db)
    award = f.award(db, registry, org=f.organisation(db, member))
    eva = f.user(db)
    services.assign_evaluator(db, award.round, eva)
    assert holds_permission(registry, award, eva, Permission.EvaluationAssessmentEdit)
    assert holds_permission(registry, award, eva, Permission.MelDataView)
    assert holds_permission(registry, award, eva, Permission.AwardsAwardView)
    assert not holds_permission(registry, award, eva, Permission.AwardsAwardManage)
    assert not holds_permission(registry, award, eva, Permission.MelFrameworkEdit)
    assert holds_permission(registry, award, member, Permission.AwardsAwardView)
    assert not holds_permission(registry, award, member, Permission.EvaluationAssessmentEdit)


# -- the round's findings -------------------------------------------------------------------------------


def test_only_an_evaluator_writes_the_round_s_evaluation_and_its_shortcomings_are_kept(db, registry):
    award = f.award(db, registry)
    rnd = award.round
    eva, officer = f.user(db, name="Eva"), f.user(db, name="Leila")
    f.grant_role(db, officer, "programme_officer", rnd.programme)
    services.assign_evaluator(db, rnd, eva)
    with pytest.raises(EvaluationRefused) as refused:
        services.save_round_evaluation(db, rnd, findings="Fine.", user=officer, now=NOW)
    assert problems(refused) == [(None, "Only the round's evaluators write its evaluation.")]
    with pytest.raises(EvaluationRefused) as refused:
        services.save_round_evaluation(db, rnd, findings="  ", shortcomings="Late reports.", user=eva, now=NOW)
    assert problems(refused) == [("findings", "Write the evaluation's findings.")]
    assert count(db, RoundEvaluation) == 0
    services.save_round_evaluation(db, rnd, findings="Attitudes improved.", shortcomings="Two projects ended early.",
                                   lessons="Fund follow-up surveys.", user=eva, now=NOW)
    later = NOW + dt.timedelta(days=2)
    row = services.save_round_evaluation(db, rnd, findings="Attitudes improved in 9 of 11 projects.",
                                         shortcomings="Two projects ended early; baselines were late.",
                                         lessons="Fund follow-up surveys.", user=eva, now=later)
    assert count(db, RoundEvaluation) == 1
    assert (row.findings, row.shortcomings, row.evaluator_id, row.updated_at) == (
        "Attitudes improved in 9 of 11 projects.", "Two projects ended early; baselines were late.", eva.id, later)
    assert services.round_evaluation(db, rnd) is row


# -- assessments -----------------------------------------------------------------------------------------


def test_an_assessment_needs_every_score_from_1_to_5_and_a_summary(db, registry):
    award = f.award(db, registry)
    eva = f.user(db)
    services.assign_evaluator(db, award.round, eva)
    with pytest.raises(EvaluationRefused) as refused:
        services.save_assessment(db, award, eva, scores={"relevance": 6, "effectiveness": "4", "efficiency": True,
                                                         "colour": 3}, summary=" ")
    assert problems(refused) == [
        ("relevance", "Score “Relevance” from 1 to 5."),
        ("efficiency", "Score “Efficiency” from 1 to 5."),
        ("sustainability", "Score “Sustainability” from 1 to 5."),
        ("fidelity", "Score “Fidelity to the plan” from 1 to 5."),
        ("mel_quality", "Score “Quality of monitoring and evaluation” from 1 to 5."),
        (None, "“colour” is not a criterion of the assessment."),
        ("summary", "Write a summary of your assessment."),
    ]
    assert count(db, Assessment) == 0


def test_one_assessment_per_grant_and_evaluator_saving_again_changes_it_and_adds_files(db, registry):
    award = f.award(db, registry)
    eva, other = f.user(db, name="Eva"), f.user(db, name="Omar")
    for person in (eva, other):
        services.assign_evaluator(db, award.round, person)
    report = store(db, registry.settings, filename="report.pdf", data=f.PDF)
    first = services.save_assessment(db, award, eva, scores=SCORES, summary="Strong delivery.",
                                     files=[("Field report", report)], now=NOW)
    notes = store(db, registry.settings, filename="notes.pdf", data=f.PDF + b"%notes")
    again = services.save_assessment(db, award, eva, scores={**SCORES, "efficiency": "4"}, summary="Revised.",
                                     files=[("", notes)], now=NOW + dt.timedelta(hours=1))
    assert again is first
    assert (again.scores["efficiency"], again.summary, again.created_at, again.updated_at) == (
        4, "Revised.", NOW, NOW + dt.timedelta(hours=1))
    assert [(row.title, row.file.filename) for row in again.files] == [("Field report", "report.pdf"),
                                                                       ("notes.pdf", "notes.pdf")]
    services.save_assessment(db, award, other, scores=SCORES, summary="Agree.", now=NOW)
    assert [a.evaluator_id for a in services.assessments_of(db, award)] == [eva.id, other.id]


def test_only_an_independent_evaluator_of_the_round_assesses(db, registry):
    member = f.user(db)
    award = f.award(db, registry, org=f.organisation(db, member))
    stranger = f.user(db)
    with pytest.raises(EvaluationRefused) as refused:
        services.save_assessment(db, award, stranger, scores=SCORES, summary="…")
    assert problems(refused) == [(None, "Only an evaluator of this round assesses its grants.")]
    # Made an evaluator before joining the grantee, they can no longer assess it.
    services.assign_evaluator(db, award.round, stranger)
    f.organisation(db, stranger)  # another organisation: fine
    services.save_assessment(db, award, stranger, scores=SCORES, summary="…")
    from grants.accounts.organisations import add_member_without_invitation

    add_member_without_invitation(db, award.application.organisation, stranger)
    with pytest.raises(EvaluationRefused) as refused:
        services.save_assessment(db, award, stranger, scores=SCORES, summary="Changed.")
    assert problems(refused) == [(None, "You belong to this grantee's organisation, so cannot assess it.")]


# -- the pages -----------------------------------------------------------------------------------------------


def _people_and_round(registry, *, decide=True):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        eva = f.user(db, email="eva@example.org", name="Eva")
        member = f.user(db, email="amel@example.org", name="Amel")
        award = f.award(db, registry, org=f.organisation(db, member, name="Association Afek"))
        rnd = award.round
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        tranche = Tranche(award=award, position=1, amount_minor=award.amount_minor, currency=award.currency)
        db.add(tranche)
        WorkflowService(registry.workflows, db).start(tranche, actor=f.SYSTEM)
        if decide:
            decided(db, registry, rnd)
        round_url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        urls = {"round": round_url, "award": f"{round_url}/awards/{award.id}",
                "application": f"{round_url}/applications/{award.application_id}",
                "tranche": f"{round_url}/awards/{award.id}/tranches/{tranche.id}"}
        ids = {"round": rnd.id, "award": award.id, "tranche": tranche.id, "eva": eva.id, "member": member.id}
    return urls, ids


def assign(registry, ids):
    with registry.database.transaction() as (_tm, db):
        services.assign_evaluator(db, db.get(Round, ids["round"]), db.get(User, ids["eva"]))


def test_an_officer_assigns_and_removes_evaluators_on_the_evaluation_page(testapp, registry):
    urls, ids = _people_and_round(registry)
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(urls["round"] + "/@@evaluation")
    assert "No evaluator has been assigned to this round yet." in page.text
    form = page.forms["assign"]
    form["email"] = "amel@example.org"
    failed = form.submit("submit", status=400)
    summary = failed.html.select_one(".error-summary")
    assert summary.a["href"] == "#assign-email"
    assert "Amel belongs to an organisation funded in this round" in summary.get_text()
    assert failed.forms["assign"]["email"].value == "amel@example.org"
    form = failed.forms["assign"]
    form["email"] = "EVA@example.org "
    done = form.submit("submit").follow()
    assert "Eva now evaluates this round." in done.text
    assert "Eva" in done.html.find(id="evaluators").get_text()
    with registry.database.transaction() as (_tm, db):
        assert [u.id for u in services.evaluators_of(db, db.get(Round, ids["round"]))] == [ids["eva"]]
    unassign = next(fm for key, fm in done.forms.items() if isinstance(key, int)
                    and fm.fields.get("__formid__") and fm["__formid__"].value == "unassign")
    after = unassign.submit().follow()
    assert "Eva no longer evaluates this round." in after.text
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count()).select_from(LocalRole).where(LocalRole.role == "evaluator")) == 0
    # both in the round's history, as roles given on its People and roles page are
    rows = [[" ".join(td.get_text().split()) for td in tr.find_all("td")][1:]
            for tr in testapp.get(urls["round"] + "/changes").html.select("#configuration-changes tbody tr")]
    assert rows[:2] == [["Leila", "Role", "Independent evaluator: eva@example.org", "—"],
                        ["Leila", "Role", "—", "Independent evaluator: eva@example.org"]]


def test_an_evaluator_reads_the_round_writes_findings_and_has_no_part_in_decisions_or_money(testapp, registry):
    urls, ids = _people_and_round(registry)
    assign(registry, ids)
    f.sign_in(testapp, "eva@example.org")
    page = testapp.get(urls["round"] + "/@@evaluation")
    row = page.html.find(id=f"award-{ids['award']}")
    assert "Association Afek" in row.get_text() and "Not assessed yet." in row.get_text()
    hrefs = [a["href"] for a in row.find_all("a")]
    assert any(h.endswith(f"/awards/{ids['award']}/surveys") for h in hrefs)
    assert any(h.endswith(f"/awards/{ids['award']}/assessment") for h in hrefs)
    assert page.html.find(id="assign") is None  # officers assign, not evaluators

    form = page.forms["findings"]
    form["findings"] = "Attitudes improved in most projects."
    form["shortcomings"] = "Baselines were collected late."
    saved = form.submit("submit").follow()
    assert "The round's evaluation is saved." in saved.text
    with registry.database.transaction() as (_tm, db):
        row = db.scalars(select(RoundEvaluation)).one()
        assert (row.findings, row.shortcomings, row.evaluator_id) == (
            "Attitudes improved in most projects.", "Baselines were collected late.", ids["eva"])

    # No part in funding decisions or payments.
    testapp.get(urls["round"] + "/@@ranking", status=403)
    testapp.get(urls["round"] + "/@@screening", status=403)
    testapp.get(urls["application"] + "/@@decide", status=403)
    testapp.get(urls["award"] + "/@@schedule", status=403)
    testapp.get(urls["award"] + "/@@amend", status=403)
    token = page.forms["findings"]["csrf_token"].value
    testapp.post(urls["tranche"] + "/@@release", {"csrf_token": token}, status=403)
    testapp.get(urls["tranche"] + "/@@disburse", status=403)
    with registry.database.transaction() as (_tm, db):
        tranche = db.get(Tranche, ids["tranche"])
        with pytest.raises(Refused):  # the engine itself refuses, whatever page is used
            WorkflowService(registry.workflows, db).fire(tranche, "release", db.get(User, ids["eva"]))
        assert tranche.state == "pending"

    # The officer reads the findings but does not write them.
    f.sign_in(testapp, "leila@example.org")
    officer_page = testapp.get(urls["round"] + "/@@evaluation")
    assert "Baselines were collected late." in officer_page.html.find(id="findings").get_text()
    assert "findings" not in officer_page.forms
    token = officer_page.forms["assign"]["csrf_token"].value
    testapp.post(urls["round"] + "/@@evaluation", {"csrf_token": token, "__formid__": "findings",
                                                   "findings": "Rewritten by the funder."}, status=403)


def test_evaluators_see_the_round_only_once_it_is_in_review_or_decided(testapp, registry):
    urls, ids = _people_and_round(registry, decide=False)
    assign(registry, ids)
    f.sign_in(testapp, "eva@example.org")
    testapp.get(urls["round"] + "/@@evaluation", status=403)
    f.sign_in(testapp, "amel@example.org")  # the grantee never
    testapp.get(urls["round"] + "/@@evaluation", status=403)


def test_an_assessment_refused_keeps_what_was_typed_and_saves_nothing(testapp, registry):
    urls, ids = _people_and_round(registry)
    assign(registry, ids)
    f.sign_in(testapp, "eva@example.org")
    form = testapp.get(urls["award"] + "/@@assessment").forms["assessment"]
    form["score-relevance"] = "4"
    form["summary"] = "Good work in Kebili."
    failed = form.submit(status=400)
    summary = failed.html.select_one(".error-summary")
    assert summary.a["href"] == "#assessment-score-effectiveness-0"
    assert "Score “Effectiveness” from 1 to 5." in summary.get_text()
    again = failed.forms["assessment"]
    assert again["score-relevance"].value == "4" and again["summary"].value == "Good work in Kebili."
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count()).select_from(Assessment)) == 0
        assert db.scalar(select(func.count()).select_from(AssessmentFile)) == 0
    assert set(ASSESSMENT_CRITERIA) == set(SCORES)
