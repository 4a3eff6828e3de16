"""An independent evaluator's journey through the browser (WebTest, the real app): the
officer assigns her on the round's evaluation page; she signs in, reads a grantee's
reports and surveys, and uploads an assessment with scores and a PDF; the grantee reads
the assessment and downloads the file, but can neither open nor post the assessment form,
and nothing changes when they try."""
from __future__ import annotations

import webtest
from sqlalchemy import select

import factories as f
from grants.evaluation.models import Assessment, AssessmentFile
from grants.lifecycle.services import WorkflowService

SCORES = {"relevance": "5", "effectiveness": "4", "efficiency": "3", "sustainability": "4", "fidelity": "5",
          "mel_quality": "2"}
REPORT_PDF = f.PDF.replace(b"%%EOF", b"% field report\n%%EOF")


def browser(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


def link(page, text: str, within=None):
    node = next((a for a in (within or page.html).find_all("a") if a.get_text(" ", strip=True).startswith(text)),
                None)
    assert node is not None, text
    return node["href"]


def test_an_evaluator_assesses_a_grantee_who_reads_it_but_cannot_change_it(app, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        f.user(db, email="eva@example.org", name="Eva Independent")
        member = f.user(db, email="amel@example.org", name="Amel")
        award = f.award(db, registry, org=f.organisation(db, member, name="Association Afek"),
                        title="Theatre clubs in Kebili")
        rnd = award.round
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        service = WorkflowService(registry.workflows, db)
        for trigger in ("close", "start_review", "decide"):
            service.fire(rnd, trigger, actor=f.SYSTEM)
        round_url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        award_url = f"{round_url}/awards/{award.id}"
        award_id = award.id

    officer_app, evaluator_app, grantee_app = browser(app), browser(app), browser(app)

    # The officer assigns Eva on the round's evaluation page.
    f.sign_in(officer_app, "leila@example.org")
    form = officer_app.get(round_url + "/@@evaluation").forms["assign"]
    form["email"] = "eva@example.org"
    assigned = form.submit("submit").follow()
    assert "Eva Independent now evaluates this round." in assigned.text

    # Eva signs in and finds the grant among the round's.
    f.sign_in(evaluator_app, "eva@example.org")
    overview = evaluator_app.get(round_url + "/@@evaluation")
    row = overview.html.find(id=f"award-{award_id}")
    assert "Association Afek" in row.get_text() and "Not assessed yet." in row.get_text()

    # She reads the grantee's reports list and its surveys.
    reports = evaluator_app.get(link(overview, "Reports", row))
    assert reports.request.path == award_url + "/@@reports"
    assert [tr["id"] for tr in reports.html.find(id="reports").tbody.find_all("tr")] == [
        "report-1", "report-2", "report-3", "report-4"]
    surveys_page = evaluator_app.get(link(overview, "Surveys", row))
    assert surveys_page.status_int == 200 and "Surveys" in surveys_page.html.h1.get_text()

    # She writes her assessment: every score, a summary and her report as a PDF.
    form = evaluator_app.get(link(overview, "Assess this grant", row)).forms["assessment"]
    for criterion, score in SCORES.items():
        form[f"score-{criterion}"] = score
    form["summary"] = "Clubs ran in all four schools; attendance held up; the baseline came late."
    form["file_title-1"] = "Field report"
    form["file-1"] = ("field-report.pdf", REPORT_PDF, "application/pdf")
    saved = form.submit().follow()
    assert "Your assessment is saved. The grantee can read it." in saved.text
    assert saved.request.path == award_url + "/assessments"
    overview = evaluator_app.get(round_url + "/@@evaluation")
    assert "You assessed it on" in overview.html.find(id=f"award-{award_id}").get_text()

    with registry.database.transaction() as (_tm, db):
        (assessment,) = db.scalars(select(Assessment).where(Assessment.award_id == award_id)).all()
        before = (assessment.id, dict(assessment.scores), assessment.summary, assessment.updated_at,
                  [(row.title, row.file.filename) for row in assessment.files])
    assert before[1] == {k: int(v) for k, v in SCORES.items()}
    assert before[4] == [("Field report", "field-report.pdf")]

    # The grantee reads it and downloads the file.
    f.sign_in(grantee_app, "amel@example.org")
    read = grantee_app.get(award_url + "/@@assessments")
    article = read.html.find(id=f"assessment-{before[0]}")
    text = article.get_text()
    assert "Eva Independent" in text
    assert "Clubs ran in all four schools" in text
    scores = {tr.th.get_text(strip=True): tr.td.get_text(strip=True) for tr in article.find("table").tbody.find_all("tr")}
    assert scores["Effectiveness"] == "4 — good" and scores["Quality of monitoring and evaluation"] == "2 — weak"
    assert read.html.find("a", string="Write or change your assessment") is None
    download = grantee_app.get(link(read, "Field report", article))
    assert download.body == REPORT_PDF
    assert download.headers["Content-Type"].startswith("application/pdf")

    # But the assessment form is not theirs: 403 to read it, 403 to post to it.
    grantee_app.get(award_url + "/@@assessment", status=403)
    token = read.forms["logout-form"]["csrf_token"].value
    grantee_app.post(award_url + "/@@assessment",
                     {"csrf_token": token, "summary": "Everything was perfect.",
                      **{f"score-{c}": "5" for c in SCORES}},
                     upload_files=[("file-1", "mine.pdf", f.PDF)], status=403)

    with registry.database.transaction() as (_tm, db):
        (assessment,) = db.scalars(select(Assessment).where(Assessment.award_id == award_id)).all()
        after = (assessment.id, dict(assessment.scores), assessment.summary, assessment.updated_at,
                 [(row.title, row.file.filename) for row in assessment.files])
        assert after == before
        assert len(db.scalars(select(AssessmentFile)).all()) == 1
