"""Applications through their services: a form version pinned for good, sections saved
and checked, the amount asked within the round's maximum, documents, submission only
while the round is open, nothing changed after it — and refusals that change nothing."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import factories as f
from grants.applications import services
from grants.applications.formdefs import (
    ApplicationForm,
    AttachmentSpec,
    FormRegistry,
    Section,
    form_for,
    forms_of,
)
from grants.applications.services import ApplicationRefused
from grants.lifecycle.services import WorkflowService
from grants.money import Money
from grants.programmes import services as programmes
from grants.programmes.services import ProgrammeRefused
from grants.workflow.engine import plain

ORGANISATION = {"mission": "Théâtre et musique pour les jeunes du Sud", "year_founded": "٢٠١١", "staff": " 4 ",
                "volunteers": ""}
PROJECT = {"project_title": "Clubs de théâtre à Kébili", "summary": "Des clubs de théâtre dans quatre écoles.",
           "objectives": "Deux cents élèves participent.", "beneficiaries": "Élèves de 12 à 18 ans",
           "regions": ["TN-73", "TN-81"]}
BUDGET = {"amount": "200 000,500", "co_funding": "", "co_funding_sources": ""}


def reasons(refused) -> list[str]:
    return [plain(r) for r in refused.value.reasons]


def _project_v2():
    """The general project questions, with how many people take part instead of who."""
    from grants.applications.formdefs import ProjectSection, number_question

    schema = ProjectSection()
    del schema["beneficiaries"]
    schema.add(number_question("How many people will take part?", minimum=1, name="beneficiaries_count",
                               message="Enter a whole number", missing_msg="Enter how many people will take part"))
    return schema


def _general_v2() -> ApplicationForm:
    from grants.applications.formdefs import GENERAL_APPLICATION

    return ApplicationForm(version="general-v2", title="Second version", stage="application",
                           sections=tuple(Section(s.name, s.title, _project_v2, s.attachments) if s.name == "project"
                                          else s for s in GENERAL_APPLICATION.sections),
                           amount_field=GENERAL_APPLICATION.amount_field, title_field=GENERAL_APPLICATION.title_field)


@pytest.fixture
def registry(settings):
    """The app's configuration with a second version of the general form, as a plugin adds one."""
    from grants import make_config

    config = make_config(settings)
    config.add_application_form(_general_v2())
    config.commit()
    return config.registry


def problems(refused) -> list[tuple[str | None, str]]:
    return [(name, plain(r)) for name, r in refused.value.problems]


def tunisian_round(db, registry, *, max_minor=None, version=None, **kw):
    prog = f.programme(db)
    prog.currency = "TND"
    rnd = f.round_(db, registry, prog, **kw)
    rnd.application_form_version = version
    if max_minor is not None:
        rnd.eligibility_rules = [{"kind": "amount_within_max", "max_minor": max_minor}]
    return rnd


def started(db, registry, **kw):
    amel = f.user(db, email="amel@example.org", locale="fr")
    org = f.registered_organisation(db, amel)
    rnd = tunisian_round(db, registry, **kw)
    app = services.create_application(db, registry, rnd, org, amel, title="  Clubs   de théâtre ")
    return amel, app


def complete(db, registry, app, user):
    services.save_section(db, registry, app, user, "organisation", ORGANISATION)
    services.save_section(db, registry, app, user, "project", PROJECT)
    services.save_section(db, registry, app, user, "budget", BUDGET, locale="fr")
    services.attach(db, registry, app, user, kind="registration_certificate", filename="certificat.pdf", data=f.PDF)
    services.attach(db, registry, app, user, kind="budget", filename="budget.csv", data=b"poste;montant\n")


# -- starting ---------------------------------------------------------------------------------------


def test_an_application_pins_its_rounds_form_version(db, registry):
    amel, app = started(db, registry, version="general-v2")
    assert (app.state, app.form_version, app.title) == ("draft", "general-v2", "Clubs de théâtre")
    assert [s.name for s in form_for(registry, app).sections] == ["organisation", "project", "budget", "documents"]
    assert "beneficiaries_count" in form_for(registry, app).section("project").schema_factory()
    rnd = tunisian_round(db, registry)
    other = services.create_application(db, registry, rnd, app.organisation, amel, title="Youth centre")
    assert other.form_version == "general"  # a round naming none gets the default


def test_only_members_start_an_application_and_only_while_the_round_is_open(db, registry):
    amel = f.user(db)
    stranger = f.user(db)
    org = f.registered_organisation(db, amel)
    rnd = tunisian_round(db, registry)
    with pytest.raises(ApplicationRefused) as refused:
        services.create_application(db, registry, rnd, org, stranger, title="Clubs")
    assert problems(refused) == [("organisation", "You are not a member of “جمعية أفق — AFEK”: ask its owner to add "
                                                  "you, or register your own organisation.")]
    with pytest.raises(ApplicationRefused) as refused:
        services.create_application(db, registry, rnd, org, amel, title="   ")
    assert problems(refused) == [("title", "Enter your project's title, like “Reading clubs in three village "
                                           "schools”")]
    draft = tunisian_round(db, registry, state="draft", title="Call 2")
    with pytest.raises(ApplicationRefused) as refused:
        services.create_application(db, registry, draft, org, amel, title="Clubs")
    assert reasons(refused) == ["The round “Call 2” is not open for applications."]
    rnd.closes_at = f.now() - dt.timedelta(minutes=5)
    with pytest.raises(ApplicationRefused) as refused:
        services.create_application(db, registry, rnd, org, amel, title="Clubs")
    assert reasons(refused)[0].startswith("The round closed on ")
    assert rnd.applications == [] and draft.applications == []


def test_a_round_naming_a_form_that_is_not_installed_cannot_take_applications(db, registry):
    amel = f.user(db)
    org = f.registered_organisation(db, amel)
    rnd = tunisian_round(db, registry, version="v3")
    with pytest.raises(ApplicationRefused) as refused:
        services.create_application(db, registry, rnd, org, amel, title="Clubs")
    assert reasons(refused) == ["The application form “v3” is not installed here: tell the programme team."]


# -- sections ---------------------------------------------------------------------------------------


def test_a_section_is_checked_and_kept_with_what_people_type(db, registry):
    amel, app = started(db, registry)
    services.save_section(db, registry, app, amel, "organisation", ORGANISATION)
    services.save_section(db, registry, app, amel, "project", PROJECT)
    services.save_section(db, registry, app, amel, "budget", BUDGET, locale="fr")
    assert app.answers["organisation"] == {"mission": "Théâtre et musique pour les jeunes du Sud",
                                           "year_founded": 2011, "staff": 4}  # Arabic-Indic digits read
    assert app.answers["project"]["regions"] == ["TN-73", "TN-81"]
    assert app.answers["budget"] == {"amount": {"amount": "200000.500", "currency": "TND"}}
    assert app.amount == Money(Decimal("200000.500"), "TND")
    assert app.title == "Clubs de théâtre à Kébili"  # the project title is the application's title
    assert app.sections_done == ["organisation", "project", "budget"]
    statuses = {t.section.name: t.status for t in services.task_list(registry, app)}
    assert statuses == {"organisation": "completed", "project": "completed", "budget": "completed",
                        "documents": "not_started"}


def test_invalid_answers_are_refused_field_by_field_and_nothing_is_stored(db, registry):
    amel, app = started(db, registry)
    services.save_section(db, registry, app, amel, "organisation", ORGANISATION)
    before = dict(app.answers)
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, app, amel, "organisation",
                              {"mission": "", "year_founded": "nineteen", "staff": "-2", "volunteers": "many"})
    assert problems(refused) == [
        ("mission", "Enter your organisation's mission"),
        ("year_founded", "Enter the year your organisation was founded with 4 digits, like 2011"),
        ("staff", "Enter the number of paid staff as a whole number, like 4"),
        ("volunteers", "Enter the number of volunteers as a whole number, like 12"),
    ]
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, app, amel, "project", {**PROJECT, "regions": ["TN-73", "MA-01"]})
    assert problems(refused) == [("regions", "Choose governorates from the list")]
    assert app.answers == before and app.sections_done == ["organisation"]


def test_save_and_come_back_later_keeps_blanks_but_not_mistakes(db, registry):
    amel, app = started(db, registry)
    services.save_section(db, registry, app, amel, "project", {"summary": "Des clubs de théâtre."}, finished=False)
    assert app.answers["project"] == {"summary": "Des clubs de théâtre."}
    assert app.sections_done == []
    task = {t.section.name: t for t in services.task_list(registry, app)}["project"]
    assert task.status == "in_progress"
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, app, amel, "organisation", {"staff": "quatre"}, finished=False)
    assert problems(refused) == [("staff", "Enter the number of paid staff as a whole number, like 4")]
    assert "organisation" not in app.answers


def test_an_amount_over_the_rounds_maximum_is_refused_and_nothing_is_stored(db, registry):
    amel, app = started(db, registry, max_minor=250_000_000)  # TND 250,000.000
    services.save_section(db, registry, app, amel, "budget", {"amount": "100000"})
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, app, amel, "budget", {"amount": "250 000,001"}, locale="fr")
    assert problems(refused) == [("amount", "Enter an amount of 250\u202f000,000\xa0TND or less.")]
    assert app.answers["budget"] == {"amount": {"amount": "100000.000", "currency": "TND"}}
    assert app.amount == Money(Decimal(100_000), "TND")
    services.save_section(db, registry, app, amel, "budget", {"amount": "٢٥٠٬٠٠٠"}, locale="ar")  # the maximum itself
    assert app.amount == Money(Decimal(250_000), "TND")


def test_without_an_explicit_maximum_the_largest_tier_is_the_limit(db, registry):
    from grants.programmes.models import RoundTier

    amel, app = started(db, registry)
    app.round.tiers = [RoundTier(name="Small", min_minor=0, max_minor=50_000_000, currency="TND"),
                       RoundTier(name="Large", min_minor=50_000_001, max_minor=120_000_000, currency="TND")]
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, app, amel, "budget", {"amount": "120,000.001"}, locale="en")
    assert reasons(refused) == ["Enter an amount of TND\u00a0120,000.000 or less."]
    assert "budget" not in app.answers


def test_a_stored_answer_that_no_longer_passes_shows_as_a_problem_and_blocks_submission(db, registry):
    amel, app = started(db, registry)
    complete(db, registry, app, amel)
    assert services.missing_answers(registry, app) == []
    app.answers = {**app.answers, "organisation": {**app.answers["organisation"], "staff": -3}}
    task = {t.section.name: t for t in services.task_list(registry, app)}["organisation"]
    assert task.status == "problem"
    assert [plain(p) for p in task.problems] == ["Enter the number of paid staff as a whole number, like 4"]
    with pytest.raises(ApplicationRefused) as refused:
        services.submit(db, registry, app, amel)
    assert reasons(refused) == ["Enter the number of paid staff as a whole number, like 4"]
    assert app.state == "draft"


def test_missing_answers_name_every_section_and_document_still_needed(db, registry):
    amel, app = started(db, registry)
    services.save_section(db, registry, app, amel, "organisation", ORGANISATION)
    services.attach(db, registry, app, amel, kind="budget", filename="budget.pdf", data=f.PDF)
    assert [plain(m) for m in services.missing_answers(registry, app)] == [
        "Complete the section “Describe your project”.",
        "Complete the section “Plan your budget”.",
        "Attach the document “Registration certificate”.",
    ]
    with pytest.raises(ApplicationRefused) as refused:
        services.submit(db, registry, app, amel)
    assert reasons(refused) == ["Complete the section “Describe your project”."]


# -- documents ------------------------------------------------------------------------------------


def test_a_document_replaces_the_earlier_one_of_its_kind(db, registry):
    amel, app = started(db, registry)
    first = services.attach(db, registry, app, amel, kind="budget", filename="budget v1.pdf", data=f.PDF)
    second = services.attach(db, registry, app, amel, kind="budget", filename="C:\\docs\\budget v2.csv",
                             data="poste;montant\nقاعة;٣٠٠\n".encode())
    assert first.id == second.id and len(app.attachments) == 1
    assert (second.file.filename, second.file.content_type) == ("budget v2.csv", "text/csv; charset=utf-8")
    assert second.file.uploaded_by_id == amel.id


def test_documents_of_the_wrong_type_or_size_are_refused_beside_their_field(db, registry, settings):
    amel, app = started(db, registry)
    services.attach(db, registry, app, amel, kind="budget", filename="budget.pdf", data=f.PDF)
    with pytest.raises(ApplicationRefused) as refused:
        services.attach(db, registry, app, amel, kind="budget", filename="budget.exe", data=b"MZ\x90\x00" * 20)
    assert problems(refused) == [("budget", "The file “budget.exe” is not a PDF, image, spreadsheet or document "
                                            "we accept.")]
    with pytest.raises(ApplicationRefused) as refused:
        services.attach(db, registry, app, amel, kind="registration_certificate", filename="scan.pdf",
                        data=b"%PDF-" + b"0" * (11 * 1024 * 1024 - 5))
    assert problems(refused) == [("registration_certificate", "The file is 11 MB; the largest accepted is 10 MB.")]
    with pytest.raises(ApplicationRefused) as refused:
        services.attach(db, registry, app, amel, kind="annual_report", filename="report.pdf", data=f.PDF)
    assert problems(refused) == [("annual_report", "This form does not ask for a document called “annual_report”.")]
    assert [(a.kind, a.file.filename) for a in app.attachments] == [("budget", "budget.pdf")]


# -- submitting, and after ---------------------------------------------------------------------------


def test_submitted_answers_can_no_longer_be_changed_by_anyone(db, registry):
    amel, app = started(db, registry)
    officer = f.user(db)
    f.grant_role(db, officer, "programme_officer", app.round.programme)
    complete(db, registry, app, amel)
    services.submit(db, registry, app, amel)
    assert app.state == "submitted" and app.submitted_at is not None
    answers, attachments = dict(app.answers), [(a.kind, a.file_id) for a in app.attachments]
    for who in (amel, officer):
        with pytest.raises(ApplicationRefused) as refused:
            services.save_section(db, registry, app, who, "organisation", {**ORGANISATION, "staff": "40"})
        (message,) = reasons(refused)
        assert message.startswith("This application was submitted on ") and "(Tunisia Time)" in message
        assert message.endswith("; its answers can no longer be changed.")
        with pytest.raises(ApplicationRefused):
            services.attach(db, registry, app, who, kind="budget", filename="new.pdf", data=f.PDF)
    assert app.answers == answers and [(a.kind, a.file_id) for a in app.attachments] == attachments


def test_a_draft_can_only_be_changed_by_members(db, registry):
    amel, app = started(db, registry)
    officer = f.user(db)
    f.grant_role(db, officer, "programme_officer", app.round.programme)
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, app, officer, "organisation", ORGANISATION)
    assert reasons(refused) == ["Only members of the organisation that applies can change this application."]
    assert app.answers == {}


def test_submitting_after_the_close_is_refused_with_the_close_date_and_nothing_changes(db, registry):
    amel, app = started(db, registry)
    complete(db, registry, app, amel)
    app.round.closes_at = dt.datetime(2019, 1, 31, 23, 0, tzinfo=dt.timezone.utc)
    with pytest.raises(ApplicationRefused) as refused:
        services.submit(db, registry, app, amel)
    assert reasons(refused) == ["The round closed on 1 Feb 2019, 00:00 (Tunisia Time); applications can no longer "
                                "be submitted."]
    assert (app.state, app.submitted_at) == ("draft", None)
    assert [h.trigger for h in WorkflowService(registry.workflows, db).history(app)] == ["create"]


def test_withdrawing_keeps_the_reason_in_the_history(db, registry):
    amel, app = started(db, registry)
    complete(db, registry, app, amel)
    services.submit(db, registry, app, amel)
    services.withdraw(db, registry, app, amel, reason="  Nous avons fusionné avec une autre association ")
    assert app.state == "withdrawn"
    last = WorkflowService(registry.workflows, db).history(app)[-1]
    assert (last.trigger, last.comment) == ("withdraw", "Nous avons fusionné avec une autre association")
    with pytest.raises(ApplicationRefused) as refused:
        services.withdraw(db, registry, app, amel)
    assert reasons(refused) == ["“Withdraw the application” is not possible while this is “Withdrawn”."]


# -- form versions --------------------------------------------------------------------------------


def test_a_new_form_version_for_an_open_round_leaves_applications_already_made_as_they_were(db, registry):
    amel, first = started(db, registry, version="general")
    complete(db, registry, first, amel)
    rnd = first.round
    answers = {k: dict(v) for k, v in first.answers.items()}

    programmes.update_round(db, rnd, application_form_version="general-v2")  # allowed while open
    second = services.create_application(db, registry, rnd, first.organisation, amel, title="Youth centre")

    assert (first.form_version, second.form_version) == ("general", "general-v2")
    assert first.answers == answers and services.missing_answers(registry, first) == []
    assert "beneficiaries" in {r.name for r in _questions(registry, first, "project")}
    assert "beneficiaries_count" in {r.name for r in _questions(registry, second, "project")}
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, second, amel, "project", PROJECT)
    assert problems(refused) == [("beneficiaries_count", "Enter how many people will take part")]
    services.save_section(db, registry, second, amel, "project", {**PROJECT, "beneficiaries_count": "60"})
    services.submit(db, registry, first, amel)  # the first is still submitted on its own version
    assert first.state == "submitted"

    WorkflowService(registry.workflows, db).fire(rnd, "close", actor=f.SYSTEM)
    with pytest.raises(ProgrammeRefused) as refused:
        programmes.update_round(db, rnd, application_form_version="general")
    assert reasons(refused) == ["The round no longer takes applications, so its application form version can no "
                                "longer change"]
    assert rnd.application_form_version == "general-v2"


def _questions(registry, app, section):
    return form_for(registry, app).section(section).schema_factory().children


# -- the full proposal (the second stage) -----------------------------------------------------------


def to_incubation(db, registry, app):
    service = WorkflowService(registry.workflows, db)
    service.fire(app, "confirm_eligible", actor=f.SYSTEM)
    service.fire(app, "incubate", actor=f.SYSTEM, data={"funder_reference": "BLADI-2019-07"},
                 comment="Selected for incubation")


def test_a_full_proposal_is_written_in_incubation_and_submitted(db, registry):
    amel, app = started(db, registry)
    complete(db, registry, app, amel)
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, app, amel, "sustainability", {"sustainability": "x"}, stage="proposal")
    assert reasons(refused) == ["A full proposal is written during incubation; this application is “Draft — not yet "
                                "submitted”."]
    services.submit(db, registry, app, amel)
    to_incubation(db, registry, app)
    services.save_section(db, registry, app, amel, "theory_of_change",
                          {"problem": "Peu de lieux pour les jeunes.", "theory_of_change": "Si… alors…"},
                          stage="proposal")
    assert app.proposal["_form_version"] == "general-proposal"
    assert "proposal:theory_of_change" in app.sections_done
    with pytest.raises(ApplicationRefused) as refused:
        services.submit_proposal(db, registry, app, amel)
    assert reasons(refused) == ["Complete the section “Plan your activities and work plan”."]
    services.save_section(db, registry, app, amel, "activities",
                          {"activities": "Clubs", "work_plan": "Mois 1 à 12", "duration_months": "١٢"},
                          stage="proposal")
    services.save_section(db, registry, app, amel, "budget", {"total": "180 000"}, stage="proposal", locale="fr")
    services.save_section(db, registry, app, amel, "sustainability", {"sustainability": "Les écoles continuent."},
                          stage="proposal")
    services.attach(db, registry, app, amel, kind="detailed_budget", filename="budget détaillé.pdf", data=f.PDF,
                    stage="proposal")
    services.submit_proposal(db, registry, app, amel)
    assert app.state == "proposal_submitted" and app.proposal_submitted_at is not None
    assert app.amount == Money(Decimal(180_000), "TND")  # the full proposal's budget is what is now asked
    assert app.answers["organisation"]["staff"] == 4  # the first stage's answers are untouched
    with pytest.raises(ApplicationRefused) as refused:
        services.save_section(db, registry, app, amel, "sustainability", {"sustainability": "x"}, stage="proposal")
    assert reasons(refused)[0].startswith("This proposal was submitted on ")


def _proposal_form_content(key="full-plan") -> dict:
    """A second-stage form built in the browser: one section, one question."""
    from grants.applications import builder

    return {"format": builder.FORMAT, "key": key, "stage": "proposal", "languages": ["en"], "fallback": False,
            "title": {"en": "Full plan"}, "sections": [
                {"name": "plan", "title": {"en": "Your plan"}, "documents": [],
                 "questions": [{"name": "summary", "kind": "long_text", "label": {"en": "Summary"}, "help": {},
                                "required": True}]}]}


def test_a_round_chooses_its_proposal_form_and_a_proposal_keeps_the_one_it_began_with(db, registry):
    import json

    from grants.applications import builder
    from grants.audit.services import changes_of

    amel, app = started(db, registry)
    rnd = app.round
    built = builder.import_file(db, rnd.programme, json.dumps(_proposal_form_content()))
    builder.publish(db, built)
    draft = builder.import_file(db, rnd.programme, json.dumps(_proposal_form_content("later-plan")))
    for wrong in ("general", "later-plan@1", "nothing@1"):  # an application form, a draft, no form
        with pytest.raises(ProgrammeRefused) as refused:
            programmes.update_round(db, rnd, registry=registry, proposal_form_version=wrong)
        assert reasons(refused)[0].startswith(("There is no proposal form", "There is no published form"))
    assert rnd.proposal_form_version is None and draft.status == "draft"
    programmes.update_round(db, rnd, registry=registry, proposal_form_version="full-plan@1")
    complete(db, registry, app, amel)
    services.submit(db, registry, app, amel)
    to_incubation(db, registry, app)
    assert form_for(registry, app, "proposal").version == "full-plan@1"
    services.save_section(db, registry, app, amel, "plan", {"summary": "Des clubs dans trois écoles."},
                          stage="proposal")
    assert app.proposal["_form_version"] == "full-plan@1"
    # The round goes back to the default proposal form: this proposal keeps its version, a new one does not.
    programmes.update_round(db, rnd, registry=registry, proposal_form_version="")
    assert form_for(registry, app, "proposal").version == "full-plan@1"
    other = services.create_application(db, registry, rnd, app.organisation, amel, title="Une autre")
    assert form_for(registry, other, "proposal").version == "general-proposal"
    recorded = [(c.before, c.after) for c in changes_of(db, rnd) if c.what == "proposal_form_version"]
    assert recorded == [(None, "full-plan@1"), ("full-plan@1", None)]


# -- form definitions and the plugin directive -------------------------------------------------------


class Extra:
    """A tiny schema factory for plugin forms."""

    def __new__(cls):
        import colander

        from grants.applications.formdefs import SectionSchema

        schema = SectionSchema()
        schema.add(colander.SchemaNode(colander.String(), name="safeguarding", title="How do you keep people safe?"))
        return schema


SEF = ApplicationForm(version="sef-2024", title="SEF Call 5", stage="application", sections=(
    Section("safeguarding", "Tell us how you keep people safe", Extra),
    Section("documents", "Attach your documents", None, attachments=(AttachmentSpec("policy", "Safeguarding policy"),)),
))


def test_a_plugin_adds_a_form_version_through_the_directive(settings):
    from grants import make_config

    config = make_config(settings)
    config.add_application_form(SEF, default=True)
    config.commit()
    forms = forms_of(config.registry)
    assert [form.version for form in forms] == ["general", "sef-2024", "general-proposal"]
    assert forms.default("application") is SEF
    changes = [i["introspectable"].title for i in config.registry.introspector.get_category("grants plugin changes")]
    assert "add application form 'sef-2024' (application)" in changes


def test_two_registrations_of_one_version_conflict_at_start_up(settings):
    from pyramid.exceptions import ConfigurationConflictError

    from grants import make_config

    config = make_config(settings)

    def plugin_a(c):
        c.add_application_form(SEF)

    def plugin_b(c):
        c.add_application_form(SEF)

    config.include(plugin_a)
    config.include(plugin_b)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_two_plugins_each_making_their_form_the_default_conflict(settings):
    from dataclasses import replace

    from pyramid.exceptions import ConfigurationConflictError

    from grants import make_config

    config = make_config(settings)

    def plugin_a(c):
        c.add_application_form(SEF, default=True)

    def plugin_b(c):
        c.add_application_form(replace(SEF, version="sef-2025"), default=True)

    config.include(plugin_a)
    config.include(plugin_b)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_form_definitions_refuse_impossible_shapes():
    with pytest.raises(ValueError):
        ApplicationForm(version="x", title="x", stage="grant", sections=())
    with pytest.raises(ValueError):
        Section("two words", "x", Extra)
    with pytest.raises(ValueError):
        Section("empty", "x", None)
    registry = FormRegistry()
    registry.add(SEF)
    with pytest.raises(ValueError):
        registry.add(ApplicationForm(version="sef-2024", title="again", stage="application", sections=SEF.sections))
