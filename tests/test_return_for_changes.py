"""Applicants get their application back: an officer returns a submitted application with
a message; the applicant reads it on the application, changes an answer and resubmits;
both moves are in the history with the message, and every member is mailed in their own
language.  Submitting (and resubmitting) mails a receipt with the reference and what
happens next, once the submission commits."""
from __future__ import annotations

import datetime as dt

import pytest

import factories as f
from grants.applications import services as applications
from grants.applications.models import Application
from grants.lifecycle.models import HistoryEntry
from grants.workflow import Refused

MESSAGE = "Your budget leaves out the festival costs: add them to the summary, please."


def _draft_application(registry):
    """An open round (an officer working in French) and a complete draft by an
    organisation whose members read English and Arabic.  Returns (url, id)."""
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="officer@example.org", name="Leila Officer", locale="fr")
        prog = f.programme(db, title="BLADI")
        f.grant_role(db, officer, "programme_officer", prog)
        rnd = f.round_(db, registry, prog, title="Nabda 2019")
        members = [f.user(db, email="amel@example.org", name="Amel", locale="en"),
                   f.user(db, email="karim@example.org", name="Karim", locale="ar")]
        application = f.application(db, registry, rnd, f.organisation(db, *members), title="Theatre clubs")
        return f"/programmes/{prog.id}/rounds/{rnd.id}/applications/{application.id}", application.id


def _mail(registry) -> list[tuple[str, str, str]]:
    return [(m["To"], m["Subject"], m.get_content()) for m in registry.mailer.sent()]


def _history(registry, application_id) -> list[tuple[str, str, str]]:
    with registry.database.transaction() as (_tm, db):
        rows = db.query(HistoryEntry).filter_by(object_type="applications", object_id=application_id).order_by(
            HistoryEntry.id)
        return [(r.trigger, r.to_state, r.comment) for r in rows]


def test_returned_for_changes_then_resubmitted_through_the_pages(testapp, registry):
    url, application_id = _draft_application(registry)
    reference = f"A-{application_id:05d}"

    # The applicant submits: a receipt for each member, in their language, after the commit.
    f.sign_in(testapp, "amel@example.org")
    check = testapp.get(f"{url}/check")
    check.forms["submit-form"].submit("confirm").follow()
    receipts = {to: (subject, body) for to, subject, body in _mail(registry)}
    assert set(receipts) == {"amel@example.org", "karim@example.org"}
    subject, body = receipts["amel@example.org"]
    assert subject == f"We received your application “Theatre clubs” ({reference})"
    assert "Nabda 2019" in body and reference in body and "The round closes on" in body
    assert receipts["karim@example.org"][0] == f"استلمنا طلبك «Theatre clubs» ({reference})"
    testapp.get("/logout")

    # The officer returns it; the message is required.
    f.sign_in(testapp, "officer@example.org")
    page = testapp.get(url)
    link = page.html.find("a", href=lambda h: h and "trigger=return_for_changes" in h)
    assert link is not None
    form = f.main_form(testapp.get(link["href"]))
    failed = form.submit("fire", status=400)
    # The officer works in French: the page speaks it.
    assert "Indiquez le motif de cette étape" in failed.html.find(class_="error-summary").get_text()
    assert _history(registry, application_id)[-1][0] == "submit"  # nothing happened
    form = f.main_form(failed)
    form["comment"] = MESSAGE
    form.submit("fire").follow()
    assert _history(registry, application_id)[-1] == ("return_for_changes", "returned", MESSAGE)
    returned = {to: (subject, body) for to, subject, body in _mail(registry)[2:]}
    assert set(returned) == {"amel@example.org", "karim@example.org"}
    assert returned["amel@example.org"][0] == "Your application “Theatre clubs” is returned to you for changes"
    assert MESSAGE in returned["amel@example.org"][1] and MESSAGE in returned["karim@example.org"][1]
    assert "أعاد فريق البرنامج طلبك" in returned["karim@example.org"][1]
    staff_view = testapp.get(url)
    assert MESSAGE in staff_view.html.find(id="returned-message").get_text()
    assert staff_view.html.find(id="read-only") is None  # it can change again
    testapp.get("/logout")

    # The applicant sees the message on the application, changes an answer and resubmits.
    f.sign_in(testapp, "amel@example.org")
    tasks = testapp.get(url)
    assert MESSAGE in tasks.html.find(id="returned-message").get_text()
    assert "Submit your application again" in tasks.text
    section = testapp.get(tasks.html.find(id="task-project").find("a")["href"])
    form = section.forms["section"]
    form["summary"] = "After-school theatre clubs in four schools of Kebili and Douz, with two festivals."
    form.submit("continue", status=302)
    check = testapp.get(f"{url}/check")
    done = check.forms["submit-form"].submit("confirm").follow()
    assert "Your application is submitted." in done.text
    with registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        assert application.state == "submitted" and "two festivals" in application.answers["project"]["summary"]
    assert [(t, s) for t, s, _c in _history(registry, application_id)] == [
        ("create", "draft"), ("submit", "submitted"), ("return_for_changes", "returned"),
        ("resubmit", "submitted")]
    resubmitted = {to: subject for to, subject, _body in _mail(registry)[4:]}
    assert resubmitted == {"amel@example.org": f"We received your changes to “Theatre clubs” ({reference})",
                           "karim@example.org": f"استلمنا تعديلاتك على «Theatre clubs» ({reference})"}

    # Both moves, with the message, are in the history the applicant reads.
    history = testapp.get(url).text
    assert "Return for changes" in history and MESSAGE in history and "Resubmit the application" in history


def test_only_an_application_waiting_for_screening_can_be_returned_and_only_by_its_officers(registry):
    url, application_id = _draft_application(registry)
    with registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        amel = db.query(f.User).filter_by(email="amel@example.org").one()
        officer = db.query(f.User).filter_by(email="officer@example.org").one()
        with pytest.raises(applications.ApplicationRefused):  # still a draft
            applications.return_for_changes(db, registry, application, officer, message=MESSAGE)
        f.WorkflowService(registry.workflows, db).fire(application, "submit", actor=f.SYSTEM)
        with pytest.raises(applications.ApplicationRefused):  # not the applicant's to return
            applications.return_for_changes(db, registry, application, amel, message=MESSAGE)
        with pytest.raises(applications.ApplicationRefused):  # a message is required
            applications.return_for_changes(db, registry, application, officer, message="  ")
        assert application.state == "submitted"
        applications.return_for_changes(db, registry, application, officer, message=MESSAGE)
        assert application.state == "returned"
        assert applications.returned_message(registry, application) == MESSAGE


def test_a_returned_application_can_be_resubmitted_after_the_round_has_closed(registry):
    url, application_id = _draft_application(registry)
    with registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        service = f.WorkflowService(registry.workflows, db)
        service.fire(application, "submit", actor=f.SYSTEM)
        service.fire(application, "return_for_changes", actor=f.SYSTEM, comment=MESSAGE)
        application.round.closes_at = f.now() - dt.timedelta(minutes=1)
        amel = db.query(f.User).filter_by(email="amel@example.org").one()
        applications.submit(db, registry, application, amel)
        assert application.state == "submitted"


def test_a_resubmission_needs_every_answer(registry):
    url, application_id = _draft_application(registry)
    with registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        service = f.WorkflowService(registry.workflows, db)
        service.fire(application, "submit", actor=f.SYSTEM)
        service.fire(application, "return_for_changes", actor=f.SYSTEM, comment=MESSAGE)
        application.answers = {k: v for k, v in application.answers.items() if k != "project"}
        application.sections_done = [s for s in application.sections_done if s != "project"]
        with pytest.raises(Refused):
            service.fire(application, "resubmit", actor=f.SYSTEM)
        assert application.state == "returned"


def _variant_without_return(folder) -> str:
    """The test variant of the application workflow with no state meaning
    returned_for_changes, and so no "return_for_changes" or "resubmit" step."""
    from pathlib import Path

    text = (Path(__file__).parent / "workflows" / "panel_application.toml").read_text()
    blocks = [b for b in text.split("\n\n") if "[states.returned]" not in b
              and 'trigger = "return_for_changes"' not in b and 'trigger = "resubmit"' not in b]
    text = "\n\n".join(blocks).replace('"submitted", "returned", "eligible"', '"submitted", "eligible"')
    text = text.replace('id = "panel_application"', 'id = "no_return_application"')
    assert "returned" not in text.replace("Returned", "")
    (folder / "no_return_application.toml").write_text(text)
    return "no_return_application"


def test_a_variant_without_return_for_changes_starts_passes_set_up_and_offers_no_return(settings, tmp_path):
    import webtest

    from grants import make_app
    from grants.programmes import services as programmes
    from grants.programmes.setup import checklist

    variant = _variant_without_return(tmp_path)
    app = make_app({**settings, "grants.workflow_dirs": str(tmp_path)})  # start-up checks every variant
    registry = app.registry
    d = registry.workflows.get(variant).definition
    assert d.states_meaning("returned_for_changes") == frozenset()
    assert registry.workflows.problems(d) == []
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="officer@example.org", name="Leila Officer")
        prog = f.programme(db, title="Quick fund")
        f.grant_role(db, officer, "programme_officer", prog)
        rnd = f.round_(db, registry, prog, state="draft")
        assert variant in [o.id for o in programmes.workflow_options(registry, rnd, "application")]
        programmes.choose_workflow(db, registry, rnd, "application", variant)
        statuses = {s.task.name: s.done for s in checklist(registry, rnd)}
        assert statuses["workflow"] is True
        f.WorkflowService(registry.workflows, db).fire(rnd, "open", actor=f.SYSTEM)
        application = f.application(db, registry, rnd, f.organisation(db, f.user(db)), state="submitted")
        assert application.workflow_id == variant
        url = f"/programmes/{prog.id}/rounds/{rnd.id}/applications/{application.id}"
        application_id = application.id
    testapp = webtest.TestApp(app)
    f.sign_in(testapp, "officer@example.org")
    page = testapp.get(url)
    assert page.html.find("a", href=lambda h: h and "trigger=confirm_eligible" in h) is not None
    assert page.html.find("a", href=lambda h: h and "trigger=return_for_changes" in h) is None
    # Asking for it anyway is refused with a sentence, not an error page.
    refused = testapp.get(f"{url}/transition?trigger=return_for_changes", expect_errors=True)
    assert refused.status_code in (400, 403, 404), refused.status
    with registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        officer = db.query(f.User).filter_by(email="officer@example.org").one()
        with pytest.raises(applications.ApplicationRefused):
            applications.return_for_changes(db, registry, application, officer, message=MESSAGE)
        assert application.state == "submitted"
