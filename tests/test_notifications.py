"""Applicants hear of decisions: every member of the organisation gets a mail in their own
language, only once the decision is committed, and nothing at all if it rolls back."""
from __future__ import annotations

from sqlalchemy import select

import factories as f
from grants.applications import eligibility
from grants.applications.models import Application
from grants.lifecycle.services import WorkflowService
from grants.review.models import Decision
from test_eligibility import GAFSA, KEBILI, TOZEUR, TUNIS, applicant_organisation, bladi_round, submitted

RULES = [{"kind": "registered_organisation"}, {"kind": "region_in", "regions": [KEBILI, GAFSA, TOZEUR]}]
CONFIRM_BOTH = {0: ("confirmed", ""), 1: ("confirmed", "")}
# The public label of each state, as the catalogs translate it.
NOT_ELIGIBLE = {"en": "Not eligible", "fr": "Non éligible", "ar": "غير مستوفٍ لشروط الأهلية"}
NOT_SELECTED = {"en": "Not selected", "fr": "Non retenue", "ar": "لم يتم اختياره"}
SELECTED = {"en": "Selected for funding", "fr": "Retenue pour un financement", "ar": "تم اختياره للتمويل"}


def _setup(registry, *, regions=(TUNIS,)):
    """A submitted application whose organisation has an English, a French and an Arabic
    speaker; the officer works in French.  Committed."""
    with registry.database.transaction() as (_tm, db):
        rnd = bladi_round(db, registry, RULES)
        members = [f.user(db, email=f"{lang}@example.org", name=lang, locale=lang) for lang in ("en", "fr", "ar")]
        application = submitted(db, registry, rnd, applicant_organisation(db, *members, regions=regions))
        officer = f.user(db, email="officer@example.org", locale="fr")
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        return application.id, officer.id


def _by_recipient(registry) -> dict:
    return {msg["To"]: msg for msg in registry.mailer.sent()}


def _screen(registry, application_id, officer_id, decisions, *, commit=True):
    from grants.accounts.models import User

    with registry.database.transaction() as (tm, db):
        application = db.get(Application, application_id)
        eligibility.screen(db, registry, application, db.get(User, officer_id), decisions, transaction_manager=tm)
        assert registry.mailer.sent() == []  # not before the commit
        if not commit:
            tm.abort()
            tm.begin()  # the scope ends with a commit of nothing


def test_an_ineligible_applicant_is_told_why_in_each_members_language_after_commit(registry):
    application_id, officer_id = _setup(registry)
    _screen(registry, application_id, officer_id, CONFIRM_BOTH)
    mail = _by_recipient(registry)
    assert set(mail) == {"en@example.org", "fr@example.org", "ar@example.org"}
    for lang, place in (("en", "Kebili"), ("fr", "Kébili"), ("ar", "قبلي")):
        assert NOT_ELIGIBLE[lang] in mail[f"{lang}@example.org"]["Subject"]
        body = mail[f"{lang}@example.org"].get_content()
        assert NOT_ELIGIBLE[lang] in body
        assert place in body  # the reason, with the round's regions named in the reader's language
    assert "تونس" in mail["ar@example.org"].get_content() and "قبلي" not in mail["fr@example.org"].get_content()


def test_an_aborted_screening_sends_nothing_and_changes_nothing(registry):
    application_id, officer_id = _setup(registry)
    _screen(registry, application_id, officer_id, CONFIRM_BOTH, commit=False)
    assert registry.mailer.sent() == []
    with registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        assert application.state == "submitted"
        assert [c.officer_decision for c in application.eligibility_checks] == [None, None]


def _eligible(registry):
    application_id, officer_id = _setup(registry, regions=(KEBILI,))
    _screen(registry, application_id, officer_id, CONFIRM_BOTH)
    assert registry.mailer.sent() == []  # becoming eligible sends nothing: no decision yet
    return application_id, officer_id


def _decide(registry, application_id, officer_id, trigger, comment, *, commit=True):
    from grants.accounts.models import User

    with registry.database.transaction() as (tm, db):
        application = db.get(Application, application_id)
        service = WorkflowService(registry.workflows, db, transaction_manager=tm)
        service.fire(application, trigger, db.get(User, officer_id), data={"funder_reference": "BLADI-CS-2019-04"},
                     comment=comment)
        assert registry.mailer.sent() == []
        if not commit:
            tm.abort()
            tm.begin()


def test_a_declined_applicant_is_told_in_each_language_with_the_reason(registry):
    application_id, officer_id = _eligible(registry)
    _decide(registry, application_id, officer_id, "decline", "Le projet ne vise pas les jeunes de 15 à 25 ans.")
    mail = _by_recipient(registry)
    assert set(mail) == {"en@example.org", "fr@example.org", "ar@example.org"}
    for lang in ("en", "fr", "ar"):
        assert NOT_SELECTED[lang] in mail[f"{lang}@example.org"]["Subject"]
        assert "Le projet ne vise pas les jeunes" in mail[f"{lang}@example.org"].get_content()
    with registry.database.transaction() as (_tm, db):
        decision = db.scalars(select(Decision).where(Decision.application_id == application_id)).one()
        assert (decision.outcome, decision.funder_reference) == ("decline", "BLADI-CS-2019-04")


def test_a_selection_rolled_back_sends_nothing_and_committed_sends_once(registry):
    application_id, officer_id = _eligible(registry)
    _decide(registry, application_id, officer_id, "select", "", commit=False)
    assert registry.mailer.sent() == []
    with registry.database.transaction() as (_tm, db):
        assert db.get(Application, application_id).state == "eligible"
    _decide(registry, application_id, officer_id, "select", "")
    mail = _by_recipient(registry)
    assert len(registry.mailer.sent()) == 3
    assert SELECTED["ar"] in mail["ar@example.org"]["Subject"]
    assert SELECTED["fr"] in mail["fr@example.org"].get_content()
