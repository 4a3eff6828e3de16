"""Rubrics a programme makes in the browser, as versioned data.

A programme's officer starts a rubric (a draft), adds weighted criteria — a title and
guidance for reviewers in every language the programme uses — and publishes it.  A
published rubric never changes: rounds choose it from a list, reviews are scored with it
and keep it (``Review.rubric_id``).  To change one, copy it: the copy is the next version
of the same family, a draft again.  Every step is in the audit of configuration, shown on
the rubric's page::

    rubric = new_rubric(db, programme, "Call 5 review", user=officer)
    save_criterion(db, rubric, None, titles={"en": "Need", "ar": "الحاجة", "fr": "Besoin"},
                   guidance={}, weight="2", languages=("en", "fr", "ar"), user=officer)
    publish(db, rubric, languages=("en", "fr", "ar"), user=officer)
    next_version = copy_rubric(db, rubric, user=officer)      # version 2, a draft

The scale is the one every review uses (grants.review.scoring): a whole number from 1 to
5, each value with a standard label (:data:`SCALE_LABELS`, translated by the catalogues).

Code-defined rubrics (grants' general rubric, a plugin's ``config.add_rubric``) keep
working: they are published rubrics of no programme, and appear in a round's list
(:func:`rubric_choices`) beside the programme's own.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import colander
import deform
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import versioned
from grants.concurrency import Difference, with_version
from grants.forms import FormSchema, flash_done, form_failed, form_refused, make_form
from grants.i18n import _, format_number, language_name, language_tag, text_direction, translate
from grants.text import too_long
from grants.programmes.models import Programme, Round
from grants.security import Permission
from grants.workflow import ProblemsRefused

from . import scoring
from .models import DRAFT, Review, Rubric

#: The labels of the scale's values for a rubric made in the browser (English messages
#: that the catalogues translate where reviewers read them).
SCALE_LABELS = {1: _("Very weak"), 2: _("Weak"), 3: _("Fair"), 4: _("Good"), 5: _("Strong")}
TITLE_MAX = 300
GUIDANCE_MAX = 2000


class RubricRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` are (field, reason) pairs."""


def snapshot(rubric: Rubric) -> dict:
    """What the audit keeps of a rubric: plain JSON."""
    return {"title": rubric.title, "version": rubric.version, "status": rubric.status,
            "criteria": [{k: v for k, v in c.items() if k != "labels"} for c in rubric.criteria]}


KIND = versioned.Kind(Rubric, RubricRefused, snapshot,
                      frozen=_("This rubric is published, so it can no longer change: copy it to make its next "
                               "version."),
                      family=lambda rubric: Rubric.family_id == (rubric.family_id or rubric.id))


# -- reading ------------------------------------------------------------------------------------


def rubrics_of(dbsession: Session, programme: Programme) -> list[Rubric]:
    """The programme's own rubrics, each family's versions together, oldest first."""
    return list(dbsession.scalars(select(Rubric).where(Rubric.programme_id == programme.id)
                                  .order_by(Rubric.family_id, Rubric.version, Rubric.id)))


def in_use(dbsession: Session, rubric: Rubric) -> bool:
    """A round has chosen it or a review was scored with it."""
    return (dbsession.scalar(select(Round.id).where(Round.rubric_id == rubric.id).limit(1)) is not None
            or dbsession.scalar(select(Review.id).where(Review.rubric_id == rubric.id).limit(1)) is not None)


def rubric_choices(dbsession: Session, registry, programme: Programme) -> list[Rubric]:
    """The rubrics rounds of ``programme`` may choose: grants' general rubric, those of the
    plugins it uses (stored the first time they are listed), then its own published ones."""
    from grants.plugins import in_scope

    from .services import _app_registry, _stored, default_rubric, rubric_specs

    found = [default_rubric(dbsession)]
    app = _app_registry(registry)
    for spec in (rubric_specs(app) if app is not None else {}).values():
        if in_scope(spec.origin, programme.plugins):
            found.append(_stored(dbsession, spec.title, spec.criteria))
    found += [r for r in rubrics_of(dbsession, programme) if r.published]
    return found


def round_rubric_refusal(dbsession: Session, rnd: Round, rubric_id: int | None):
    """Why ``rnd`` may not change its rubric to ``rubric_id`` (a sentence), or None.  A
    round whose applications have been scored keeps the rubric the scores were made with."""
    if rubric_id == rnd.rubric_id:
        return None
    from grants.applications.models import Application

    scored = dbsession.scalar(select(Review.id).join(Application, Application.id == Review.application_id)
                              .where(Application.round_id == rnd.id).limit(1))
    if scored is not None:
        return _("Reviewers have already scored this round's applications with its rubric, so the rubric can no "
                 "longer change.")
    return None


def rubric_refusal(dbsession: Session, programme: Programme, rubric: Rubric):
    """Why rounds of ``programme`` may not choose ``rubric`` (a programme's draft, or
    another programme's rubric), or None."""
    if rubric.programme_id is not None and rubric.programme_id != programme.id:
        return _("The rubric “${rubric}” belongs to another programme.", mapping={"rubric": rubric.title})
    if not rubric.published:
        return _("The rubric “${rubric}” is a draft: publish it before a round uses it.",
                 mapping={"rubric": rubric.title})
    return None


# -- changing -------------------------------------------------------------------------------------


def _clean_title(title) -> tuple[str, list]:
    title = " ".join(str(title or "").split())
    if not title:
        return title, [("title", _("Give the rubric a title."))]
    if len(title) > TITLE_MAX:
        return title, [("title", too_long(TITLE_MAX))]
    return title, []


def new_rubric(dbsession: Session, programme: Programme, title: str, *, user=None) -> Rubric:
    """A new draft rubric of ``programme``, the first version of a family of its own."""
    title, problems = _clean_title(title)
    RubricRefused.refuse_if(problems)
    return KIND.start(dbsession, Rubric(title=title, criteria=[], programme_id=programme.id, version=1,
                                        status=DRAFT), user=user)


def save_criterion(dbsession: Session, rubric: Rubric, criterion_id: str | None, *, titles: dict, guidance: dict,
                   weight, languages, user=None) -> dict:
    """Add a criterion to a draft rubric (``criterion_id`` None) or change one.  A title
    in the first of ``languages`` is needed now (the others before publishing); the
    weight is a number greater than 0."""
    KIND.refuse_unless_draft(rubric)
    languages = list(languages)
    problems: list = []
    titles = {code: " ".join(str(titles.get(code) or "").split()) for code in languages}
    guidance = {code: str(guidance.get(code) or "").strip() for code in languages}
    if not titles[languages[0]]:
        problems.append((f"title_{languages[0]}", _("Give the criterion a title in ${language}.",
                                                     mapping={"language": language_name(languages[0])})))
    for code in languages:
        if len(titles[code]) > TITLE_MAX:
            problems.append((f"title_{code}", too_long(TITLE_MAX)))
        if len(guidance[code]) > GUIDANCE_MAX:
            problems.append((f"guidance_{code}", too_long(GUIDANCE_MAX)))
    try:
        number = Decimal(str(weight or "").strip().replace(",", "."))
        if not number.is_finite() or number <= 0 or number > 1000:
            raise InvalidOperation
    except InvalidOperation:
        problems.append(("weight", _("Enter a weight greater than 0 and at most 1000, like 2 or 1.5.")))
        number = Decimal(1)
    existing = next((c for c in rubric.criteria if c["id"] == criterion_id), None) if criterion_id else None
    if criterion_id and existing is None:
        problems.append((None, _("That criterion is no longer in the rubric.")))
    RubricRefused.refuse_if(problems)
    criterion = {"id": existing["id"] if existing else versioned.next_entry_id(rubric.criteria),
                 "title": titles[languages[0]],
                 "titles": {k: v for k, v in titles.items() if v}, "guidance": {k: v for k, v in guidance.items() if v},
                 "weight": format(number, "f"), "labels": {str(k): str(v) for k, v in SCALE_LABELS.items()}}
    # A new list, so the JSON column is seen to change.
    criteria = ([criterion if c["id"] == criterion["id"] else c for c in rubric.criteria] if existing
                else [*rubric.criteria, criterion])
    KIND.change(dbsession, rubric, "criterion", lambda: setattr(rubric, "criteria", criteria), user=user)
    return criterion


def remove_criterion(dbsession: Session, rubric: Rubric, criterion_id: str, *, user=None) -> None:
    KIND.refuse_unless_draft(rubric)
    if not any(c["id"] == criterion_id for c in rubric.criteria):
        raise RubricRefused([(None, _("That criterion is no longer in the rubric."))])
    remaining = [c for c in rubric.criteria if c["id"] != criterion_id]
    KIND.change(dbsession, rubric, "criterion", lambda: setattr(rubric, "criteria", remaining), user=user)


def publish(dbsession: Session, rubric: Rubric, *, languages, user=None, now: dt.datetime | None = None) -> Rubric:
    """Freeze a draft: from now on rounds may choose it and it never changes.  Refused
    without criteria, or with a criterion not titled in every language."""
    KIND.refuse_unless_draft(rubric)
    problems: list = []
    if not rubric.criteria:
        problems.append((None, _("Add at least one criterion before publishing.")))
    RubricRefused.refuse_if(problems + versioned.untitled(rubric.criteria, languages))
    try:
        rubric.scoring_rubric()  # the checks reviews are counted with
    except (ValueError, TypeError) as exc:
        raise RubricRefused([(None, _("The rubric is not valid: ${detail}", mapping={"detail": str(exc)}))]) from None
    return KIND.publish(dbsession, rubric, user=user, now=now)


def copy_rubric(dbsession: Session, rubric: Rubric, *, user=None) -> Rubric:
    """The next version of ``rubric``'s family: a draft with the same title and criteria."""
    if rubric.programme_id is None:
        raise RubricRefused([(None, _("Only a programme's own rubrics can be copied here."))])
    copy = Rubric(title=rubric.title, criteria=[dict(c) for c in rubric.criteria], programme_id=rubric.programme_id,
                  family_id=rubric.family_id or rubric.id, version=KIND.next_version(dbsession, rubric),
                  status=DRAFT)
    return KIND.copy(dbsession, rubric, copy, user=user)


# -- traversal: /programmes/{id}/rubrics/{id} ------------------------------------------------------


class RubricsContainer(versioned.ProgrammeRows):
    __name__ = "rubrics"
    model = Rubric


# -- pages ------------------------------------------------------------------------------------------

T = "grants.templates:review/"


def rubric_languages(request, rubric: Rubric) -> list[str]:
    """The languages a rubric is written in (its programme's, the default first)."""
    return versioned.content_languages(request, rubric)


class NewRubricSchema(FormSchema):
    title = colander.SchemaNode(
        colander.String(), title=_("Title of the rubric"), description=_("Like “Call 5 review”."),
        missing_msg=_("Give the rubric a title."),
        validator=colander.Length(max=TITLE_MAX, max_err=_("Enter 300 characters or fewer")),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))


def _title_node(code, first):
    return colander.SchemaNode(
        colander.String(), name=f"title_{code}", missing="",
        title=_("Title in ${language}", mapping={"language": language_name(code)}),
        description=None if first else _("Needed before the rubric is published."),
        widget=deform.widget.TextInputWidget(attributes={"dir": text_direction(code), "lang": language_tag(code),
                                                     "autocomplete": "off"}))


def _criterion_form(request, rubric, criterion_id=""):
    schema = FormSchema()
    languages = rubric_languages(request, rubric)
    for position, code in enumerate(languages):
        schema.add(_title_node(code, position == 0))
    for code in languages:
        schema.add(colander.SchemaNode(
            colander.String(), name=f"guidance_{code}", missing="",
            title=_("Guidance for reviewers in ${language}", mapping={"language": language_name(code)}),
            widget=deform.widget.TextAreaWidget(rows=2, attributes={"dir": text_direction(code),
                                                                      "lang": language_tag(code)})))
    schema.add(colander.SchemaNode(
        colander.String(), name="weight", title=_("Weight"), missing="",
        description=_("How much this criterion counts against the others, like 2 or 1.5."),
        widget=deform.widget.TextInputWidget(attributes={"dir": "ltr", "inputmode": "decimal",
                                                         "autocomplete": "off"})))
    schema.add(colander.SchemaNode(colander.String(), name="criterion", missing="", default=criterion_id,
                                   widget=deform.widget.HiddenWidget()))
    with_version(schema, rubric)
    button = _("Save the criterion") if criterion_id else _("Add the criterion")
    form = make_form(request, schema, "criterion", button)
    form.action = request.resource_url(rubric, "criterion")
    return form


def _criterion_values(criterion: dict, languages) -> dict:
    values = {"weight": criterion["weight"], "criterion": criterion["id"]}
    for code in languages:
        values[f"title_{code}"] = (criterion.get("titles") or {}).get(code, "")
        values[f"guidance_{code}"] = (criterion.get("guidance") or {}).get(code, "")
    return values


def _history(request, rubric) -> list[dict]:
    return versioned.history(request, rubric, {"created": _("created"), "criterion": _("changed the criteria"),
                                               "published": _("published")})


def _criteria_rows(request, rubric) -> list[dict]:
    locale = request.locale_name
    return [{"id": c["id"], "title": (c.get("titles") or {}).get(locale) or translate(request, _(c["title"])),
             "translated": locale in (c.get("titles") or {}) or not c.get("titles"),
             "guidance": rubric.guidance(c["id"], locale),
             "weight": format_number(Decimal(c["weight"]), locale)} for c in rubric.criteria]


def _rubric_page(request, rubric, form_html="", errors=(), editing_id=None) -> dict:
    db = request.dbsession
    versions = KIND.versions(db, rubric) if rubric.family_id else [rubric]
    return {"rubric": rubric, "programme": rubric.__parent__.__parent__, "criteria": _criteria_rows(request, rubric),
            "form_html": form_html, "errors": list(errors), "editing_id": editing_id,
            "in_use": in_use(db, rubric), "versions": versions, "history": _history(request, rubric),
            "scale": [(v, SCALE_LABELS[v]) for v in scoring.SCORE_VALUES],
            "json_text": versioned.json_text}


@view_config(context=RubricsContainer, renderer=T + "rubrics.pt", permission=Permission.ProgrammesProgrammeManage)
def programme_rubrics(container, request):
    """The programme's rubrics, every version, and a form to start a new one."""
    context = container.__parent__
    form = make_form(request, NewRubricSchema(), "new-rubric", _("Start the rubric"))
    page = {"programme": context, "rubrics": rubrics_of(request.dbsession, context), "errors": [],
            "in_use": {r.id for r in rubrics_of(request.dbsession, context) if in_use(request.dbsession, r)}}
    if request.method != "POST":
        return {**page, "form_html": form.render()}
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return {**page, **form_failed(request, failure)}
    try:
        rubric = new_rubric(request.dbsession, context, data["title"], user=request.user)
    except RubricRefused as refused:
        return {**page, **form_refused(request, form, refused.problems)}
    flash_done(request, _("Rubric started: add its criteria, then publish it."))
    return HTTPFound(location=request.resource_url(rubric))


@view_config(context=Rubric, renderer=T + "rubric.pt", permission=Permission.ProgrammesProgrammeManage)
def rubric_page(context, request):
    """A rubric: its criteria, the form to add one (while a draft), publish and copy."""
    form_html = _criterion_form(request, context).render() if context.status == DRAFT else ""
    return _rubric_page(request, context, form_html)


@view_config(context=Rubric, name="criterion", renderer=T + "rubric.pt",
             permission=Permission.ProgrammesProgrammeManage)
def rubric_criterion(context, request):
    """GET ``?criterion=<id>``: the form to change that criterion.  POST: add or save one."""
    languages = rubric_languages(request, context)
    criterion_id = (request.params.get("criterion") or "").strip()

    def differences(data):
        stored = next((c for c in context.criteria if c["id"] == criterion_id), None)
        return [Difference(_("Criteria"), data.get(f"title_{languages[0]}", ""),
                           "; ".join(c["title"] for c in context.criteria) if stored is None else stored["title"])]

    def save(data):
        save_criterion(request.dbsession, context, criterion_id or None,
                       titles={c: data[f"title_{c}"] for c in languages},
                       guidance={c: data[f"guidance_{c}"] for c in languages}, weight=data["weight"],
                       languages=languages, user=request.user)

    return versioned.edit_entry(
        request, KIND, context, entry_id=criterion_id,
        existing=next((c for c in context.criteria if c["id"] == criterion_id), None),
        form=_criterion_form(request, context, criterion_id),
        values=lambda existing: _criterion_values(existing, languages),
        page=lambda form_html, errors, editing_id: _rubric_page(request, context, form_html, errors, editing_id),
        save=save, differences=differences, done=_("Saved the criterion."))


def _action(request, rubric, do, done):
    return versioned.action(request, KIND, rubric, do, done, lambda errors: _rubric_page(
        request, rubric, _criterion_form(request, rubric).render() if rubric.status == DRAFT else "", errors))


@view_config(context=Rubric, name="remove-criterion", request_method="POST", renderer=T + "rubric.pt",
             permission=Permission.ProgrammesProgrammeManage)
def rubric_remove_criterion(context, request):
    return _action(request, context, lambda: remove_criterion(
        request.dbsession, context, request.POST.get("criterion", ""), user=request.user), _("Removed the criterion."))


@view_config(context=Rubric, name="publish", request_method="POST", renderer=T + "rubric.pt",
             permission=Permission.ProgrammesProgrammeManage)
def rubric_publish(context, request):
    languages = rubric_languages(request, context)
    return _action(request, context, lambda: publish(request.dbsession, context, languages=languages,
                                                     user=request.user),
                   _("Published: rounds of the programme can now choose this rubric. It can no longer change."))


@view_config(context=Rubric, name="copy", request_method="POST", renderer=T + "rubric.pt",
             permission=Permission.ProgrammesProgrammeManage)
def rubric_copy(context, request):
    return _action(request, context, lambda: copy_rubric(request.dbsession, context, user=request.user),
                   _("Copied: this is the next version, a draft you can change."))


def includeme(config):
    config.scan(__name__)
