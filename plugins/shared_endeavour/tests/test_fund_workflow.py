"""The fund's application workflow: after the panel's decision (with the funder's
reference) every selected application goes through due diligence before a grant can be
made; failing it declines the application with the reason."""
from __future__ import annotations

import datetime as dt

import pytest
from shared_endeavour_fund_helpers import gbp
from sqlalchemy import select

from grants.applications import services as applications
from grants.applications.eligibility import screen
from grants.awards.services import AwardRefused, awaiting_award, make_award
from grants.demo import tools
from grants.lifecycle.meanings import means
from grants.lifecycle.services import WorkflowService
from grants.programmes.models import Round
from grants.review.models import Decision
from grants_shared_endeavour.workflow import APPLICATION, CHECKS


def _eligible(registry, fund):
    from grants.accounts.models import Organisation, User

    with registry.database.transaction() as (tm, db):
        member = db.scalars(select(User).where(User.email == fund.member_email)).one()
        officer = db.scalars(select(User).where(User.email == fund.officer_email)).one()
        application = applications.create_application(db, registry, db.get(Round, fund.round_id),
                                                      db.get(Organisation, fund.organisation_id), member,
                                                      title="Youth voices")
        tools.fill_application(db, registry, application, member, amount=gbp(20_000))
        applications.submit(db, registry, application, member, transaction_manager=tm)
        assert application.workflow_id == APPLICATION
        screen(db, registry, application, officer, {c.position: "confirmed" for c in application.eligibility_checks},
               transaction_manager=tm)
        return application.id, officer.id


def _fire(registry, application_id, officer_id, trigger, **kw):
    from grants.accounts.models import User
    from grants.applications.models import Application

    with registry.database.transaction() as (tm, db):
        application = db.get(Application, application_id)
        WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
            application, trigger, db.get(User, officer_id), **kw)
        return application.state


def _award(registry, application_id, officer_id):
    from grants.accounts.models import User
    from grants.applications.models import Application

    today = dt.date.today()
    with registry.database.transaction() as (_tm, db):
        return make_award(db, registry, db.get(Application, application_id), amount=gbp(20_000), starts_on=today,
                          ends_on=today + dt.timedelta(days=365), cadence="half_yearly",
                          user=db.get(User, officer_id)).id


def test_no_grant_before_due_diligence_is_passed(grants_registry, fund):
    application_id, officer_id = _eligible(grants_registry, fund)
    state = _fire(grants_registry, application_id, officer_id, "select", data={"funder_reference": "PCD 1274"},
                  comment="Approved after moderation.")
    assert state == CHECKS
    with grants_registry.database.transaction() as (_tm, db):
        decision = db.scalars(select(Decision).where(Decision.application_id == application_id)).one()
        assert (decision.outcome, decision.funder_reference) == ("select", "PCD 1274")
        assert awaiting_award(db, db.get(Round, fund.round_id)) == []
    with pytest.raises(AwardRefused):
        _award(grants_registry, application_id, officer_id)
    assert _fire(grants_registry, application_id, officer_id, "pass_due_diligence") == "selected"
    assert _award(grants_registry, application_id, officer_id)


def test_failing_due_diligence_declines_with_the_reason(grants_registry, fund):
    from grants.applications.models import Application

    application_id, officer_id = _eligible(grants_registry, fund)
    _fire(grants_registry, application_id, officer_id, "select", data={"funder_reference": "PCD 1274"})
    state = _fire(grants_registry, application_id, officer_id, "fail_due_diligence",
                  data={"funder_reference": "PCD 1274"}, comment="The accounts were not filed.")
    with grants_registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        assert means(application, "declined")
        assert state == "declined"
        reasons = [d.reason for d in db.scalars(select(Decision).where(Decision.application_id == application_id).order_by(Decision.id))]
        assert reasons[-1] == "The accounts were not filed."
