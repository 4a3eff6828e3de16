"""The fund's application form: the organisation, the priority themes a project addresses
(at least one), the project, the budget with its match funding, and the documents.

The budget section knows the round's grant-size tiers: an amount must fall in one of them,
and a tier that asks for match funding (the largest asks for 50%) needs at least that
share of the amount declared as match funding — checked when the section is saved and
again when the application is submitted (grants checks every finished section again then;
:func:`match_funding_problem`).
"""
from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import colander
import deform
from translationstring import TranslationStringFactory

from grants.applications.formdefs import ApplicationForm, AttachmentSpec, CheckboxesWidget, Section, SectionSchema
from grants.i18n import PluralLength, ngettext
from grants.money import MINOR_UNITS, Money, format_money
from grants.programmes.forms import WholeNumber

_ = TranslationStringFactory("grants")

VERSION = "shared-endeavour-2023"

#: The fund's four priority themes: stored codes and what applicants read.
THEMES = {
    "preventing_hate": _("Preventing hate crime and intolerance"),
    "online_resilience": _("Building resilience to extremist narratives online"),
    "supporting_victims": _("Supporting victims and the communities around them"),
    "bringing_together": _("Bringing communities together"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(title, *, missing_msg=None, max_length=300, description=None, required=True, long=False):
    widget = (deform.widget.TextAreaWidget(rows=5, attributes={"dir": "auto"}) if long
              else deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))
    return colander.SchemaNode(
        colander.String(), title=title, description=description, preparer=_strip,
        missing=colander.required if required else colander.null, missing_msg=missing_msg,
        validator=PluralLength(max=max_length, max_err=ngettext(
            "Shorten your answer to ${count} character or fewer",
            "Shorten your answer to ${count} characters or fewer", max_length)),
        widget=widget)


def _money(title, *, missing_msg=None, required=True, description=None):
    node = colander.SchemaNode(colander.String(), title=title, description=description,
                               missing=colander.required if required else colander.null, missing_msg=missing_msg)
    node.money = True  # the round's currency, read exactly (grants.applications.formdefs)
    return node


def _count(title, *, missing_msg, message, description=None):
    return colander.SchemaNode(
        WholeNumber(minimum=1, message=message), title=title, description=description, missing_msg=missing_msg,
        widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={"inputmode": "numeric", "dir": "ltr"}))


class OrganisationSection(SectionSchema):
    mission = _text(_("What does your organisation do, and with whom?"), long=True, max_length=2000,
                    missing_msg=_("Tell us what your organisation does"))
    london_track_record = _text(
        _("What work has it done in London communities?"), long=True, max_length=2000,
        description=_("One or two examples from the last three years."),
        missing_msg=_("Tell us about your organisation's work in London"))


def _themes_validator(node, value):
    if not value:
        raise colander.Invalid(node, _("Choose at least one of the fund's priority themes"))
    unknown = set(value) - set(THEMES)
    if unknown:
        raise colander.Invalid(node, _("Choose the themes from the list"))


class ThemesSection(SectionSchema):
    themes = colander.SchemaNode(
        colander.Set(), title=_("Which of the fund's priority themes does your project address?"),
        description=_("Choose every theme that applies; at least one."),
        missing_msg=_("Choose at least one of the fund's priority themes"), validator=_themes_validator,
        widget=CheckboxesWidget(values=list(THEMES.items())))
    how = _text(_("How does your project address them?"), long=True, max_length=3000,
                missing_msg=_("Explain how your project addresses the themes you chose"))


class ProjectSection(SectionSchema):
    project_title = _text(_("Project title"), missing_msg=_("Enter your project's title"))
    summary = _text(_("Summarise your project"), long=True, max_length=1000,
                    description=_("What you will do, where, and with whom, in up to 1,000 characters."),
                    missing_msg=_("Enter a summary of your project"))
    participants = _count(_("How many people will take part?"), description=_("An estimate is fine."),
                          missing_msg=_("Enter how many people will take part"),
                          message=_("Enter the number of people who will take part, 1 or more"))
    regions = colander.SchemaNode(colander.Set(), title=_("Which boroughs will the project work in?"),
                                  missing_msg=_("Choose at least one borough"))
    regions.regions = True  # the organisation's country's regions: London's boroughs


def _tier_for(rnd, amount: Money):
    for tier in rnd.tiers:
        if tier.currency == amount.currency and tier.minimum <= amount <= tier.maximum:
            return tier
    return None


def match_funding_needed(tier, amount: Money) -> Money | None:
    """The least match funding ``amount`` needs in ``tier`` (None if the tier asks for none):
    its percentage of the amount, rounded up to the currency's smallest unit."""
    if not tier.match_funding_percent:
        return None
    quantum = Decimal(1).scaleb(-MINOR_UNITS[amount.currency])
    share = (amount.amount * tier.match_funding_percent / 100).quantize(quantum, rounding=ROUND_CEILING)
    return Money(share, amount.currency)


def match_funding_problem(rnd, amount: Money | None, match: Money | None, locale: str = "en"):
    """What is wrong with asking ``amount`` with ``match`` declared, for the round's tiers:
    (the question it is about, the reason), or None."""
    if amount is None or not rnd.tiers:
        return None
    tier = _tier_for(rnd, amount)
    if tier is None:
        sizes = "; ".join(f"{format_money(t.minimum, locale)} – {format_money(t.maximum, locale)}" for t in rnd.tiers)
        return "amount", _("Ask for an amount within one of the round's grant sizes: ${sizes}",
                           mapping={"sizes": sizes})
    needed = match_funding_needed(tier, amount)
    if needed is None:
        return None
    if match is None or match.currency != amount.currency or match < needed:
        return "match_funding", _(
            "Grants of this size (${tier}) need match funding of at least ${percent}% of the amount asked: "
            "declare at least ${needed} of match funding from other sources",
            mapping={"tier": tier.name, "percent": tier.match_funding_percent, "needed": format_money(needed, locale)})
    return None


class BudgetSection(SectionSchema):
    amount = _money(_("How much are you asking for?"),
                    description=_("In pounds. Grants of £50,001 or more need match funding of at least half the "
                                  "amount."),
                    missing_msg=_("Enter the amount you are asking for"))
    match_funding = _money(_("Match funding from other sources"), required=False,
                           description=_("Money your project gets from elsewhere for the same work. Leave it blank "
                                         "if you ask for £50,000 or less and have none."))
    match_funding_sources = _text(_("Where does the match funding come from?"), required=False, long=True,
                                  max_length=1000)

    def after_bind(self, node, kw):
        super().after_bind(node, kw)
        application, locale = kw.get("application"), kw.get("locale") or "en"

        def validator(form, value):
            # "Save and come back later" (its copy of the schema drops blank answers) keeps
            # an unfinished budget; it is checked when finished, and again on submission.
            if application is None or form["amount"].missing is colander.drop:
                return
            amount, match = (value.get(name) for name in ("amount", "match_funding"))
            problem = match_funding_problem(application.round, amount if isinstance(amount, Money) else None,
                                            match if isinstance(match, Money) else None, locale)
            if problem is not None:
                error = colander.Invalid(form)
                error[problem[0]] = problem[1]
                raise error

        node.validator = validator


GOVERNING_DOCUMENT = AttachmentSpec(
    "governing_document", _("Governing document"), identifying=True,
    description=_("Your constitution, articles of association or trust deed."))
SAFEGUARDING_POLICY = AttachmentSpec(
    "safeguarding_policy", _("Safeguarding policy"),
    description=_("How you keep children and adults at risk safe in your activities."))
BUDGET_SHEET = AttachmentSpec("budget", _("Budget sheet"),
                              description=_("Your project's costs, line by line, with the match funding."))

FORM = ApplicationForm(
    version=VERSION, title=_("Shared Endeavour Fund application form"), stage="application",
    sections=(
        Section("organisation", _("Tell us about your organisation"), OrganisationSection),
        Section("themes", _("Choose the priorities your project addresses"), ThemesSection),
        Section("project", _("Describe your project"), ProjectSection),
        Section("budget", _("Plan your budget and match funding"), BudgetSection),
        Section("documents", _("Attach your documents"), None,
                attachments=(GOVERNING_DOCUMENT, SAFEGUARDING_POLICY, BUDGET_SHEET)),
    ),
    amount_field=("budget", "amount"), title_field=("project", "project_title"),
)
