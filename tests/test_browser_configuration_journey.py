"""Issue 11's acceptance journey in a real Chromium, by clicking and typing only: an
administrator creates a programme in English and Arabic and invites an officer, who registers
from the mailed link; the officer builds a three-section form (a conditional question, a
budget table, a document slot), previews it in Arabic and publishes it, builds and publishes
a weighted rubric; the administrator makes a workflow variant with an extra step and releases
it; the officer creates a round, sets two eligibility rules, picks the form, rubric and
variant from their lists and opens the call from the checklist; an organisation applies in
Arabic; the officer returns the application for changes and it is resubmitted; a reviewer
scores it with the rubric; and every configuration change is on the history pages.

The database is touched only to create the first administrator, the applicant with their
organisation and the reviewer's account, as the other browser tests do."""
from __future__ import annotations

import re

import pytest

import factories as f

pytestmark = pytest.mark.browser

ADMIN, OFFICER, APPLICANT, REVIEWER = ("admin@example.org", "nour@example.org", "amel@example.org",
                                       "sami@example.org")
RETURN_MESSAGE = "Add the cost of compost to your budget lines, please."


# -- small helpers ------------------------------------------------------------------------------


def submit(page, button) -> None:
    """Click something that loads a new page, and wait for it."""
    with page.expect_navigation():
        button.click()


def sign_in(page, live, email, password=f.PASSWORD) -> None:
    """In English: the browser keeps the language last chosen in it, by whoever chose it."""
    page.goto(live + "/login")
    if page.locator("html").get_attribute("lang") != "en":
        submit(page, page.locator("#language-form button[value=en]"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    submit(page, page.get_by_role("button", name="Sign in").last)
    assert page.locator("#logout-form").is_visible()


def sign_out(page) -> None:
    submit(page, page.locator("#logout-form button"))


def flash(page) -> str:
    return page.locator("main [role=status]").inner_text()


def history_rows(page) -> list[list[str]]:
    """The history table's rows, without the moment: who, what, before, after."""
    rows = page.locator("#configuration-changes tbody tr")
    return [[" ".join(c.split()) for c in rows.nth(i).locator("td").all_inner_texts()][1:]
            for i in range(rows.count())]


def has_change(rows, what, after_contains, before=None) -> bool:
    return any(r[1] == what and after_contains in r[3] and (before is None or r[2] == before) for r in rows)


# -- the stages -----------------------------------------------------------------------------------


def admin_creates_the_programme(page, live) -> str:
    """Returns the programme's address."""
    sign_in(page, live, ADMIN)
    page.goto(live + "/programmes")
    submit(page, page.get_by_role("link", name="Add a programme"))
    for box in page.locator("input[name=checkbox]").all():  # the programme's languages
        if box.get_attribute("value") in ("en", "ar"):
            box.check()
        else:
            box.uncheck()
    page.locator("#programme-title-en").fill("Neighbourhood Fund")
    page.locator("#programme-title-ar").fill("صندوق الأحياء")
    page.locator("#programme-description-en").fill("Small grants for neighbourhood associations.")
    page.locator("#programme-description-ar").fill("منح صغيرة لجمعيات الأحياء.")
    page.get_by_label("Currency").select_option("TND")
    submit(page, page.get_by_role("button", name="Create the programme"))
    assert "Programme created: Neighbourhood Fund." in flash(page)
    return page.url.rstrip("/")


def admin_invites_the_officer(page, live, programme_url) -> None:
    page.goto(programme_url)
    submit(page, page.locator("#people-link"))
    page.get_by_label("Their e-mail address").fill(OFFICER)
    page.get_by_label("Role").select_option("programme_officer")
    submit(page, page.get_by_role("button", name="Send the invitation"))
    assert page.locator("#waiting").get_by_text(OFFICER).is_visible()


def officer_registers_from_the_invitation(page, registry, programme_url) -> None:
    mail = [m for m in registry.mailer.sent() if m["To"] == OFFICER][-1]
    page.goto(re.search(r"(http://\S+/role-invitations/\S+)", mail.get_content()).group(1))
    submit(page, page.get_by_role("link", name="Create an account to accept"))
    page.get_by_label("Full name").fill("Nour Officer")
    page.get_by_label("Password").fill("a long enough passphrase")
    submit(page, page.get_by_role("button", name="Create account and accept"))
    assert page.url.rstrip("/") == programme_url
    assert page.get_by_text("You now have the role “Programme officer” on Neighbourhood Fund.").is_visible()


def fill_texts(page, prefix, en, ar) -> None:
    """One text of the form builder in English and Arabic (French falls back to English)."""
    page.locator(f"#field-{prefix}-en").fill(en)
    page.locator(f"#field-{prefix}-ar").fill(ar)


def add_question(page, section, kind) -> int:
    """Adds a question of ``kind`` to ``section`` (the button saves what is typed); its index."""
    before = page.locator(f"#s-{section} [id^=s-{section}-q-]").count()
    page.locator(f"#new-kind-{section}").select_option(kind)
    submit(page, page.locator(f"#add-question-{section}"))
    return before


def officer_builds_the_form(page, programme_url) -> None:
    """Three sections: the project (with a question shown only for a partner), the budget (a
    table of lines added up, the amount, and a document slot) and a contact."""
    page.goto(programme_url)
    submit(page, page.locator("#forms-link"))
    page.locator("#new-key").fill("neighbourhood")
    page.locator("#new-title-en").fill("Neighbourhood application")
    page.locator("#new-title-ar").fill("طلب الأحياء")
    submit(page, page.locator("#create"))
    page.locator("#field-fallback").check()  # French, which the programme does not use, shows English

    # Section 1: the project.
    page.locator("#field-s-0-name").fill("project")
    fill_texts(page, "s-0-title", "Your project", "مشروعك")
    q = add_question(page, 0, "short_text")
    page.locator(f"#field-s-0-q-{q}-name").fill("project_title")
    page.locator(f"#field-s-0-q-{q}-required").check()
    fill_texts(page, f"s-0-q-{q}-label", "Project title", "عنوان المشروع")
    q = add_question(page, 0, "yes_no")
    page.locator(f"#field-s-0-q-{q}-name").fill("has_partner")
    page.locator(f"#field-s-0-q-{q}-required").check()
    fill_texts(page, f"s-0-q-{q}-label", "Do you work with a partner?", "هل تعملون مع شريك؟")
    q = add_question(page, 0, "short_text")
    page.locator(f"#field-s-0-q-{q}-name").fill("partner_name")
    page.locator(f"#field-s-0-q-{q}-required").check()
    fill_texts(page, f"s-0-q-{q}-label", "Partner's name", "اسم الشريك")
    page.locator(f"#field-s-0-q-{q}-condition-question").fill("has_partner")
    page.locator(f"#field-s-0-q-{q}-condition-value").fill("yes")

    # Section 2: the budget.
    submit(page, page.locator("#add-section"))
    page.locator("#field-s-1-name").fill("budget")
    fill_texts(page, "s-1-title", "Your budget", "ميزانيتك")
    q = add_question(page, 1, "table")
    page.locator(f"#field-s-1-q-{q}-name").fill("lines")
    page.locator(f"#field-s-1-q-{q}-required").check()
    fill_texts(page, f"s-1-q-{q}-label", "Budget lines", "بنود الميزانية")
    page.locator(f"#field-s-1-q-{q}-columns").fill("item = short_text\ncost = money")
    page.locator(f"#field-s-1-q-{q}-total").fill("cost")
    page.locator(f"#field-s-1-q-{q}-rows").fill("3")
    fill_texts(page, f"s-1-q-{q}-column-labels", "item = Item\ncost = Cost", "item = البند\ncost = الكلفة")
    q = add_question(page, 1, "money")
    page.locator(f"#field-s-1-q-{q}-name").fill("amount")
    page.locator(f"#field-s-1-q-{q}-required").check()
    fill_texts(page, f"s-1-q-{q}-label", "Amount asked", "المبلغ المطلوب")
    submit(page, page.locator("#add-document-1"))
    page.locator("#field-s-1-d-0-kind").fill("budget_plan")
    page.locator("#field-s-1-d-0-required").check()
    fill_texts(page, "s-1-d-0-title", "Budget plan", "خطة الميزانية")

    # Section 3: a contact.
    submit(page, page.locator("#add-section"))
    page.locator("#field-s-2-name").fill("contact")
    fill_texts(page, "s-2-title", "Contact", "الاتصال")
    q = add_question(page, 2, "email")
    page.locator(f"#field-s-2-q-{q}-name").fill("email")
    page.locator(f"#field-s-2-q-{q}-required").check()
    fill_texts(page, f"s-2-q-{q}-label", "E-mail", "البريد الإلكتروني")
    page.locator("#field-amount_question").fill("budget.amount")
    page.locator("#field-title_question").fill("project.project_title")
    submit(page, page.locator("#save"))
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()


def officer_previews_in_arabic_and_publishes(page) -> None:
    editor = page.url
    submit(page, page.locator("#preview-ar"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "مشروعك"
    assert page.locator("legend", has_text="هل تعملون مع شريك؟").is_visible()
    # The conditional question says when to answer it, all in Arabic ("نعم", not "Yes").
    note = page.locator("#help-section-partner_name").inner_text()
    assert "«نعم»" in note and "Yes" not in note, note
    page.goto(editor)
    submit(page, page.locator("#publish"))
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    assert page.locator("#status").inner_text() == "Published"


def officer_builds_and_publishes_the_rubric(page, programme_url) -> None:
    """Two weighted criteria; titles in the programme's two languages (publishing needs them)."""
    page.goto(programme_url)
    submit(page, page.locator("#rubrics-link"))
    page.get_by_label("Title of the rubric").fill("Neighbourhood review")
    submit(page, page.locator("#new-rubric button[type=submit]"))
    for titles, weight in ((("Need", "الحاجة"), "2"), (("Plan", "الخطة"), "1")):
        for code, title in zip(("English", "العربية"), titles):
            page.get_by_label(f"Title in {code}").fill(title)
        page.get_by_label("Weight").fill(weight)
        submit(page, page.locator("#criterion button[type=submit]"))
    assert page.locator("#criteria-table tbody tr").count() == 2
    submit(page, page.locator("#publish-form button[type=submit]"))
    assert "Published: it can no longer change." in page.locator("main").inner_text()


def admin_makes_and_releases_the_workflow_variant(page, live) -> None:
    """A copy of the application workflow with a panel between eligible and selected."""
    page.goto(live + "/workflows")
    submit(page, page.locator("#workflow-editor-link"))
    page.locator("#source").select_option("application:1")
    page.locator("#workflow_id").fill("application_panel")
    page.locator("#title").fill("Application with a panel")
    submit(page, page.locator("#copy-workflow button[type=submit]"))
    page.locator("#state-id").fill("panel")
    page.locator("#state-title-en").fill("Before the panel")
    page.locator("#state-title-ar").fill("أمام اللجنة")
    page.locator("#state-like").select_option("eligible")
    submit(page, page.locator("#state-form button[value=save_state]"))
    for trigger, (en, ar), source, target in (("to_panel", ("Send to the panel", "إحالة إلى اللجنة"), "eligible", "panel"),
                                             ("panel_done", ("Back from the panel", "عودة من اللجنة"), "panel",
                                              "eligible")):
        page.locator("#step-trigger").fill(trigger)
        page.locator("#step-title-en").fill(en)
        page.locator("#step-title-ar").fill(ar)
        page.locator(f"#step-from-{source}").check()
        page.locator("#step-to").select_option(target)
        page.locator("#step-permission").select_option("applications:application:decide")
        submit(page, page.locator("#step-form button[value=save_step]"))
    assert "No problems" in page.locator("#check").inner_text(), page.locator("#check").inner_text()
    assert "panel" in page.locator("#diagram svg").text_content()
    submit(page, page.locator("#release button[value=release]"))
    assert "released" in page.locator(".badge").first.inner_text()


def officer_creates_the_round_and_opens_the_call(page, programme_url) -> str:
    """Names, dates and budget; two eligibility rules; the form, rubric and variant from their
    lists; then the checklist, which offers "Open the call"."""
    page.goto(programme_url)
    submit(page, page.get_by_role("link", name="Add a round"))
    page.locator("#round-title-en").fill("Call 1")
    page.locator("#round-title-ar").fill("الدعوة الأولى")
    page.get_by_label("Time zone").select_option("Africa/Tunis")
    for event, day in (("opens", "2"), ("closes", "28")):
        page.locator(f"#round-{event}-day").fill(day)
        page.locator(f"#round-{event}-month").fill("1")
        page.locator(f"#round-{event}-year").fill("2031")
        page.locator(f"#round-{event}-time").fill("09:00")
    page.get_by_label("Budget").fill("90,000")
    page.get_by_label("Application form version").select_option("neighbourhood@1")
    page.get_by_label("Review rubric").select_option(label="Neighbourhood review, version 1")
    page.get_by_label("Workflow for applications").select_option("application_panel:1")  # a browser-made workflow is chosen by its released version
    page.get_by_label("Only officially registered organisations may apply").check()
    page.get_by_label("Attachments every application must include").fill("budget_plan")
    submit(page, page.get_by_role("button", name="Create the round"))
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    round_url = page.url.rstrip("/")
    submit(page, page.locator("#setup-link"))
    assert page.locator("#setup-missing").count() == 0
    submit(page, page.locator("#open-call"))
    submit(page, page.locator("button[name=fire]"))
    page.goto(round_url + "/setup")
    assert page.locator("#setup-done").is_visible()  # the round has left draft: the call is open
    return round_url


def the_history_pages_show_each_change(page, live, programme_url, round_url) -> None:
    """The officer reads, on each object's history, the changes the journey made."""
    page.goto(programme_url)
    submit(page, page.locator("#history-link"))
    rows = history_rows(page)
    assert has_change(rows, "Created", "Neighbourhood Fund", before="—"), rows
    page.goto(round_url)
    submit(page, page.locator("#round-work #history-link"))
    rows = history_rows(page)
    assert has_change(rows, "Created", "Call 1", before="—"), rows
    assert has_change(rows, "Workflow for applications", "Application with a panel, version 1 (application_panel)",
                      before="The programme's default"), rows
    # What the round was made with: its form, rubric and rules, each from nothing.
    assert has_change(rows, "Application form version", "neighbourhood@1", before="—"), rows
    assert has_change(rows, "Rubric", "Neighbourhood review", before="—"), rows
    assert has_change(rows, "Eligibility rules", "registered", before="—"), rows
    # The rubric: created, two criteria and published, each with before and after.
    page.goto(programme_url)
    submit(page, page.locator("#rubrics-link"))
    submit(page, page.get_by_role("link", name="Neighbourhood review").first)
    history = page.locator("#rubric-history li")
    assert history.count() == 4 and page.locator("#rubric-history details").count() == 4
    assert "الحاجة" in page.locator("#rubric-history").text_content()  # the criterion as saved
    # The form version: started, saved and published.
    page.goto(programme_url)
    submit(page, page.locator("#forms-link"))
    submit(page, page.locator("#version-neighbourhood\\@1"))
    changes = page.locator("#form-changes").inner_text()
    assert "Started the form" in changes and "Published" in changes
    # Each saved field with its text before and after: the conditional question's label.
    rows = [[cell.inner_text().strip() for cell in row.locator("td").all()]
            for row in page.locator("#form-changes tbody tr", has_text="partner_name › label › en").all()]
    assert any(before == "—" and after for _when, _who, _what, before, after in rows), rows
    # The workflow variant: the state, the two steps and the release, with before and after.
    page.goto(live + "/workflow-editor/application_panel/1")
    changes = page.locator("#changes").text_content()
    for what in ("state panel", "step to_panel", "step panel_done", "status"):
        assert what in changes, changes
    assert "أمام اللجنة" in changes


def an_organisation_applies_in_arabic(page, live, round_url) -> str:
    """The applicant reads the site in Arabic, answers "yes" so the partner's name is asked
    and answers it, fills two budget lines (their total shown when checking), attaches the
    budget plan from the budget section, checks the answers and submits.  Returns the
    application's address."""
    sign_in(page, live, APPLICANT)
    submit(page, page.locator("#language-form button[value=ar]"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.goto(round_url)
    assert page.locator("h1").inner_text() == "الدعوة الأولى"
    submit(page, page.locator("#apply"))
    page.locator("form#apply input[name=title]").fill("حدائق الحي")
    submit(page, page.locator("#applysubmit"))
    application_url = page.url.rstrip("/")
    assert [a.strip() for a in page.locator("#task-list a").all_inner_texts()] == ["مشروعك", "ميزانيتك", "الاتصال"]

    # The project: "yes" to the partner question, so its conditional question must be answered.
    submit(page, page.locator("#task-project a"))
    assert page.locator("form#section input[name=project_title]").input_value() == "حدائق الحي"
    partner = page.locator("form#section input[name=partner_name]")
    assert "«نعم»" in page.locator("#help-section-partner_name").inner_text()  # when to answer it
    page.locator("form#section input[type=radio][value=yes]").check()
    submit(page, page.locator("#sectioncontinue"))
    assert "اسم الشريك" in page.locator(".error-summary").inner_text()  # now it is asked
    partner.fill("جمعية الحديقة")
    submit(page, page.locator("#sectioncontinue"))

    # The budget: two lines added up, the amount, and the document this section asks for.
    assert page.locator("h1").inner_text() == "ميزانيتك"
    assert "خطة الميزانية" in page.locator("#section-documents").inner_text()
    attach_url = page.locator("#attach-documents").get_attribute("href")
    page.locator("form#section input[name=item]").nth(0).fill("شتلات")
    page.locator("form#section input[name=cost]").nth(0).fill("١٢٠٠")  # Arabic-Indic digits are read too
    page.locator("form#section input[name=item]").nth(1).fill("أدوات")
    page.locator("form#section input[name=cost]").nth(1).fill("800.5")
    page.locator("form#section input[name=amount]").fill("2000.5")
    submit(page, page.locator("#sectioncontinue"))
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    assert page.locator("h1").inner_text() == "الاتصال"
    page.locator("form#section input[name=email]").fill("amel@example.org")
    submit(page, page.locator("#sectioncontinue"))
    page.goto(live + attach_url if attach_url.startswith("/") else attach_url)
    page.set_input_files("#attachments-budget_plan", files=[
        {"name": "خطة.pdf", "mimeType": "application/pdf", "buffer": f.PDF}])
    submit(page, page.locator("#attachmentslater"))
    page.goto(application_url)
    assert {s.strip() for s in page.locator("#task-list > li .status").all_inner_texts()} == {"مكتمل"}

    # Check the answers (the budget's total is shown) and submit.
    submit(page, page.locator("#check-answers"))
    assert page.locator("#missing").count() == 0, page.locator("#missing").inner_text()
    assert page.locator("#answer-project-has_partner").inner_text().strip() == "نعم"
    assert page.locator("#answer-project-partner_name").inner_text().strip() == "جمعية الحديقة"
    lines = " ".join(page.locator("#answer-budget-lines").inner_text().split())
    assert "شتلات" in lines and "أدوات" in lines and "المجموع" in lines and "2,000.500" in lines, lines
    document = page.locator("#document-budget_plan").inner_text()
    assert "خطة.pdf" in document and "كيلوبايت" in document and "KB" not in document, document  # its size, in Arabic
    submit(page, page.locator("#submit-formconfirm"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("#read-only").is_visible()  # submitted: the answers are read-only now
    sign_out(page)
    return application_url


def officer_returns_it_for_changes(page, live, application_url) -> None:
    """While it waits for screening, the officer sends it back with a message."""
    sign_in(page, live, OFFICER, "a long enough passphrase")
    page.goto(application_url)
    submit(page, page.locator("a[href*='trigger=return_for_changes']"))
    page.locator("textarea[name=comment]").fill(RETURN_MESSAGE)
    submit(page, page.locator("button[name=fire]"))
    assert RETURN_MESSAGE in page.locator("#returned-message").inner_text()
    sign_out(page)


def the_applicant_changes_an_answer_and_resubmits(page, live, application_url) -> None:
    sign_in(page, live, APPLICANT)
    submit(page, page.locator("#language-form button[value=ar]"))  # back to Arabic after the officer's English
    page.goto(application_url)
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert RETURN_MESSAGE in page.locator("#returned-message").inner_text()
    submit(page, page.locator("#task-budget a"))
    page.locator("form#section input[name=item]").nth(2).fill("سماد")
    page.locator("form#section input[name=cost]").nth(2).fill("300")
    page.locator("form#section input[name=amount]").fill("2300.5")
    submit(page, page.locator("#sectioncontinue"))
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    page.goto(application_url)
    submit(page, page.locator("#check-answers"))
    assert "2,300.500" in page.locator("#answer-budget-lines").inner_text()
    submit(page, page.locator("#submit-formconfirm"))
    assert page.locator("#read-only").is_visible()
    sign_out(page)


def officer_screens_it_and_invites_the_reviewer(page, live, round_url, application_url) -> str:
    """Both moves are on the application's history; the officer screens it eligible and
    invites the reviewer from the round's Reviewers page.  Returns its reference."""
    sign_in(page, live, OFFICER, "a long enough passphrase")
    page.goto(application_url)
    history = page.locator("#history").inner_text()
    assert "Return for changes" in history and RETURN_MESSAGE in history and "Resubmit the application" in history
    reference = page.locator("#reference").inner_text().strip()

    page.goto(round_url)
    submit(page, page.locator("#round-work").get_by_role("link", name="Screening"))
    submit(page, page.locator("#screening").get_by_role("link", name="حدائق الحي"))
    for box in page.get_by_label("Confirm this result").all():  # the two rules, both met
        box.check()
    submit(page, page.get_by_role("button", name="Record the screening decision"))
    assert "“حدائق الحي” is eligible and goes to review" in flash(page)

    page.goto(round_url)
    submit(page, page.locator("#round-work").get_by_role("link", name="Reviewers"))
    page.get_by_label("E-mail address of the person to invite").fill(REVIEWER)
    submit(page, page.get_by_role("button", name="Invite to review"))
    assert "Invited Sami Reviewer to review in this round." in flash(page)
    sign_out(page)
    return reference


def the_reviewer_accepts(page, live) -> None:
    sign_in(page, live, REVIEWER)
    page.goto(live + "/reviews")
    submit(page, page.locator("#invitations").get_by_role("button", name="Accept"))
    assert "You accepted to review in Call 1" in flash(page)
    sign_out(page)


def officer_assigns_the_reviewer(page, live, round_url, reference) -> None:
    sign_in(page, live, OFFICER, "a long enough passphrase")
    page.goto(round_url)
    submit(page, page.locator("#round-work").get_by_role("link", name="Assignments"))
    choice = page.get_by_label(f"Reviewer for {reference}")
    choice.select_option(choice.locator("option", has_text="Sami Reviewer").get_attribute("value"))
    submit(page, page.get_by_role("button", name="Assign", exact=True))
    assert f"Sami Reviewer will review {reference}." in flash(page)
    sign_out(page)


def the_reviewer_scores_with_the_built_rubric(page, live, reference) -> None:
    """No conflict declared, then the two criteria of the rubric the officer built."""
    sign_in(page, live, REVIEWER)
    page.goto(live + "/reviews")
    submit(page, page.get_by_role("link", name=f"Declare for {reference}"))
    page.get_by_label("I have no conflict of interest with this application", exact=True).check()
    submit(page, page.get_by_role("button", name="Send my declaration"))
    assert "حدائق الحي" in page.locator("main").inner_text()
    score_form = page.locator("form#score")
    assert score_form.get_by_text("Need", exact=True).count() >= 1, score_form.inner_text()
    assert score_form.get_by_text("Plan", exact=True).count() >= 1, score_form.inner_text()
    for value, group in zip(("4", "3"), page.locator("form#score [id^=score-][id$=-score]").all()):
        group.locator(f"input[type=radio][value='{value}']").check()
    for rationale in page.locator("form#score textarea[name=rationale]").all():
        rationale.fill("A real need, and a plan that can work.")
    submit(page, page.get_by_role("button", name="Submit scores"))
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    assert f"Your scores for {reference} are submitted" in flash(page)
    assert "حدائق الحي" in page.locator("#submitted").inner_text()
    sign_out(page)


# -- the journey ------------------------------------------------------------------------------------


def test_a_funder_configures_a_programme_without_code_and_it_runs(app, live_server, page, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email=ADMIN, name="Ada Admin", admin=True)
        f.registered_organisation(db, f.user(db, email=APPLICANT, name="Amel Ben Salah"))
        f.user(db, email=REVIEWER, name="Sami Reviewer")
    programme_url = admin_creates_the_programme(page, live_server)
    admin_invites_the_officer(page, live_server, programme_url)
    sign_out(page)
    officer_registers_from_the_invitation(page, registry, programme_url)
    officer_builds_the_form(page, programme_url)
    officer_previews_in_arabic_and_publishes(page)
    officer_builds_and_publishes_the_rubric(page, programme_url)
    sign_out(page)
    sign_in(page, live_server, ADMIN)  # only administrators edit workflows
    admin_makes_and_releases_the_workflow_variant(page, live_server)
    sign_out(page)
    sign_in(page, live_server, OFFICER, "a long enough passphrase")
    round_url = officer_creates_the_round_and_opens_the_call(page, programme_url)
    the_history_pages_show_each_change(page, live_server, programme_url, round_url)
    sign_out(page)
    application_url = an_organisation_applies_in_arabic(page, live_server, round_url)
    officer_returns_it_for_changes(page, live_server, application_url)
    the_applicant_changes_an_answer_and_resubmits(page, live_server, application_url)
    reference = officer_screens_it_and_invites_the_reviewer(page, live_server, round_url, application_url)
    the_reviewer_accepts(page, live_server)
    officer_assigns_the_reviewer(page, live_server, round_url, reference)
    the_reviewer_scores_with_the_built_rubric(page, live_server, reference)
