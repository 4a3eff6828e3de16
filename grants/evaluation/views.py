"""Evaluation pages.

* Round ``@@evaluation``: officers (``programmes:round:manage``) assign and unassign
  evaluators; evaluators (``mel:data:view`` on the round, which it grants them once it is
  in review or decided) see the round's awards with links to each one's MEL pages and
  the state of their assessment, and write the round's findings.
* Award ``@@assessment`` (``evaluation:assessment:edit``, evaluators only): scores,
  summary and files.
* Award ``@@assessments`` (``awards:award:view``): every assessment of the award, read
  only — the grantee reads theirs here; files through ``@@assessment-file``.
"""
from __future__ import annotations

import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import select

from grants.audit.services import record_change
from grants.awards.models import Award
from grants.concurrency import (
    Difference,
    StaleEdit,
    abandon_changes,
    editing,
    editing_form,
    posted_version,
    with_version,
)
from grants.forms import flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_datetime, translate
from grants.programmes.models import Round
from grants.security import Permission

from . import services
from .forms import EvaluatorSchema, RoundEvaluationSchema
from .models import AssessmentFile

T = "grants.templates:evaluation/"

#: File slots on the assessment form.
FILE_SLOTS = 3


def _when(moment, zone: str = "UTC") -> str:
    return "" if moment is None else format_datetime(moment, zone or "UTC")


def _int(value) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _has_award_view(request, name: str) -> bool:
    """Whether a page ``name`` is registered for awards (``@@reports`` comes with the
    MEL reporting work)."""
    for intr in request.registry.introspector.get_category("views") or ():
        view = intr["introspectable"]
        context = view.get("context")
        if view.get("name") == name and isinstance(context, type) and issubclass(Award, context):
            return True
    return False


# -- the round's evaluation ----------------------------------------------------------------------


def _assign_form(request):
    return make_form(request, EvaluatorSchema(), "assign", _("Assign the evaluator"))


def _findings_form(request, evaluation):
    return make_form(request, with_version(RoundEvaluationSchema(), evaluation), "findings",
                     _("Save the evaluation"))


def _findings_current(evaluation) -> dict:
    return {} if evaluation is None else {"findings": evaluation.findings, "shortcomings": evaluation.shortcomings,
                                          "lessons": evaluation.lessons}


def _evaluation_page(context, request, *, forms: dict | None = None, errors=()) -> dict:
    db = request.dbsession
    forms = dict(forms or {})
    user = request.user
    can_manage = request.has_permission(Permission.ProgrammesRoundManage, context)
    can_view = request.has_permission(Permission.MelDataView, context)
    is_evaluator = can_view and services.is_evaluator(db, context, user)
    evaluators = services.evaluators_of(db, context)
    page = _awards_page(context, request, user, is_evaluator)
    from . import criteria_sets

    criteria_set = criteria_sets.set_for_round(db, request.registry, context)
    choices = []
    if can_manage:
        # A code-defined set not stored yet (a page only reads) is offered by its source.
        choices = [{"id": str(s.id) if s.id is not None else f"source:{s.source}",
                    "title": criteria_sets.set_title(request, s),
                    "selected": s.id is not None and s.id == context.evaluation_criteria_id}
                   for s in criteria_sets.set_choices(db, request.registry, context.programme)]
    evaluation = services.round_evaluation(db, context)
    findings_html = None
    if is_evaluator:
        findings_html = forms.get("findings") or _findings_form(request, evaluation).render(
            _findings_current(evaluation))
    return {
        "rnd": context,
        "programme": context.programme,
        "can_manage": can_manage,
        "is_evaluator": is_evaluator,
        "evaluators": evaluators,
        "assign_html": (forms.get("assign") or _assign_form(request).render()) if can_manage else None,
        "awards": page.rows,
        "page": page,
        "filtered": page.params.filtered,
        "evaluation": evaluation,
        "evaluation_author": None if evaluation is None or evaluation.evaluator_id is None
        else db.get(_user_model(), evaluation.evaluator_id),
        "findings_html": findings_html,
        "criteria_set_title": criteria_sets.set_title(request, criteria_set),
        "criteria_rows": _criteria_rows(request, criteria_set),
        "criteria_choices": choices,
        "criteria_locked": criteria_sets.round_assessed(db, context),
        "criteria_url": request.resource_url(context.programme, "evaluation-criteria") if request.has_permission(
            Permission.ProgrammesProgrammeManage, context.programme) else None,
        "errors": list(errors),
        "when": lambda moment: _when(moment, context.timezone),  # the round's zone, named in the page's language
    }


def _award_listing(request, context):
    """The list parameters of the round's grants and the query of those the filters keep
    (the same filters as the round's awards page)."""
    from grants import listing
    from grants.awards import views as awards

    from sqlalchemy.orm import contains_eager

    from grants.applications.models import Application

    states = awards.award_states(request)
    params = listing.read(request, awards.AWARD_SORTS, states=states, regions_filter=True, default_sort="made")
    # Each row names its grantee: loaded with the award, from the joins the filters use.
    query = awards.filtered_awards_query(request, context, params).options(
        contains_eager(Award.application).contains_eager(Application.organisation))
    return params, states, query, awards.AWARD_SORTS


def _awards_page(context, request, user, is_evaluator):
    """A page of the round's grants, each with its assessments: those of the page's
    grants read at once, so that the page costs the same whatever the round's size."""

    from grants import listing

    from .models import Assessment

    db = request.dbsession
    params, states, query, sorts = _award_listing(request, context)
    page = listing.page(request, query, params, sorts[params.sort][0],
                        request.resource_url(context, "evaluation"),
                        sorts={k: title for k, (_cols, title) in sorts.items()}, states=states, regions=True,
                        text_label=_("Search grantees and award titles"))
    by_award: dict[int, list] = {award.id: [] for award in page.rows}
    if by_award:
        for assessment in db.scalars(select(Assessment).where(Assessment.award_id.in_(by_award))
                                     .order_by(Assessment.id)):
            by_award[assessment.award_id].append(assessment)
    with_reports = _has_award_view(request, "reports")
    rows = []
    for award in page.rows:
        assessments = by_award[award.id]
        mine = next((a for a in assessments if user is not None and a.evaluator_id == user.id), None)
        links = []
        if with_reports:
            links.append((_("Reports"), request.resource_url(award, "@@reports")))
        links += [(_("Surveys"), request.resource_url(award, "surveys")),
                  (_("Stories and testimonials"), request.resource_url(award, "evidence")),
                  (_("Assessments"), request.resource_url(award, "assessments"))]
        rows.append({"award": award, "organisation": award.application.organisation, "links": links,
                     "assessments": assessments, "mine": mine,
                     "assess_url": request.resource_url(award, "assessment") if is_evaluator else None,
                     "state": request.workflows.workflow(award).state_of(award).title})
    page.rows = rows
    return page


def _assessments_csv(context, request):
    """Every grant of the round the filters keep, with how many evaluators assessed it."""
    from sqlalchemy import func

    from grants import listing

    from .models import Assessment

    db = request.dbsession
    params, _states, query, sorts = _award_listing(request, context)
    query = query.order_by(*sorts[params.sort][0])

    def rows():
        for chunk in listing.chunks(db, query):
            counts = dict(db.execute(select(Assessment.award_id, func.count(Assessment.id)).where(
                Assessment.award_id.in_([a.id for a in chunk])).group_by(Assessment.award_id)).all())
            for award in chunk:
                yield (award.reference, award.application.organisation.legal_name, award.title,
                       translate(request, _(request.workflows.workflow(award).state_of(award).title)),
                       counts.get(award.id, 0))

    header = [_("Reference"), _("Grantee"), _("Grant"), _("State"), _("Assessments")]
    return listing.csv_response(request, f"assessments-round-{context.id}.csv", header, rows())


def _user_model():
    from grants.accounts.models import User

    return User


@view_config(context=Round, name="evaluation", renderer=T + "round.pt", permission=NO_PERMISSION_REQUIRED)
def round_evaluation(context, request):
    """Officers manage the evaluators; evaluators read the awards and write the findings.
    POST by ``__formid__``: ``assign``, ``unassign`` (officers), ``findings`` (evaluators)."""
    can_manage = request.has_permission(Permission.ProgrammesRoundManage, context)
    can_view = request.has_permission(Permission.MelDataView, context)
    if not (can_manage or can_view):
        raise HTTPForbidden()
    if request.method != "POST":
        if request.GET.get("format") == "csv":
            if not can_manage:  # the officers' download; evaluators read the page
                raise HTTPForbidden()
            return _assessments_csv(context, request)
        return _evaluation_page(context, request)
    formid = request.POST.get("__formid__", "")
    if formid in ("assign", "unassign", "criteria") and not can_manage:
        raise HTTPForbidden()
    if formid == "criteria":
        return _choose_criteria(context, request)
    if formid == "assign":
        return _assign(context, request)
    if formid == "unassign":
        return _unassign(context, request)
    if formid == "findings":
        if not (can_view and services.is_evaluator(request.dbsession, context, request.user)):
            raise HTTPForbidden()
        return _save_findings(context, request)
    raise HTTPNotFound()


def _assign(context, request):
    from grants.accounts.services import find_user_by_email

    form = _assign_form(request)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        failed = form_failed(request, failure)
        return _evaluation_page(context, request, forms={"assign": failed["form_html"]}, errors=failed["errors"])
    user = find_user_by_email(request.dbsession, data["email"])
    try:
        services.assign_evaluator(request.dbsession, context, user)
        # The same trace as a role given on the People and roles page (grants.programmes.people).
        record_change(request.dbsession, context, "role", None,
                      {"role": services.EVALUATOR, "user_id": user.id, "email": user.email}, user=request.user)
    except services.EvaluationRefused as refused:
        request.tm.doom()
        failed = form_refused(request, form, refused.problems)
        return _evaluation_page(context, request, forms={"assign": failed["form_html"]}, errors=failed["errors"])
    flash_done(request, _("${name} now evaluates this round.", mapping={"name": user.name}))
    return HTTPFound(location=request.resource_url(context, "evaluation"))


def _unassign(context, request):
    user = request.dbsession.get(_user_model(), _int(request.POST.get("user")) or 0)
    try:
        services.unassign_evaluator(request.dbsession, context, user)
    except services.EvaluationRefused as refused:
        request.session.flash("; ".join(translate(request, r) for r in refused.reasons), "error")
    else:
        record_change(request.dbsession, context, "role",
                      {"role": services.EVALUATOR, "user_id": user.id, "email": user.email}, None, user=request.user)
        flash_done(request, _("${name} no longer evaluates this round. Their assessments are kept.",
                              mapping={"name": user.name}))
    return HTTPFound(location=request.resource_url(context, "evaluation"))


def _choose_criteria(context, request):
    """The round's evaluation criteria, chosen from the list (a form drawn before another
    change of the round gets a 409)."""
    from grants.concurrency import refuse_overtaken

    from . import criteria_sets

    refuse_overtaken(request, context)
    raw = request.POST.get("criteria_set", "")
    if raw.startswith("source:"):
        set_id = criteria_sets.code_set_id(request.dbsession, request.registry, context.programme, raw[7:]) or 0
    else:
        set_id = _int(raw) if raw else None
    if raw and (set_id is None or set_id < 1):
        errors = [("criteria-set", translate(request, _("Choose evaluation criteria from the list.")))]
        request.response.status = 400
        return _evaluation_page(context, request, errors=errors)
    try:
        criteria_sets.choose_for_round(request.dbsession, request.registry, context, set_id, user=request.user)
    except criteria_sets.CriteriaRefused as refused:
        request.tm.doom()
        request.response.status = 409 if criteria_sets.round_assessed(request.dbsession, context) else 400
        return _evaluation_page(context, request, errors=[("criteria-set", translate(request, r))
                                                          for r in refused.reasons])
    flash_done(request, _("The round's evaluation criteria are saved."))
    return HTTPFound(location=request.resource_url(context, "evaluation", anchor="criteria-section"))


def _save_findings(context, request):
    def evaluation():
        return services.round_evaluation(request.dbsession, context)

    form = _findings_form(request, evaluation())
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        failed = form_failed(request, failure)
        return _evaluation_page(context, request, forms={"findings": failed["form_html"]}, errors=failed["errors"])
    try:
        with editing_form(request, evaluation, form, data,
                          stored=lambda: {"findings": "", "shortcomings": "", "lessons": "",
                                          **_findings_current(evaluation())}):
            services.save_round_evaluation(request.dbsession, context, findings=data["findings"],
                                           shortcomings=data["shortcomings"], lessons=data["lessons"],
                                           user=request.user)
    except services.EvaluationRefused as refused:
        request.tm.doom()
        failed = form_refused(request, form, refused.problems)
        return _evaluation_page(context, request, forms={"findings": failed["form_html"]}, errors=failed["errors"])
    flash_done(request, _("The round's evaluation is saved. Its findings, shortcomings and lessons go into the "
                          "round's public report."))
    return HTTPFound(location=request.resource_url(context, "evaluation", anchor="findings-section"))


# -- one award's assessment -----------------------------------------------------------------------------


def _criteria_rows(request, criteria_set) -> list[dict]:
    """A set's criteria as the pages show them: id, title and question in the reader's language."""
    from .criteria_sets import criteria_of

    from grants.multilingual import fallback_markup

    reader = request.locale_name
    # A programme's own criteria are written per language; one not written in the reader's
    # is shown in another, marked ("shown", "hint_shown": markup for pages; "title" stays
    # plain text for messages).  Code-defined criteria are messages the catalogues translate.
    written = {c["id"]: c for c in criteria_set.criteria} if criteria_set.source is None else {}

    def marked(text, texts):
        if not text or not texts or texts.get(reader):
            return text
        language = next((code for code, value in texts.items() if value == text), next(iter(texts)))
        return fallback_markup(text, language, reader)

    rows = []
    for c in criteria_of(criteria_set, reader):
        title = translate(request, c.title) if hasattr(c.title, "interpolate") else c.title
        hint = "" if not c.hint else translate(request, c.hint) if hasattr(c.hint, "interpolate") else c.hint
        raw = written.get(c.id, {})
        rows.append({"id": c.id, "title": title, "hint": hint,
                     "shown": marked(title, raw.get("titles") or {}), "hint_shown": marked(hint, raw.get("hints") or {})})
    return rows


def _award_page(request, award, assessment=None) -> dict:
    """The award, and the criteria ``assessment`` is scored with (the round's for a new one)."""
    from .criteria_sets import set_for_assessment

    rnd = award.round
    rows = _criteria_rows(request, set_for_assessment(request.dbsession, request.registry, award, assessment))
    return {"award": award, "rnd": rnd, "programme": rnd.programme, "organisation": award.application.organisation,
            "criteria": [c["id"] for c in rows], "criterion_titles": {c["id"]: c["shown"] for c in rows},
            "criterion_hints": {c["id"]: c["hint_shown"] for c in rows}, "score_titles": services.SCORE_TITLES,
            "when": lambda moment: _when(moment, rnd.timezone), "file_url": lambda row: request.resource_url(award, "assessment-file",
                                                                         query={"file": row.id})}


def _assessment_form_page(context, request, *, typed=None, errors=(), conflict=None) -> dict:
    assessment = services.assessment_by(request.dbsession, context, request.user)
    if typed is None:
        typed = {"summary": "", "scores": {}}
        if assessment is not None:
            typed = {"summary": assessment.summary, "scores": {k: str(v) for k, v in assessment.scores.items()}}
    field_errors: dict[str, list[str]] = {}
    for oid, message in errors:
        field_errors.setdefault(oid, []).append(message)
    history = services.assessment_history(request.dbsession, assessment) if assessment is not None else []
    return {**_award_page(request, context, assessment), "assessment": assessment, "typed": typed,
            "errors": list(errors),
            "field_errors": field_errors, "slots": range(1, FILE_SLOTS + 1), "conflict": conflict,
            "submitted": assessment is not None and assessment.submitted_at is not None,
            "history": _history_rows(request, history, context.round.timezone)}


def _history_rows(request, history, zone: str) -> list[dict]:
    """Each submission and reopening of an assessment: when (in the round's zone), who, and
    why it was reopened."""
    return [{"when": _when(c.at, zone), "who": c.user.name if c.user else "—", "submitted": c.what == "submitted",
             "reason": (c.after or {}).get("reason", "") if c.what == "reopened" else ""} for c in history]


def _assessment_differences(request, assessment, typed) -> list[Difference]:
    stored = {"summary": "", "scores": {}} if assessment is None else {
        "summary": assessment.summary, "scores": {k: str(v) for k, v in assessment.scores.items()}}
    from .criteria_sets import set_for_assessment

    out = []
    for criterion in _criteria_rows(request, set_for_assessment(request.dbsession, request.registry,
                                                                request.context, assessment)):
        mine, theirs = typed["scores"].get(criterion["id"], ""), stored["scores"].get(criterion["id"], "")
        if mine != theirs:
            out.append(Difference(criterion["title"], mine, theirs))
    if typed["summary"].strip() != stored["summary"].strip():
        out.append(Difference(_("Summary"), typed["summary"], stored["summary"]))
    return out


@view_config(context=Award, name="assessment", renderer=T + "assessment.pt",
             permission=Permission.EvaluationAssessmentEdit)
def award_assessment(context, request):
    """The signed-in evaluator's assessment of this award: GET shows it, POST saves it."""
    if request.method != "POST":
        return _assessment_form_page(context, request)
    from grants.files import FileRefused, read_upload, store

    from .criteria_sets import set_for_assessment

    post = request.POST
    criteria = [c["id"] for c in _criteria_rows(request, set_for_assessment(
        request.dbsession, request.registry, context, services.assessment_by(request.dbsession, context,
                                                                             request.user)))]
    scores = {c: post.get(f"score-{c}", "") for c in criteria}
    typed = {"summary": post.get("summary", ""), "scores": scores}
    errors: list[tuple[str, str]] = []
    files = []
    for slot in range(1, FILE_SLOTS + 1):
        upload = post.get(f"file-{slot}")
        if upload is None or not getattr(upload, "filename", None):
            continue
        try:
            stored = store(request.dbsession, request.registry.settings, filename=upload.filename,
                           data=read_upload(upload, request.registry.settings), uploaded_by=request.user)
        except FileRefused as refused:
            errors.extend((f"assessment-file-{slot}", translate(request, r)) for r in refused.reasons)
        else:
            files.append((post.get(f"file_title-{slot}", ""), stored))
    def mine():
        return services.assessment_by(request.dbsession, context, request.user)

    submit = "draft" not in post  # the form's main button (and Enter) submits; "Save as a draft" keeps it a draft
    current = mine()
    if current is not None and current.submitted_at is not None and posted_version(request) == current.row_version:
        # (A form drawn before someone else's save gets the page of differences, below.)
        # Submitted: the grantee may have read it; it changes only once reopened (409, nothing kept).
        abandon_changes(request)
        request.response.status = 409
        return _assessment_form_page(context, request, typed=typed, errors=[
            ("assessment-reason", translate(request, services.SUBMITTED_REFUSAL))])
    try:
        with editing(request, mine, form_html=lambda: None,
                     differences=lambda: _assessment_differences(request, mine(), typed)):
            assessment = services.save_assessment(request.dbsession, context, request.user,
                                                  scores={c: v for c, v in scores.items() if v},
                                                  summary=typed["summary"], files=files,
                                                  registry=request.registry, submit=submit)
    except StaleEdit as stale:
        abandon_changes(request)  # files uploaded with it are not kept either: they are chosen again
        request.response.status = 409
        return _assessment_form_page(context, request, typed=typed, conflict=stale.differences)
    except services.EvaluationRefused as refused:
        ids = {c: f"assessment-score-{c}-0" for c in criteria}
        ids.update(summary="assessment-summary", files="assessment-file-1")
        errors = [(ids.get(name, "assessment-summary"), translate(request, reason))
                  for name, reason in refused.problems] + errors
        assessment = None
    if errors:
        request.tm.doom()
        request.response.status = 400
        if files:
            errors.append(("assessment-file-1", translate(request, _(
                "Choose the files again: they are kept only when the assessment is saved."))))
        return _assessment_form_page(context, request, typed=typed, errors=errors)
    if not submit:
        flash_done(request, _("Draft saved. The grantee cannot read it until you submit it."))
        return HTTPFound(location=request.resource_url(context, "assessment"))
    flash_done(request, _("Your assessment is saved. The grantee can read it."))
    return HTTPFound(location=request.resource_url(context, "assessments", anchor=f"assessment-{assessment.id}"))


@view_config(context=Award, name="reopen-assessment", request_method="POST", renderer=T + "assessment.pt",
             permission=Permission.EvaluationAssessmentEdit)
def reopen_assessment(context, request):
    """The evaluator reopens their submitted assessment to change it, saying why."""
    from grants.concurrency import refuse_overtaken

    assessment = services.assessment_by(request.dbsession, context, request.user)
    if assessment is None:
        raise HTTPNotFound()
    refuse_overtaken(request, assessment)  # reopened or changed from another page meanwhile: 409
    try:
        services.reopen_assessment(request.dbsession, assessment, request.user, reason=request.POST.get("reason", ""))
    except services.EvaluationRefused as refused:
        request.tm.doom()
        request.response.status = 400
        return _assessment_form_page(context, request, errors=[
            ("assessment-reason", translate(request, reason)) for _name, reason in refused.problems])
    flash_done(request, _("The assessment is reopened: change it, then submit it again. The grantee sees why."))
    return HTTPFound(location=request.resource_url(context, "assessment"))


@view_config(context=Award, name="assessments", renderer=T + "assessments.pt", permission=Permission.AwardsAwardView)
def award_assessments(context, request):
    """Every assessment of the award, read only, each with the criteria it was scored with."""
    from grants.accounts.models import User

    from .criteria_sets import set_for_assessment

    db = request.dbsession
    shown = []
    for assessment in services.assessments_of(db, context):
        # Readers see what was submitted; a reopened one keeps showing what they read, with why it was reopened.
        own = request.user is not None and assessment.evaluator_id == request.user.id
        content = services.assessment_snapshot(assessment) if own else services.last_submitted(db, assessment)
        if content is None:
            continue  # a draft never submitted: its evaluator's alone
        shown.append({"assessment": assessment, "scores": content["scores"], "summary": content["summary"],
                      "criteria": _criteria_rows(request, set_for_assessment(db, request.registry, context,
                                                                             assessment)),
                      "submitted": assessment.submitted_at is not None,
                      "history": _history_rows(request, services.assessment_history(db, assessment),
                                                context.round.timezone)})
    assessments = [row["assessment"] for row in shown]
    ids = {a.evaluator_id for a in assessments}
    people = {u.id: u for u in request.dbsession.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return {**_award_page(request, context), "assessments": assessments, "shown": shown, "people": people,
            "edit_url": request.resource_url(context, "assessment")
            if request.has_permission(Permission.EvaluationAssessmentEdit, context) else None}


@view_config(context=Award, name="assessment-file", permission=Permission.AwardsAwardView)
def assessment_file(context, request):
    """A file of one of the award's assessments, to whoever may see the award."""
    from grants.files.views import file_response

    row = request.dbsession.get(AssessmentFile, _int(request.params.get("file")) or 0)
    if row is None or row.assessment.award_id != context.id:
        raise HTTPNotFound()
    return file_response(request, row.file)


def includeme(config):
    config.scan(__name__)
