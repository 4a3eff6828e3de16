"""A reviewer's journey through the browser (WebTest, the real app): invited by an officer,
they accept, are given three applications, declare a conflict of interest with one (and
are refused it from then on), declare none with the others, fail a submit for a missing
rationale (what they typed is kept), fix it, submit, and find both under "Submitted"."""
from __future__ import annotations

import re

import webtest
from sqlalchemy import select

import factories as f
from grants.applications.models import Application
from grants.review.models import Review, ReviewAssignment

CRITERIA = ("relevance", "feasibility", "value_for_money", "capacity", "sustainability")


def eligible_application(db, registry, rnd, org, title) -> Application:
    """An application in review, brought there through the real transitions."""
    return f.application(db, registry, rnd, org, title=title, state="eligible",
                         answers={"summary": f"{title}: a summary."})


def by_id(form, oid):
    return next(fld for fields in form.fields.values() for fld in fields if getattr(fld, "id", None) == oid)


def fill_scores(form, scores: dict, rationales: dict):
    for criterion, score in scores.items():
        form[f"score-{criterion}-score"] = str(score)
    for criterion, text in rationales.items():
        by_id(form, f"score-{criterion}-rationale").value = text
    return form


def test_a_reviewer_declares_a_conflict_is_refused_that_application_and_scores_the_others(app, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        f.user(db, email="sami@example.org", name="Sami")
        rnd = f.round_(db, registry, title="BLADI 2018")
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        conflicted = eligible_application(db, registry, rnd, f.organisation(db, name="Association Afek"),
                                          "Theatre clubs in Kebili")
        radio = eligible_application(db, registry, rnd, f.organisation(db, name="Radio Sfax"), "Community radio")
        garden = eligible_application(db, registry, rnd, f.organisation(db, name="Jardins de Gabès"),
                                      "School gardens")
        round_url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        urls = {a.id: f"{round_url}/applications/{a.id}" for a in (conflicted, radio, garden)}
        ids = {"conflicted": conflicted.id, "radio": radio.id, "garden": garden.id}

    officer_app = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    reviewer_app = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})

    # The officer invites Sami.
    f.sign_in(officer_app, "leila@example.org")
    form = f.main_form(officer_app.get(round_url + "/@@reviewers"))
    form["email"] = "sami@example.org"
    form.submit("submit").follow()
    (invitation_mail,) = registry.mailer.sent()
    assert invitation_mail["To"] == "sami@example.org"
    assert "http://localhost/reviews" in invitation_mail.get_content()

    # Sami accepts on his reviews page.
    f.sign_in(reviewer_app, "sami@example.org")
    reviews = reviewer_app.get("/reviews")
    assert "BLADI 2018" in reviews.html.find(id="invitations").get_text()
    accepted = f.main_form(reviews).submit("answer", value="accept").follow()
    assert accepted.html.find(id="invitations") is None
    assert "You have no applications to review." in accepted.text

    # The officer assigns every application to him automatically.
    form = officer_app.get(round_url + "/@@assignments").forms["auto"]
    form["per_application"] = "1"
    assert "Made 3 assignments." in form.submit("submit").follow().text

    # Declaring comes first; until then he cannot open any of them.
    reviews = reviewer_app.get("/reviews")
    to_declare = reviews.html.find(id="to-declare")
    assert len(to_declare.find_all("a")) == 3 and reviews.html.find(id="to-score") is None
    reviewer_app.get(urls[ids["radio"]] + "/@@score", status=403)
    reviewer_app.get(urls[ids["radio"]], status=403)

    # A conflict with Afek: the declaration shows who applied; a conflict needs a reason.
    declare = reviewer_app.get(urls[ids["conflicted"]] + "/@@declare")
    assert "Association Afek" in declare.html.find(id="declare-details").get_text()
    form = f.main_form(declare)
    form["declare-declaration"] = "conflict"
    failed = form.submit("submit", status=400)
    summary = failed.html.select_one(".error-summary")
    assert summary.a["href"] == "#declare-reason"
    assert "Say what your conflict of interest is" in summary.get_text()
    form = f.main_form(failed)
    assert form["declare-declaration"].value == "conflict"
    form["reason"] = "I sit on Afek's board."
    after = form.submit("submit").follow()
    assert after.request.path == "/reviews"
    assert "Your conflict of interest with A-" in after.text

    # From now on the application is refused to him, saying why, and nothing is recorded.
    for url in (urls[ids["conflicted"]] + "/@@score", urls[ids["conflicted"]]):
        refused = reviewer_app.get(url, status=403)
        assert "You declared a conflict of interest with this application; you cannot see or score it." \
            in refused.text
        assert "Theatre clubs in Kebili: a summary." not in refused.text
    reviewer_app.get(urls[ids["conflicted"]] + "/@@declare", status=404)  # a declaration is final
    conflicts = reviewer_app.get("/reviews").html.find(id="conflicts")
    assert "Theatre clubs in Kebili" in conflicts.get_text() and conflicts.find("a") is None

    # No conflict with the radio: straight to scoring.
    form = f.main_form(reviewer_app.get(urls[ids["radio"]] + "/@@declare"))
    form["declare-declaration"] = "none"
    score_page = form.submit("submit").follow()
    assert score_page.request.path == urls[ids["radio"]] + "/score"
    assert "Community radio: a summary." in score_page.html.find(id="answers").get_text()
    assert "Radio Sfax" in score_page.html.find(id="application-details").get_text()

    # A submit with a rationale missing is refused; everything typed is kept.
    scores = {"relevance": 5, "feasibility": 4, "value_for_money": 2, "capacity": 3, "sustainability": 4}
    rationales = {c: f"Rationale for {c}." for c in CRITERIA if c != "capacity"}
    failed = fill_scores(f.main_form(score_page), scores, rationales).submit("submit", status=400)
    assert failed.html.title.get_text().strip().startswith("Error:")
    summary = failed.html.select_one(".error-summary")
    assert [(a["href"], a.get_text(strip=True)) for a in summary.select("a")] == [
        ("#score-capacity-rationale", "Give a rationale for the score for “Organisational capacity”.")]
    assert failed.html.find(id="score-capacity-rationale")["aria-invalid"] == "true"
    assert "Give a rationale" in failed.html.find(id="error-score-capacity-rationale").get_text()
    kept = f.main_form(failed)
    assert {c: kept[f"score-{c}-score"].value for c in CRITERIA} == {c: str(v) for c, v in scores.items()}
    assert by_id(kept, "score-relevance-rationale").value == "Rationale for relevance."
    with registry.database.transaction() as (_tm, db):
        assert db.scalars(select(Review)).all() == []

    by_id(kept, "score-capacity-rationale").value = "Two staff, both experienced."
    done = kept.submit("submit").follow()
    assert done.request.path == "/reviews"
    assert "Your scores for A-" in done.text

    # The gardens: declare, save a partial draft, come back, finish and submit.
    form = f.main_form(reviewer_app.get(urls[ids["garden"]] + "/@@declare"))
    form["declare-declaration"] = "none"
    score_page = form.submit("submit").follow()
    draft = fill_scores(f.main_form(score_page), {"relevance": 3}, {"relevance": "Needed."}).submit("save").follow()
    assert "Draft saved." in draft.text
    form = f.main_form(draft)
    assert form["score-relevance-score"].value == "3"
    assert "Draft saved" in reviewer_app.get("/reviews").html.find(id="to-score").get_text()
    fill_scores(form, {c: 4 for c in CRITERIA}, {c: f"Garden {c}." for c in CRITERIA}).submit("submit").follow()

    # Both are now under "Submitted"; the scores are final.
    reviews = reviewer_app.get("/reviews")
    submitted = reviews.html.find(id="submitted").get_text(" ", strip=True)
    assert "Community radio" in submitted and "School gardens" in submitted
    assert reviews.html.find(id="to-score") is None and reviews.html.find(id="to-declare") is None
    final = reviewer_app.get(urls[ids["radio"]] + "/@@score")
    assert "They can no longer be changed." in final.text
    assert re.search(r"5 — Addresses a pressing need", final.html.find(id="submitted-scores").get_text())
    with registry.database.transaction() as (_tm, db):
        reviews = db.scalars(select(Review).order_by(Review.application_id)).all()
        assert [(r.application_id, r.submitted_at is not None) for r in reviews] == [
            (ids["radio"], True), (ids["garden"], True)]
        assert reviews[0].scores == scores and reviews[0].rationales["capacity"] == "Two staff, both experienced."
        conflict = db.scalar(select(ReviewAssignment).where(ReviewAssignment.application_id == ids["conflicted"]))
        assert conflict.conflict is True and conflict.review is None

    # The officer sees the conflict and that the application needs another reviewer.
    row = officer_app.get(round_url + "/@@assignments?per_application=1").html.find(id=f"row-{ids['conflicted']}")
    assert "Conflict of interest" in row.get_text() and "Needs 1 more reviewer." in row.get_text(" ", strip=True)
