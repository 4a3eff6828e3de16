"""Forms for organisations: register or edit one, invite a member, create an account from an
invitation.

Every rule lives in ``organisations.check_organisation``; the schema's own validator
calls it, so the form and the service give the same messages, and a form with several
problems reports them all at once (colander would otherwise stop at the fields before
checking the regions against the country).
"""
from __future__ import annotations

import colander
import deform

from grants import regions as catalogue
from grants.forms import FormSchema
from grants.i18n import _, language_choice_validator, language_choice_widget, translate

from . import organisations
from .forms import RegisterSchema, _current_language, email_node

REGION_WIDGET_TEMPLATE = "grants.templates:organisations/region_checkboxes.pt"


def _locale(kw) -> str:
    return kw["request"].locale_name


class GroupedCheckboxChoiceWidget(deform.widget.CheckboxChoiceWidget):
    """Checkboxes in one fieldset per group (a country's regions), each group folded in a
    ``<details>`` that is open when it matters: the country chosen on the form, or a group
    with a ticked box.  No JavaScript.  ``groups`` is a list of (key, title, choices)."""

    template = REGION_WIDGET_TEMPLATE
    # Drawn whole by our template (fieldset, legend, hint, error): deform's item template
    # would otherwise add a <label> that labels nothing, and the hint and error after it.
    hidden = True
    groups: list = []
    group_of: str | None = None  # the name of the sibling field that picks the open group

    def serialize(self, field, cstruct, **kw):
        if cstruct in (colander.null, None):
            cstruct = ()
        selected = None
        parent = field.parent
        if self.group_of and parent is not None and self.group_of in parent:
            value = parent[self.group_of].cstruct
            selected = value if isinstance(value, str) else None
        ticked = set(cstruct)
        groups = [
            {"key": key, "title": title, "choices": choices, "index": index,
             "open": key == selected or any(value in ticked for value, _title in choices)}
            for index, (key, title, choices) in enumerate(self.groups)
        ]
        values = self.get_template_values(field, cstruct, {**kw, "groups": groups})
        return field.renderer(self.template, **values)


@colander.deferred
def _regions_widget(node, kw):
    request = kw["request"]
    locale = _locale(kw)
    groups = []
    for country in catalogue.COUNTRIES_WITH_REGIONS:
        choices = [(r.code, r.name(locale)) for r in catalogue.regions_for(country, locale)]
        groups.append((country, translate(request, catalogue.GROUP_TITLES[country]), choices))
    return GroupedCheckboxChoiceWidget(groups=groups, group_of="country")


@colander.deferred
def _country_widget(node, kw):
    request = kw["request"]
    locale = _locale(kw)
    main = [(code, catalogue.country_name(code, locale)) for code in catalogue.MAIN_COUNTRIES]
    others = [(code, name) for code, name in catalogue.countries(locale) if code not in catalogue.MAIN_COUNTRIES]
    return deform.widget.SelectWidget(values=[
        ("", translate(request, _("Choose a country"))),
        deform.widget.OptGroup(translate(request, _("Tunisia, Morocco, United Kingdom")), *main),
        deform.widget.OptGroup(translate(request, _("Other countries")), *others),
    ], attributes={"autocomplete": "country", **REQUIRED})


@colander.deferred
def _legal_form_widget(node, kw):
    request = kw["request"]
    values = [("", translate(request, _("Choose a legal form")))]
    values += [(key, translate(request, label)) for key, label in organisations.LEGAL_FORMS.items()]
    return deform.widget.SelectWidget(values=values, attributes=REQUIRED)


@colander.deferred
def _check(node, kw):
    locale = _locale(kw)

    def validator(form_node, value):
        _clean, errors = organisations.check_organisation(value, locale)
        if errors:
            error = colander.Invalid(form_node)
            for name, message in errors.items():
                error[name] = message
            raise error

    return validator


# The whole organisation is checked at once (organisations.check_organisation), so no node
# is colander-required; the ones it refuses empty say so to the reader through the input's
# ``required`` attribute (announced, and marked beside the label by grants.css; the form is
# novalidate, so the browser refuses nothing itself).
REQUIRED = {"required": "required"}


def _text(name, title, *, description=None, attributes=None, css_class=None, required=False):
    attributes = {**(attributes or {}), **(REQUIRED if required else {})}
    return colander.SchemaNode(colander.String(), name=name, title=title, description=description, missing="",
                               widget=deform.widget.TextInputWidget(attributes=attributes, css_class=css_class))


class OrganisationSchema(FormSchema):
    """Register an organisation, or change its details."""

    legal_name = _text(
        "legal_name", _("Legal name"),
        description=_("As on its registration, in Arabic or Latin letters."),
        attributes={"dir": "auto", "autocomplete": "organization", "spellcheck": "false"}, required=True)
    alternative_name = _text(
        "alternative_name", _("Name in another script (optional)"),
        description=_("If your organisation also writes its name another way, for example in Latin letters as "
                      "well as Arabic."),
        attributes={"dir": "auto", "spellcheck": "false"})
    registration_number = _text(
        "registration_number", _("Registration number"),
        description=_("As on your registration certificate, for example 2011-0457."),
        attributes={"dir": "ltr", "spellcheck": "false", "autocapitalize": "characters", "autocomplete": "off"},
        css_class="ltr-value", required=True)
    legal_form = colander.SchemaNode(colander.String(), title=_("Legal form"), missing="", widget=_legal_form_widget)
    country = colander.SchemaNode(colander.String(), title=_("Country of registration"), missing="",
                                  widget=_country_widget)
    regions = colander.SchemaNode(
        colander.Set(), title=_("Where your organisation works"),
        description=_("Open the list for your country and tick every region where you work: as many as you need."),
        missing=(), widget=_regions_widget)
    contact_email = _text(
        "contact_email", _("Contact e-mail address (optional)"),
        attributes={"type": "email", "autocomplete": "email", "spellcheck": "false", "autocapitalize": "none",
                    "dir": "ltr"})
    contact_phone = _text(
        "contact_phone", _("Contact phone number (optional)"),
        description=_("With the country code, for example +216 71 123 456."),
        attributes={"type": "tel", "autocomplete": "tel", "dir": "ltr"}, css_class="ltr-value")

    validator = _check


def _member_email_node():
    node = email_node(description=_("We will e-mail them an invitation. They become a member only when they "
                                    "accept it; if they have no account yet, they can create one then."))
    node.title = _("Their e-mail address")
    node.missing_msg = _("Enter the e-mail address of the person to invite")
    return node


class InviteMemberSchema(FormSchema):
    email = _member_email_node()
    kind = colander.SchemaNode(
        colander.String(), title=_("What they can do"),
        default=organisations.MEMBER,
        validator=colander.OneOf(organisations.MEMBERSHIP_KINDS,
                                 msg_err=_("Choose whether they will be an owner or a member")),
        missing_msg=_("Choose whether they will be an owner or a member"),
        widget=deform.widget.SelectWidget(values=[
            (organisations.MEMBER, _("Member: applies and reports for the organisation")),
            (organisations.OWNER, _("Owner: also edits its details and manages members")),
        ]),
    )
    locale = colander.SchemaNode(
        colander.String(),
        title=_("Language of the invitation"),
        description=_("If they already have an account, the invitation is written in their own language instead."),
        default=_current_language,
        validator=language_choice_validator,
        missing_msg=_("Choose one of the languages offered"),
        widget=language_choice_widget,
    )


class InvitationRegisterSchema(RegisterSchema):
    """Creating an account from an invitation: the address is the invited one."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        del self["email"]
