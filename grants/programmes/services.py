"""Programmes and rounds: the Python API used by the pages, the demo, the CLI and plugins.

Every function takes the SQLAlchemy session first (and the registry where a workflow is
involved: the Pyramid registry or its ``workflows``), flushes but never commits, and
refuses bad input with :class:`ProgrammeRefused`, whose ``reasons`` are sentences a person
can read (TranslationStrings, domain ``grants``) and whose ``problems`` say which field
each is about.

Programmes and funders::

    prog = create_programme(db, title="City Youth Fund", currency="GBP")
    city = get_or_create_funder(db, name="City Council", identifier="GB-LAE-XYZ", kind="government")
    foundation = get_or_create_funder(db, name="A Foundation", kind="foundation")
    add_funder_contribution(db, prog, city, role="lead", amount=Money(Decimal(400_000), "GBP"), round=r1)
    add_funder_contribution(db, prog, foundation, role="co_funder", amount=Money(Decimal(400_000), "GBP"),
                            round=r1, matches=city)
    programme_totals(db, prog)   # per funder, per round, across rounds, matched — exact, per currency

Rounds::

    rnd = create_round(db, registry, prog, title="Call 4", timezone="Europe/London",
                       opens_at=..., closes_at=..., budget=Money(Decimal(875_000), "GBP"),
                       tiers=[TierSpec("Small", Money(...), Money(...)), ...],
                       eligibility_rules=[{"kind": "registered_organisation"}])
    update_round(db, rnd, closes_at=...)   # dates, budget, tiers, rules: only in draft
    update_round(db, rnd, application_form_version="general-v2")  # also while open: for new applications
    round_funnel(db, rnd, registry)        # applications per state and per region
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.audit.services import record_change
from grants.i18n import _
from grants.lifecycle.meanings import means
from grants.money import MINOR_UNITS, Money, MoneyBag
from grants.plugins import ENTRY_POINT_GROUP
from grants.workflow import ProblemsRefused
from grants.lifecycle.services import workflow_choice_at, workflow_chosen_at, workflows_of
from grants.multilingual import clean_texts, default_language_of, freeze, languages_of, rebase, set_texts, texts
from grants.text import LONG_MAX

from .models import (
    CO_FUNDER,
    FUNDER_KINDS,
    FUNDER_ROLES,
    IMPLEMENTER,
    LEAD,
    Funder,
    Programme,
    ProgrammeFunder,
    Round,
    RoundTier,
)

#: What may no longer change once a round has left draft.
LOCKED_AFTER_DRAFT = ("opens_at", "closes_at", "timezone", "budget", "tiers")
#: What may still change while a round is open, and no longer after: the form version (a
#: new version serves new applications; those already made keep theirs) and the
#: eligibility rules — those only until an officer has screened an application under them
#: (:func:`rules_locked`); the checks of applications awaiting screening are run again.
LOCKED_AFTER_OPEN = ("application_form_version", "eligibility_rules")
#: The proposal form may change at any time: a proposal keeps the version it started with.
EDITABLE = LOCKED_AFTER_DRAFT + LOCKED_AFTER_OPEN + ("title", "rubric_id", "blind_review", "proposal_form_version")
FORM_VERSIONS = {"application_form_version": "application", "proposal_form_version": "proposal"}


class ProgrammeRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


_refuse_if = ProgrammeRefused.refuse_if


# -- plugins ----------------------------------------------------------------------------------


def installed_plugins() -> list[str]:
    """Entry-point names in the ``grants.plugins`` group, sorted."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def validate_plugins(names: Iterable[str], available: Iterable[str] | None = None) -> list[str]:
    """``names`` deduplicated in order, or ProgrammeRefused naming the ones not installed."""
    known = set(installed_plugins() if available is None else available)
    chosen = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise ProgrammeRefused([("plugins", _(
            "${names} is not an installed plugin: choose from ${known}",
            mapping={"names": ", ".join(unknown), "known": ", ".join(sorted(known)) or "—"}))])
    return chosen


def enabled_plugins_of(registry) -> list[str]:
    """The plugins this deployment enables (the only ones a programme can use)."""
    workflows = getattr(registry, "workflows", registry)
    return sorted(getattr(workflows, "plugin_names", ()) or ())


def _check_plugin_conflict(registry, plugins) -> None:
    from grants.plugins import programme_conflict

    if registry is not None:
        problem = programme_conflict(getattr(registry, "app_registry", registry), plugins)
        if problem:
            raise ProgrammeRefused([("plugins", problem)])


def programme_plugin_conflicts(dbsession: Session, registry) -> str | None:
    """At start-up: the first programme whose plugins change the same thing, named."""
    from grants.plugins import programme_conflict

    for programme in dbsession.scalars(select(Programme).order_by(Programme.id)):
        problem = programme_conflict(registry, programme.plugins)
        if problem:
            return f"programme {programme.id} ({programme.title}): {problem}"
    return None


def workflow_options(registry, place, family: str):
    """The workflows of ``family`` that objects under ``place`` (a programme or round)
    may run: the base, and the variants of plugins the programme uses."""
    from grants.plugins import in_scope, plugins_in_scope

    plugins = plugins_in_scope(place) or ()
    return [d for d in workflows_of(registry).variants(family) if in_scope(d.origin, plugins)]


@dataclass(frozen=True)
class WorkflowOption:
    """One entry of a round's list of workflows: a workflow, at its newest version
    (``version`` None) or at a version pinned (those released in the workflow editor)."""

    definition: Any
    version: int | None = None

    @property
    def value(self) -> str:
        """What the form sends: "id", or "id:version" (an id never holds a colon)."""
        return self.definition.id if self.version is None else f"{self.definition.id}:{self.version}"



def parse_workflow_value(value: str) -> tuple[str, int | None]:
    """"id" or "id:version" (as :attr:`WorkflowOption.value` writes it) -> (id, version);
    a version that is not a whole number is -1, which no workflow has."""
    workflow_id, colon, version = (value or "").partition(":")
    if not colon:
        return workflow_id, None
    return workflow_id, int(version) if version.isdigit() and len(version) < 7 else -1


def workflow_choice_value(place, family: str) -> str:
    """The list's value for what ``place`` chose: "id", or "id:version" when pinned."""
    workflow_id, version = workflow_choice_at(place, family)
    return workflow_id if version is None else f"{workflow_id}:{version}"


def workflow_version_options(registry, place, family: str) -> list[WorkflowOption]:
    """What a round's list offers: each workflow of :func:`workflow_options` at its newest
    version, except those made in the workflow editor, offered by released version
    ("My variant, version 2") so that a later release does not change what the round's
    new objects run.  Drafts are never compiled, so never offered."""
    from grants.workflow import WorkflowConfigurationError

    workflows = workflows_of(registry)
    if workflows.stored is not None and workflows.frozen:
        for d in workflows.stored.all():  # versions released by another process since this one started
            try:
                workflows.add_stored(d)  # one compiled already is left as it is
            except WorkflowConfigurationError:
                continue  # it no longer checks here (a plugin it uses is disabled): not offered
    found = []
    for d in workflow_options(registry, place, family):
        if d.id in workflows.stored_ids:
            found += [WorkflowOption(workflows.get(d.id, v).definition, v) for v in workflows.versions(d.id)]
        else:
            found.append(WorkflowOption(d))
    return found


def choose_workflow(dbsession: Session, registry, place, family: str, workflow_id: str | None, *, user=None,
                    version: int | None = None):
    """Make new ``family`` objects under ``place`` (a programme or round) run
    ``workflow_id`` (None: back to what the level above chooses), at ``version`` when a
    round pins one (None: the newest).  Objects already made keep theirs.  A change is in
    the audit ("workflow": ``{"family", "workflow", "version"}``)."""
    choices = dict(place.workflow_choices or {})
    pins = dict(getattr(place, "workflow_pins", None) or {})
    before = (choices.get(family), pins.get(family))
    if workflow_id:
        allowed = {d.id for d in workflow_options(registry, place, family)}
        if workflow_id not in allowed:
            raise ProgrammeRefused([("workflow", _(
                "Choose a workflow this programme's plugins offer: ${allowed}",
                mapping={"allowed": ", ".join(sorted(allowed))}))])
        if version is not None:
            released = [o.version for o in workflow_version_options(registry, place, family)
                        if o.definition.id == workflow_id and o.version is not None]
            if version not in released or not hasattr(place, "workflow_pins"):
                raise ProgrammeRefused([("workflow", _(
                    "The workflow “${workflow}” has no released version ${version}: choose one from the list "
                    "(released: ${released}).", mapping={"workflow": workflow_id, "version": version,
                                                          "released": ", ".join(map(str, released)) or "—"}))])
            pins[family] = version
        else:
            pins.pop(family, None)
        choices[family] = workflow_id
    else:
        choices.pop(family, None)
        pins.pop(family, None)
    place.workflow_choices = choices
    if hasattr(place, "workflow_pins"):
        place.workflow_pins = pins
    after = (choices.get(family), pins.get(family))
    if before != after:
        record_change(dbsession, place, "workflow", {"family": family, "workflow": before[0], "version": before[1]},
                      {"family": family, "workflow": after[0], "version": after[1]}, user=user)
    dbsession.flush()
    return place


# -- programmes and funders --------------------------------------------------------------------


def _check_currency(currency: str, field_name: str = "currency"):
    if currency not in MINOR_UNITS:
        return [(field_name, _("Choose the currency from the list: ${currency} is not an ISO 4217 code we know",
                               mapping={"currency": currency or "—"}))]
    return []


#: Limits of the programme's multilingual texts (their columns' lengths).
PROGRAMME_TITLE_MAX, ROUND_TITLE_MAX, TIER_NAME_MAX = 300, 300, 200
#: The texts of a programme, a round and a tier that are written in every language.
PROGRAMME_TEXTS, ROUND_TEXTS, TIER_TEXTS = ("title", "description"), ("title",), ("name",)


def _check_languages(languages, default_language, registry=None) -> tuple[list[str], str, list]:
    """The programme's content languages (the default first) and problems: each must be a
    language the deployment offers (any Babel language without a registry)."""
    from grants.i18n import deployment_languages, is_language

    offered = list(deployment_languages(registry)) if registry is not None else None
    chosen = list(dict.fromkeys(code for code in (languages or ()) if code))
    problems = []
    if default_language and default_language not in chosen:
        chosen.insert(0, default_language)
    unknown = [code for code in chosen if (code not in offered if offered is not None else not is_language(code))]
    if unknown:
        problems.append(("languages", _("Choose the programme's languages from those this site offers: ${known}",
                                        mapping={"known": ", ".join(offered or ()) or "—"})))
    if not chosen:
        problems.append(("languages", _("Choose at least one language for the programme's content")))
    default = default_language or (chosen[0] if chosen else "")
    return [default] + [c for c in chosen if c != default], default, problems


def create_programme(dbsession: Session, *, title, currency: str, description="",
                     plugins: Iterable[str] = (), available_plugins: Iterable[str] | None = None,
                     registry=None, languages: Iterable[str] | None = None, default_language: str | None = None,
                     user=None) -> Programme:
    """A new programme.  ``plugins`` are entry-point names checked against what is
    installed (or ``available_plugins``; with ``registry``, what the deployment enables),
    and against each other: two plugins changing the same thing cannot share a programme.

    ``languages`` are those its content is written in, ``default_language`` the one every
    text must have (the deployment's default, or English, when not given).  ``title``
    and ``description`` are plain strings (the default language's) or ``{language:
    text}`` dicts (grants.multilingual)."""
    from grants.i18n import SOURCE_LANGUAGE
    from grants.i18n import default_language as deployment_default

    if registry is not None and available_plugins is None:
        available_plugins = enabled_plugins_of(registry)
    if default_language is None:
        default_language = (list(languages)[0] if languages else
                            deployment_default(registry) if registry is not None else SOURCE_LANGUAGE)
    chosen_languages, default_language, problems = _check_languages(languages or (), default_language, registry)
    titles, found = clean_texts(title, languages=chosen_languages, field="title", limit=PROGRAMME_TITLE_MAX,
                                required=_("Enter the programme's name"))
    problems += found
    descriptions, found = clean_texts(description or "", languages=chosen_languages, field="description",
                                      limit=LONG_MAX, multiline=True)
    problems += found
    problems += _check_currency(currency)
    _refuse_if(problems)
    chosen = validate_plugins(plugins, available_plugins)
    _check_plugin_conflict(registry, chosen)
    programme = Programme(currency=currency, plugins=chosen, languages=chosen_languages,
                          default_language=default_language)
    set_texts(programme, "title", titles)
    set_texts(programme, "description", descriptions)
    dbsession.add(programme)
    dbsession.flush()
    record_change(dbsession, programme, "created", None, {"id": programme.id, "name": programme.title}, user=user)
    dbsession.flush()
    return programme


#: What ``update_programme`` may change, in the order the audit records it.
PROGRAMME_EDITABLE = ("title", "description", "languages", "default_language", "currency", "plugins",
                      "results_levels")
#: Those the audit records as plain values (texts, languages and plugins are recorded where they change).
PROGRAMME_PLAIN_FIELDS = ("currency", "results_levels")


def update_programme(dbsession: Session, programme: Programme, *, available_plugins=None, registry=None,
                     user=None, **changes) -> Programme:
    """Change ``title``, ``description`` (strings: the default language's; or ``{language:
    text}``: every language), ``languages``, ``default_language``, ``currency``,
    ``plugins`` or ``results_levels`` (the theory-of-change levels, in order; empty for the
    usual ones).  The currency is fixed once the programme has rounds or contributions
    (their amounts are in it).  Each field that changes is in the audit, by ``user``."""
    unknown = set(changes) - set(PROGRAMME_EDITABLE)
    if unknown:
        raise TypeError(f"update_programme() cannot change {', '.join(sorted(unknown))}")
    if registry is not None and available_plugins is None:
        available_plugins = enabled_plugins_of(registry)
    before = {name: _plain(getattr(programme, name)) for name in PROGRAMME_PLAIN_FIELDS}
    problems = []
    languages = languages_of(programme)
    if "languages" in changes or "default_language" in changes:
        languages, default, found = _check_languages(
            changes.get("languages", programme.languages or [programme.default_language]),
            changes.get("default_language") or programme.default_language, registry)
        problems += found
    texts_wanted = {}
    for name, limit, required in (("title", PROGRAMME_TITLE_MAX, _("Enter the programme's name")),
                                  ("description", LONG_MAX, None)):
        if name in changes:
            current = texts(programme, name)
            texts_wanted[name], found = clean_texts(
                changes[name] if changes[name] is not None else "", languages=languages, field=name, limit=limit,
                required=required, multiline=name == "description",
                current={k: v for k, v in current.items() if k in languages})
            problems += found
    _refuse_if(problems)
    if "languages" in changes or "default_language" in changes:
        old = {"languages": languages_of(programme), "default_language": programme.default_language}
        set_content_languages(dbsession, programme, languages, default)
        new = {"languages": languages_of(programme), "default_language": programme.default_language}
        if old != new:
            record_change(dbsession, programme, "languages", old, new, user=user)
    for name, wanted in texts_wanted.items():
        old = set_texts(programme, name, wanted)
        if old != texts(programme, name):
            record_change(dbsession, programme, name, old, texts(programme, name), user=user)
    if "plugins" in changes:
        chosen = validate_plugins(changes["plugins"], available_plugins)
        _check_plugin_conflict(registry, chosen)
        if chosen != list(programme.plugins or ()):
            record_change(dbsession, programme, "plugins", list(programme.plugins or ()), chosen, user=user)
        programme.plugins = chosen
    if "currency" in changes and changes["currency"] != programme.currency:
        _refuse_if(_check_currency(changes["currency"]))
        if programme.rounds or programme.contributions:
            raise ProgrammeRefused([("currency", _(
                "The currency cannot change once the programme has rounds or contributions in ${currency}",
                mapping={"currency": programme.currency}))])
        programme.currency = changes["currency"]
    if "results_levels" in changes:
        levels = _checked_levels(dbsession, programme, changes["results_levels"])
        if levels != list(programme.results_levels or ()):
            programme.results_levels = levels
    for name in PROGRAMME_PLAIN_FIELDS:
        after = _plain(getattr(programme, name))
        if after != before[name]:
            record_change(dbsession, programme, name, before[name], after, user=user)
    dbsession.flush()
    return programme


def multilingual_rows(dbsession: Session, programme: Programme) -> list[tuple[Any, tuple[str, ...]]]:
    """Every row of ``programme`` whose texts are multilingual, with those texts' names."""
    from grants.awards.models import Award, BudgetLine
    from grants.mel.models import Indicator

    rows: list[tuple[Any, tuple[str, ...]]] = [(programme, PROGRAMME_TEXTS)]
    for rnd in programme.rounds:
        rows.append((rnd, ROUND_TEXTS))
        rows += [(tier, TIER_TEXTS) for tier in rnd.tiers]
    awards = select(Award.id).join(Round, Award.round_id == Round.id).where(Round.programme_id == programme.id)
    rows += [(line, ("category",)) for line in dbsession.scalars(
        select(BudgetLine).where(BudgetLine.award_id.in_(awards)))]
    rows += [(ind, ("title", "unit")) for ind in dbsession.scalars(
        select(Indicator).where(Indicator.award_id.in_(awards)))]
    return rows


def set_content_languages(dbsession: Session, programme: Programme, languages: Sequence[str], default: str) -> None:
    """Change the programme's languages.  When the default changes, every text of the
    programme (its rounds', tiers', budget lines', indicators') keeps all its languages,
    and its column takes the new default's text where there is one."""
    old_default = programme.default_language
    rows = multilingual_rows(dbsession, programme) if default != old_default else []
    for row, fields in rows:
        freeze(row, fields, old_default)
    programme.languages = list(languages)
    programme.default_language = default
    for row, fields in rows:
        rebase(row, fields)


def _checked_levels(dbsession: Session, programme: Programme, levels) -> list[str]:
    """The theory-of-change levels asked for, tidied; refused if a name repeats, is too
    long or names an assumption, or if a level grantees' frameworks already use would go."""
    from grants.awards.models import Award
    from grants.mel.framework import levels_for
    from grants.mel.models import ASSUMPTION, DEFAULT_LEVELS, EXTERNAL_FACTOR, TocElement

    levels = [" ".join(str(level).split()) for level in levels or () if str(level).strip()]
    if (len(set(levels)) != len(levels) or any(len(level) > 40 for level in levels)
            or {ASSUMPTION, EXTERNAL_FACTOR} & set(levels)):
        raise ProgrammeRefused([("results_levels", _("Name each level of results once, in 40 characters or fewer"))])
    used = set(dbsession.scalars(
        select(TocElement.kind).join(Award, Award.id == TocElement.award_id).join(Round, Round.id == Award.round_id)
        .where(Round.programme_id == programme.id).distinct()))
    lost = [level for level in levels_for(programme) if level in used and level not in (levels or DEFAULT_LEVELS)]
    if lost:
        raise ProgrammeRefused([("results_levels", _(
            "Grantees' theories of change already use ${levels}: keep those levels",
            mapping={"levels": ", ".join(lost)}))])
    return levels


def _plain(value):
    """A value as the audit keeps it (plain JSON)."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, TierSpec):
        return {"name": value.name.strip() if isinstance(value.name, str) else value.name, "minimum": _plain(value.minimum), "maximum": _plain(value.maximum),
                "match_funding_percent": value.match_funding_percent, "conditions": value.conditions or ""}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _contribution_value(row: ProgrammeFunder) -> dict:
    """A funder's contribution as the audit keeps it: names beside the ids."""
    return {"funder_id": row.funder_id, "funder": row.funder.name, "role": row.role,
            "amount": _plain(row.contribution), "round_id": row.round_id,
            "round": row.round.title if row.round is not None else None,
            "matches": row.matches.name if row.matches is not None else None}


def get_or_create_funder(dbsession: Session, *, name: str, identifier: str | None = None,
                         kind: str = "other") -> Funder:
    """The funder with this ``identifier`` (org-id), else the one with exactly this name and
    no identifier, else a new one."""
    name = (name or "").strip()
    identifier = (identifier or "").strip() or None
    problems = []
    if not name:
        problems.append(("funder_name", _("Enter the funder's name")))
    if kind not in FUNDER_KINDS:
        problems.append(("funder_kind", _("Choose what kind of body the funder is")))
    if identifier and (" " in identifier or "-" not in identifier):
        problems.append(("funder_identifier", _(
            "Enter an org-id such as GB-GOV-23 or US-EIN-123456789, or leave it blank")))
    _refuse_if(problems)
    if identifier:
        funder = dbsession.scalar(select(Funder).where(Funder.identifier == identifier))
    else:
        funder = dbsession.scalar(select(Funder).where(Funder.name == name, Funder.identifier.is_(None)))
    if funder is None:
        funder = Funder(name=name, identifier=identifier, kind=kind)
        dbsession.add(funder)
        dbsession.flush()
    return funder


def add_funder_contribution(dbsession: Session, programme: Programme, funder: Funder, *, role: str,
                            amount: Money | None = None, round: Round | None = None,
                            matches: Funder | None = None, note: str = "", user=None) -> ProgrammeFunder:
    """Record ``funder``'s part in ``programme`` (or in one of its rounds): its role and,
    for funders, the money it puts in.  ``matches`` is the funder whose money this one
    matches.  Contributions may be in another currency than the programme's (a USD match
    to a GBP fund): totals keep currencies apart."""
    problems = []
    if role not in FUNDER_ROLES:
        problems.append(("role", _("Choose the funder's role: lead funder, co-funder or implementer")))
    if amount is not None and not isinstance(amount, Money):
        raise TypeError("amount is a grants.money.Money")
    if amount is not None and amount.amount < 0:
        problems.append(("amount", _("Enter a contribution of 0 or more")))
    if role == CO_FUNDER and amount is None:
        problems.append(("amount", _("Enter how much the co-funder contributes")))
    if matches is not None:
        if amount is None:
            problems.append(("amount", _("Enter the amount that matches the other funder's money")))
        if matches.id == funder.id:
            problems.append(("matches", _("A funder cannot match its own money: choose another funder")))
    if round is not None and round.programme_id != programme.id:
        problems.append(("round", _("Choose a round of this programme")))
    _refuse_if(problems)
    row = ProgrammeFunder(programme=programme, funder=funder, role=role, round=round, matches=matches,
                          note=note or "")
    row.contribution = amount
    dbsession.add(row)
    dbsession.flush()
    # In the programme's audit, and in the round's when it is earmarked for one.
    for place in (programme, round) if round is not None else (programme,):
        record_change(dbsession, place, "funder", None, _contribution_value(row), user=user)
    dbsession.flush()
    return row


# -- totals -------------------------------------------------------------------------------------


@dataclass
class FunderTotal:
    funder: Funder
    roles: list[str]
    total: MoneyBag  # everything it puts in
    matching: MoneyBag  # the part of it that matches another funder's money
    matched_by_others: MoneyBag  # what others put in to match this funder


@dataclass
class RoundTotal:
    round: Round
    budget: Money | None
    committed: MoneyBag  # contributions earmarked for this round
    matching: MoneyBag
    by_funder: list[tuple[Funder, MoneyBag]]

    @property
    def uncommitted(self) -> Money | None:
        """Budget not yet covered by contributions in the budget's currency (never negative)."""
        if self.budget is None:
            return None
        gap = self.budget - self.committed.get_or_zero(self.budget.currency)
        return gap if gap.amount > 0 else Money.zero(self.budget.currency)


@dataclass
class ProgrammeTotals:
    currency: str
    by_funder: list[FunderTotal]
    by_round: list[RoundTotal]
    programme_wide: MoneyBag  # contributions not earmarked for a round
    overall: MoneyBag  # every contribution, across rounds
    matching: MoneyBag  # every contribution that matches another funder's
    budgets: Money  # the rounds' budgets added up, in the programme currency


def programme_totals(dbsession: Session, programme: Programme) -> ProgrammeTotals:
    """Exact totals, currencies kept apart (``MoneyBag``)."""
    contributions = list(dbsession.scalars(
        select(ProgrammeFunder).where(ProgrammeFunder.programme_id == programme.id).order_by(ProgrammeFunder.id)))
    rounds = list(dbsession.scalars(select(Round).where(Round.programme_id == programme.id).order_by(Round.id)))

    funders: dict[int, FunderTotal] = {}
    for c in contributions:
        ft = funders.get(c.funder_id)
        if ft is None:
            ft = funders[c.funder_id] = FunderTotal(c.funder, [], MoneyBag(), MoneyBag(), MoneyBag())
        if c.role not in ft.roles:
            ft.roles.append(c.role)
        money = c.contribution
        if money is None:
            continue
        ft.total = ft.total + money
        if c.matches_funder_id is not None:
            ft.matching = ft.matching + money
    for c in contributions:
        if c.matches_funder_id is not None and c.contribution is not None:
            target = funders.get(c.matches_funder_id)
            if target is None:  # matching a funder that has no row of its own in this programme
                target = funders[c.matches_funder_id] = FunderTotal(c.matches, [], MoneyBag(), MoneyBag(), MoneyBag())
            target.matched_by_others = target.matched_by_others + c.contribution
    role_order = {LEAD: 0, CO_FUNDER: 1, IMPLEMENTER: 2}
    by_funder = sorted(funders.values(),
                       key=lambda ft: (min((role_order.get(r, 9) for r in ft.roles), default=9), ft.funder.name))

    by_round = []
    for rnd in rounds:
        mine = [c for c in contributions if c.round_id == rnd.id and c.contribution is not None]
        per_funder: dict[int, tuple[Funder, MoneyBag]] = {}
        for c in mine:
            funder, bag = per_funder.get(c.funder_id, (c.funder, MoneyBag()))
            per_funder[c.funder_id] = (funder, bag + c.contribution)
        by_round.append(RoundTotal(
            round=rnd, budget=rnd.budget,
            committed=MoneyBag(c.contribution for c in mine),
            matching=MoneyBag(c.contribution for c in mine if c.matches_funder_id is not None),
            by_funder=list(per_funder.values()),
        ))
    with_money = [c for c in contributions if c.contribution is not None]
    budgets = Money.zero(programme.currency)
    for rnd in rounds:
        if rnd.budget is not None and rnd.budget.currency == programme.currency:
            budgets = budgets + rnd.budget
    return ProgrammeTotals(
        currency=programme.currency,
        by_funder=by_funder,
        by_round=by_round,
        programme_wide=MoneyBag(c.contribution for c in with_money if c.round_id is None),
        overall=MoneyBag(c.contribution for c in with_money),
        matching=MoneyBag(c.contribution for c in with_money if c.matches_funder_id is not None),
        budgets=budgets,
    )


# -- rounds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierSpec:
    """A grant-size tier to create: amounts in the programme's currency; ``name`` a plain
    string (the default language's) or ``{language: text}``."""

    name: str | dict
    minimum: Money
    maximum: Money
    conditions: str = ""
    match_funding_percent: int | None = None


def _tier_spec(t) -> TierSpec:
    if isinstance(t, TierSpec):
        return t
    if isinstance(t, RoundTier):
        return TierSpec(texts(t, "name") or t.name, t.minimum, t.maximum, t.conditions or "", t.match_funding_percent)
    if isinstance(t, dict):
        return TierSpec(**t)
    raise TypeError(f"a tier is a TierSpec or a dict, not {t!r}")


def tier_label(t: TierSpec) -> str:
    """A tier's name for a message: the default language's, or the first there is."""
    if isinstance(t.name, str):
        return t.name.strip()
    return next((text.strip() for text in t.name.values() if isinstance(text, str) and text.strip()), "")


def check_tiers(tiers: Sequence[TierSpec], currency: str) -> list[tuple[str, Any]]:
    """Problems with a set of tiers: each has a name, min <= max, amounts in ``currency``,
    a match percentage from 0 to 100, and no two overlap."""
    problems = []
    for i, t in enumerate(tiers, start=1):
        label = tier_label(t) or _("Tier ${n}", mapping={"n": i})
        if not tier_label(t):
            problems.append(("tiers", _("Give tier ${n} a name, like “Small grants”", mapping={"n": i})))
        if t.minimum.currency != currency or t.maximum.currency != currency:
            problems.append(("tiers", _("Enter the amounts of “${tier}” in ${currency}, the programme's currency",
                                        mapping={"tier": label, "currency": currency})))
            continue
        if t.minimum.amount < 0:
            problems.append(("tiers", _("The smallest grant in “${tier}” must be 0 or more", mapping={"tier": label})))
        if t.minimum > t.maximum:
            problems.append(("tiers", _(
                "In “${tier}” the smallest grant (${min}) is larger than the largest (${max}): swap them",
                mapping={"tier": label, "min": t.minimum.amount, "max": t.maximum.amount})))
        if t.match_funding_percent is not None and not 0 <= t.match_funding_percent <= 100:
            problems.append(("tiers", _("Enter the match funding of “${tier}” as a percentage from 0 to 100",
                                        mapping={"tier": label})))
    valid = [t for t in tiers if t.minimum.currency == currency == t.maximum.currency and t.minimum <= t.maximum]
    ordered = sorted(valid, key=lambda t: (t.minimum.amount, t.maximum.amount))
    for a, b in zip(ordered, ordered[1:]):
        if b.minimum <= a.maximum:
            problems.append(("tiers", _(
                "Tiers “${a}” and “${b}” overlap: “${b}” must start above ${max}, where “${a}” ends",
                mapping={"a": tier_label(a), "b": tier_label(b), "max": a.maximum.amount})))
    return problems


def normalise_eligibility_rules(rules: Iterable[dict], kinds: dict | None = None) -> list[dict]:
    """The stored shape of eligibility rules (see ``grants.programmes.models``), or
    ProgrammeRefused.  ``kinds`` are the rule kinds the round's programme may declare, by
    name (``grants.applications.eligibility.kinds_for``): grants' own and those of the
    plugins it uses; grants' own when not given.  Each kind normalises its own rules."""
    if kinds is None:
        from grants.applications.eligibility import core_rule_kinds

        kinds = {k.kind: k for k in core_rule_kinds()}
    out: list[dict] = []
    problems = []
    seen = set()
    for rule in rules or ():
        kind = (rule or {}).get("kind")
        if kind not in kinds:
            problems.append(("eligibility_rules", _("Unknown eligibility rule “${kind}”: use one of ${kinds}",
                                                    mapping={"kind": kind, "kinds": ", ".join(kinds)})))
            continue
        if kind in seen:
            problems.append(("eligibility_rules", _("Declare the rule “${kind}” once", mapping={"kind": kind})))
            continue
        seen.add(kind)
        normalise = kinds[kind].normalise
        try:
            entry = dict(normalise(dict(rule))) if normalise is not None else {"kind": kind}
        except ProblemsRefused as refused:
            problems += refused.problems
            continue
        entry["kind"] = kind
        out.append(entry)
    _refuse_if(problems)
    return out


# Grants' own rule kinds, each read into its stored shape (grants.applications.eligibility
# registers them beside their checks).


def registered_organisation_rule(rule: dict) -> dict:
    return {"kind": "registered_organisation"}


def region_in_rule(rule: dict) -> dict:
    """Region codes are upper-cased and checked against ``grants.regions`` where that
    catalogue knows the country."""
    typed = list(dict.fromkeys(str(c).strip() for c in rule.get("regions", ()) if str(c).strip()))
    codes = list(dict.fromkeys(c.upper() for c in typed))
    if not codes:
        raise ProgrammeRefused([("rule_regions", _("List at least one region code, like TN-73 or GB-LND"))])
    unknown = [c for c in typed if not _known_region(c.upper())]
    if unknown:
        raise ProgrammeRefused([("rule_regions", _(
            "${codes}: not a region code we know. Use ISO 3166-2 codes such as TN-73 (Kébili) or GB-HRW",
            mapping={"codes": ", ".join(unknown)}))])
    return {"kind": "region_in", "regions": codes}


def amount_within_max_rule(rule: dict) -> dict:
    entry = {"kind": "amount_within_max"}
    if rule.get("max_minor") is not None:
        maximum = rule["max_minor"]
        if isinstance(maximum, bool) or not isinstance(maximum, int) or maximum < 0:
            raise ProgrammeRefused([("eligibility_rules",
                                     _("The maximum amount must be a whole number of minor units"))])
        entry["max_minor"] = maximum
    return entry


def required_attachments_rule(rule: dict) -> dict:
    """Attachment kinds are lower-case slugs."""
    kinds = list(dict.fromkeys(str(k).strip().lower().replace(" ", "_") for k in rule.get("attachments", ())
                               if str(k).strip()))
    if not kinds:
        raise ProgrammeRefused([("rule_attachments", _("List at least one kind of attachment, like budget"))])
    bad = [k for k in kinds if not k.replace("_", "").replace("-", "").isalnum() or len(k) > 60]
    if bad:
        raise ProgrammeRefused([("rule_attachments", _(
            "Name attachment kinds with letters, digits and underscores, like registration_certificate "
            "(not “${kinds}”)", mapping={"kinds": ", ".join(bad)}))])
    return {"kind": "required_attachments", "attachments": kinds}


def _known_region(code: str) -> bool:
    country, dash, rest = code.partition("-")
    if not dash or len(country) != 2 or not country.isalpha() or not rest or not rest.isalnum() or len(rest) > 3:
        return False
    try:
        from grants import regions
    except ImportError:  # the catalogue is optional: the format is all we can check
        return True
    if regions.has_regions(country):
        return regions.is_region(code)
    return True


def _check_zone(zone: str):
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return [("timezone", _("Choose the round's time zone from the list, like Africa/Tunis or Europe/London"))]
    return []


def _check_round_values(programme: Programme, values: dict) -> list[tuple[str, Any]]:
    problems = []
    if "timezone" in values:
        problems += _check_zone(values["timezone"])
    for name in ("opens_at", "closes_at"):
        moment = values.get(name)
        if moment is not None and (not isinstance(moment, dt.datetime) or moment.tzinfo is None):
            raise TypeError(f"{name} must be an aware datetime")
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens is not None and closes is not None and closes <= opens:
        problems.append(("closes_at", _("The round must close after it opens: enter a closing date after the opening date")))
    budget = values.get("budget")
    if budget is not None:
        if not isinstance(budget, Money):
            raise TypeError("budget is a grants.money.Money")
        if budget.currency != programme.currency:
            problems.append(("budget", _("Enter the budget in ${currency}, the programme's currency",
                                         mapping={"currency": programme.currency})))
        elif budget.amount <= 0:
            problems.append(("budget", _("Enter a budget of more than 0")))
    if values.get("tiers") is not None:
        problems += check_tiers(values["tiers"], programme.currency)
        budget = values.get("budget")
        if budget is not None and budget.currency == programme.currency:
            for t in values["tiers"]:
                if t.minimum.currency == budget.currency and t.minimum > budget:
                    problems.append(("tiers", _("The smallest grant in “${tier}” is more than the round's budget",
                                                mapping={"tier": tier_label(t)})))
    for name in FORM_VERSIONS:
        version = values.get(name)
        if version is not None and len(str(version)) > 40:
            problems.append((name, _("Enter a form version of 40 characters or fewer")))
    rubric = values.get("rubric_id")
    if rubric is not None and (isinstance(rubric, bool) or not isinstance(rubric, int) or rubric < 1):
        problems.append(("rubric_id", _("Enter the rubric's number, a whole number like 3")))
    return problems


def create_round(dbsession: Session, registry, programme: Programme, *, title: str, timezone: str = "UTC",
                 opens_at: dt.datetime | None = None, closes_at: dt.datetime | None = None,
                 budget: Money | None = None, tiers: Iterable = (), eligibility_rules: Iterable[dict] = (),
                 application_form_version: str | int | None = None, rubric_id: int | None = None,
                 blind_review: bool = False, proposal_form_version: str | None = None, user=None,
                 actor=None) -> Round:
    """A new round of ``programme``, started on the newest version of the round workflow
    (in draft: it opens by itself at ``opens_at`` once an officer has opened it or
    ``grants tick`` finds it due)."""
    from grants.lifecycle.services import WorkflowService

    tier_specs = [_tier_spec(t) for t in tiers]
    version = None if application_form_version in (None, "") else str(application_form_version).strip()
    proposal_version = None if proposal_form_version in (None, "") else str(proposal_form_version).strip()
    titles, problems = _round_titles(programme, title)
    tier_specs, found = _tier_names(programme, tier_specs)
    problems += found
    values = dict(timezone=timezone, opens_at=opens_at, closes_at=closes_at, budget=budget,
                  tiers=tier_specs, application_form_version=version, rubric_id=rubric_id,
                  proposal_form_version=proposal_version)
    problems += _check_round_values(programme, values)
    try:
        rules = normalise_eligibility_rules(eligibility_rules, _rule_kinds(registry, programme))
    except ProgrammeRefused as refused:
        problems += refused.problems
        rules = []
    problems += _rubric_problems(dbsession, registry, programme, rubric_id)
    problems += _form_problems(registry, programme, version)
    problems += _form_problems(registry, programme, proposal_version, "proposal")
    _refuse_if(problems)
    if rubric_id is None:
        rubric_id = _plugin_rubric_id(dbsession, registry, programme)
    rnd = Round(programme=programme, timezone=timezone, opens_at=opens_at,
                closes_at=closes_at, application_form_version=version, rubric_id=rubric_id,
                proposal_form_version=proposal_version,
                blind_review=bool(blind_review), eligibility_rules=rules)
    set_texts(rnd, "title", titles)
    rnd.budget = budget
    rnd.tiers = [_new_tier(rnd, t) for t in _by_size(tier_specs)]
    WorkflowService(workflows_of(registry), dbsession).start(rnd, user, actor=actor)
    dbsession.flush()
    record_change(dbsession, rnd, "created", None, {"id": rnd.id, "name": rnd.title}, user=user)
    # What the round was made with, each as a change from nothing, so its history shows
    # the form, rubric and rules it started with as later edits show theirs.
    for name in CREATED_WITH:
        value = _round_audit_value(dbsession, rnd, name)
        if value not in (None, "", [], {}, False):
            record_change(dbsession, rnd, name, None, value, user=user)
    dbsession.flush()
    return rnd


#: The round's settings its history lists when it is made (``create_round``).
CREATED_WITH = ("opens_at", "closes_at", "timezone", "budget", "tiers", "application_form_version",
                "proposal_form_version", "rubric_id", "blind_review", "eligibility_rules")


def _form_problems(registry, programme: Programme, version, stage: str = "application") -> list:
    """A form version that is not installed, not of ``stage``, or that a plugin the
    programme does not use brought."""
    from grants.applications.formdefs import form_refusal

    reason = form_refusal(registry, programme, version, stage) if registry is not None else None
    return [(f"{stage}_form_version", reason)] if reason else []


def _rubric_problems(dbsession: Session, registry, programme: Programme, rubric_id, rnd: Round | None = None
                     ) -> list:
    """A rubric that does not exist, that a plugin the programme does not use brought, that
    is another programme's or still a draft; or a change of rubric in a round already scored
    (its reviews keep the rubric they were scored with: grants.review.rubrics)."""
    from grants.review.models import Rubric
    from grants.review.rubrics import round_rubric_refusal
    from grants.review.rubrics import rubric_refusal as own_rubric_refusal
    from grants.review.services import rubric_refusal

    if rnd is not None:
        reason = round_rubric_refusal(dbsession, rnd, rubric_id)
        if reason:
            return [("rubric_id", reason)]
    if rubric_id is None:
        return []
    if not isinstance(rubric_id, int) or isinstance(rubric_id, bool):
        return []  # _check_round_values says why
    rubric = dbsession.get(Rubric, rubric_id)
    if rubric is None:
        return [("rubric_id", _("Choose a rubric from the list."))]
    reason = rubric_refusal(dbsession, registry, programme, rubric_id) or own_rubric_refusal(dbsession, programme,
                                                                                             rubric)
    return [("rubric_id", reason)] if reason else []


def _plugin_rubric_id(dbsession: Session, registry, programme: Programme) -> int | None:
    """The default rubric of a plugin the programme uses (config.add_rubric), or None: a
    round naming no rubric is scored with the general one."""
    from grants.review.services import plugin_default_rubric

    rubric = plugin_default_rubric(dbsession, registry, programme) if programme.plugins else None
    return rubric.id if rubric is not None else None


def _by_size(tiers: Sequence[TierSpec]) -> list[TierSpec]:
    return sorted(tiers, key=lambda t: (t.minimum.amount, t.maximum.amount))


def _new_tier(rnd: Round, t: TierSpec) -> RoundTier:
    tier = RoundTier(round=rnd, min_minor=t.minimum.minor_units, max_minor=t.maximum.minor_units,
                     currency=t.minimum.currency, conditions=t.conditions or "",
                     match_funding_percent=t.match_funding_percent)
    set_texts(tier, "name", t.name if isinstance(t.name, dict) else {default_language_of(rnd): t.name.strip()})
    return tier


def _round_titles(programme: Programme, title, current=None) -> tuple[dict, list]:
    return clean_texts(title if title is not None else "", languages=languages_of(programme), field="title",
                       limit=ROUND_TITLE_MAX, required=_("Enter the round's name, like “Call 4”"), current=current)


def _tier_names(programme: Programme, specs: Sequence[TierSpec]) -> tuple[list[TierSpec], list]:
    """``specs`` with their names as ``{language: text}``, and the problems with those
    names (a missing name is check_tiers' to say)."""
    from dataclasses import replace

    out, problems = [], []
    for spec in specs:
        if not tier_label(spec):
            out.append(spec)
            continue
        names, found = clean_texts(spec.name, languages=languages_of(programme), field="tiers", limit=TIER_NAME_MAX,
                                   required=_("Give the tier a name in the programme's default language"))
        problems += [("tiers" if name.startswith("tiers") else name, reason) for name, reason in found]
        out.append(replace(spec, name=names))
    return out, problems


def _same(rnd: Round, name: str, value) -> bool:
    if name == "title":
        return texts(rnd, "title") == value
    if name == "tiers":
        return [_tier_spec(t) for t in rnd.tiers] == list(value)
    if name in FORM_VERSIONS:
        value = None if value in (None, "") else str(value).strip()
    return getattr(rnd, name) == value


def _rule_kinds(registry, programme: Programme) -> dict:
    """The eligibility rule kinds rounds of ``programme`` may declare (the request's
    registry when none is given)."""
    from grants.applications.eligibility import kinds_for

    return kinds_for(registry, programme)


def update_round(dbsession: Session, rnd: Round, *, registry=None, user=None, **changes) -> Round:
    """Change a round.  ``changes`` may name title, timezone, opens_at, closes_at, budget,
    tiers (TierSpecs or dicts: the whole new list), eligibility_rules (the whole new list),
    application_form_version, proposal_form_version, rubric_id and blind_review.  Dates, budget, tiers, rules and
    the time zone change only while the round is in draft: applicants rely on them once it
    is open.  The form version may also change while the round is open — new applications
    take the new version, those already made keep theirs (``Application.form_version``) —
    and no longer once it has closed.  ``registry`` says which eligibility rule kinds the
    programme's plugins add (the current request's when not given).  Refusals change
    nothing.  ``title`` and the tiers' names are plain strings (the default language's) or
    ``{language: text}``.  Each field that changes is in the audit, by ``user``
    (``rubric_id`` as ``{"id", "name"}``; texts as ``{language: text}``; money, moments
    and tiers as ``_plain`` writes them)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"update_round() cannot change {', '.join(sorted(unknown))}")
    problems = []
    if "title" in changes:
        current = texts(rnd, "title")
        changes["title"], found = _round_titles(rnd.programme, changes["title"], current=current)
        problems += found
    if "tiers" in changes:
        changes["tiers"], found = _tier_names(rnd.programme, [_tier_spec(t) for t in changes["tiers"]])
        problems += found
    if "eligibility_rules" in changes:
        try:
            changes["eligibility_rules"] = normalise_eligibility_rules(changes["eligibility_rules"],
                                                                       _rule_kinds(registry, rnd.programme))
        except ProgrammeRefused as refused:
            problems += refused.problems
            del changes["eligibility_rules"]
    changed = {k: v for k, v in changes.items() if not _same(rnd, k, v)}
    locked = [] if means(rnd, "draft") else [n for n in LOCKED_AFTER_DRAFT if n in changed]
    if not means(rnd, "draft", "open"):
        locked += [n for n in LOCKED_AFTER_OPEN if n in changed]
    elif "eligibility_rules" in changed and rules_locked(dbsession, rnd):
        _refuse_if([("eligibility_rules", _("Applications of this round have been screened under its eligibility "
                                            "rules, so the rules can no longer change"))])
    if locked:
        _refuse_if([(name, _locked(name)) for name in locked])
    merged = {name: changed.get(name, getattr(rnd, name) if name != "tiers" else None) for name in
              ("timezone", "opens_at", "closes_at", "budget", *FORM_VERSIONS, "rubric_id")}
    merged["tiers"] = changed.get("tiers")
    if "tiers" in changed or "budget" in changed:
        merged["tiers"] = changed.get("tiers", [_tier_spec(t) for t in rnd.tiers])
    problems += _check_round_values(rnd.programme, merged)
    if "rubric_id" in changed:
        problems += _rubric_problems(dbsession, registry, rnd.programme, changed["rubric_id"], rnd)
    if changed.get("application_form_version"):
        problems += _form_problems(registry, rnd.programme, str(changed["application_form_version"]).strip())
    if changed.get("proposal_form_version"):
        problems += _form_problems(registry, rnd.programme, str(changed["proposal_form_version"]).strip(), "proposal")
    _refuse_if(problems)
    before = {name: _round_audit_value(dbsession, rnd, name) for name in changed}
    for name, value in changed.items():
        if name == "tiers":
            rnd.tiers = [_new_tier(rnd, t) for t in _by_size(value)]
        elif name == "title":
            old_title = set_texts(rnd, "title", value)
            if old_title != texts(rnd, "title"):
                record_change(dbsession, rnd, "title", old_title, texts(rnd, "title"), user=user)
        elif name in FORM_VERSIONS:
            setattr(rnd, name, None if value in (None, "") else str(value).strip())
        elif name == "eligibility_rules":
            rnd.eligibility_rules = list(value)  # a new list, so the JSON column is seen to change
        else:
            setattr(rnd, name, value)
    dbsession.flush()
    for name in changed:
        if name == "title":
            continue  # recorded above with every language
        after = _round_audit_value(dbsession, rnd, name)
        if after != before[name]:
            record_change(dbsession, rnd, name, before[name], after, user=user)
    dbsession.flush()
    if "eligibility_rules" in changed and not means(rnd, "draft"):
        _check_again(dbsession, registry, rnd)
    return rnd


def rules_locked(dbsession: Session, rnd: Round) -> bool:
    """An officer has screened an application of ``rnd`` under its rules: they stay."""
    from grants.applications.models import Application, EligibilityCheck

    return dbsession.scalar(
        select(EligibilityCheck.id).join(Application, Application.id == EligibilityCheck.application_id)
        .where(Application.round_id == rnd.id, EligibilityCheck.officer_decision.is_not(None)).limit(1)) is not None


def _check_again(dbsession: Session, registry, rnd: Round) -> None:
    """New rules in an open round: the applications awaiting screening are checked against them."""
    from grants.applications.eligibility import run_checks
    from grants.applications.models import Application
    from grants.lifecycle.meanings import state_means

    for application in dbsession.scalars(select(Application).where(
            Application.round_id == rnd.id, state_means(Application, "submitted"))):
        run_checks(dbsession, application, registry=registry)


def _round_audit_value(dbsession: Session, rnd: Round, name: str):
    """What the audit keeps of one field of ``rnd``: plain JSON, with a name beside an id."""
    if name == "tiers":
        return [_plain(_tier_spec(t)) for t in rnd.tiers]
    if name == "rubric_id":
        if rnd.rubric_id is None:
            return None
        from grants.review.models import Rubric

        rubric = dbsession.get(Rubric, rnd.rubric_id)
        return {"id": rnd.rubric_id, "name": rubric.title if rubric is not None else str(rnd.rubric_id)}
    return _plain(getattr(rnd, name))


def _locked(name: str):
    return {
        "opens_at": _("The round has left draft, so its opening date can no longer change"),
        "closes_at": _("The round has left draft, so its closing date can no longer change"),
        "timezone": _("The round has left draft, so its time zone can no longer change"),
        "budget": _("The round has left draft, so its budget can no longer change"),
        "tiers": _("The round has left draft, so its grant-size tiers can no longer change"),
        "eligibility_rules": _("The round no longer takes applications, so its eligibility rules can no longer "
                               "change"),
        "application_form_version": _("The round no longer takes applications, so its application form "
                                      "version can no longer change"),
    }[name]


def add_round_tier(dbsession: Session, rnd: Round, tier, *, user=None) -> RoundTier:
    """Add one tier (refused unless the round is in draft, or if it overlaps another)."""
    update_round(dbsession, rnd, tiers=[*[_tier_spec(t) for t in rnd.tiers], _tier_spec(tier)], user=user)
    spec = _tier_spec(tier)
    return next(t for t in rnd.tiers if t.min_minor == spec.minimum.minor_units and t.max_minor == spec.maximum.minor_units)


def remove_round_tier(dbsession: Session, rnd: Round, tier_id: int, *, user=None) -> None:
    """Remove one tier (refused unless the round is in draft)."""
    keep = [t for t in rnd.tiers if t.id != tier_id]
    if len(keep) == len(rnd.tiers):
        raise ProgrammeRefused([("tiers", _("That tier is not part of this round"))])
    update_round(dbsession, rnd, tiers=keep, user=user)


# -- the funnel ---------------------------------------------------------------------------------


@dataclass
class Funnel:
    """Applications to a round at a glance.  ``by_state`` follows the application
    workflow's order (every state, zeros included, when a registry was given);
    ``by_region`` is None where organisations have no regions.  An organisation working
    in two regions counts in both; ``without_region`` counts those with none."""

    total: int
    by_state: list[tuple[str, int]]
    by_region: list[tuple[str, int]] | None = None
    without_region: int = 0
    state_titles: dict[str, Any] = field(default_factory=dict)
    #: How many applications have ever been in each state (from the history): "20
    #: incubated" stays 20 after they all move on to a decision.
    reached: list[tuple[str, int]] = field(default_factory=list)


def round_funnel(dbsession: Session, rnd: Round, registry=None) -> Funnel:
    from grants.accounts.models import Organisation
    from grants.applications.models import NO_REGION, Application, RegionCount
    from grants.lifecycle.models import StateCount
    from grants.lifecycle.services import reached_counts

    # Kept by the database as rows are made and moved (grants.lifecycle.models.StateCount):
    # one short read at any size of round, which also says which workflows they run.
    current = dbsession.execute(
        select(StateCount.workflow_id, StateCount.workflow_version, StateCount.state, StateCount.n)
        .where(StateCount.object_type == Application.__tablename__, StateCount.group_id == rnd.id,
               StateCount.n > 0)).all()
    counts: dict[str, int] = {}
    for _wf, _version, state, n in current:
        counts[state] = counts.get(state, 0) + n
    total = sum(counts.values())
    order: list[str] = []
    titles: dict[str, Any] = {}
    if registry is not None:
        # The states of the workflows this round's applications run (a variant may add some).
        workflows = workflows_of(registry)
        used = {(wf_id, version) for wf_id, version, _state, _n in current}
        keys = [(wf_id, version) for wf_id, version in sorted(used) if (wf_id, version) in workflows]
        chosen = workflow_chosen_at(rnd, Application.__workflow__)
        keys += [(chosen, v) for v in workflows.versions(chosen)]
        for key in keys or [(Application.__workflow__, v) for v in workflows.versions(Application.__workflow__)]:
            for state in workflows.get(*key).definition.states.values():
                if state.id not in titles:
                    order.append(state.id)
                    titles[state.id] = state.title
    order += sorted(s for s in counts if s not in titles)
    by_state = [(s, counts.get(s, 0)) for s in order]

    by_region = None
    without_region = 0
    if hasattr(Organisation, "regions"):
        # Kept as applications are made and organisations change their regions
        # (grants.applications.models.RegionCount): one short read at any size of round.
        rows = dbsession.execute(select(RegionCount.region_code, RegionCount.n)
                                 .where(RegionCount.round_id == rnd.id, RegionCount.n > 0)).all()
        by_region = sorted((c, n) for c, n in rows if c != NO_REGION)
        without_region = sum(n for c, n in rows if c == NO_REGION)
    # Kept as the history is written (grants.lifecycle.models.ReachedCount).
    ever = reached_counts(dbsession, Application, rnd.id)
    reached = [(s, ever.get(s, 0)) for s in order]
    return Funnel(total=total, by_state=by_state, by_region=by_region, without_region=without_region,
                  state_titles=titles, reached=reached)
