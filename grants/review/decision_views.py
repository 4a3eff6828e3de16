"""Pages for the officer's side of review: a round's ranking with the suggested selection,
overrides and the form that records the round's decisions (``@@ranking``); moderating
one application's score (``@@moderate``); one application's decisions and the decision
steps open now (``@@decide``).  Views translate between HTTP and ``decisions``: a
refusal comes back beside the field it is about, with everything typed kept (400)."""
from __future__ import annotations

import deform
from babel.numbers import format_decimal
from pyramid.httpexceptions import HTTPBadRequest, HTTPFound
from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from grants.accounts.models import User
from grants.applications.models import Application
from grants import listing
from grants.forms import flash_done, form_failed, form_refused, make_form
from grants.i18n import _, translate
from grants.lifecycle.meanings import means
from grants.programmes.models import Round
from grants.programmes.views import money_formatter
from grants.security import Permission

from . import decisions, scoring
from .forms import ModerationSchema, OverrideSchema, RoundDecisionSchema
from .models import APPLICATION_STAGE, PROPOSAL_STAGE, STAGE_MEANINGS, STAGES, Decision

T = "grants.templates:review/"


# -- helpers ---------------------------------------------------------------------------------


def stage_titles():
    return {APPLICATION_STAGE: _("Applications"), PROPOSAL_STAGE: _("Full proposals")}


def score_formatter(request):
    """For templates: a score rounded for people (3 places), as the page's language writes it."""
    locale = request.locale_name

    def fmt(value, empty="—"):
        if value is None:
            return empty
        return format_decimal(scoring.display(value), format="0.000", locale=locale, numbering_system="latn")

    return fmt


def _stage(request, default=APPLICATION_STAGE) -> str:
    stage = request.params.get("stage") or default
    if stage not in STAGES:
        raise HTTPBadRequest(translate(request, _("Choose the stage of review: the application or the full "
                                                  "proposal.")))
    return stage


def _normalise(request) -> bool:
    return request.params.get("normalise") in ("1", "on", "true")


def _limit(request) -> tuple[int | None, str, list]:
    """The cap by number from the query (20 places in an incubation, say): value, as typed, errors."""
    from grants.programmes.forms import normalise_digits

    typed = (request.params.get("limit") or "").strip()
    if not typed:
        return None, "", []
    text = normalise_digits(typed)
    if not text.isdigit() or int(text) < 1:
        return None, typed, [("limit", translate(request, _(
            "Enter how many applications to select as a whole number, 1 or more, like 20.")))]
    return int(text), typed, []


def _query(stage, normalise, limit_text) -> dict:
    query = {"stage": stage}
    if normalise:
        query["normalise"] = "1"
    if limit_text:
        query["limit"] = limit_text
    return query


def _trigger_choices(request, rnd, triggers):
    definition = request.registry.workflows.get("application").definition
    return [(t, _(definition.transition(t).title)) for t in triggers]


# -- the ranking ------------------------------------------------------------------------------


def _override_form(request, rows):
    """The override form, its choices the ranked rows on the page shown (a round of
    thousands would otherwise send thousands of options)."""
    choices = [(str(r.application.id), f"{r.position}. {r.label}") for r in rows]
    return make_form(request, OverrideSchema(), "override", _("Save the change"), button_name="override",
                     bind={"applications": choices})


def _decisions_form(request, rnd, stage, ranking):
    return make_form(request, RoundDecisionSchema(), "decisions", _("Record the decisions"), button_name="decide",
                     bind={"selected_choices": _trigger_choices(request, rnd, decisions.SELECT_TRIGGERS[stage]),
                           "declined_choices": _trigger_choices(request, rnd, decisions.DECLINE_TRIGGERS[stage]),
                           "unscored": bool(ranking and ranking.unscored)})


@view_config(context=Round, name="ranking", renderer=T + "ranking.pt", permission=Permission.ProgrammesRoundManage)
def ranking_page(context, request):
    """The ranking at one stage, the suggested selection within the budget (or capped by
    number), its overrides, and the forms that change it and record the decisions."""
    stage = _stage(request)
    normalise = _normalise(request)
    limit, limit_text, errors = _limit(request)
    query = _query(stage, normalise, limit_text)
    here = request.resource_url(context, "ranking", query=query)
    db = request.dbsession

    problems, ranking, pick = [], None, None
    try:
        ranking = decisions.round_ranking(db, context, stage=stage, normalise=normalise)
        if not errors:
            pick = decisions.suggested_selection(db, context, stage=stage, normalise=normalise, limit=limit,
                                                 ranking=ranking)
    except decisions.DecisionRefused as refused:
        problems = list(refused.problems)

    params = _decided_params(request)
    # The ranking is computed whole (scores are normalised across the round); the table
    # and the override form show the page asked for.
    ranked_rows = ranking.rows[params.offset:][:params.size] if ranking else ()
    override_form = _override_form(request, ranked_rows)
    decisions_form = _decisions_form(request, context, stage, ranking)
    # keep the stage, normalisation and cap, and the page
    override_form.action = decisions_form.action = request.resource_url(context, "ranking",
                                                                        query={**query, **params.query()})
    override_html = decisions_html = None
    submitted = request.POST.get("__formid__") if request.method == "POST" else None

    if submitted == "override" and pick is not None:
        try:
            data = override_form.validate(list(request.POST.items()))
        except deform.ValidationFailure as failure:
            failed = form_failed(request, failure)
            override_html, errors = failed["form_html"], errors + failed["errors"]
        else:
            application = next(r.application for r in ranking.rows if str(r.application.id) == data["application"])
            try:
                decisions.override_selection(db, context, application, request.user, action=data["change"],
                                             reason=data["reason"], stage=stage, normalise=normalise, limit=limit)
            except decisions.DecisionRefused as refused:
                request.tm.doom()
                failed = form_refused(request, override_form, refused.problems, {"action": "change"})
                override_html, errors = failed["form_html"], errors + failed["errors"]
            else:
                flash_done(request, _("Saved the change to the selection: ${application}.",
                                      mapping={"application": decisions.applicant_label(application)}))
                return HTTPFound(location=here)
    elif submitted == "decisions" and pick is not None:
        try:
            data = decisions_form.validate(list(request.POST.items()))
        except deform.ValidationFailure as failure:
            failed = form_failed(request, failure)
            decisions_html, errors = failed["form_html"], errors + failed["errors"]
        else:
            try:
                done = decisions.decide_round(
                    db, request.registry, context, request.user, stage=stage,
                    selected_trigger=data["selected_trigger"], declined_trigger=data["declined_trigger"],
                    reason_selected=data["reason_selected"], reason_declined=data["reason_declined"],
                    funder_reference=data["funder_reference"], normalise=normalise, limit=limit,
                    allow_unscored=data.get("allow_unscored", False), transaction_manager=request.tm)
            except decisions.DecisionRefused as refused:
                request.tm.doom()  # nothing half-decided stays
                failed = form_refused(request, decisions_form, refused.problems)
                decisions_html, errors = failed["form_html"], errors + failed["errors"]
            else:
                flash_done(request, _("Recorded ${selected} selected and ${declined} not selected. Each applicant "
                                      "is told once this is saved.",
                                      mapping={"selected": len(done.selected), "declined": len(done.declined)}))
                return HTTPFound(location=here)
    elif request.method == "POST":
        request.response.status = 400  # nothing to act on: say why below
    if errors:
        request.response.status = 400

    decided_page = _decided_page(request, context, stage, params, query)
    if request.GET.get("format") == "csv":
        return _decided_csv(request, context, stage, decided_page.params)
    decided = decided_page.rows
    preset = {}
    if request.params.get("override") and ranking is not None:
        preset = {"application": request.params["override"], "change": request.params.get("change", "")}
    return {
        "rnd": context,
        "programme": context.programme,
        "stage": stage,
        "stage_titles": stage_titles(),
        "normalise": normalise,
        "limit": limit,
        "limit_text": limit_text,
        "query": {**query, **params.query()},
        "here": here,
        "ranking": ranking,
        "pick": pick,
        "problems": [reason for _name, reason in problems],
        "errors": errors,
        "override_html": override_html or (override_form.render(preset) if pick is not None and ranking.rows else ""),
        "decisions_html": decisions_html or (decisions_form.render(
            {"selected_trigger": decisions.SELECT_TRIGGERS[stage][0],
             "declined_trigger": decisions.DECLINE_TRIGGERS[stage][0]}) if pick is not None and ranking.rows else ""),
        "decided": decided,
        "page": decided_page,
        "ranked_rows": ranked_rows,
        "ranked_page": listing.Page(decided_page.params, list(ranked_rows), len(ranking.rows) if ranking else 0,
                                    decided_page.sorts, url=decided_page.url, keep=query),
        "state_titles": _state_titles(request),
        "outcome_titles": _outcome_titles(request),
        "money": money_formatter(request),
        "score": score_formatter(request),
    }


DECIDED_SORTS = {
    "-decided": ([Decision.decided_at.desc(), Decision.id.desc()], _("Decided, newest first")),
    "decided": ([Decision.decided_at, Decision.id], _("Decided, oldest first")),
    "title": ([Application.title, Application.id, Decision.id], _("Title")),
}


def _decided_query(request, rnd, stage, params):
    query = (select(Decision, Application).join(Application, Decision.application_id == Application.id)
             .where(Application.round_id == rnd.id, Decision.stage == stage)
             .options(joinedload(Application.organisation)))
    return listing.application_filters(query, params)


def _decided_params(request):
    return listing.read(request, DECIDED_SORTS, states=_state_titles(request), regions_filter=True,
                        default_sort="-decided")


def _decided_page(request, rnd, stage, params, keep):
    """The decisions recorded in the round at ``stage``, a page at a time, filtered."""
    states = _state_titles(request)
    return listing.page(request, _decided_query(request, rnd, stage, params), params, DECIDED_SORTS[params.sort][0],
                        request.resource_url(rnd, "ranking"), tuples=True,
                        sorts={k: title for k, (_cols, title) in DECIDED_SORTS.items()}, states=states,
                        regions=True, keep=keep)


def _decided_csv(request, rnd, stage, params):
    outcomes, states = _outcome_titles(request), _state_titles(request)
    query = _decided_query(request, rnd, stage, params).order_by(*DECIDED_SORTS[params.sort][0])
    rows = ((app.reference, app.title, app.organisation.legal_name if app.organisation else "",
             translate(request, outcomes.get(d.outcome, d.outcome)), translate(request, states.get(app.state, app.state)),
             d.funder_reference, d.decided_at) for d, app in request.dbsession.execute(query))
    header = [_("Reference"), _("Application"), _("Organisation"), _("Decision"), _("Now"), _("Funder's reference"),
              _("When")]
    return listing.csv_response(request, f"decisions-round-{rnd.id}-{stage}.csv", header, rows)


def _outcome_titles(request) -> dict:
    """Each step's staff title, to translate (``t()`` in templates)."""
    definition = request.registry.workflows.get("application").definition
    return {t.trigger: _(t.title) for t in definition.transitions}


def _state_titles(request) -> dict:
    definition = request.registry.workflows.get("application").definition
    return {state_id: _(state.title) for state_id, state in definition.states.items()}


# -- moderation -------------------------------------------------------------------------------


def _stage_of(application) -> str:
    return PROPOSAL_STAGE if means(application, STAGE_MEANINGS[PROPOSAL_STAGE]) else APPLICATION_STAGE


@view_config(context=Application, name="moderate", renderer=T + "moderate.pt",
             permission=Permission.ApplicationsApplicationDecide)
def moderate_page(context, request):
    """Change one application's score, with a reason; the score before is shown and kept."""
    stage = _stage(request, _stage_of(context))
    normalise = _normalise(request)
    limit_text = (request.params.get("limit") or "").strip()
    back = request.resource_url(context.round, "ranking", query=_query(stage, normalise, limit_text))
    page_query = _query(stage, normalise, limit_text)
    try:
        row = decisions.round_ranking(request.dbsession, context.round, stage=stage, normalise=normalise
                                      ).row(context.id)
    except decisions.DecisionRefused:
        row = None
    form = make_form(request, ModerationSchema(), "moderation", _("Save the moderated score"), button_name="moderate")
    form.action = request.resource_url(context, "moderate", query=page_query)
    page = {"application": context, "label": decisions.applicant_label(context), "row": row, "stage": stage,
            "stage_titles": stage_titles(), "normalise": normalise, "back": back, "errors": [],
            "score": score_formatter(request), "moderators": _names(request, [
                m.moderator_id for m, _a in (row.moderation_history if row else ())])}
    if request.method != "POST":
        page["form_html"] = form.render() if row is not None else ""
        return page
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        page.update(form_failed(request, failure))
        return page
    try:
        decisions.moderate(request.dbsession, context, request.user, score_after=data["score_after"],
                           reason=data["reason"], stage=stage, normalise=normalise)
    except decisions.DecisionRefused as refused:
        request.tm.doom()
        page.update(form_refused(request, form, refused.problems))
        return page
    flash_done(request, _("Moderated the score of ${application}.",
                          mapping={"application": decisions.applicant_label(context)}))
    return HTTPFound(location=back)


def _names(request, user_ids) -> dict:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.name for u in request.dbsession.scalars(select(User).where(User.id.in_(ids)))}


# -- one application's decisions ----------------------------------------------------------------


@view_config(context=Application, name="decide", renderer=T + "decide.pt",
             permission=Permission.ApplicationsApplicationDecide)
def decide_page(context, request):
    """The decisions on an application so far and the decision steps open now, each taken
    on the generic step page (``@@transition``), which asks for the reason and the
    funder's reference."""
    service = request.workflows
    wf = service.workflow(context)
    options = [o for o in service.options(context, request.user)
               if o.transition.permission == Permission.ApplicationsApplicationDecide]
    made = decisions.decisions_for(request.dbsession, context)
    return {
        "application": context,
        "label": decisions.applicant_label(context),
        "state": wf.state_of(context),
        "options": options,
        "decisions": made,
        "deciders": _names(request, [d.decided_by_id for d in made]),
        "outcome_titles": _outcome_titles(request),
        "state_titles": _state_titles(request),
        "ranking_url": request.resource_url(context.round, "ranking", query={"stage": _stage_of(context)}),
    }


def includeme(config):
    config.scan(__name__)
