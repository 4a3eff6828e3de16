"""Pages for programmes and rounds.  Views translate between HTTP and ``services``: a
refusal from a service comes back as errors beside the fields it is about, with
everything typed kept."""
from __future__ import annotations

import colander
import deform
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import select

from grants.concurrency import Difference, editing, editing_form, render_as_typed, with_version
from grants.forms import flash_done, form_failed, make_form, refusal_failure
from grants.i18n import _, format_datetime, language_name, language_tag, translate
from grants.lifecycle.meanings import means
from grants.lifecycle.views import object_page
from grants.money import Money, MoneyBag, MoneyError, format_money, parse_money
from grants.resources import ProgrammesContainer, RoundsContainer
from grants.security import Permission

from . import services
from .forms import (
    EDITABLE_AFTER_DRAFT,
    EDITABLE_WHILE_OPEN,
    CONTRIBUTION_FIELDS,
    FORM_RULE_KINDS,
    ROUND_FIELDS,
    ContributionSchema,
    ProgrammeSchema,
    TierSchema,
    content_languages_for_form,
    local_parts,
    programme_edit_schema,
    localise,
    round_schema,
    rules_from_form,
    rules_to_form,
)
from .models import FUNDER_ROLES, Funder, Programme, Round
from grants.multilingual import as_form_value, languages_of, problem_fields, shown, stable_ids

T = "grants.templates:programmes/"


# -- helpers ------------------------------------------------------------------------------


def money_formatter(request):
    """For templates: Money, a MoneyBag or None, as the page's locale writes money."""
    locale = request.locale_name

    def fmt(value, empty="—"):
        if value is None:
            return empty
        if isinstance(value, MoneyBag):
            return value.format(locale, empty=empty)
        return format_money(value, locale)

    return fmt


def _page(request, form_html: str, errors=(), **extra) -> dict:
    return {"form_html": form_html, "errors": list(errors), "money": money_formatter(request), **extra}


def _failed(request, failure: deform.ValidationFailure, **extra) -> dict:
    return {**form_failed(request, failure), "money": money_formatter(request), **extra}


def _refused(request, form, problems, field_map, **extra) -> dict:
    """A service's refusal shown like a validation failure (see grants.forms.refusal_failure)."""
    return _failed(request, refusal_failure(form, problems, field_map), **extra)


def _stable_ids(form) -> None:
    """Inputs inside a group get ids named after it (``round-opens-day``)."""
    for group in form.children:
        for child in group.children:
            if child.name:
                child.oid = f"{group.oid}-{child.name}"


# -- programmes -------------------------------------------------------------------------------


@view_config(context=ProgrammesContainer, renderer=T + "list.pt", permission=NO_PERMISSION_REQUIRED)
def programmes_list(context, request):
    """Every programme (they are public) with the rounds this visitor may see."""
    programmes = request.dbsession.scalars(select(Programme).order_by(Programme.title)).all()
    rows = [(p, [r for r in p.rounds if request.has_permission(Permission.ProgrammesRoundView, r)])
            for p in programmes]
    return {"programmes": rows, "can_add": bool(request.has_permission(Permission.SiteAdmin, context))}


def _programme_form(request):
    form = make_form(request, ProgrammeSchema(), "programme", _("Create the programme"),
                     bind={"plugins_available": services.enabled_plugins_of(request.registry),
                           "content_languages": content_languages_for_form(request)})
    stable_ids(form, "title", "description")
    return form


#: service problem field -> programme form field
PROGRAMME_FIELDS = {"title": "title", "description": "description", "currency": "currency", "plugins": "plugins",
                    "languages": "languages", "default_language": "default_language", "results_levels": "results_levels",
                    "funder_name": "lead_funder", "funder_identifier": "lead_funder_identifier",
                    "funder_kind": "lead_funder_kind"}


@view_config(context=ProgrammesContainer, name="new", renderer=T + "programme_form.pt",
             permission=Permission.SiteAdmin)
def programme_new(context, request):
    form = _programme_form(request)
    if request.method != "POST":
        return _page(request, form.render({"currency": "GBP", "languages": [request.locale_name],
                                           "default_language": request.locale_name}))
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed(request, failure)
    try:
        programme = services.create_programme(request.dbsession, title=data["title"], currency=data["currency"],
                                              description=data["description"], plugins=sorted(data["plugins"]),
                                              registry=request.registry, default_language=data["default_language"],
                                              languages=_ordered(request, data["languages"]), user=request.user)
        if data["lead_funder"]:
            funder = services.get_or_create_funder(request.dbsession, name=data["lead_funder"],
                                                   identifier=data["lead_funder_identifier"],
                                                   kind=data["lead_funder_kind"])
            services.add_funder_contribution(request.dbsession, programme, funder, role="lead", user=request.user)
    except services.ProgrammeRefused as refused:
        request.tm.doom()  # nothing half-made stays
        return _refused(request, form, refused.problems, _programme_fields(request, form))
    flash_done(request, _("Programme created: ${title}.",
                          mapping={"title": shown(programme, "title", request.locale_name).text}))
    return HTTPFound(location=request.resource_url(programme))


def _ordered(request, languages) -> list[str]:
    """The chosen languages in the order the site lists them."""
    from grants.i18n import deployment_languages

    return [code for code in deployment_languages(request) if code in set(languages)]


def _programme_fields(request, form) -> dict:
    from grants.i18n import deployment_languages

    return {**PROGRAMME_FIELDS, **problem_fields(form, deployment_languages(request))}


def _programme_current(request, programme) -> dict:
    """The programme edit form's values for the programme as stored."""
    languages = content_languages_for_form(request, programme)
    return {"languages": languages_of(programme), "default_language": programme.default_language,
            "title": as_form_value(programme, "title", languages),
            "description": as_form_value(programme, "description", languages),
            "currency": programme.currency, "plugins": set(programme.plugins or ()),
            "results_levels": "\n".join(programme.results_levels or ())}


@view_config(context=Programme, name="edit", renderer=T + "programme_form.pt",
             permission=Permission.ProgrammesProgrammeManage)
def programme_edit(context, request):
    """The programme's languages, its name and description in each of them, its currency
    (until it has rounds or contributions), plugins and levels of results; every change is
    in the programme's history."""
    form = make_form(request, with_version(programme_edit_schema(), context), "programme", _("Save the programme"),
                     bind={"content_languages": content_languages_for_form(request, context),
                           "plugins_available": services.enabled_plugins_of(request.registry)})
    stable_ids(form, "title", "description")
    extra = {"programme": context}
    if request.method != "POST":
        return _page(request, form.render(_programme_current(request, context)), **extra)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed(request, failure, **extra)
    try:
        with editing_form(request, context, form, data, stored=lambda: _programme_current(request, context)):
            services.update_programme(request.dbsession, context, registry=request.registry, user=request.user,
                                      languages=_ordered(request, data["languages"]),
                                      default_language=data["default_language"],
                                      title=data["title"], description=data["description"],
                                      currency=data["currency"], plugins=sorted(data["plugins"]),
                                      results_levels=data["results_levels"].splitlines())
    except services.ProgrammeRefused as refused:
        request.tm.doom()
        return _refused(request, form, refused.problems, _programme_fields(request, form), **extra)
    flash_done(request, _("Saved the programme."))
    return HTTPFound(location=request.resource_url(context))


@view_config(context=Programme, renderer=T + "programme.pt", permission=Permission.ProgrammesProgrammeView)
def programme_page(context, request):
    from grants.reporting.public import withheld_funder_ids

    rounds = [r for r in context.rounds if request.has_permission(Permission.ProgrammesRoundView, r)]
    totals = services.programme_totals(request.dbsession, context)
    visible = {r.id for r in rounds}
    rounds_container = context["rounds"]
    can_manage = bool(request.has_permission(Permission.ProgrammesProgrammeManage, context))
    hidden = withheld_funder_ids(context)
    return {
        "programme": context,
        "rounds": rounds,
        "totals": totals,
        "round_totals": [rt for rt in totals.by_round if rt.round.id in visible],
        "contributions": [c for c in context.contributions if c.round_id is None or c.round_id in visible],
        "roles": dict(_role_titles()),
        "money": money_formatter(request),
        # The page is public: a funder a round hides is "Another funder" to all but those
        # who manage the programme, who see the name marked as hidden.
        "withheld": set() if can_manage else hidden,
        "hidden_publicly": hidden,
        "can_manage": can_manage,
        "can_add_round": bool(request.has_permission(Permission.ProgrammesRoundManage, rounds_container)),
        "new_round_url": request.resource_url(rounds_container, "new"),
        "content_languages": languages_of(context),
        "language_name": language_name,
        "language_tag": language_tag,
    }


def _role_titles():
    return [("lead", _("Lead funder")), ("co_funder", _("Co-funder")), ("implementer", _("Implementer"))]


def _contribution_form(request, programme):
    funders = request.dbsession.scalars(select(Funder).order_by(Funder.name)).all()
    return make_form(request, ContributionSchema(), "contribution", _("Add the funder"),
                     bind={"funders": funders, "rounds": programme.rounds}), funders


@view_config(context=Programme, name="add-funder", renderer=T + "contribution_form.pt",
             permission=Permission.ProgrammesProgrammeManage)
def contribution_new(context, request):
    form, funders = _contribution_form(request, context)
    extra = {"programme": context}
    if request.method != "POST":
        return _page(request, form.render({"currency": context.currency, "role": "co_funder"}), **extra)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed(request, failure, **extra)
    by_id = {str(f.id): f for f in funders}
    problems = []
    amount = None
    if data["amount"]:
        try:
            amount = parse_money(data["amount"], data["currency"], request.locale_name)
        except MoneyError as exc:
            problems.append(("amount", exc.message))
    if not data["funder_id"] and not data["funder_name"]:
        problems.append(("funder_name", _("Choose a funder from the list, or enter the new funder's name")))
    if problems:
        return _refused(request, form, problems, CONTRIBUTION_FIELDS, **extra)
    rnd = next((r for r in context.rounds if str(r.id) == data["round_id"]), None)
    try:
        funder = by_id.get(data["funder_id"]) or services.get_or_create_funder(
            request.dbsession, name=data["funder_name"], identifier=data["funder_identifier"],
            kind=data["funder_kind"])
        services.add_funder_contribution(request.dbsession, context, funder, role=data["role"], amount=amount,
                                         round=rnd, matches=by_id.get(data["matches_funder_id"]),
                                         user=request.user)
    except services.ProgrammeRefused as refused:
        request.tm.doom()
        return _refused(request, form, refused.problems, CONTRIBUTION_FIELDS, **extra)
    flash_done(request, _("Added ${funder} to the programme.", mapping={"funder": funder.name}))
    return HTTPFound(location=request.resource_url(context))


# -- rounds ------------------------------------------------------------------------------------


def _plugin_rule_kinds(request, programme) -> list:
    """The kinds of rule the programme's plugins put on the round form."""
    from grants.applications.eligibility import kinds_for

    return [k for k in kinds_for(request.registry, programme).values() if k.origin and k.form is not None]


def _round_form(request, programme, *, editable_only=False, editable=EDITABLE_AFTER_DRAFT, button=None,
                rnd=None):
    schema = round_schema(editable_only, editable)
    kinds = _plugin_rule_kinds(request, programme)
    if kinds and "eligibility" in schema:
        eligibility = schema["eligibility"].clone()  # the schema's own nodes are shared between requests
        for kind in kinds:
            node = kind.form.node()
            node.name = kind.kind
            eligibility.add(node)
        schema["eligibility"] = eligibility
    _choices(request, programme, schema, rnd)
    if rnd is not None:
        with_version(schema, rnd)
    form = make_form(request, schema, "round", button or _("Create the round"),
                     bind={"currency": programme.currency, "languages": languages_of(programme)})
    if rnd is not None and "eligibility" in schema:
        # Before saving new rules, the officer can see what they would do to the round's applications.
        form.buttons = (*form.buttons, deform.Button("check", translate(request, _("Check the rules against the "
                                                                                   "applications")),
                                                     css_class="btn-outline-primary"))
    _stable_ids(form)
    stable_ids(form, "title")  # round-title-en, round-title-ar
    return form


def _round_values(appstruct: dict, plugin_kinds=()) -> tuple[dict, list]:
    """Service arguments from the form's values, and problems with the dates."""
    values, problems = {}, []
    for name in ("title", "timezone", "application_form_version", "proposal_form_version", "rubric_id",
                 "blind_review", "budget"):
        if name in appstruct:
            values[name] = appstruct[name]
    zone = appstruct.get("timezone")
    for key, name in (("opens_at", "opens"), ("closes_at", "closes")):
        if name not in appstruct:
            continue
        naive = appstruct[name]
        if naive is None:
            values[key] = None
            continue
        try:
            values[key] = localise(naive, zone)
        except ValueError as exc:
            problems.append((key, exc.args[0]))
    if "eligibility" in appstruct:
        rules = rules_from_form(appstruct["eligibility"])
        for kind in plugin_kinds:
            rule = kind.form.read(appstruct["eligibility"].get(kind.kind))
            if rule is not None:
                rules.append(rule)
        values["eligibility_rules"] = rules
    return values, problems


def _unknown_form_version(request, programme, version) -> list:
    from grants.applications.formdefs import form_refusal

    reason = form_refusal(request.registry, programme, version)
    return [("application_form_version", reason)] if reason else []


def _choices(request, programme, schema, rnd=None) -> None:
    """The form version and the applications' workflow are chosen from lists of what the
    programme may use: grants' own and its plugins'."""
    from grants.applications.formdefs import forms_in_scope, forms_of

    for stage in ("application", "proposal"):
        name = f"{stage}_form_version"
        if name not in schema:
            continue
        default = forms_of(request.registry).default(stage, programme.plugins)
        choices = [("", translate(request, _("The programme's default: ${form}",
                                             mapping={"form": _(default.title)})))]
        # A built form's title is written in each language (it translates itself).
        choices += [(f.version, f"{translate(request, f.title if hasattr(f.title, 'in_language') else _(f.title))}"
                                f" ({f.version})")
                    for f in forms_in_scope(request.registry, programme, stage)]
        node = schema[name].clone()
        node.widget = deform.widget.SelectWidget(values=choices)
        node.validator = colander.OneOf([v for v, _t in choices])
        node.validator.msg_err = _("Choose a form from the list.")
        schema[name] = node
    if "rubric_id" in schema:
        from grants.review.rubrics import rubric_choices

        choices = [("", translate(request, _("The programme's default rubric")))]
        for rubric in rubric_choices(request.dbsession, request.registry, programme):
            label = translate(request, _(rubric.title))
            if rubric.programme_id is not None:
                label = translate(request, _("${title}, version ${version}",
                                             mapping={"title": rubric.title, "version": rubric.version}))
            choices.append((str(rubric.id), label))
        node = schema["rubric_id"].clone()
        node.widget = deform.widget.SelectWidget(values=choices)
        schema["rubric_id"] = node
    options = services.workflow_version_options(request.registry, programme, "application")
    if rnd is not None:
        # A round that chose a browser-made workflow before versions could be pinned keeps
        # that choice on the list, so saving the form does not change it behind its back.
        workflows = services.workflows_of(request.registry)
        chosen, pinned = services.workflow_choice_at(rnd, "application")
        if pinned is None and chosen in workflows.stored_ids and chosen not in {o.value for o in options}:
            options.append(services.WorkflowOption(workflows.get(chosen).definition))
    if len(options) > 1:
        choices = []
        for option in options:
            title = translate(request, _(option.definition.title))
            if option.version is not None:
                title = translate(request, _("${title}, version ${version}",
                                             mapping={"title": title, "version": option.version}))
            elif option.definition.id in getattr(services.workflows_of(request.registry), "stored_ids", ()):
                title = translate(request, _("${title}, its newest released version", mapping={"title": title}))
            choices.append((option.value, f"{title} ({option.definition.id})"))
        validator = colander.OneOf([v for v, _t in choices])
        validator.msg_err = _("Choose a workflow from the list: a version not released yet cannot be chosen.")
        schema.add(colander.SchemaNode(
            colander.String(), name="application_workflow", title=_("Workflow for applications"), missing="",
            description=_("The steps new applications go through. Applications already made keep theirs; a "
                          "version chosen here stays the one new applications run when a newer one is "
                          "released."),
            validator=validator, widget=deform.widget.SelectWidget(values=choices)))


def _latest_zone(programme) -> str:
    return programme.rounds[-1].timezone if programme.rounds else "UTC"


@view_config(context=RoundsContainer, name="new", renderer=T + "round_form.pt",
             permission=Permission.ProgrammesRoundManage)
def round_new(context, request):
    programme = context.__parent__
    form = _round_form(request, programme)
    extra = {"programme": programme, "rnd": None, "editable_only": False}
    if request.method != "POST":
        defaults = {"timezone": _latest_zone(programme), "opens": {"time": "09:00"}, "closes": {"time": "17:00"}}
        return _page(request, form.render(defaults), **extra)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed(request, failure, **extra)
    values, problems = _round_values(data, _plugin_rule_kinds(request, programme))
    problems += _unknown_form_version(request, programme, values.get("application_form_version"))
    if problems:
        return _refused(request, form, problems, _round_fields(form, programme), **extra)
    try:
        rnd = services.create_round(request.dbsession, request.registry, programme, user=request.user, **values)
        if data.get("application_workflow"):
            workflow_id, version = services.parse_workflow_value(data["application_workflow"])
            services.choose_workflow(request.dbsession, request.registry, rnd, "application", workflow_id,
                                     version=version, user=request.user)
    except services.ProgrammeRefused as refused:
        request.tm.doom()
        return _refused(request, form, refused.problems, _round_fields(form, programme), **extra)
    flash_done(request, _("Round created: ${title}. It is a draft until you open it.",
                          mapping={"title": shown(rnd, "title", request.locale_name).text}))
    return HTTPFound(location=request.resource_url(rnd))


def _round_fields(form, programme) -> dict:
    return {**ROUND_FIELDS, **problem_fields(form, languages_of(programme))}


def _round_current(rnd, plugin_kinds=()) -> dict:
    """The round form's values for the round as stored."""
    eligibility = rules_to_form(rnd.eligibility_rules)
    for kind in plugin_kinds:
        rule = next((r for r in rnd.eligibility_rules or () if r.get("kind") == kind.kind), None)
        eligibility[kind.kind] = kind.form.show(rule) if rule is not None else colander.null
    return {
        "title": as_form_value(rnd, "title", languages_of(rnd.programme)), "timezone": rnd.timezone,
        "opens": local_parts(rnd.opens_at, rnd.timezone),
        "closes": local_parts(rnd.closes_at, rnd.timezone),
        "budget": rnd.budget, "application_form_version": rnd.application_form_version or colander.null,
        "proposal_form_version": rnd.proposal_form_version or colander.null,
        "rubric_id": rnd.rubric_id, "blind_review": rnd.blind_review,
        "eligibility": eligibility,
        "application_workflow": services.workflow_choice_value(rnd, "application"),
    }


@view_config(context=Round, name="edit", renderer=T + "round_form.pt", permission=Permission.ProgrammesRoundManage)
def round_edit(context, request):
    draft = means(context, "draft")
    editable = EDITABLE_WHILE_OPEN if means(context, "open") else EDITABLE_AFTER_DRAFT
    form = _round_form(request, context.programme, editable_only=not draft, editable=editable,
                       button=_("Save the round"), rnd=context)
    extra = {"programme": context.programme, "rnd": context, "editable_only": not draft}
    kinds = _plugin_rule_kinds(request, context.programme)
    if request.method != "POST":
        current = _round_current(context, kinds)
        return _page(request, form.render({k: v for k, v in current.items() if k in form.schema}), **extra)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _failed(request, failure, **extra)
    values, problems = _round_values(data, kinds)
    problems += _unknown_form_version(request, context.programme, values.get("application_form_version"))
    if problems:
        return _refused(request, form, problems, _round_fields(form, context.programme), **extra)
    if "eligibility_rules" in values:
        # Rules of kinds this form does not show (a plugin's without a question) are kept.
        shown = set(FORM_RULE_KINDS) | {k.kind for k in kinds}
        values["eligibility_rules"] += [rule for rule in context.eligibility_rules or ()
                                        if rule.get("kind") not in shown]
    if "check" in request.POST and "eligibility_rules" in values:
        return _rules_preview(request, context, form, values["eligibility_rules"], **extra)
    try:
        with editing_form(request, context, form, data, stored=lambda: _round_current(context, kinds)):
            services.update_round(request.dbsession, context, registry=request.registry, user=request.user,
                                  **values)
            if "application_workflow" in data:
                workflow_id, version = services.parse_workflow_value(data["application_workflow"])
                services.choose_workflow(request.dbsession, request.registry, context, "application",
                                         workflow_id or None, version=version, user=request.user)
    except services.ProgrammeRefused as refused:
        request.tm.doom()
        return _refused(request, form, refused.problems, _round_fields(form, context.programme), **extra)
    flash_done(request, _("Saved the round."))
    return HTTPFound(location=request.resource_url(context))


def _rules_preview(request, current, form, rules, **extra) -> dict:
    """The round form as typed, with how many of the round's submitted applications each
    proposed rule would fail.  Nothing is saved."""
    from grants.applications.eligibility import preview_rules, kinds_for

    request.tm.doom()  # reading only, whatever a rule's check touches
    try:
        rules = services.normalise_eligibility_rules(rules, kinds_for(request.registry, current.programme))
    except services.ProgrammeRefused as refused:
        return _refused(request, form, refused.problems, ROUND_FIELDS, **extra)
    sentences = describe_rules(request, current, rules)
    preview = [{"rule": sentences[p.position] if p.position < len(sentences) else p.rule.get("kind"),
                "failing": p.failing, "checked": p.checked}
               for p in preview_rules(request.dbsession, current, rules, registry=request.registry)]
    return _page(request, form.serialize(), rules_preview=preview, **extra)


def _tier_page(request, rnd, form_html, errors=()):
    return _page(request, form_html, errors, rnd=rnd, programme=rnd.programme, draft=means(rnd, "draft"))


@view_config(context=Round, name="tiers", renderer=T + "tiers.pt", permission=Permission.ProgrammesRoundManage)
def round_tiers(context, request):
    """The round's grant-size tiers: a list, and a form to add one (while in draft)."""
    form = make_form(request, with_version(TierSchema(), context), "tier", _("Add the tier"),
                     bind={"currency": context.programme.currency, "languages": languages_of(context.programme)})
    stable_ids(form, "name")
    if request.method != "POST":
        return _tier_page(request, context, form.render() if means(context, "draft") else "")
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        failed = _failed(request, failure)
        return _tier_page(request, context, failed["form_html"], failed["errors"])
    spec = services.TierSpec(data["name"], data["minimum"], data["maximum"], data["conditions"],
                             data["match_funding_percent"])
    typed = dict(form.cstruct)
    try:
        with editing(request, context, differences=lambda: _tier_differences(request, context, adding=spec),
                     form_html=lambda: render_as_typed(form, typed, version=context.row_version)):
            services.add_round_tier(request.dbsession, context, spec, user=request.user)
    except services.ProgrammeRefused as refused:
        request.tm.doom()
        failed = _refused(request, form, refused.problems,
                          {**problem_fields(form, languages_of(context.programme)), "tiers": None})
        return _tier_page(request, context, failed["form_html"], failed["errors"])
    flash_done(request, _("Added the tier ${name}.", mapping={"name": services.tier_label(spec)}))
    return HTTPFound(location=request.resource_url(context, "tiers"))


def _tier_differences(request, rnd, *, adding=None, removing=None) -> list[Difference]:
    """A tier edit that lost: the tiers it would have made, and the tiers stored now."""
    fmt = money_formatter(request)

    def text(name, minimum, maximum):
        return f"{name} ({fmt(minimum)} – {fmt(maximum)})"

    def name_of(tier):
        return shown(tier, "name", request.locale_name).text

    stored = [text(name_of(t), t.minimum, t.maximum) for t in rnd.tiers]
    typed = [text(name_of(t), t.minimum, t.maximum) for t in rnd.tiers if t.id != removing]
    if adding is not None:
        typed.append(text(services.tier_label(adding), adding.minimum, adding.maximum))
    return [Difference(_("Grant-size tiers"), "; ".join(typed), "; ".join(stored))]


@view_config(context=Round, name="remove-tier", request_method="POST", permission=Permission.ProgrammesRoundManage)
def round_tier_remove(context, request):
    try:
        tier_id = int(request.POST.get("tier", ""))
    except ValueError:
        raise HTTPNotFound() from None
    try:
        with editing(request, context, differences=lambda: _tier_differences(request, context, removing=tier_id),
                     form_html=lambda: None):
            services.remove_round_tier(request.dbsession, context, tier_id, user=request.user)
    except services.ProgrammeRefused as refused:
        request.session.flash("; ".join(translate(request, r) for r in refused.reasons), "error")
    else:
        flash_done(request, _("Removed the tier."))
    return HTTPFound(location=request.resource_url(context, "tiers"))


def describe_rules(request, rnd, rules=None) -> list[str]:
    """The round's eligibility rules (or ``rules`` proposed for it) as sentences in the
    page's language."""
    from grants.applications.eligibility import attachment_label, localised, rule_kinds

    locale = request.locale_name
    kinds = rule_kinds(request.registry)
    out = []
    for rule in (rnd.eligibility_rules if rules is None else rules) or ():
        kind = rule.get("kind")
        if kind == "registered_organisation":
            out.append(_("Only officially registered organisations may apply"))
        elif kind == "region_in":
            # Names only: the codes are the catalogue's keys, not what applicants call their region.
            out.append(localised(_("Applicants must work in: ${regions}",
                                   mapping={"regions": {"regions": list(rule.get("regions", ()))}}), locale))
        elif kind == "amount_within_max":
            maximum = (Money.from_minor(rule["max_minor"], rnd.programme.currency) if rule.get("max_minor") is not None
                       else max((t.maximum for t in rnd.tiers), default=None))
            out.append(_("The amount asked must not exceed ${max}", mapping={"max": format_money(maximum, locale)})
                       if maximum is not None else _("The amount asked must not exceed the largest grant-size tier"))
        elif kind == "required_attachments":
            titles = _attachment_titles(request, rnd)
            # A list in the mapping is translated item by item and written as the language lists things.
            out.append(_("Every application must include: ${kinds}",
                         mapping={"kinds": [titles.get(k) or attachment_label(k) for k in rule.get("attachments", ())]}))
        else:  # a plugin's kind says what it asks, else its title
            found = kinds.get(kind)
            if found is None:  # its plugin is gone: the kind's key would mean nothing to a reader
                out.append(_("A further condition the programme's officers check"))
            elif found.describe is not None:
                out.append(localised(found.describe(rule, rnd, locale), locale))
            else:
                out.append(found.title)
    return [translate(request, m) for m in out]


def _attachment_titles(request, rnd) -> dict:
    """What the round's application form calls each document it asks for, by kind (a form
    built in the browser names them by its own keys)."""
    from grants.applications.formdefs import UnknownFormVersion, built_form, forms_of, is_built_version

    version = rnd.application_form_version
    forms = forms_of(request.registry)
    try:
        if version and is_built_version(version):
            form = built_form(rnd, version)
        elif version:
            form = forms.get(version)
        else:
            form = forms.default("application", list(rnd.programme.plugins or ()))
    except (UnknownFormVersion, KeyError):
        return {}
    return {spec.kind: spec.title for spec in form.attachments}


def region_label(code: str, locale: str) -> str:
    try:
        from grants import regions
    except ImportError:
        return code
    try:
        return f"{regions.label(code, locale)} ({code})"
    except KeyError:
        return code


@view_config(context=Round, renderer=T + "round.pt", permission=Permission.ProgrammesRoundView)
def round_page(context, request):
    """The round: its state and what can be done now (``object_page``), its dates in its
    zone, budget, tiers, eligibility rules, and for its officers the funnel at a glance."""
    from .setup import checklist

    see_funnel = bool(request.has_permission(Permission.ProgrammesProgrammeManage, context.programme))
    can_manage = bool(request.has_permission(Permission.ProgrammesRoundManage, context))
    # The page is public: the history and the steps refused are for those who run the round.
    page = object_page(context, request, staff=can_manage or see_funnel)
    setup = checklist(request.registry, context) if can_manage and means(context, "draft") else []
    funnel = services.round_funnel(request.dbsession, context, request.registry) if see_funnel else None
    locale = request.locale_name
    page.update(
        rnd=context,
        programme=context.programme,
        opens=format_datetime(context.opens_at, context.timezone) if context.opens_at else None,
        closes=format_datetime(context.closes_at, context.timezone) if context.closes_at else None,
        rules=describe_rules(request, context),
        funnel=funnel,
        regions=[(region_label(code, locale), n) for code, n in funnel.by_region] if funnel and funnel.by_region
        is not None else None,
        money=money_formatter(request),
        can_manage=can_manage,
        setup_done=sum(1 for s in setup if s.done),
        setup_total=len(setup),
        can_see_evaluation=bool(request.has_permission(Permission.MelDataView, context)),
        draft=means(context, "draft"),
        roles=dict(_role_titles()),
    )
    return page


assert set(dict(_role_titles())) == set(FUNDER_ROLES)
