"""A programme officer's journey from a selected application to paid tranches (WebTest,
the real app).  Leila makes the award through the pages with the signed agreement (a
PDF), sets a 40/40/20 schedule whose second tranche waits for report 1 to be accepted,
releases the first tranche and records its payment.  Releasing the second is refused
with the reason on the page; nothing changes.  The grantee submits report 1, Leila
accepts it, and the second tranche is released and paid.  The award page shows exactly
what was paid, to the millime.  An evaluator of the round reads the award but may touch
none of its money."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import webtest
from sqlalchemy import func, select

import factories as f
from grants.accounts.models import Membership, User
from grants.awards.models import Award, Disbursement, Tranche
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import WorkflowService
from grants.mel.models import Report
from grants.money import Money
from grants.programmes import services as programmes

AMOUNT = "45000.005"  # 40 % is 18,000.002 TND: the millimes must not drift
REPORT_1 = "Report 1 (1 Jul – 30 Sept 2019) is not accepted yet: it is not submitted yet."


def tnd(amount: str) -> Money:
    return Money(Decimal(amount), "TND")


def browser(app, email) -> webtest.TestApp:
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(client, email)
    return client


def text_of(node) -> str:
    return node.get_text(" ", strip=True)


def a_selected_application(registry):
    """BLADI (TND), its round, Leila its officer, AFEK's member Amel and a selected
    application asking for 45,000.005 TND; Eva evaluates the round.  Committed."""
    with registry.database.transaction() as (_tm, db):
        prog = programmes.create_programme(db, title="BLADI", currency="TND")
        rnd = f.round_(db, registry, prog, title="Nabda b houmti 2019")
        officer = f.user(db, email="leila@example.org", name="Leila Ben Salah")
        f.grant_role(db, officer, "programme_officer", prog)
        member = f.user(db, email="amel@example.org", name="Amel Trabelsi")
        org = f.organisation(db, member, name="AFEK")
        evaluator = f.user(db, email="eva@example.org", name="Eva Evaluator")
        f.grant_role(db, evaluator, "evaluator", rnd)
        application = f.application(db, registry, rnd, org, title="Theatre clubs in Kebili", state="eligible",
                                    amount=tnd(AMOUNT))
        WorkflowService(registry.workflows, db).fire(application, "select", actor=f.SYSTEM,
                                                     data={"funder_reference": "BLADI-2019-07"}, comment="Selected")
        return f"/programmes/{prog.id}/rounds/{rnd.id}", application.id


def set_by_id(form, input_id, value):
    """Inputs inside a group share names (day, month, year): find one by its id."""
    (field,) = [field for _name, field in form.field_order if field.id == input_id]
    field.value = value


def set_date(form, prefix, day):
    for part in ("day", "month", "year"):
        set_by_id(form, f"{prefix}-{part}", str(getattr(day, part)))


def tranche_state(registry, award_id, position):
    with registry.database.transaction() as (_tm, db):
        tranche = db.scalar(select(Tranche).where(Tranche.award_id == award_id, Tranche.position == position))
        history = db.scalar(select(func.count(HistoryEntry.id)).where(HistoryEntry.object_type == "tranches",
                                                                      HistoryEntry.object_id == tranche.id))
        return tranche.state, history


def record_payment(officer, award_page, position, paid_on, reference):
    form_page = award_page.click(href="/tranches/\\d+/disburse$", index=0)
    assert f"Record the payment of tranche {position}" in text_of(form_page.html.find("h1"))
    form = form_page.forms["disburse"]
    set_date(form, "disburse-paid_on", paid_on)
    form["reference"] = reference
    return form.submit("submit", status=302).follow()


def test_an_officer_makes_an_award_and_pays_its_tranches_as_their_conditions_hold(app, registry):
    round_url, application_id = a_selected_application(registry)
    officer = browser(app, "leila@example.org")

    # From the round's awards to the award form, with the amount asked already filled in.
    awards = officer.get(round_url + "/@@awards")
    form_page = awards.click(href=f"make-award\\?application={application_id}")
    form = form_page.forms["award"]
    assert (form["amount"].value, form["currency"].value) == ("45,000.005", "TND")
    set_date(form, "award-starts_on", dt.date(2019, 7, 1))
    set_date(form, "award-ends_on", dt.date(2020, 6, 30))
    form["award-cadence"] = "quarterly"
    form["agreement"] = webtest.Upload("Convention AFEK signée.pdf", f.PDF, "application/pdf")
    set_date(form, "award-agreement_signed_on", dt.date(2019, 6, 20))
    page = form.submit("submit", status=302).follow()
    assert text_of(page.html.find(id="amount")) == "TND\u00a045,000.005"
    assert "Convention AFEK signée.pdf" in text_of(page.html.find(id="agreement"))
    download = page.click(href="@@agreement-file|agreement-file")
    assert download.body == f.PDF and download.content_type == "application/pdf"
    with registry.database.transaction() as (_tm, db):
        award = db.scalar(select(Award).where(Award.application_id == application_id))
        award_id, award_url = award.id, f"{round_url}/awards/{award.id}"
        assert (award.amount_minor, award.currency, award.agreement_signed_on) == (
            45_000_005, "TND", dt.date(2019, 6, 20))
        report1_id = db.scalar(select(Report.id).where(Report.award_id == award.id, Report.number == 1))

    # The schedule: 40/40/20, tranche 2 waiting for report 1.
    schedule = page.click(description="Payment schedule")
    form = schedule.forms["schedule"]
    form["schedule-mode"] = "percent"
    for number, share in ((1, "40"), (2, "40"), (3, "20")):
        set_by_id(form, f"schedule-tranche_{number}-share", share)
    set_by_id(form, "schedule-tranche_2-condition", "report_accepted")
    set_by_id(form, "schedule-tranche_2-condition_report", str(report1_id))
    page = form.submit("submit", status=302).follow()
    rows = page.html.find(id="tranches").tbody.find_all("tr")
    assert [text_of(row.find_all("td")[0]).split(" ")[0] for row in rows] == [
        "TND\u00a018,000.002", "TND\u00a018,000.002", "TND\u00a09,000.001"]
    assert REPORT_1 in text_of(rows[1])

    # Tranche 1 has no condition: released, then its payment recorded.
    page = page.forms["release-1"].submit(status=302).follow()
    assert "Tranche 1 is released for payment." in text_of(page.html.find("main"))
    page = record_payment(officer, page, 1, dt.date(2019, 7, 10), "VIR-2019-0711")
    assert text_of(page.html.find(id="disbursed-total")) == "TND\u00a018,000.002"
    assert tranche_state(registry, award_id, 1)[0] == "disbursed"

    # Tranche 2 waits for report 1: refused, with why, and nothing changes.
    before = tranche_state(registry, award_id, 2)
    refused = page.forms["release-2"].submit(status=409)
    assert REPORT_1 in text_of(refused.html.find(id="refusal"))
    assert REPORT_1 in text_of(refused.html.find(id="tranche-2").find(class_="release-refusal"))
    assert tranche_state(registry, award_id, 2) == before == ("pending", 1)

    # The grantee submits report 1 and the officer accepts it.
    with registry.database.transaction() as (_tm, db):
        report = db.get(Report, report1_id)
        report.narrative = "Clubs started in four schools of Kebili and Douz; 180 pupils took part."
        amel = db.scalar(select(User).where(User.email == "amel@example.org"))
        leila = db.scalar(select(User).where(User.email == "leila@example.org"))
        assert db.scalar(select(Membership.id).where(Membership.user_id == amel.id)) is not None
        service = WorkflowService(registry.workflows, db)
        service.fire(report, "submit", amel)
        service.fire(report, "accept", leila)

    # Now tranche 2 is released through the page and paid.
    page = officer.get(award_url)
    assert text_of(page.html.find(id="tranche-2").find(class_="tranche-state")) == "Pending"
    assert page.html.find(id="tranche-2").find(class_="condition-problem") is None
    page = page.forms["release-2"].submit(status=302).follow()
    assert tranche_state(registry, award_id, 2) == ("released", 2)
    page = record_payment(officer, page, 2, dt.date(2019, 10, 30), "VIR-2019-1030")
    assert tranche_state(registry, award_id, 2) == ("disbursed", 3)

    # Exactly what was paid, on the award page and in the database.
    assert text_of(page.html.find(id="disbursed-total")) == "TND\u00a036,000.004"
    assert text_of(page.html.find(id="released-total")) == "TND\u00a036,000.004"
    payments = [text_of(tr) for tr in page.html.find(id="payment-list").tbody.find_all("tr")]
    assert payments == ["10 Jul 2019 1 TND\u00a018,000.002 VIR-2019-0711", "30 Oct 2019 2 TND\u00a018,000.002 VIR-2019-1030"]
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.sum(Disbursement.amount_minor)).where(Disbursement.award_id == award_id)) \
            == 36_000_004
    listing = officer.get(round_url + "/@@awards")
    assert text_of(listing.html.find(id=f"award-{award_id}").find(class_="disbursed")) == "TND\u00a036,000.004"

    # The evaluator reads the award, and may do nothing with its money.
    evaluator = browser(app, "eva@example.org")
    page = evaluator.get(award_url)
    assert text_of(page.html.find(id="disbursed-total")) == "TND\u00a036,000.004"
    assert page.html.find("form", id="release-3") is None and page.html.find(id="actions") is None
    with registry.database.transaction() as (_tm, db):
        tranche3 = db.scalar(select(Tranche.id).where(Tranche.award_id == award_id, Tranche.position == 3))
    token = page.html.find("input", attrs={"name": "csrf_token"})["value"]
    evaluator.post(f"{award_url}/tranches/{tranche3}/@@release", {"csrf_token": token}, status=403)
    evaluator.get(f"{award_url}/tranches/{tranche3}/@@disburse", status=403)
    evaluator.get(award_url + "/@@schedule", status=403)
    evaluator.get(award_url + "/@@amend", status=403)
    evaluator.get(f"{round_url}/@@make-award?application={application_id}", status=403)
    evaluator.get(round_url + "/@@awards", status=403)
    assert tranche_state(registry, award_id, 3) == ("pending", 1)
