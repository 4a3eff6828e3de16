"""Award pages through WebTest (the real app): the round's awards, making an award with
its agreement, the award page as each role sees it, amending, the payment schedule, the
award's own steps (no-cost extension, early end) and budget against actual — money shown
exactly, in the page's language."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import webtest
from sqlalchemy import func, select

import factories as f
from grants.accounts.organisations import add_member_without_invitation
from grants.awards import services
from grants.awards.models import Award, Tranche
from grants.money import Money, format_money
from grants.multilingual import texts
from grants.programmes import services as programmes


def tnd(amount: str) -> Money:
    return Money(Decimal(amount), "TND")


def browser(app, email=None) -> webtest.TestApp:
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    if email:
        f.sign_in(client, email)
    return client


def text_of(node) -> str:
    return node.get_text(" ", strip=True)


def main_text(page) -> str:
    return text_of(page.html.find("main"))


def people_and_award(registry, *, amount=None):
    """An officer (on the programme), a member of the grantee, an evaluator (on the round)
    and an active award; committed.  Returns (award url, round url, ids)."""
    with registry.database.transaction() as (_tm, db):
        award = f.award(db, registry, amount=amount or tnd("45000.000"))
        officer = f.user(db, email="leila@example.org", name="Leila Ben Salah")
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        member = f.user(db, email="amel@example.org", name="Amel")
        add_member_without_invitation(db, award.application.organisation, member)
        evaluator = f.user(db, email="eva@example.org", name="Eva Evaluator")
        f.grant_role(db, evaluator, "evaluator", award.round)
        rnd = award.round
        round_url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        return f"{round_url}/awards/{award.id}", round_url, {"award": award.id, "round": rnd.id}


def set_by_id(form, input_id, value):
    """Inputs inside a group share names (day, month, year): find one by its id."""
    (field,) = [field for _name, field in form.field_order if field.id == input_id]
    field.value = value


def set_date(form, prefix, day):
    for part in ("day", "month", "year"):
        set_by_id(form, f"{prefix}-{part}", str(getattr(day, part)))


def summary(page) -> list[str]:
    box = page.html.find(class_="error-summary")
    assert box is not None, "no error summary"
    return [text_of(li) for li in box.find_all("li")]


def award_of(registry, award_id):
    with registry.database.transaction() as (_tm, db):
        award = db.get(Award, award_id)
        return {"amount": award.amount, "ends_on": award.ends_on, "state": award.state,
                "agreement": award.agreement_file.filename if award.agreement_file else None,
                "amendments": [(a.kind, a.before, a.after, a.reason) for a in award.amendments]}


# -- the round's awards --------------------------------------------------------------------------------------


def test_the_round_lists_its_awards_with_exact_totals_per_currency(app, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org")
        rnd = f.round_(db, registry)
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        first = f.award(db, registry, rnd=rnd, amount=tnd("12345.678"))
        f.award(db, registry, rnd=rnd, amount=tnd("0.001"), title="Radio in Douz")
        f.award(db, registry, rnd=rnd, amount=Money(Decimal("1000.01"), "GBP"), title="Debate clubs")
        (tranche, rest) = services.set_schedule(db, registry, first, [{"percent": Decimal("33.3333")},
                                                                      {"percent": Decimal("66.6667")}])
        service = f.WorkflowService(registry.workflows, db)
        service.fire(tranche, "release", actor=f.SYSTEM)
        service.fire(tranche, "disburse", actor=f.SYSTEM, data={"amount": tranche.amount,
                                                                "paid_on": dt.date(2019, 7, 5)})
        waiting = f.application(db, registry, rnd, f.organisation(db, name="Nour"), title="Murals", state="eligible")
        service.fire(waiting, "select", actor=f.SYSTEM, data={"funder_reference": ""}, comment="Selected")
        round_url, first_id, waiting_id = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}", first.id, waiting.id
    officer = browser(app, "leila@example.org")
    round_page = officer.get(round_url)
    page = round_page.click(description="Awards and payments")  # the round page's link: round/awards/
    assert page.request.path == round_url + "/awards"
    totals = page.html.find(id="totals")
    assert [text_of(b) for b in totals.find(class_="awarded").find_all("bdi")] == ["£1,000.01", "TND\u00a012,345.679"]
    assert [text_of(b) for b in totals.find(class_="disbursed").find_all("bdi")] == ["£0.00", "TND\u00a04,115.221"]
    assert text_of(page.html.find(id=f"award-{first_id}").find(class_="disbursed")) == "TND\u00a04,115.221"
    link = page.html.find(id=f"make-award-{waiting_id}")
    assert link["href"].endswith(f"@@make-award?application={waiting_id}") or \
        link["href"].endswith(f"make-award?application={waiting_id}")
    assert text_of(officer.get(round_url + "/@@awards").html.find(id="totals")) == text_of(totals)


# -- making an award -----------------------------------------------------------------------------------------


def selected_application(registry, *, amount=None):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org")
        prog = f.programme(db)
        prog.currency = "TND"
        rnd = f.round_(db, registry, prog)
        f.grant_role(db, officer, "programme_officer", prog)
        member = f.user(db, email="amel@example.org")
        application = f.application(db, registry, rnd, f.organisation(db, member, name="AFEK"), state="eligible",
                                    amount=amount or tnd("30000"))
        f.WorkflowService(registry.workflows, db).fire(application, "select", actor=f.SYSTEM,
                                                       data={"funder_reference": ""}, comment="Selected")
        round_url = f"/programmes/{prog.id}/rounds/{rnd.id}"
        return round_url, application.id


def test_a_refused_award_keeps_what_was_typed_and_the_agreement(app, registry):
    round_url, application_id = selected_application(registry)
    officer = browser(app, "leila@example.org")
    form = officer.get(f"{round_url}/@@make-award?application={application_id}").forms["award"]
    form["amount"] = "12,345.678"
    set_date(form, "award-starts_on", dt.date(2019, 7, 1))
    set_date(form, "award-ends_on", dt.date(2019, 6, 30))
    form["award-cadence"] = "half_yearly"
    form["agreement"] = webtest.Upload("agreement.pdf", f.PDF, "application/pdf")
    form["source_amount"] = "4,200"
    form["source_currency"] = "USD"
    refused = form.submit("submit", status=400)
    assert refused.html.title.get_text().strip().startswith("Error:")
    assert summary(refused) == ["The end date must be after the start date.",
                                "Give the exchange rate used from the source budget."]
    assert "The end date must be after the start date." in text_of(refused.html.find(id="award-ends_on"))
    kept = refused.forms["award"]
    assert (kept["amount"].value, kept["award-cadence"].value, kept["source_amount"].value) == (
        "12,345.678", "half_yearly", "4,200")
    assert "Already uploaded: agreement.pdf" in text_of(refused.html.find(id="kept-award-agreement"))
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count(Award.id))) == 0

    # A text file posing as the agreement is refused beside its field; the PDF stays kept.
    kept["agreement"] = webtest.Upload("agreement.pdf", b"not a pdf at all", "application/pdf")
    set_date(kept, "award-ends_on", dt.date(2020, 6, 30))
    again = kept.submit("submit", status=400)
    assert summary(again) == ["The file “agreement.pdf” is named like a PDF but is not one: save it again as a PDF, "
                              "or choose another file."]
    assert "Already uploaded: agreement.pdf" in text_of(again.html.find(id="kept-award-agreement"))

    # A signing day still to come is refused before anything is made.
    form = again.forms["award"]
    form["fx_rate"] = "2,9394"
    set_date(form, "award-agreement_signed_on", dt.date.today() + dt.timedelta(days=2))
    later = form.submit("submit", status=400)
    assert summary(later) == ["The agreement cannot be signed on a day still to come."]
    assert "Already uploaded: agreement.pdf" in text_of(later.html.find(id="kept-award-agreement"))
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count(Award.id))) == 0

    # Fixed, with no file chosen again: the kept agreement is used.
    form = later.forms["award"]
    for part in ("day", "month", "year"):
        set_by_id(form, f"award-agreement_signed_on-{part}", "")
    page = form.submit("submit", status=302).follow()
    assert "Award made: TND\u00a012,345.678 to AFEK." in main_text(page)
    assert text_of(page.html.find(id="source-budget")).startswith("$4,200.00 at 2.9394 TND per USD")
    with registry.database.transaction() as (_tm, db):
        award = db.scalar(select(Award))
        assert (award.amount_minor, award.cadence, award.agreement_file.filename, award.agreement_signed_on,
                award.source_amount_minor, award.source_currency, award.fx_rate) == (
            12_345_678, "half_yearly", "agreement.pdf", None, 420_000, "USD", Decimal("2.9394"))


def test_an_award_in_another_currency_than_the_programme(app, registry):
    round_url, application_id = selected_application(registry)
    officer = browser(app, "leila@example.org")
    form = officer.get(f"{round_url}/@@make-award?application={application_id}").forms["award"]
    form["currency"] = "UGX"
    form["amount"] = "100,001.5"
    set_date(form, "award-starts_on", dt.date(2019, 7, 1))
    set_date(form, "award-ends_on", dt.date(2020, 6, 30))
    refused = form.submit("submit", status=400)
    assert summary(refused) == ["UGX has no decimals: enter a whole number, like 1,500"]
    form = refused.forms["award"]
    form["amount"] = "100 001"
    page = form.submit("submit", status=302).follow()
    assert text_of(page.html.find(id="amount")) == "UGX\u00a0100,001"
    # Made once: the page says so and a second try is refused.
    again = officer.get(f"{round_url}/@@make-award?application={application_id}")
    assert again.html.find(id="existing") is not None
    officer.get(f"{round_url}/@@make-award?application=999999", status=404)


# -- the award page, by role ---------------------------------------------------------------------------------


def test_each_role_sees_the_award_page_it_should(app, registry):
    award_url, round_url, ids = people_and_award(registry)
    with registry.database.transaction() as (_tm, db):
        award = db.get(Award, ids["award"])
        services.record_agreement(db, award, file=services.store_agreement(db, registry, filename="signed.pdf",
                                                                           data=f.PDF))
        services.set_schedule(db, registry, award, [{"percent": Decimal(100)}])
        f.user(db, email="stranger@example.org")

    officer = browser(app, "leila@example.org")
    page = officer.get(award_url)
    assert page.html.find("form", id="release-1") is not None
    assert [a.get_text(strip=True) for a in page.html.find(id="actions").find_all("a")] == [
        "Amend the amount or dates", "Payment schedule", "Grant agreement", "Grant a no-cost extension",
        "End the grant early"]
    assert "Close the grant : 4 reports are not accepted yet." in text_of(page.html.find(id="actions"))

    member = browser(app, "amel@example.org")
    page = member.get(award_url)
    assert text_of(page.html.find(id="state")) == "Active"
    assert page.html.find("form", id="release-1") is None and page.html.find(id="actions") is None
    assert [a["href"].rpartition("/")[2] for a in page.html.find(id="mel-links").find_all("a")] == [
        "@@framework", "@@reports", "@@surveys", "@@evidence", "@@budget", "@@assessments"]
    assert member.get(award_url + "/@@agreement-file").body == f.PDF
    member.get(award_url + "/@@schedule", status=403)
    token = page.html.find("input", attrs={"name": "csrf_token"})["value"]
    with registry.database.transaction() as (_tm, db):
        tranche_id = db.scalar(select(Tranche.id).where(Tranche.award_id == ids["award"]))
    member.post(f"{award_url}/tranches/{tranche_id}/@@release", {"csrf_token": token}, status=403)
    landed = member.get(f"{award_url}/tranches/{tranche_id}", status=302)  # a tranche lives on its award's page
    assert landed.location.endswith(f"/awards/{ids['award']}/#tranche-1")

    evaluator = browser(app, "eva@example.org")
    page = evaluator.get(award_url)
    assert page.html.find(id="mel-links") is not None and page.html.find(id="actions") is None
    assert evaluator.get(award_url + "/@@agreement-file").body == f.PDF
    for path in ("/@@amend", "/@@schedule", "/@@agreement", f"/tranches/{tranche_id}/@@disburse"):
        evaluator.get(award_url + path, status=403)

    stranger = browser(app, "stranger@example.org")
    stranger.get(award_url, status=403)
    stranger.get(award_url + "/@@agreement-file", status=403)


def test_the_award_page_speaks_the_reader_s_language(app, registry):
    award_url, _round_url, _ids = people_and_award(registry, amount=tnd("12345.678"))
    member = browser(app, "amel@example.org")
    for locale in ("fr", "ar"):
        page = member.get(award_url, params={"_LOCALE_": locale})
        assert page.html.find("html")["lang"] == locale
        assert text_of(page.html.find(id="amount")) == format_money(tnd("12345.678"), locale).strip()
    assert page.html.find("html")["dir"] == "rtl"


# -- amending ------------------------------------------------------------------------------------------------


def test_an_amendment_needs_its_reason_and_shows_before_and_after(app, registry):
    award_url, _round_url, ids = people_and_award(registry)
    officer = browser(app, "leila@example.org")
    form = officer.get(award_url + "/@@amend").forms["amend"]
    assert form["amount"].value == "45,000.000"
    form["amount"] = "50 000,5"
    refused = form.submit("submit", status=400)
    assert summary(refused) == ["Give the reason for the change: it is kept with the award."]
    assert refused.forms["amend"]["amount"].value == "50 000,5"
    assert award_of(registry, ids["award"])["amendments"] == []

    form = refused.forms["amend"]
    form["reason"] = "A fifth school joins the project."
    page = form.submit("submit", status=302).follow()
    row = text_of(page.html.find(id="amendment-history").tbody.find("tr"))
    assert "Amount changed TND\u00a045,000.000 TND\u00a050,000.500 A fifth school joins the project." in row
    assert "Leila Ben Salah" in row
    assert award_of(registry, ids["award"])["amount"] == tnd("50000.500")

    form = officer.get(award_url + "/@@amend").forms["amend"]
    set_date(form, "amend-ends_on", dt.date(2019, 6, 1))
    form["reason"] = "Mistake"
    refused = form.submit("submit", status=400)
    assert summary(refused) == ["The end date must be after the start date."]


# -- the payment schedule ------------------------------------------------------------------------------------


def test_the_schedule_page_refuses_shares_that_do_not_add_up(app, registry):
    award_url, _round_url, ids = people_and_award(registry, amount=Money(Decimal(100_001), "UGX"))
    officer = browser(app, "leila@example.org")
    form = officer.get(award_url + "/@@schedule").forms["schedule"]
    for number in (1, 2, 3):
        set_by_id(form, f"schedule-tranche_{number}-share", "33,33")
    refused = form.submit("submit", status=400)
    assert summary(refused) == ["The percentages add up to 99.99 %; they must add up to exactly 100 %."]
    form = refused.forms["schedule"]
    assert [f.value for _n, f in form.field_order if f.id and f.id.endswith("-share")][:3] == ["33,33"] * 3

    form["schedule-mode"] = "amount"
    for number, share in ((1, "33,330"), (2, "33 330"), (3, "33,340")):
        set_by_id(form, f"schedule-tranche_{number}-share", share)
    refused = form.submit("submit", status=400)
    assert summary(refused) == [
        "The tranches add up to UGX\u00a0100,000; the award is UGX\u00a0100,001: they must be equal (UGX\u00a01 to add)."]

    form = refused.forms["schedule"]
    form["schedule-mode"] = "percent"
    for number, share in ((1, "33.33"), (2, "33,33"), (3, "33.34 %")):
        set_by_id(form, f"schedule-tranche_{number}-share", share)
    set_by_id(form, "schedule-tranche_4-condition", "report_accepted")
    refused = form.submit("submit", status=400)
    assert summary(refused) == ["Give tranche 4's percentage or amount.", "Choose the report tranche 4 waits for."]
    assert "Give tranche 4's percentage or amount." in text_of(refused.html.find(id="schedule-tranche_4"))

    form = refused.forms["schedule"]
    set_by_id(form, "schedule-tranche_4-condition", "none")
    page = form.submit("submit", status=302).follow()
    amounts = [text_of(row.find_all("td")[0]).split(" ")[0]
               for row in page.html.find(id="tranches").tbody.find_all("tr")]
    assert amounts == ["UGX\u00a033,330", "UGX\u00a033,330", "UGX\u00a033,341"]
    assert text_of(page.html.find(id="scheduled-total")) == "UGX\u00a0100,001"
    with registry.database.transaction() as (_tm, db):
        rows = db.scalars(select(Tranche.amount_minor).where(Tranche.award_id == ids["award"])
                          .order_by(Tranche.position)).all()
        assert rows == [33_330, 33_330, 33_341]

    # Released: the schedule is shown, no longer changed.
    page = page.forms["release-1"].submit(status=302).follow()
    locked = officer.get(award_url + "/@@schedule")
    assert locked.html.find(id="locked") is not None and "schedule" not in locked.forms
    token = locked.html.find("input", attrs={"name": "csrf_token"})["value"]
    officer.post(award_url + "/@@schedule", {"csrf_token": token, "__formid__": "schedule"}, status=409)


# -- the award's own steps -----------------------------------------------------------------------------------


def test_a_no_cost_extension_through_its_step_page(app, registry):
    award_url, _round_url, ids = people_and_award(registry)
    officer = browser(app, "leila@example.org")
    step = officer.get(award_url).click(description="Grant a no-cost extension")
    form = f.main_form(step)
    form["day"], form["month"], form["year"] = "30", "6", "2020"
    form["comment"] = "The schools closed for a term."
    refused = form.submit("fire", status=409)
    assert "A no-cost extension must end after the current end date (2020-06-30)." in text_of(refused.html.find("main"))
    form = f.main_form(refused)
    form["month"] = "9"
    page = form.submit("fire", status=302).follow()
    assert "From 1 Jul 2019 to 30 Sept 2020" in text_of(page.html.find(id="dates"))
    row = text_of(page.html.find(id="amendment-history").tbody.find("tr"))
    assert "No-cost extension Ends 30 Jun 2020 Ends 30 Sept 2020 The schools closed for a term." in row
    assert award_of(registry, ids["award"])["amendments"] == [
        ("no_cost_extension", {"ends_on": "2020-06-30"}, {"ends_on": "2020-09-30"}, "The schools closed for a term.")]


def test_ending_early_through_its_step_page_needs_both_texts(app, registry):
    award_url, _round_url, ids = people_and_award(registry)
    officer = browser(app, "leila@example.org")
    step = officer.get(award_url).click(description="End the grant early")
    form = f.main_form(step)
    form["day"], form["month"], form["year"] = "15", "11", "2019"
    form["rationale"] = "The partner school closed."
    refused = form.submit("fire", status=400)
    assert summary(refused) == [
        "Give the exit plan: how the work and the people it serves are handed over or wound down"]
    assert award_of(registry, ids["award"])["state"] == "active"
    form = f.main_form(refused)
    assert form["rationale"].value == "The partner school closed."
    form["exit_plan"] = "The clubs are handed to the schools' teachers, with a term of coaching."
    page = form.submit("fire", status=302).follow()
    assert text_of(page.html.find(id="state")) == "Ended early"
    assert text_of(page.html.find(id="exit-plan")).startswith("The clubs are handed")
    assert award_of(registry, ids["award"])["amendments"][0][0] == "early_end"


# -- budget against actual -----------------------------------------------------------------------------------


def test_officers_set_the_budget_and_the_grantee_records_spending(app, registry):
    award_url, _round_url, ids = people_and_award(registry, amount=tnd("12345.678"))
    officer = browser(app, "leila@example.org")
    form = officer.get(award_url + "/@@budget").forms["budget"]
    set_by_id(form, "budget-line_1-category", "Staff")
    set_by_id(form, "budget-line_1-planned", "6,000.001")
    set_by_id(form, "budget-line_2-category", "Activities")
    set_by_id(form, "budget-line_2-planned", "6,345.676")
    refused = form.submit("submit", status=400)
    assert summary(refused) == [
        "The budget lines add up to TND\u00a012,345.677; the award is TND\u00a012,345.678: they must be equal."]
    form = refused.forms["budget"]
    set_by_id(form, "budget-line_2-planned", "6,345.677")
    page = form.submit("submit", status=302).follow()
    assert "spend" in page.forms  # officers may record spending too

    member = browser(app, "amel@example.org")
    page = member.get(award_url + "/@@budget")
    assert "budget" not in page.forms
    for amount in ("1,000.333", "1,000.333", "0.001"):
        form = page.forms["spend"]
        form["line"] = form["line"].options[1][0]
        form["amount"] = amount
        set_date(form, "spend-spent_on", dt.date(2019, 8, 1))
        page = form.submit("submit", status=302).follow()
    total = [text_of(td) for td in page.html.find(id="budget-total").find_all("td")]
    assert total == ["TND\u00a012,345.678", "TND\u00a02,000.667", "TND\u00a010,345.011", "16.21%"]
    form = page.forms["spend"]
    form["line"] = form["line"].options[1][0]
    form["amount"] = "10"
    set_date(form, "spend-spent_on", dt.date(2021, 1, 1))
    refused = form.submit("submit", status=400)
    assert summary(refused) == ["Give a day within the grant, from 1 Jul 2019 to 30 Jun 2020."]
    token = page.html.find("input", attrs={"name": "csrf_token"})["value"]
    member.post(award_url + "/@@budget", {"csrf_token": token, "__formid__": "budget"}, status=403)

    evaluator = browser(app, "eva@example.org")
    page = evaluator.get(award_url + "/@@budget")
    assert "spend" not in page.forms and "budget" not in page.forms
    token = page.html.find("input", attrs={"name": "csrf_token"})["value"]
    evaluator.post(award_url + "/@@budget", {"csrf_token": token, "__formid__": "spend"}, status=403)


@pytest.mark.parametrize("lang, forty, rate, spent", [
    ("en", "40%", "2.9394", "12.50%"),
    ("fr", "40\u00a0%", "2,9394", "12,50\u00a0%"),
    ("ar", "40%", "2.9394", "12.50%"),
])
def test_shares_rates_and_percentages_are_written_as_the_language_writes_numbers(app, registry, lang, forty, rate,
                                                                                   spent):
    """A Decimal is never shown as Python prints it ("4E+1 %" for a normalised 40)."""
    url, _round_url, ids = people_and_award(registry, amount=tnd("40000.000"))
    with registry.database.transaction() as (_tm, db):
        award = db.get(Award, ids["award"])
        award.fx_rate, award.source_currency, award.source_amount_minor = Decimal("2.9394"), "USD", 1_360_822
        services.set_schedule(db, registry, award, [{"percent": Decimal("40")}, {"percent": Decimal("60")}])
        lines = services.set_budget(db, award, [("Staff", tnd("20000.000")), ("Activities", tnd("20000.000"))])
        services.record_expenditure(db, lines[0], amount=tnd("2500.000"), spent_on=dt.date(2019, 9, 1))
    officer = browser(app, "leila@example.org")
    officer.set_cookie("grants_lang", lang)
    page = officer.get(url)
    text = main_text(page)
    assert "E+" not in text and "4E" not in text
    assert forty in text_of(page.html.find(id="tranche-1"))
    assert rate in text_of(page.html.find(id="source-budget"))
    assert spent in text_of(page.html.find(id="budget-summary")) and spent in main_text(officer.get(url + "/@@budget"))


def test_budget_lines_are_named_in_every_language_of_the_programme(app, registry):
    award_url, _round_url, ids = people_and_award(registry, amount=tnd("10000.000"))
    with registry.database.transaction() as (_tm, db):
        award = db.get(Award, ids["award"])
        programmes.set_content_languages(db, award.round.programme, ["en", "ar"], "en")
    officer = browser(app, "leila@example.org")
    page = officer.get(award_url + "/@@budget")
    arabic = page.html.find(id="budget-line_1-category-ar")
    assert (arabic["lang"], arabic["dir"]) == ("ar", "rtl")
    assert page.html.find(id="budget-line_1-category-en")["lang"] == "en"
    form = page.forms["budget"]
    # A line named only in Arabic: the default language's name is needed; nothing is stored.
    set_by_id(form, "budget-line_1-category-ar", "الموظفون")
    set_by_id(form, "budget-line_1-planned", "10,000")
    refused = form.submit("submit", status=400)
    assert summary(refused) == ["Name budget line 1, like “Staff”."]
    form = refused.forms["budget"]
    assert [f.value for _n, f in form.field_order if f.id == "budget-line_1-category-ar"] == ["الموظفون"]
    set_by_id(form, "budget-line_1-category-en", "Staff")
    set_by_id(form, "budget-line_1-planned", "6,000")
    set_by_id(form, "budget-line_2-category-en", "Activities")  # not translated yet
    set_by_id(form, "budget-line_2-planned", "4,000")
    form.submit("submit", status=302)
    with registry.database.transaction() as (_tm, db):
        lines = db.get(Award, ids["award"]).budget_lines
        assert [texts(line, "category") for line in lines] == [{"en": "Staff", "ar": "الموظفون"},
                                                               {"en": "Activities"}]
    officer.set_cookie("grants_lang", "ar")
    page = officer.get(award_url + "/@@budget")
    rows = page.html.find(id="budget-lines").find("tbody").find_all("tr")
    assert text_of(rows[0].find("th")) == "الموظفون"
    fallback = rows[1].find("th").find("span", lang="en")
    assert fallback.get_text() == "Activities" and fallback["dir"] == "ltr"
    assert rows[1].find("th").find(class_="not-translated") is not None
    assert page.forms["budget"].get("category", index=1).value == "Activities"  # the editor keeps each language
    assert text_of(browser(app, "leila@example.org").get(award_url + "/@@budget").html.find(
        id="budget-lines").find("tbody").find("th")) == "Staff"
