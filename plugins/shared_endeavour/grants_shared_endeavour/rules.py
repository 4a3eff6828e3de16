"""Who may apply: the eligibility rule kind ``legal_form_in`` — the organisation's legal
form is one the round accepts (``{"kind": "legal_form_in", "legal_forms": ["cio", …]}``),
with a reason in each reader's language when it is not.

(Match funding is the form's: :class:`grants_shared_endeavour.form.BudgetSection` checks
it when the budget is saved, and grants checks every finished section again on submission.)
"""
from __future__ import annotations

import colander
from translationstring import TranslationStringFactory

from grants.accounts.organisations import LEGAL_FORMS
from grants.applications.eligibility import RuleForm
from grants.applications.formdefs import CheckboxesWidget

_ = TranslationStringFactory("grants")

LEGAL_FORM_IN = "legal_form_in"
#: The legal forms the fund accepts: incorporated or constituted not-for-profit bodies.
ACCEPTED_LEGAL_FORMS = ("registered_charity", "cio", "community_interest_company", "company_limited_by_guarantee",
                        "constituted_group")


def legal_form_in(application, rule):
    """The check: None when the organisation's legal form is accepted, else why not."""
    accepted = list(rule.get("legal_forms") or ())
    legal_form = application.organisation.legal_form
    if legal_form in accepted:
        return None
    if not legal_form:
        return _("The organisation has not given its legal form; this round accepts ${accepted}.",
                 mapping={"accepted": {"legal_forms": accepted}})
    return _("The organisation is registered as ${legal_form}; this round accepts ${accepted}.",
             mapping={"legal_form": {"legal_forms": [legal_form]}, "accepted": {"legal_forms": accepted}})


def read_legal_form_rule(rule):
    """The stored rule: the accepted legal forms, known ones only, at least one."""
    from grants.programmes.services import ProgrammeRefused

    chosen = list(dict.fromkeys(str(f).strip() for f in rule.get("legal_forms") or () if str(f).strip()))
    unknown = [f for f in chosen if f not in LEGAL_FORMS]
    if not chosen or unknown:
        raise ProgrammeRefused([("eligibility_rules", _(
            "List the legal forms the round accepts, from: ${forms}", mapping={"forms": ", ".join(LEGAL_FORMS)}))])
    return {"kind": LEGAL_FORM_IN, "legal_forms": chosen}


def describe_legal_form_rule(rule, rnd, locale):
    return _("Applicants must be one of: ${accepted}", mapping={"accepted": {"legal_forms": rule["legal_forms"]}})


@colander.deferred
def _legal_forms_widget(node, kw):
    request = kw.get("request")
    label = (lambda message: request.localizer.translate(message)) if request is not None else str
    return CheckboxesWidget(values=[(key, label(title)) for key, title in LEGAL_FORMS.items()])


def _legal_forms_node():
    return colander.SchemaNode(
        colander.Set(), title=_("Legal forms that may apply"), missing=colander.null,
        description=_("Leave every box empty to accept any legal form."), widget=_legal_forms_widget)


def _read_legal_forms(answer):
    if not answer:
        return None
    return {"kind": LEGAL_FORM_IN, "legal_forms": [key for key in LEGAL_FORMS if key in answer]}


#: The rule on the round form: a box per legal form.
LEGAL_FORM_QUESTION = RuleForm(node=_legal_forms_node, read=_read_legal_forms,
                               show=lambda rule: set(rule.get("legal_forms") or ()))
