"""Application forms as data: versions, sections, questions and the documents they ask for.

A form is an :class:`ApplicationForm`: a version id, a stage (``"application"`` — the
first form an organisation fills — or ``"proposal"`` — the second-stage full proposal
of a programme that invites some applicants to write one, after incubation say), and
its :class:`Section` s in order.  A section asks its questions through a colander schema
(``schema_factory()`` makes a fresh, unbound one) and may ask for documents
(:class:`AttachmentSpec`); a section may be documents only.

Forms live in a registry on the Pyramid registry, ``registry.application_forms``, filled
by the core (the general forms below, which a programme uses unless a plugin brings its
own) and by plugins, which build theirs from the same pieces (the questions below:
``text_question``, ``number_question``, ``money_question``, ``regions_question``,
``choice_question``, and the general sections), or build them in the browser
(``grants.applications.builder``: versions ``key@number`` kept in the database, found
through the session of the application or programme asked about)::

    from grants.applications.formdefs import ApplicationForm, AttachmentSpec, Section

    def includeme(config):
        config.add_application_form(ApplicationForm(
            version="my-fund-2024", title="My Fund, Call 5", stage="application",
            sections=(Section("organisation", "Tell us about your organisation", MySchema),
                      Section("documents", "Attach your documents", None,
                              attachments=(AttachmentSpec("safeguarding_policy", "Safeguarding policy"),))),
            amount_field=("budget", "amount")))

A round names the version its applications use (``Round.application_form_version``);
an application copies it when it is made (``Application.form_version``) and keeps it:
a new version never changes applications already made.  ``form_for(registry,
application, stage)`` is the form an application is filled with.

Schemas are bound with ``currency`` (the round's), ``country`` (the organisation's),
``locale`` and ``application`` (and ``request`` on pages).  A node marked ``money =
True`` becomes an exact amount in the round's currency (read with
``grants.money.parse_money``: Arabic-Indic digits and French separators are fine); a
node marked ``regions = True`` offers the regions of the organisation's country.

Answers are stored as JSON, per section: strings, whole numbers, lists of codes, and
money as ``{"amount": "250000.000", "currency": "TND"}`` (``to_stored`` /
``from_stored``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterator

import colander
import deform
from sqlalchemy.orm import object_session

from grants.i18n import PluralLength, _, ngettext
from grants.money import Money
from grants.programmes.forms import MoneyType, WholeNumber, money_widget

STAGES = ("application", "proposal")
#: The form used when a round names none, per stage.
DEFAULT_VERSIONS = {"application": "general", "proposal": "general-proposal"}
#: Where an application's proposal keeps the version it was started with.
PROPOSAL_VERSION_KEY = "_form_version"
CHECKBOXES = "grants.templates:applications/checkboxes.pt"
RADIOS = "grants.templates:applications/radios.pt"


# -- the shapes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentSpec:
    """A document a section asks for.  ``kind`` is its stable id (eligibility rules name
    it: ``required_attachments``); ``identifying`` documents (a registration certificate)
    name the organisation, so reviewers of a blind round never see them."""

    kind: str
    title: Any
    required: bool = True
    description: Any = None
    identifying: bool = False


@dataclass(frozen=True)
class Section:
    """One task of the task list.  ``name`` is a stable id (the URL and the key of the
    stored answers); ``title`` is verb-led ("Describe your project")."""

    name: str
    title: Any
    schema_factory: Callable[[], colander.SchemaNode] | None
    attachments: tuple[AttachmentSpec, ...] = ()
    description: Any = None

    def __post_init__(self):
        if not self.name.replace("_", "").isalnum() or self.name.startswith("_"):
            raise ValueError(f"section name {self.name!r}: use letters, digits and underscores")
        if self.schema_factory is None and not self.attachments:
            raise ValueError(f"section {self.name!r} asks nothing: give it a schema or attachments")

    @property
    def has_questions(self) -> bool:
        return self.schema_factory is not None


@dataclass(frozen=True)
class ApplicationForm:
    """A version of a form.  ``amount_field`` (section, field) is where the amount asked
    is typed: it is checked against the round's maximum and kept on the application;
    ``title_field`` is the question whose answer becomes the application's title."""

    version: str
    title: Any
    stage: str
    sections: tuple[Section, ...]
    amount_field: tuple[str, str] | None = None
    title_field: tuple[str, str] | None = None
    description: Any = None
    # Who provides it: "" for grants, else the plugin (set by config.add_application_form);
    # only programmes that use the plugin may choose it.
    origin: str = ""

    def __post_init__(self):
        if self.stage not in STAGES:
            raise ValueError(f"form {self.version!r}: stage is one of {', '.join(STAGES)}, not {self.stage!r}")
        if not self.version or len(self.version) > 40:
            raise ValueError(f"form version {self.version!r}: 1 to 40 characters")
        names = [s.name for s in self.sections]
        if len(set(names)) != len(names):
            raise ValueError(f"form {self.version!r} has two sections with the same name")
        kinds = [a.kind for a in self.attachments]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"form {self.version!r} asks twice for the same kind of attachment")

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def attachments(self) -> list[AttachmentSpec]:
        return [a for s in self.sections for a in s.attachments]

    def attachment(self, kind: str) -> AttachmentSpec:
        for a in self.attachments:
            if a.kind == kind:
                return a
        raise KeyError(kind)

    def next_section(self, name: str) -> Section | None:
        names = [s.name for s in self.sections]
        i = names.index(name)
        return self.sections[i + 1] if i + 1 < len(names) else None


class UnknownFormVersion(LookupError):
    """An application or round names a form version that is not installed."""

    def __init__(self, version: str):
        self.version = version
        super().__init__(f"application form {version!r} is not installed")


class FormRegistry:
    """The installed form versions and the default one per stage: the site's, and each
    plugin's for the programmes that use it."""

    def __init__(self):
        self._forms: dict[str, ApplicationForm] = {}
        self._defaults: dict[str, str] = dict(DEFAULT_VERSIONS)
        self._plugin_defaults: dict[tuple[str, str], str] = {}  # (plugin, stage) -> version

    def add(self, form: ApplicationForm, *, default: bool = False) -> None:
        """``default``: the form a round names none uses — in the programmes that use the
        form's plugin, for a plugin's form; everywhere else, for grants' own."""
        if "@" in form.version:
            raise ValueError(f"application form {form.version!r}: “@” is kept for the versions of built forms")
        if form.version in self._forms and self._forms[form.version] is not form:
            raise ValueError(f"application form {form.version!r} is already registered")
        self._forms[form.version] = form
        if default and form.origin:
            self._plugin_defaults[(form.origin, form.stage)] = form.version
        elif default:
            self._defaults[form.stage] = form.version

    def get(self, version: str) -> ApplicationForm:
        try:
            return self._forms[version]
        except KeyError:
            raise UnknownFormVersion(version) from None

    def __contains__(self, version) -> bool:
        return version in self._forms

    def __iter__(self) -> Iterator[ApplicationForm]:
        return iter(sorted(self._forms.values(), key=lambda f: (f.stage, f.version)))

    def default(self, stage: str = "application", plugins=()) -> ApplicationForm:
        """The default form at ``stage`` where ``plugins`` are in use (a programme's): the
        first of them that makes one its default, else the site's."""
        for plugin in plugins or ():
            version = self._plugin_defaults.get((plugin, stage))
            if version is not None:
                return self.get(version)
        return self.get(self._defaults[stage])


def forms_in_scope(registry, programme, stage: str = "application") -> list[ApplicationForm]:
    """The forms a round of ``programme`` may use at ``stage``: grants' own and those of the
    plugins the programme uses."""
    from grants.plugins import in_scope

    from .builder import published_forms

    code = [f for f in forms_of(registry) if f.stage == stage and in_scope(f.origin, programme.plugins)]
    return code + published_forms(object_session(programme), programme, stage)


def form_refusal(registry, programme, version: str | None, stage: str = "application"):
    """Why a round of ``programme`` may not use the form ``version`` at ``stage`` (None:
    the programme's default), or None."""
    if not version:
        return None
    from .builder import find_version, is_built_version, published_form

    if is_built_version(version):
        session = object_session(programme)
        row = find_version(session, version)
        built = published_form(session, version)
        if built is None or built.stage != stage or row.form.programme_id != programme.id:
            return _("There is no published form “${version}” of this programme: choose one from the list.",
                     mapping={"version": version})
        return None
    forms = forms_of(registry)
    if version not in forms or forms.get(version).stage != stage:
        if stage == "proposal":
            return _("There is no proposal form “${version}”: choose one from the list.", mapping={"version": version})
        return _("There is no application form “${version}”: choose one from the list.", mapping={"version": version})
    from grants.plugins import in_scope

    if not in_scope(forms.get(version).origin, programme.plugins):
        return _("The form “${version}” comes with a plugin this programme does not use: choose one from the list.",
                 mapping={"version": version})
    return None


def shipped_forms() -> FormRegistry:
    """A registry holding only the forms grants ships (for scripts without a Pyramid registry)."""
    forms = FormRegistry()
    for form in SHIPPED:
        forms.add(form)
    return forms


def application_forms(registry) -> FormRegistry:
    """The Pyramid registry's form registry, made on first use."""
    forms = getattr(registry, "application_forms", None)
    if forms is None:
        forms = registry.application_forms = FormRegistry()
    return forms


def forms_of(registry) -> FormRegistry:
    """The form registry, given the Pyramid registry, the WorkflowRegistry (through its
    ``app_registry``), a FormRegistry, or None (the shipped forms)."""
    if isinstance(registry, FormRegistry):
        return registry
    forms = getattr(registry, "application_forms", None)
    if forms is None:
        forms = getattr(getattr(registry, "app_registry", None), "application_forms", None)
    return forms if forms is not None else _SHIPPED_REGISTRY()


def form_for(registry, application, stage: str = "application") -> ApplicationForm:
    """The form ``application`` is filled with at ``stage``.

    The application stage uses the version the application was made with, else its
    round's, else the default.  The proposal stage uses the version pinned when its first
    section was saved, else the round's proposal form, else the default proposal form.  Raises UnknownFormVersion when
    that version is not installed (a plugin was removed)."""
    if stage not in STAGES:
        raise ValueError(f"stage is one of {', '.join(STAGES)}, not {stage!r}")
    forms = forms_of(registry)
    if stage == "application":
        version = application.form_version or getattr(application.round, "application_form_version", None)
    else:
        version = ((application.proposal or {}).get(PROPOSAL_VERSION_KEY)
                   or getattr(application.round, "proposal_form_version", None))
    form = (built_form(application, version) if version and is_built_version(version) else
            forms.get(version) if version else forms.default(stage, _plugins_of(application)))
    if form.stage != stage:
        raise UnknownFormVersion(version)
    return form


def is_built_version(version) -> bool:
    """A version of a form built in the browser (``key@number``), kept in the database."""
    return isinstance(version, str) and "@" in version


def built_form(obj, version: str) -> ApplicationForm:
    """The published built form ``version``, read through the session ``obj`` (an
    application, a round, a programme) belongs to; UnknownFormVersion if there is none."""
    from .builder import published_form

    form = published_form(object_session(obj), version)
    if form is None:
        raise UnknownFormVersion(version)
    return form


def _plugins_of(application) -> list[str]:
    programme = getattr(getattr(application, "round", None), "programme", None)
    return list(getattr(programme, "plugins", None) or ())


# -- binding, storing and reading answers ------------------------------------------------------


def bind_schema(section: Section, *, currency: str, country: str | None, locale: str = "en", application=None,
                **kw) -> colander.SchemaNode | None:
    """A fresh schema for ``section``, bound; None for a section of documents only."""
    if section.schema_factory is None:
        return None
    return section.schema_factory().bind(currency=currency, country=country, locale=locale or "en",
                                          application=application, **kw)


def is_money(node) -> bool:
    return isinstance(node.typ, MoneyType)


def to_stored(schema: colander.SchemaNode, appstruct: dict) -> dict:
    """Answers as JSON: only the questions answered (a skipped optional question is absent)."""
    stored = {}
    for node in schema.children:
        value = appstruct.get(node.name, colander.null)
        if value in (colander.null, None, "") or (isinstance(value, (set, list, tuple)) and not value):
            continue
        if isinstance(value, Money):
            value = {"amount": str(value.amount), "currency": value.currency}
        elif isinstance(value, (set, frozenset, tuple)):
            value = sorted(value)
        stored[node.name] = value
    return stored


def from_stored(schema: colander.SchemaNode, stored: dict | None) -> dict:
    """Stored answers as the schema's appstruct (Money back as Money, lists of codes as sets)."""
    stored = stored or {}
    appstruct = {}
    for node in schema.children:
        if node.name not in stored:
            continue
        value = stored[node.name]
        if isinstance(value, dict) and "amount" in value:
            value = Money(Decimal(value["amount"]), value["currency"])
        elif isinstance(node.typ, colander.Set) and isinstance(value, list):
            value = set(value)
        appstruct[node.name] = value
    return appstruct


def as_cstruct(schema: colander.SchemaNode, data: dict) -> dict:
    """What a form would post for ``data``, which may hold posted strings (a cstruct),
    values (an appstruct: Money, ints, sets) or a mix: every value ends up as text."""
    cstruct = {}
    for node in schema.children:
        value = data.get(node.name, colander.null)
        if value is None:
            value = colander.null
        if isinstance(value, str) or value is colander.null:
            cstruct[node.name] = value
        elif isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
            cstruct[node.name] = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        else:
            cstruct[node.name] = node.serialize(value)
    return cstruct


def partial(schema: colander.SchemaNode) -> colander.SchemaNode:
    """The schema for "Save and come back later": what is typed must be right, but a
    question left blank may stay blank for now."""
    schema = schema.clone()
    schema.partial_save = True  # a built section's conditional questions read it
    for node in schema.children:
        if node.required:
            node.missing = colander.drop
    return schema


# -- pieces of forms (grants' and plugins') -------------------------------------------------------


class CheckboxesWidget(deform.widget.CheckboxChoiceWidget):
    """Checkboxes in a fieldset whose legend is the question (deform's own would label
    nothing).  The widget draws its own legend, hint and error, like the region lists."""

    template = CHECKBOXES
    hidden = True


class RadiosWidget(deform.widget.RadioChoiceWidget):
    """Radio buttons in a fieldset whose legend is the question."""

    template = RADIOS
    hidden = True


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(title, *, missing_msg=None, max_length=300, description=None, required=True, long=False, rows=5):
    widget = (deform.widget.TextAreaWidget(rows=rows, attributes={"dir": "auto", "spellcheck": "true"}) if long
              else deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))
    return colander.SchemaNode(
        colander.String(), title=title, description=description, preparer=_strip,
        missing=colander.required if required else colander.null, missing_msg=missing_msg,
        validator=PluralLength(max=max_length, max_err=ngettext("Shorten your answer to ${count} character or fewer",
                                                    "Shorten your answer to ${count} characters or fewer", max_length)),
        widget=widget)


def _number(title, *, minimum=0, maximum=None, message, missing_msg=None, required=True, description=None,
            **kw):
    return colander.SchemaNode(
        WholeNumber(minimum=minimum, maximum=maximum, message=message), title=title, description=description, **kw,
        missing=colander.required if required else colander.null, missing_msg=missing_msg,
        widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={
            "inputmode": "numeric", "size": "6", "dir": "ltr", "autocomplete": "off"}))


def _money(title, *, missing_msg=None, required=True, description=None):
    node = colander.SchemaNode(
        colander.String(), title=title, description=description,
        missing=colander.required if required else colander.null, missing_msg=missing_msg,
        validator=_positive)
    node.money = True
    return node


def _positive(node, value):
    if isinstance(value, Money) and value.amount <= 0:
        raise colander.Invalid(node, _("Enter an amount of more than 0"))


def _not_in_future(node, value):
    if isinstance(value, int) and value > dt.date.today().year:
        raise colander.Invalid(node, _("Enter a year that has already begun, like 2011"))


class SectionSchema(colander.MappingSchema):
    """Money nodes take the round's currency and the page's way of writing numbers;
    region lists offer the organisation's country's regions (and are left out for a
    country the catalogue has none for)."""

    def after_bind(self, node, kw):
        currency, locale = kw.get("currency"), kw.get("locale") or "en"
        for child in list(node.children):
            if getattr(child, "money", False):
                child.typ = MoneyType(currency, locale)
                child.widget = money_widget(currency)
            elif getattr(child, "regions", False):
                choices = _region_choices(kw.get("country"), locale)
                if not choices:
                    del node[child.name]
                    continue
                child.widget = CheckboxesWidget(values=choices)
                child.validator = _choose_from([code for code, _label in choices], child.missing_msg,
                                               _region_noun(kw.get("country")))


def _choose_from(codes, missing_msg, noun):
    def validator(node, value):
        if not value:
            raise colander.Invalid(node, missing_msg)
        if not set(value) <= set(codes):
            raise colander.Invalid(node, _("Choose ${noun} from the list", mapping={"noun": noun}))

    return validator


def _region_choices(country: str | None, locale: str) -> list[tuple[str, str]]:
    from grants import regions

    if not country or not regions.has_regions(country):
        return []
    return [(r.code, r.name(locale)) for r in regions.regions_for(country, locale)]


def _region_noun(country):
    from grants.accounts.organisations import region_noun

    return region_noun(country or "", plural=True)


def _regions(title, missing_msg, description=None):
    node = colander.SchemaNode(colander.Set(), title=title, description=description, missing_msg=missing_msg)
    node.regions = True
    return node


def choice_question(title, choices, *, missing_msg, multiple=False, required=True, description=None, **kw):
    """One of ``choices`` ([(code, label), …]) as radio buttons, or with ``multiple`` any
    number of them (at least one when ``required``) as checkboxes; codes are checked on the
    server, whatever was posted."""
    codes = [code for code, _label in choices]
    if multiple:
        def validator(node, value):
            if required and not value:
                raise colander.Invalid(node, missing_msg)
            if not set(value or ()) <= set(codes):
                raise colander.Invalid(node, _("Choose from the list"))

        return colander.SchemaNode(colander.Set(), title=title, description=description, validator=validator,
                                   missing=colander.required if required else set(), missing_msg=missing_msg,
                                   widget=CheckboxesWidget(values=list(choices)), **kw)
    return colander.SchemaNode(colander.String(), title=title, description=description,
                               validator=colander.OneOf(codes, msg_err=_("Choose from the list")),
                               missing=colander.required if required else colander.null, missing_msg=missing_msg,
                               widget=RadiosWidget(values=list(choices)), **kw)


# -- general: the application form a programme uses unless a plugin brings its own ---------------


class OrganisationSection(SectionSchema):
    mission = _text(
        _("What is your organisation's mission?"), long=True, max_length=2000,
        description=_("In a few sentences: why it exists and who it works with."),
        missing_msg=_("Enter your organisation's mission"))
    year_founded = _number(
        _("In what year was it founded?"), minimum=1800,
        message=_("Enter the year your organisation was founded with 4 digits, like 2011"),
        missing_msg=_("Enter the year your organisation was founded, like 2011"))
    year_founded.validator = _not_in_future
    staff = _number(
        _("How many paid staff does it have?"), description=_("Count part-time staff too. Enter 0 if none."),
        message=_("Enter the number of paid staff as a whole number, like 4"),
        missing_msg=_("Enter the number of paid staff, or 0 if none"))
    volunteers = _number(
        _("How many volunteers work with it? (optional)"), required=False,
        message=_("Enter the number of volunteers as a whole number, like 12"))


class ProjectSection(SectionSchema):
    project_title = _text(
        _("Project title"), max_length=300, description=_("A short name for your project, like “Reading clubs in "
                                                          "three village schools”."),
        missing_msg=_("Enter your project's title"))
    summary = _text(
        _("Summarise your project"), long=True, max_length=1000, rows=4,
        description=_("What you will do, where, and with whom, in up to 1,000 characters."),
        missing_msg=_("Enter a summary of your project"))
    objectives = _text(
        _("What are the project's objectives?"), long=True, max_length=3000,
        description=_("What will have changed by the end of the project?"),
        missing_msg=_("Enter your project's objectives"))
    beneficiaries = _text(
        _("Who will take part or benefit?"), long=True, max_length=2000,
        description=_("For example: young people aged 15 to 25 in two neighbourhoods of the town."),
        missing_msg=_("Tell us who will take part or benefit"))
    regions = _regions(_("Where will the project take place?"),
                       missing_msg=_("Choose at least one place where the project will take place"),
                       description=_("Choose every place your project will work in."))


class BudgetSection(SectionSchema):
    amount = _money(_("How much are you asking for?"),
                    description=_("In the round's currency. Check the largest grant the round offers."),
                    missing_msg=_("Enter the amount you are asking for"))
    co_funding = _money(_("Co-funding from other sources (optional)"), required=False,
                        description=_("Money or support in kind your project gets from elsewhere."))
    co_funding_sources = _text(_("Where does the co-funding come from? (optional)"), required=False,
                               max_length=1000, long=True, rows=3)


def _documents(*attachments: AttachmentSpec) -> Section:
    return Section("documents", _("Attach your documents"), None, attachments=attachments)


REGISTRATION_CERTIFICATE = AttachmentSpec(
    "registration_certificate", _("Registration certificate"), identifying=True,
    description=_("The certificate (or the Official Journal notice) that shows your organisation is registered."))
BUDGET_SHEET = AttachmentSpec(
    "budget", _("Budget sheet"), description=_("A spreadsheet or PDF with your project's costs, line by line."))

GENERAL_APPLICATION = ApplicationForm(
    version="general", title=_("General application form"), stage="application",
    sections=(
        Section("organisation", _("Tell us about your organisation"), OrganisationSection),
        Section("project", _("Describe your project"), ProjectSection),
        Section("budget", _("Plan your budget"), BudgetSection),
        _documents(REGISTRATION_CERTIFICATE, BUDGET_SHEET),
    ),
    amount_field=("budget", "amount"), title_field=("project", "project_title"),
)


# -- general-proposal: the second-stage full proposal ---------------------------------------------


class TheoryOfChangeSection(SectionSchema):
    problem = _text(_("What problem does your project address?"), long=True, max_length=3000,
                    missing_msg=_("Describe the problem your project addresses"))
    theory_of_change = _text(
        _("How will your activities lead to change?"), long=True, max_length=4000, rows=8,
        description=_("If we do these activities, then these results follow, because… Name the outcomes you expect."),
        missing_msg=_("Explain how your activities will lead to change"))
    assumptions = _text(_("What must hold true for this to work? (optional)"), long=True, max_length=2000,
                        required=False)


class ActivitiesSection(SectionSchema):
    activities = _text(_("What will you do?"), long=True, max_length=4000, rows=8,
                       description=_("List your main activities, and who will lead each one."),
                       missing_msg=_("List the activities of your project"))
    work_plan = _text(_("When will you do it?"), long=True, max_length=4000, rows=8,
                      description=_("Your work plan, month by month, with its milestones."),
                      missing_msg=_("Enter your work plan"))
    duration_months = _number(_("How many months will the project last?"), minimum=1, maximum=36,
                              message=_("Enter the project's length as a number of months from 1 to 36, like 12"),
                              missing_msg=_("Enter how many months the project will last"))


class DetailedBudgetSection(SectionSchema):
    total = _money(_("What is the total of your detailed budget?"),
                   description=_("The amount you ask for, as your detailed budget sheet adds it up."),
                   missing_msg=_("Enter the total of your detailed budget"))
    co_funding = _money(_("Co-funding from other sources (optional)"), required=False)


class SustainabilitySection(SectionSchema):
    sustainability = _text(_("What will last after the grant ends?"), long=True, max_length=3000,
                           description=_("The people, skills, partnerships or funding that will carry the work on."),
                           missing_msg=_("Explain what will last after the grant ends"))


DETAILED_BUDGET_SHEET = AttachmentSpec("detailed_budget", _("Detailed budget sheet"),
                                       description=_("Every cost line, with the months it falls in."))

GENERAL_PROPOSAL = ApplicationForm(
    version="general-proposal", title=_("General full proposal"), stage="proposal",
    sections=(
        Section("theory_of_change", _("Explain your theory of change"), TheoryOfChangeSection),
        Section("activities", _("Plan your activities and work plan"), ActivitiesSection),
        Section("budget", _("Detail your budget"), DetailedBudgetSection),
        Section("sustainability", _("Explain how your work will last"), SustainabilitySection),
        Section("documents", _("Attach your detailed budget"), None, attachments=(DETAILED_BUDGET_SHEET,)),
    ),
    amount_field=("budget", "total"),
)

#: The forms grants ships, registered by ``grants.applications.includeme``.
SHIPPED = (GENERAL_APPLICATION, GENERAL_PROPOSAL)

#: The questions forms are made of, for plugins' forms: a text (``long=True`` for a text
#: area), a whole number, an amount in the round's currency, the organisation's country's
#: regions, and one (or, with ``multiple=True``, several) of fixed choices.
text_question = _text
number_question = _number
money_question = _money
regions_question = _regions
documents_section = _documents


_shipped = None


def _SHIPPED_REGISTRY() -> FormRegistry:  # noqa: N802 - a lazily built constant
    global _shipped
    if _shipped is None:
        _shipped = shipped_forms()
    return _shipped
