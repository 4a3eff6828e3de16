"""Eligibility: a round's rules checked automatically on submission, then screened by an
officer who confirms or overrides each result with a recorded reason.

A round declares its rules as data (``Round.eligibility_rules``, see
``grants.programmes.models``).  Each rule gives a result and, when it fails, a reason a
person can read::

    for result in evaluate(application, locale="fr"):
        result.position, result.kind, result.passed, result.reason
    # 1 region_in False "The organisation works in Tunis and Ariana; this round is open
    #                    to Kébili, Gafsa et Tozeur only."   (names in the reader's language)

Submitting an application stores one ``EligibilityCheck`` per rule (the ``submit``
transition's effect :func:`evaluate_on_submit`, or :func:`run_checks` directly).  The
reason is kept as a message and its raw values — region codes, minor units — so that
each reader gets it in their own language (:func:`reason_text`)::

    run_checks(db, application)
    reason_text(application.eligibility_checks[1], "ar")   # region names in Arabic

An officer then screens the application: for every check, "confirmed" or "overridden"
(an override needs a reason).  That records who decided and when, and moves the
application to ``eligible`` or ``ineligible`` through the workflow — the latter with a
comment listing the failing reasons, and the applicant told why, in their language::

    screen(db, request.registry, application, officer,
           {0: ("confirmed", ""), 1: ("overridden", "Works in Kébili since 2019: see the statutes")})
    screening_outcome(application)    # True, False, or None while a check awaits the officer
    ineligible_reasons(application, locale="ar")   # what the applicant is told

Refusals raise :class:`EligibilityRefused` (bad decisions: nothing changed) or its
subclass :class:`ScreeningBlocked` (the workflow refused the step: nothing changed either).

Kinds of rule are one mechanism for grants and plugins: a :class:`RuleKind` (its check,
how a round's rule is read and described) registered with
``config.add_eligibility_rule_kind``.  Grants registers its own four that way; a plugin's
kinds may be declared only by rounds of programmes that use the plugin
(:func:`kinds_for`)::

    def legal_form_check(application, rule):
        if application.organisation.legal_form not in rule["legal_forms"]:
            return _("…", mapping={"accepted": {"legal_forms": rule["legal_forms"]}})

    config.add_eligibility_rule_kind("legal_form_in", legal_form_check, title=_("Legal form"),
                                     normalise=read_rule, describe=describe_rule)
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from babel.lists import format_list
from pyramid.i18n import TranslationString
from sqlalchemy.orm import Session

from grants.i18n import _, translate_for
from grants.lifecycle.meanings import means
from grants.money import Money, format_money
from grants.workflow import ProblemsRefused, Refused
from grants.applications.services import round_maximum  # one maximum for the form and the rule
from grants.lifecycle.services import workflows_of

from .models import Application, EligibilityCheck

CONFIRMED, OVERRIDDEN = "confirmed", "overridden"
DECISIONS = (CONFIRMED, OVERRIDDEN)

# What each kind of rule is called where the officer screens (the round page describes
# the rule itself, with its values).
RULE_TITLES = {
    "registered_organisation": _("Registered organisation"),
    "region_in": _("Works in the round's regions"),
    "amount_within_max": _("Amount within the maximum"),
    "required_attachments": _("Required attachments"),
}

# The documents the general form asks for, by kind (other kinds: their title on the form that
# asks for them, else the kind itself).
ATTACHMENT_LABELS = {
    "registration_certificate": _("Registration certificate"),
    "budget": _("Budget sheet"),
}
MISSING_ATTACHMENT = {
    "registration_certificate": _("The registration certificate is missing."),
    "budget": _("The budget sheet is missing."),
}


class EligibilityRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field, reason): the field is
    ``"rule-<position>.decision"``, ``"rule-<position>.reason"`` or None (the whole)."""


class ScreeningBlocked(EligibilityRefused):
    """The workflow refused the step (the application is not waiting for screening, the
    officer may not screen it, a guard said no).  Nothing was changed."""


def decision_field(position: int, part: str) -> str:
    return f"rule-{position}.{part}"


# -- reasons: stored as data, shown in the reader's language --------------------------------
#
# A mapping value is a plain string or number, or one of:
#   {"regions": ["TN-11", …]}          region names in the reader's language, as a list
#   {"money": [minor_units, "TND"]}     the amount as the reader's locale writes it
#   {"attachments": ["budget", …]}      what the form calls these documents, translated, as a list
#   {"legal_forms": ["cio", …]}         the legal forms' names, translated, as a list ("… or …")


def _stored(message: TranslationString) -> dict:
    return {"msgid": str(message), "default": message.default, "mapping": dict(message.mapping or {})}


def _current_locale() -> str:
    from pyramid.threadlocal import get_current_request

    request = get_current_request()
    return getattr(request, "locale_name", None) or "en"


def _localizer(locale: str):
    """Translations for labels inside a list (one sentence naming several attachments)."""
    from pyramid.i18n import make_localizer
    from pyramid.interfaces import ITranslationDirectories
    from pyramid.threadlocal import get_current_registry

    dirs = get_current_registry().queryUtility(ITranslationDirectories, default=None)
    if not dirs:  # outside the app (a script): our own catalogs
        dirs = [str(Path(__file__).resolve().parent.parent / "locale")]
    return make_localizer(locale, dirs)


def attachment_label(kind: str):
    """What the application form calls a kind of document (a plugin's form may add kinds)."""
    if kind in ATTACHMENT_LABELS:
        return ATTACHMENT_LABELS[kind]
    from pyramid.threadlocal import get_current_registry

    from .formdefs import forms_of

    for form in forms_of(get_current_registry()):
        for spec in form.attachments:
            if spec.kind == kind:
                return spec.title
    return kind


def _resolve(value: Any, locale: str) -> Any:
    if not isinstance(value, dict):
        return value
    if "regions" in value:
        from grants import regions

        return format_list([regions.label(code, locale) for code in value["regions"]], locale=_babel(locale))
    if "money" in value:
        minor, currency = value["money"]
        return format_money(Money.from_minor(int(minor), currency), _babel(locale))
    if "attachments" in value:
        localizer = _localizer(locale)
        labels = [_translated(localizer, attachment_label(kind)) for kind in value["attachments"]]
        return format_list(labels, locale=_babel(locale))
    if "legal_forms" in value:
        from grants.accounts.organisations import legal_form_label

        localizer = _localizer(locale)
        labels = [_translated(localizer, legal_form_label(key)) for key in value["legal_forms"]]
        return format_list(labels, style="or", locale=_babel(locale))
    return str(value)


def _translated(localizer, label) -> str:
    return localizer.translate(label) if hasattr(label, "interpolate") else str(label)


def _babel(locale: str) -> str:
    return (locale or "en").replace("-", "_")


def message_from(stored: Mapping | None, locale: str | None = None) -> TranslationString | None:
    """A stored reason (``{"msgid", "default", "mapping"}``) as a TranslationString whose
    values are written for ``locale`` (the current request's language if not given)."""
    if not stored:
        return None
    locale = locale or _current_locale()
    mapping = {key: _resolve(value, locale) for key, value in (stored.get("mapping") or {}).items()}
    return TranslationString(stored["msgid"], domain="grants", default=stored.get("default") or stored["msgid"],
                             mapping=mapping or None)


def localised(message, locale: str | None = None):
    """``message`` with its values in the stored forms above written for ``locale`` (what a
    rule kind's ``describe`` returns is read this way)."""
    if not isinstance(message, TranslationString) or not message.mapping:
        return message
    return message_from(_stored(message), locale)


def reason_text(check: EligibilityCheck, locale: str | None = None) -> TranslationString | None:
    """Why the rule failed automatically (None if it passed), for a reader of ``locale``."""
    return message_from(check.reason, locale)


def rule_title(kind: str, registry=None):
    """What the officer screening sees a kind of rule called."""
    found = rule_kinds(registry).get(kind)
    return found.title if found is not None else kind


# -- evaluating the rules --------------------------------------------------------------------


@dataclass(frozen=True)
class RuleResult:
    """One rule applied to one application.  ``reason`` is for a reader of the locale
    given to :func:`evaluate`; ``stored_reason`` is what :func:`run_checks` keeps."""

    position: int
    kind: str
    rule: dict
    passed: bool
    reason: TranslationString | None
    stored_reason: dict | None = None


def _registered_organisation(application: Application, rule: dict):
    if (application.organisation.registration_number or "").strip():
        return None
    return _("The organisation has no registration number.")


def _region_in(application: Application, rule: dict):
    allowed = list(rule.get("regions") or ())
    works_in = sorted(application.organisation.regions)
    if set(works_in) & set(allowed):
        return None
    if not works_in:
        return _("The organisation has not said which regions it works in; this round is open to ${allowed} only.",
                 mapping={"allowed": {"regions": allowed}})
    return _("The organisation works in ${regions}; this round is open to ${allowed} only.",
             mapping={"regions": {"regions": works_in}, "allowed": {"regions": allowed}})


def _amount_within_max(application: Application, rule: dict):
    maximum = round_maximum(application.round, rule)
    amount = application.amount
    if amount is None:
        return _("The application does not say how much it requests.")
    if maximum is None:
        return None  # the round sets no maximum: nothing to exceed
    if amount.currency != maximum.currency:
        return _("The amount requested is in ${currency}; this round gives grants in ${round_currency}.",
                 mapping={"currency": amount.currency, "round_currency": maximum.currency})
    if amount > maximum:
        return _("The amount requested, ${amount}, is more than the maximum of ${maximum}.",
                 mapping={"amount": {"money": [amount.minor_units, amount.currency]},
                          "maximum": {"money": [maximum.minor_units, maximum.currency]}})
    return None


def _required_attachments(application: Application, rule: dict):
    present = {a.kind for a in application.attachments if a.stage == "application"}
    missing = [kind for kind in rule.get("attachments") or () if kind not in present]
    if not missing:
        return None
    if len(missing) == 1:
        kind = missing[0]
        return MISSING_ATTACHMENT.get(kind) or _("The document “${document}” is missing.",
                                                 mapping={"document": {"attachments": [kind]}})
    return _("These attachments are missing: ${attachments}.", mapping={"attachments": {"attachments": missing}})


def _unknown(application: Application, rule: dict):
    return _("The rule “${kind}” cannot be checked automatically: decide it yourself.",
             mapping={"kind": str(rule.get("kind"))})


# -- kinds of rule: grants' own and plugins', one mechanism -----------------------------------


@dataclass(frozen=True)
class RuleKind:
    """A kind of eligibility rule a round may declare.

    ``check(application, rule)`` returns None when the application meets ``rule``, else
    the reason, a TranslationString (domain ``grants``) whose values are plain or in one
    of the stored forms above, so that each reader gets it in their own language.
    ``normalise(rule)`` returns the rule as it is stored (a dict holding what the check
    reads) or raises ``grants.programmes.services.ProgrammeRefused``; None keeps only the
    kind.  ``describe(rule, rnd, locale)`` says what the rule asks, for the round page
    (the title when None), its values plain or in the stored forms.  ``form``, if given,
    puts the rule on the round form (:class:`RuleForm`).  ``origin`` is the plugin that
    added it ("" for grants)."""

    kind: str
    title: Any
    check: Callable[[Application, dict], Any]
    normalise: Callable[[dict], dict] | None = None
    describe: Callable[[dict, Any, str], Any] | None = None
    origin: str = ""
    form: "RuleForm | None" = None


@dataclass(frozen=True)
class RuleForm:
    """A plugin's rule on the round form, among the eligibility rules: ``node()`` makes the
    question (a colander node; it is named after the kind), ``read(answer)`` turns the
    answer into the rule (None: the round does not declare it) and ``show(rule)`` a declared
    rule back into the answer."""

    node: Callable[[], Any]
    read: Callable[[Any], dict | None]
    show: Callable[[dict], Any]


@functools.cache
def core_rule_kinds() -> tuple[RuleKind, ...]:
    """The kinds grants ships (registered like a plugin's by ``grants.applications``;
    made on first use, as their normalisers live with the programmes)."""
    from grants.programmes import services as programmes

    return (
        RuleKind("registered_organisation", RULE_TITLES["registered_organisation"], _registered_organisation,
                 programmes.registered_organisation_rule),
        RuleKind("region_in", RULE_TITLES["region_in"], _region_in, programmes.region_in_rule),
        RuleKind("amount_within_max", RULE_TITLES["amount_within_max"], _amount_within_max,
                 programmes.amount_within_max_rule),
        RuleKind("required_attachments", RULE_TITLES["required_attachments"], _required_attachments,
                 programmes.required_attachments_rule),
    )


RULE_KINDS_KEY = "grants.eligibility_rule_kinds"


def _pyramid_registry(registry):
    if registry is None:
        from pyramid.threadlocal import get_current_registry

        registry = get_current_registry()
    return getattr(registry, "app_registry", None) or registry


def rule_kinds(registry=None) -> dict[str, RuleKind]:
    """Every kind of rule the deployment knows, by name: grants' own and its plugins'
    (``registry``: the Pyramid registry or its ``workflows``; the current one if None;
    grants' own kinds where nothing was registered, as in a script)."""
    registry = _pyramid_registry(registry)
    found = registry.get(RULE_KINDS_KEY) if hasattr(registry, "get") else None
    if not found:
        return {k.kind: k for k in core_rule_kinds()}
    return dict(found)


def kinds_for(registry, programme) -> dict[str, RuleKind]:
    """The kinds rounds of ``programme`` may declare: grants' own and those of the
    plugins the programme uses."""
    from grants.plugins import in_scope

    plugins = getattr(programme, "plugins", None) or ()
    return {name: k for name, k in rule_kinds(registry).items() if in_scope(k.origin, plugins)}


def add_eligibility_rule_kind(config, kind: str, check, title, normalise=None, describe=None, form=None):
    """The directive ``config.add_eligibility_rule_kind``: a kind of rule rounds may
    declare (see :class:`RuleKind`).  From a plugin it is available only in programmes
    that use the plugin; two registrations of one kind conflict at start-up."""
    from grants.plugins import current_plugin, register_change

    if not kind or not str(kind).replace("_", "").isalnum():
        raise ValueError(f"eligibility rule kind {kind!r}: use letters, digits and underscores")
    found = RuleKind(kind, title, check, normalise, describe, current_plugin(config), form)

    def register():
        config.registry.setdefault(RULE_KINDS_KEY, {})[kind] = found

    register_change(config, ("grants:eligibility-rule-kind", kind), f"add eligibility rule kind {kind!r}", register)


def evaluate(application: Application, *, locale: str | None = None, registry=None,
             rules: list[dict] | None = None) -> list[RuleResult]:
    """Every rule of the application's round (or ``rules``, proposed for it) applied to
    it, in order.  Reads only; nothing is stored (see :func:`run_checks`).  A rule whose
    kind is not installed, or belongs to a plugin the programme does not use, is left to
    the officer."""
    results = []
    kinds = kinds_for(registry, application.round.programme)
    rules = application.round.eligibility_rules if rules is None else rules
    for position, rule in enumerate(rules or ()):
        kind = str(rule.get("kind"))
        found = kinds.get(kind)
        failure = (found.check if found is not None else _unknown)(application, rule)
        stored = None if failure is None else _stored(failure)
        results.append(RuleResult(position, kind, dict(rule), failure is None, message_from(stored, locale), stored))
    return results


@dataclass(frozen=True)
class RulePreview:
    """How one proposed rule fares against the round's applications so far."""

    position: int
    rule: dict
    failing: int   # applications it would fail
    checked: int   # applications it was tried on


def preview_rules(db: Session, rnd, rules: list[dict], *, registry=None) -> list[RulePreview]:
    """Each of ``rules`` (proposed for ``rnd``, already normalised) tried on every
    application of the round that has been submitted: how many it would fail.  Reads
    only; nothing is stored or changed."""
    from sqlalchemy import select

    applications = list(db.scalars(select(Application).where(
        Application.round_id == rnd.id, Application.submitted_at.is_not(None)).order_by(Application.id)))
    failing = [0] * len(rules)
    for application in applications:
        for result in evaluate(application, locale="en", registry=registry, rules=rules):
            if not result.passed:
                failing[result.position] += 1
    return [RulePreview(position, dict(rule), failing[position], len(applications))
            for position, rule in enumerate(rules)]


def run_checks(db: Session, application: Application, *, now: dt.datetime | None = None,
               registry=None) -> list[EligibilityCheck]:
    """Evaluate the rules and store one ``EligibilityCheck`` per rule.  Checks the officer
    has already screened are kept as they are (their word stands); the others are
    replaced by the new results, and checks for rules that no longer exist are removed."""
    now = now or dt.datetime.now(dt.timezone.utc)
    # Reading the stored checks needs nothing of this session's pending changes (the
    # submit's new state and history row): they are flushed once, with the checks, below.
    with db.no_autoflush:
        existing = {c.position: c for c in application.eligibility_checks}
    results = evaluate(application, locale="en", registry=registry)
    for result in results:
        check = existing.pop(result.position, None)
        if check is not None and check.officer_decision is not None:
            continue
        if check is None:
            # Updated in place otherwise: a delete and an insert of the same position in
            # one flush would meet the (application, position) unique constraint.
            check = EligibilityCheck(position=result.position)
            application.eligibility_checks.append(check)
        check.kind = result.kind
        check.rule = result.rule
        check.passed = result.passed
        check.reason = result.stored_reason
        check.evaluated_at = now
    for check in existing.values():
        if check.officer_decision is None:
            application.eligibility_checks.remove(check)
    db.flush()
    return list(application.eligibility_checks)


def evaluate_on_submit(ctx) -> None:
    """Effect of ``submit``: the automatic checks, in the submission's transaction."""
    run_checks(ctx.env.dbsession, ctx.obj, now=ctx.now, registry=getattr(ctx.env, "app", None))


def reset_screening(ctx) -> None:
    """Effect of ``return_for_changes``: the officer's word on each check was about the
    answers the applicant is now changing, so the checks run afresh on resubmission."""
    for check in ctx.obj.eligibility_checks:
        check.officer_decision = None
        check.officer_reason = ""
        check.decided_by_id = None
        check.decided_at = None


# -- screening --------------------------------------------------------------------------------


def screening_outcome(application: Application) -> bool | None:
    """True if every rule is met once the officer has given their word on each; False if
    one is not; None while a check awaits the officer.  A round without rules has nothing
    to check: True (the officer's confirmation is the ``confirm_eligible`` step itself)."""
    checks = application.eligibility_checks
    if not checks:
        return None if application.round.eligibility_rules else True
    outcomes = [c.outcome for c in checks]
    if any(o is None for o in outcomes):
        return None
    return all(outcomes)


def ineligible_reasons(application: Application, locale: str | None = None) -> list:
    """What the applicant is told: for every rule the application does not meet after
    screening, the automatic reason (confirmed by the officer), or the officer's own
    reason where they overrode a pass.  Messages for a reader of ``locale`` (the current
    request's language if not given); the officer's words are shown as written."""
    reasons = []
    for check in application.eligibility_checks:
        if check.outcome is not False:
            continue
        if check.officer_decision == OVERRIDDEN:
            reasons.append(TranslationString(check.officer_reason))  # free text: no catalog entry
        else:
            reasons.append(reason_text(check, locale) or _("This eligibility rule is not met."))
    return reasons


def _app_registry(registry):
    return getattr(workflows_of(registry), "app_registry", None) or registry


def check_decisions(application: Application, decisions: Mapping[int, tuple[str, str]]) -> list[tuple[str | None, Any]]:
    """What is wrong with ``decisions`` for this application's checks (nothing: [])."""
    problems: list[tuple[str | None, Any]] = []
    positions = {c.position for c in application.eligibility_checks}
    for position in sorted(set(decisions) - positions, key=str):
        problems.append((None, _("There is no eligibility rule number ${number} on this application.",
                                 mapping={"number": str(position)})))
    for check in application.eligibility_checks:
        decision, reason = _decision(decisions.get(check.position))
        if decision not in DECISIONS:
            problems.append((decision_field(check.position, "decision"),
                             _("Choose whether you confirm or override this result")))
        elif decision == OVERRIDDEN and not reason:
            problems.append((decision_field(check.position, "reason"),
                             _("Give the reason for overriding this result: it is kept with the decision")))
    return problems


def _decision(value) -> tuple[str | None, str]:
    """(decision, reason) from what the caller gave: a pair, or the decision alone."""
    if value is None:
        return None, ""
    if isinstance(value, str):
        return value, ""
    decision, reason = value
    return decision, (reason or "").strip()


def screen(db: Session, registry, application: Application, user, decisions: Mapping[int, tuple[str, str]], *,
           transaction_manager=None, locale: str | None = None, now: dt.datetime | None = None) -> bool:
    """Record the officer's word on every check and move the application on: to
    ``eligible`` (``confirm_eligible``) when every rule is then met, else to ``ineligible``
    (``mark_ineligible``, with a comment listing the failing reasons in ``locale``, the
    officer's language by default).  Returns whether it is eligible.

    ``decisions`` maps each check's position to ("confirmed" or "overridden", reason), or
    to the decision alone when there is no reason to give; an override needs a reason.
    ``registry`` is the Pyramid registry (or its ``workflows``).  Raises :class:`EligibilityRefused` or :class:`ScreeningBlocked`; either way nothing
    is changed."""
    from grants.lifecycle.services import WorkflowService

    now = now or dt.datetime.now(dt.timezone.utc)
    if user is None:
        raise ScreeningBlocked([(None, _("Sign in to screen applications."))])
    if not means(application, "submitted"):
        state = workflows_of(registry).for_object(application).state_of(application)
        raise ScreeningBlocked([(None, _("This application is not waiting for screening: it is “${state}”.",
                                         mapping={"state": _(state.title)}))])
    if not application.eligibility_checks and application.round.eligibility_rules:
        run_checks(db, application, now=now, registry=registry)  # submitted before its checks were stored
    problems = check_decisions(application, decisions)
    if problems:
        raise EligibilityRefused(problems)

    before = [(c, c.officer_decision, c.officer_reason, c.decided_by_id, c.decided_at)
              for c in application.eligibility_checks]
    for check in application.eligibility_checks:
        decision, reason = _decision(decisions[check.position])
        check.officer_decision = decision
        check.officer_reason = reason
        check.decided_by_id = user.id
        check.decided_at = now
    eligible = bool(screening_outcome(application))
    service = WorkflowService(workflows_of(registry), db, transaction_manager=transaction_manager)
    try:
        if eligible:
            service.fire(application, "confirm_eligible", user, now=now)
        else:
            comment = _ineligible_comment(registry, application, locale or getattr(user, "locale", None) or "en")
            service.fire(application, "mark_ineligible", user, comment=comment, now=now)
    except Refused as refused:
        for check, *values in before:
            check.officer_decision, check.officer_reason, check.decided_by_id, check.decided_at = values
        raise ScreeningBlocked([(None, reason) for reason in refused.reasons]) from None
    return eligible


def _ineligible_comment(registry, application: Application, locale: str) -> str:
    """The failing reasons, one a line, in the officer's language (kept in the history)."""
    app_registry = _app_registry(registry)
    lines = [translate_for(app_registry, locale, reason) for reason in ineligible_reasons(application, locale)]
    return "\n".join(f"- {line}" for line in lines)
