"""BLADI's forms: the application (two versions of 2018) and the full proposal of 2019.

They are grants' general forms with what BLADI asked besides: the association's
registration number in the Official Journal of the Tunisian Republic (JORT), the
governorate it is based in, and how far the project is about young people."""
from __future__ import annotations

import re

import colander

from grants.applications.formdefs import (
    BUDGET_SHEET,
    GENERAL_PROPOSAL,
    REGISTRATION_CERTIFICATE,
    ApplicationForm,
    BudgetSection,
    OrganisationSection,
    ProjectSection,
    RadiosWidget,
    Section,
    choice_question,
    documents_section,
    number_question,
    text_question,
)
from grants.programmes.forms import normalise_digits

from grants.i18n import _

APPLICATION_2018 = "bladi-2018"
APPLICATION_2018_V2 = "bladi-2018-v2"
PROPOSAL_2019 = "bladi-proposal-2019"

#: A JORT registration: the year and the number, like 2011-0457.
REGISTRATION = re.compile(r"^(19|20)\d{2}-\d{1,6}$")

YOUTH_FOCUS = [
    ("main", _("Young people (15 to 35) are the project's main participants")),
    ("part", _("Young people are among the participants")),
    ("none", _("The project is not aimed at young people")),
]


def _registration_number(node, value):
    if not REGISTRATION.match(value or ""):
        raise colander.Invalid(node, _("Enter the registration number as the year and the number, like 2011-0457"))


def _tidy_registration(value):
    if not isinstance(value, str):
        return value
    return normalise_digits(value).strip().replace(" ", "").replace("/", "-")


class GovernorateWidget(RadiosWidget):
    """The 24 governorates, named in the reader's language (filled in when bound)."""


class BladiOrganisationSection(OrganisationSection):
    registration_number = colander.SchemaNode(
        colander.String(), title=_("Registration number in the Official Journal (JORT)"),
        description=_("The year and the number of your association's registration, like 2011-0457."),
        preparer=_tidy_registration, validator=_registration_number,
        missing_msg=_("Enter your association's registration number, like 2011-0457"))
    governorate = colander.SchemaNode(
        colander.String(), title=_("In which governorate is your association based?"),
        missing_msg=_("Choose the governorate your association is based in"))

    def after_bind(self, node, kw):
        from grants.regions import regions_for

        super().after_bind(node, kw)
        choices = [(r.code, r.name(kw.get("locale") or "en")) for r in regions_for("TN", kw.get("locale") or "en")]
        node["governorate"].widget = GovernorateWidget(values=choices)
        node["governorate"].validator = colander.OneOf([code for code, _label in choices],
                                                       msg_err=_("Choose one of Tunisia's 24 governorates"))


class BladiProjectSection(ProjectSection):
    youth_focus = choice_question(
        _("How far is your project about young people?"), YOUTH_FOCUS,
        missing_msg=_("Say how far your project is about young people"))


def project_section_v2() -> colander.SchemaNode:
    """bladi-2018-v2 asks how many people will take part, as a number, instead of who."""
    schema = BladiProjectSection()
    position = [c.name for c in schema.children].index("beneficiaries")
    del schema["beneficiaries"]
    schema.insert(position, number_question(
        _("How many people will take part?"), minimum=1, name="beneficiaries_count",
        description=_("An estimate is fine."),
        message=_("Enter the number of people who will take part as a whole number, like 60"),
        missing_msg=_("Enter how many people will take part")))
    return schema


class MunicipalitySection(colander.MappingSchema):
    municipality = text_question(
        _("Which municipality will you work with, and how? (optional)"), long=True, max_length=2000,
        required=False, description=_("BLADI projects are stronger when the municipal council takes part."))


def _application(version, title, project_section) -> ApplicationForm:
    return ApplicationForm(
        version=version, title=title, stage="application",
        sections=(
            Section("organisation", _("Tell us about your association"), BladiOrganisationSection),
            Section("project", _("Describe your project"), project_section),
            Section("budget", _("Plan your budget"), BudgetSection),
            documents_section(REGISTRATION_CERTIFICATE, BUDGET_SHEET),
        ),
        amount_field=("budget", "amount"), title_field=("project", "project_title"),
    )


BLADI_2018 = _application(APPLICATION_2018, _("BLADI application form (2018)"), BladiProjectSection)
BLADI_2018_V2 = _application(APPLICATION_2018_V2, _("BLADI application form (2018, second version)"),
                             project_section_v2)

#: The full proposal: grants' general one, and the municipality the project works with.
BLADI_PROPOSAL_2019 = ApplicationForm(
    version=PROPOSAL_2019, title=_("BLADI full proposal (2019)"), stage="proposal",
    sections=GENERAL_PROPOSAL.sections[:-1] + (Section("municipality", _("Work with your municipality"),
                                                       MunicipalitySection),) + GENERAL_PROPOSAL.sections[-1:],
    amount_field=GENERAL_PROPOSAL.amount_field,
)

FORMS = (BLADI_2018, BLADI_2018_V2, BLADI_PROPOSAL_2019)
