"""Evaluation criteria a programme makes in the browser, as versioned data.

What an evaluator scores each grantee on, 1–5, used to be fixed in code (grants' own
criteria, or a plugin's ``config.add_evaluation_criteria``).  Now a programme's officer
starts a criteria set (a draft), adds criteria — a title and a guiding question in every
language the deployment offers — puts them in order and publishes it.  A published set
never changes: rounds choose it from a list on their evaluation page, and each assessment
keeps the set it was first saved with (``Assessment.criteria_set_id``).  To change one,
copy it: the copy is the next version of the same family, a draft again.  Every step is in
the audit of configuration, shown on the set's page::

    criteria = new_set(db, programme, "Evaluation 2027", user=officer)
    save_criterion(db, criteria, None, titles={"en": "Reach", "fr": "Portée", "ar": "الوصول"},
                   hints={}, languages=("en", "fr", "ar"), user=officer)
    publish(db, criteria, languages=("en", "fr", "ar"), user=officer)
    choose_for_round(db, registry, rnd, criteria.id, user=officer)   # locked once assessed
    copy_set(db, criteria, user=officer)                              # version 2, a draft

Code-defined criteria keep working: they appear in the round's list beside the
programme's own, and are stored as published sets of no programme (``source``: "grants"
or the plugin's name) when a round chooses them or an assessment is scored with them —
a page that only reads stores nothing.  A round that chose nothing uses its
programme's default (:func:`grants.evaluation.services.criteria_for`).
"""
from __future__ import annotations

import datetime as dt

import colander
import deform
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import versioned
from grants.audit.services import record_change
from grants.concurrency import Difference, with_version
from grants.forms import FormSchema, flash_done, form_failed, form_refused, make_form
from grants.i18n import _, language_name, ngettext, translate
from grants.text import too_long
from grants.programmes.models import Programme, Round
from grants.security import Permission
from grants.workflow import ProblemsRefused

from .models import DRAFT, PUBLISHED, Assessment, EvaluationCriteriaSet

CORE_SOURCE = "grants"
#: The title of the stored copy of grants' own criteria (a message the catalogues translate).
CORE_TITLE = _("General evaluation criteria")
TITLE_MAX = 300
HINT_MAX = 2000
MAX_CRITERIA = 30


class CriteriaRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` are (field, reason) pairs."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def snapshot(criteria_set: EvaluationCriteriaSet) -> dict:
    """What the audit keeps of a set: plain JSON."""
    return {"title": criteria_set.title, "version": criteria_set.version, "status": criteria_set.status,
            "criteria": [dict(c) for c in criteria_set.criteria]}


KIND = versioned.Kind(EvaluationCriteriaSet, CriteriaRefused, snapshot,
                      frozen=_("These criteria are published, so they can no longer change: copy them to make their "
                               "next version."),
                      family=lambda criteria_set: EvaluationCriteriaSet.family_id == (criteria_set.family_id
                                                                                      or criteria_set.id))


# -- code-defined sets ---------------------------------------------------------------------------------


def _code_criteria(criteria) -> list[dict]:
    """Criterion objects of code as stored JSON: ids and English messages."""
    return [{"id": c.id, "title": str(c.title), "hint": str(c.hint or "")} for c in criteria]


def _stored_code_set(dbsession: Session, source: str, title: str, criteria, *, create: bool
                     ) -> EvaluationCriteriaSet:
    """The stored copy of code-defined ``criteria``; a new version when the code changed
    (assessments scored with the old ones keep them).  Without ``create`` (a page that
    only reads) nothing is stored: a missing copy is given unsaved, with no id."""
    wanted = _code_criteria(criteria)
    versions = list(dbsession.scalars(select(EvaluationCriteriaSet)
                                      .where(EvaluationCriteriaSet.source == source,
                                             EvaluationCriteriaSet.programme_id.is_(None))
                                      .order_by(EvaluationCriteriaSet.version.desc())))
    same = next((v for v in versions if v.criteria == wanted), None)
    if same is not None:
        return same
    latest = versions[0] if versions else None
    stored = EvaluationCriteriaSet(title=title, criteria=wanted, source=source, status=PUBLISHED,
                                   version=(latest.version + 1) if latest else 1,
                                   family_id=latest.family_id if latest else None, published_at=_now())
    if not create:
        return stored
    dbsession.add(stored)
    dbsession.flush()
    stored.family_id = stored.family_id or stored.id
    dbsession.flush()
    return stored


def _plugin_criteria(registry) -> dict:
    from .services import CRITERIA_KEY, criteria_registry

    found = criteria_registry(registry)
    return (found.get(CRITERIA_KEY) or {}) if found is not None else {}


def code_sets(dbsession: Session, registry, programme: Programme, *, create: bool = False
              ) -> list[EvaluationCriteriaSet]:
    """Grants' own criteria, then those of each plugin ``programme`` uses (stored with
    ``create``, else unsaved where not stored yet)."""
    from .services import CORE_CRITERIA

    found = [_stored_code_set(dbsession, CORE_SOURCE, str(CORE_TITLE), CORE_CRITERIA, create=create)]
    plugins = _plugin_criteria(registry)
    for plugin in programme.plugins or ():
        if plugin in plugins:
            found.append(_stored_code_set(dbsession, plugin, plugin, plugins[plugin], create=create))
    return found


def code_set_id(dbsession: Session, registry, programme: Programme, source: str) -> int | None:
    """The id of the code-defined set ``source`` ("grants" or a plugin's name) offered to
    ``programme``, stored now if need be; None if it is not offered."""
    return next((s.id for s in code_sets(dbsession, registry, programme, create=True) if s.source == source), None)


def default_set(dbsession: Session, registry, programme: Programme, *, create: bool = False
                ) -> EvaluationCriteriaSet:
    """The set a round of ``programme`` that chose none uses: the criteria of the first of
    its plugins that sets some, else grants' own (as ``criteria_for``); ``create`` as
    :func:`code_sets`."""
    from .services import CORE_CRITERIA

    plugins = _plugin_criteria(registry)
    for plugin in programme.plugins or ():
        if plugin in plugins:
            return _stored_code_set(dbsession, plugin, plugin, plugins[plugin], create=create)
    return _stored_code_set(dbsession, CORE_SOURCE, str(CORE_TITLE), CORE_CRITERIA, create=create)


# -- reading ---------------------------------------------------------------------------------------------


def sets_of(dbsession: Session, programme: Programme) -> list[EvaluationCriteriaSet]:
    """The programme's own sets, each family's versions together, oldest first."""
    return list(dbsession.scalars(select(EvaluationCriteriaSet).where(EvaluationCriteriaSet.programme_id ==
                                                                      programme.id)
                                  .order_by(EvaluationCriteriaSet.family_id, EvaluationCriteriaSet.version,
                                            EvaluationCriteriaSet.id)))


def set_choices(dbsession: Session, registry, programme: Programme, *, create: bool = False
                ) -> list[EvaluationCriteriaSet]:
    """The sets rounds of ``programme`` may choose: code-defined ones (``create`` as
    :func:`code_sets`), then its own published ones."""
    return (code_sets(dbsession, registry, programme, create=create)
            + [s for s in sets_of(dbsession, programme) if s.published])


def in_use(dbsession: Session, criteria_set: EvaluationCriteriaSet) -> bool:
    """A round has chosen it or an assessment was scored with it."""
    return (dbsession.scalar(select(Round.id).where(Round.evaluation_criteria_id == criteria_set.id).limit(1))
            is not None or dbsession.scalar(select(Assessment.id).where(Assessment.criteria_set_id ==
                                                                         criteria_set.id).limit(1)) is not None)


def set_for_round(dbsession: Session, registry, rnd: Round, *, create: bool = False) -> EvaluationCriteriaSet:
    """The set the round's new assessments are scored with (``create`` as :func:`code_sets`)."""
    if rnd.evaluation_criteria_id is not None:
        chosen = dbsession.get(EvaluationCriteriaSet, rnd.evaluation_criteria_id)
        if chosen is not None:
            return chosen
    return default_set(dbsession, registry, rnd.programme, create=create)


def set_for_assessment(dbsession: Session, registry, award, assessment: Assessment | None, *,
                       create: bool = False) -> EvaluationCriteriaSet:
    """The set ``assessment`` was scored with; the round's for a new one (or one written
    before criteria were data).  ``create`` as :func:`code_sets`: saving stores it."""
    if assessment is not None and assessment.criteria_set_id is not None:
        kept = dbsession.get(EvaluationCriteriaSet, assessment.criteria_set_id)
        if kept is not None:
            return kept
    return set_for_round(dbsession, registry, award.round, create=create)


def criteria_of(criteria_set: EvaluationCriteriaSet, locale: str | None = None) -> tuple:
    """The set's criteria as :class:`grants.evaluation.services.Criterion`: titles and hints
    are messages the catalogues translate for a code-defined set, and the text written in
    ``locale`` (else in the set's first language) for a programme's own."""
    from .services import Criterion

    if criteria_set.source is not None:
        return tuple(Criterion(c["id"], _(c["title"]), _(c["hint"]) if c.get("hint") else None)
                     for c in criteria_set.criteria)
    return tuple(Criterion(c["id"], (c.get("titles") or {}).get(locale) or c["title"],
                           (c.get("hints") or {}).get(locale) or next(iter((c.get("hints") or {}).values()), None))
                 for c in criteria_set.criteria)


def set_title(request, criteria_set: EvaluationCriteriaSet) -> str:
    """How a list names a set: its title (translated for code-defined ones) and version."""
    if criteria_set.source == CORE_SOURCE:
        return translate(request, _(criteria_set.title))
    if criteria_set.source is not None:
        return translate(request, _("Criteria of the plugin ${plugin}", mapping={"plugin": criteria_set.title}))
    return translate(request, _("${title} (version ${version})",
                                mapping={"title": criteria_set.title, "version": criteria_set.version}))


# -- a round's choice -------------------------------------------------------------------------------------


def round_assessed(dbsession: Session, rnd: Round) -> bool:
    """Whether an evaluator has saved an assessment (draft or submitted) in ``rnd``."""
    from grants.awards.models import Award

    return dbsession.scalar(select(Assessment.id).join(Award, Award.id == Assessment.award_id)
                            .where(Award.round_id == rnd.id).limit(1)) is not None


def choose_for_round(dbsession: Session, registry, rnd: Round, set_id: int | None, *, user=None) -> None:
    """The round's assessments will be scored with the set ``set_id`` (None: the
    programme's default).  Refused once an assessment exists in the round, for a draft,
    another programme's set, or the criteria of a plugin the programme does not use."""
    if set_id == rnd.evaluation_criteria_id:
        return
    problems: list = []
    if round_assessed(dbsession, rnd):
        problems.append(("criteria_set", _("An evaluator has already assessed a grant of this round with its "
                                           "criteria, so they can no longer change.")))
    elif set_id is not None:
        allowed = {s.id for s in set_choices(dbsession, registry, rnd.programme, create=True)}
        chosen = dbsession.get(EvaluationCriteriaSet, set_id)
        if chosen is None or (chosen.programme_id is None and chosen.id not in allowed):
            problems.append(("criteria_set", _("Choose evaluation criteria from the list.")))
        elif chosen.programme_id is not None and chosen.programme_id != rnd.programme_id:
            problems.append(("criteria_set", _("These criteria belong to another programme.")))
        elif not chosen.published:
            problems.append(("criteria_set", _("These criteria are a draft: publish them before a round uses them.")))
    CriteriaRefused.refuse_if(problems)
    before = {"evaluation_criteria_id": rnd.evaluation_criteria_id}
    rnd.evaluation_criteria_id = set_id
    record_change(dbsession, rnd, "evaluation_criteria", before, {"evaluation_criteria_id": set_id}, user=user)
    dbsession.flush()


# -- changing a programme's set -----------------------------------------------------------------------------


def new_set(dbsession: Session, programme: Programme, title: str, *, user=None) -> EvaluationCriteriaSet:
    """A new draft set of ``programme``, the first version of a family of its own."""
    title = " ".join(str(title or "").split())
    if not title:
        raise CriteriaRefused([("title", _("Give the criteria a title."))])
    if len(title) > TITLE_MAX:
        raise CriteriaRefused([("title", too_long(TITLE_MAX))])
    return KIND.start(dbsession, EvaluationCriteriaSet(title=title, criteria=[], programme_id=programme.id,
                                                       version=1, status=DRAFT), user=user)


def save_criterion(dbsession: Session, criteria_set: EvaluationCriteriaSet, criterion_id: str | None, *,
                   titles: dict, hints: dict, languages, user=None) -> dict:
    """Add a criterion at the end of a draft set (``criterion_id`` None) or change one.  A
    title in the first of ``languages`` is needed now (the others before publishing)."""
    KIND.refuse_unless_draft(criteria_set)
    languages = list(languages)
    titles = {code: " ".join(str(titles.get(code) or "").split()) for code in languages}
    hints = {code: " ".join(str(hints.get(code) or "").split()) for code in languages}
    problems: list = []
    if not titles[languages[0]]:
        problems.append((f"title_{languages[0]}", _("Give the criterion a title in ${language}.",
                                                     mapping={"language": language_name(languages[0])})))
    for code in languages:
        if len(titles[code]) > TITLE_MAX:
            problems.append((f"title_{code}", too_long(TITLE_MAX)))
        if len(hints[code]) > HINT_MAX:
            problems.append((f"hint_{code}", too_long(HINT_MAX)))
    existing = next((c for c in criteria_set.criteria if c["id"] == criterion_id), None) if criterion_id else None
    if criterion_id and existing is None:
        problems.append((None, _("That criterion is no longer in the set.")))
    if existing is None and len(criteria_set.criteria) >= MAX_CRITERIA:
        problems.append((None, ngettext("A set has at most ${count} criterion.", "A set has at most ${count} criteria.",
                                         MAX_CRITERIA)))
    CriteriaRefused.refuse_if(problems)
    criterion = {"id": existing["id"] if existing else versioned.next_entry_id(criteria_set.criteria),
                 "title": titles[languages[0]],
                 "titles": {k: v for k, v in titles.items() if v}, "hints": {k: v for k, v in hints.items() if v}}
    # A new list, so the JSON column is seen to change.
    criteria = ([criterion if c["id"] == criterion["id"] else c for c in criteria_set.criteria]
                if existing else [*criteria_set.criteria, criterion])
    KIND.change(dbsession, criteria_set, "criteria", lambda: setattr(criteria_set, "criteria", criteria), user=user)
    return criterion


def remove_criterion(dbsession: Session, criteria_set: EvaluationCriteriaSet, criterion_id: str, *,
                     user=None) -> None:
    KIND.refuse_unless_draft(criteria_set)
    if not any(c["id"] == criterion_id for c in criteria_set.criteria):
        raise CriteriaRefused([(None, _("That criterion is no longer in the set."))])
    remaining = [c for c in criteria_set.criteria if c["id"] != criterion_id]
    KIND.change(dbsession, criteria_set, "criteria", lambda: setattr(criteria_set, "criteria", remaining), user=user)


def move_criterion(dbsession: Session, criteria_set: EvaluationCriteriaSet, criterion_id: str, step: int, *,
                   user=None) -> None:
    """Move a criterion one place up (``step`` -1) or down (+1): evaluators see them in order."""
    KIND.refuse_unless_draft(criteria_set)
    ids = [c["id"] for c in criteria_set.criteria]
    if criterion_id not in ids or step not in (-1, 1):
        raise CriteriaRefused([(None, _("That criterion is no longer in the set."))])
    reordered = versioned.moved(criteria_set.criteria, ids.index(criterion_id), step)
    if reordered is None:
        return  # already first (or last): nothing to record
    KIND.change(dbsession, criteria_set, "criteria", lambda: setattr(criteria_set, "criteria", reordered), user=user)


def publish(dbsession: Session, criteria_set: EvaluationCriteriaSet, *, languages, user=None,
            now: dt.datetime | None = None) -> EvaluationCriteriaSet:
    """Freeze a draft: from now on rounds may choose it and it never changes.  Refused
    without criteria, or with a criterion not titled in every language."""
    KIND.refuse_unless_draft(criteria_set)
    problems: list = []
    if not criteria_set.criteria:
        problems.append((None, _("Add at least one criterion before publishing.")))
    return KIND.publish(dbsession, criteria_set, problems + versioned.untitled(criteria_set.criteria, languages),
                        user=user, now=now)


def copy_set(dbsession: Session, criteria_set: EvaluationCriteriaSet, *, user=None) -> EvaluationCriteriaSet:
    """The next version of the set's family: a draft with the same title and criteria."""
    if criteria_set.programme_id is None:
        raise CriteriaRefused([(None, _("Only a programme's own criteria can be copied here."))])
    copy = EvaluationCriteriaSet(title=criteria_set.title, criteria=[dict(c) for c in criteria_set.criteria],
                                 programme_id=criteria_set.programme_id,
                                 family_id=criteria_set.family_id or criteria_set.id,
                                 version=KIND.next_version(dbsession, criteria_set), status=DRAFT)
    return KIND.copy(dbsession, criteria_set, copy, user=user)


# -- traversal: /programmes/{id}/evaluation-criteria/{id} -----------------------------------------------------


class CriteriaSetsContainer(versioned.ProgrammeRows):
    __name__ = "evaluation-criteria"
    model = EvaluationCriteriaSet


# -- pages ------------------------------------------------------------------------------------------------------

T = "grants.templates:evaluation/"


def languages_of(request, criteria_set: EvaluationCriteriaSet) -> list[str]:
    """The languages a set is written in (its programme's, the default first)."""
    return versioned.content_languages(request, criteria_set)


class NewSetSchema(FormSchema):
    title = colander.SchemaNode(
        colander.String(), title=_("Title of the criteria"), description=_("Like “Evaluation 2027”."),
        missing_msg=_("Give the criteria a title."),
        validator=colander.Length(max=TITLE_MAX, max_err=_("Enter 300 characters or fewer")),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))


def _criterion_form(request, criteria_set, criterion_id=""):
    schema = FormSchema()
    languages = languages_of(request, criteria_set)
    for position, code in enumerate(languages):
        schema.add(colander.SchemaNode(
            colander.String(), name=f"title_{code}", missing="",
            title=_("Title in ${language}", mapping={"language": language_name(code)}),
            description=None if position == 0 else _("Needed before the criteria are published."),
            widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "lang": code, "autocomplete": "off"})))
    for code in languages:
        schema.add(colander.SchemaNode(
            colander.String(), name=f"hint_{code}", missing="",
            title=_("Question for evaluators in ${language}", mapping={"language": language_name(code)}),
            widget=deform.widget.TextAreaWidget(rows=2, attributes={"dir": "auto", "lang": code})))
    schema.add(colander.SchemaNode(colander.String(), name="criterion", missing="", default=criterion_id,
                                   widget=deform.widget.HiddenWidget()))
    with_version(schema, criteria_set)
    button = _("Save the criterion") if criterion_id else _("Add the criterion")
    form = make_form(request, schema, "criterion", button)
    form.action = request.resource_url(criteria_set, "criterion")
    return form


def _criterion_values(criterion: dict, languages) -> dict:
    values = {"criterion": criterion["id"]}
    for code in languages:
        values[f"title_{code}"] = (criterion.get("titles") or {}).get(code, "")
        values[f"hint_{code}"] = (criterion.get("hints") or {}).get(code, "")
    return values


def _history(request, criteria_set) -> list[dict]:
    return versioned.history(request, criteria_set, {"created": _("created"), "criteria": _("changed the criteria"),
                                                     "published": _("published")})


def _set_page(request, criteria_set, form_html="", errors=(), editing_id=None) -> dict:
    db = request.dbsession
    locale = request.locale_name
    versions = KIND.versions(db, criteria_set)
    rows = [{"id": c["id"], "title": (c.get("titles") or {}).get(locale) or c["title"],
             "translated": locale in (c.get("titles") or {}), "hint": (c.get("hints") or {}).get(locale, "")}
            for c in criteria_set.criteria]
    return {"criteria_set": criteria_set, "programme": criteria_set.__parent__.__parent__, "criteria": rows,
            "form_html": form_html, "errors": list(errors), "editing_id": editing_id,
            "in_use": in_use(db, criteria_set), "versions": versions, "history": _history(request, criteria_set),
            "json_text": versioned.json_text}


@view_config(context=CriteriaSetsContainer, renderer=T + "criteria_sets.pt",
             permission=Permission.ProgrammesProgrammeManage)
def programme_criteria_sets(container, request):
    """The programme's evaluation criteria, every version, and a form to start new ones."""
    context = container.__parent__
    db = request.dbsession
    form = make_form(request, NewSetSchema(), "new-criteria", _("Start the criteria"))
    sets = sets_of(db, context)
    page = {"programme": context, "sets": sets, "errors": [], "in_use": {s.id for s in sets if in_use(db, s)},
            "default_title": set_title(request, default_set(db, request.registry, context))}
    if request.method != "POST":
        return {**page, "form_html": form.render()}
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return {**page, **form_failed(request, failure)}
    try:
        criteria_set = new_set(db, context, data["title"], user=request.user)
    except CriteriaRefused as refused:
        return {**page, **form_refused(request, form, refused.problems)}
    flash_done(request, _("Criteria started: add them one by one, then publish them."))
    return HTTPFound(location=request.resource_url(criteria_set))


@view_config(context=EvaluationCriteriaSet, renderer=T + "criteria_set.pt",
             permission=Permission.ProgrammesProgrammeManage)
def criteria_set_page(context, request):
    """A set: its criteria in order, the form to add one (while a draft), publish and copy."""
    form_html = _criterion_form(request, context).render() if context.status == DRAFT else ""
    return _set_page(request, context, form_html)


@view_config(context=EvaluationCriteriaSet, name="criterion", renderer=T + "criteria_set.pt",
             permission=Permission.ProgrammesProgrammeManage)
def criteria_set_criterion(context, request):
    """GET ``?criterion=<id>``: the form to change that criterion.  POST: add or save one."""
    languages = languages_of(request, context)
    criterion_id = (request.params.get("criterion") or "").strip()

    def differences(data):
        # What was typed beside what is stored now, language by language.
        stored = next((c for c in context.criteria if c["id"] == criterion_id), None)
        if stored is None:
            return [Difference(_("Criteria"), data.get(f"title_{languages[0]}", ""),
                               "; ".join(c["title"] for c in context.criteria))]
        return [Difference(_("Title in ${language}", mapping={"language": language_name(code)}),
                           data.get(f"title_{code}", ""), (stored.get("titles") or {}).get(code, ""))
                for code in languages] + [
            Difference(_("Question for evaluators in ${language}", mapping={"language": language_name(code)}),
                       data.get(f"hint_{code}", ""), (stored.get("hints") or {}).get(code, ""))
            for code in languages]

    def save(data):
        save_criterion(request.dbsession, context, criterion_id or None,
                       titles={c: data[f"title_{c}"] for c in languages},
                       hints={c: data[f"hint_{c}"] for c in languages}, languages=languages, user=request.user)

    return versioned.edit_entry(
        request, KIND, context, entry_id=criterion_id,
        existing=next((c for c in context.criteria if c["id"] == criterion_id), None),
        form=_criterion_form(request, context, criterion_id),
        values=lambda existing: _criterion_values(existing, languages),
        page=lambda form_html, errors, editing_id: _set_page(request, context, form_html, errors, editing_id),
        save=save, differences=differences, done=_("Saved the criterion."))


def _action(request, criteria_set, do, done):
    return versioned.action(request, KIND, criteria_set, do, done, lambda errors: _set_page(
        request, criteria_set, _criterion_form(request, criteria_set).render() if criteria_set.status == DRAFT else "",
        errors))


@view_config(context=EvaluationCriteriaSet, name="remove-criterion", request_method="POST",
             renderer=T + "criteria_set.pt", permission=Permission.ProgrammesProgrammeManage)
def criteria_set_remove(context, request):
    return _action(request, context, lambda: remove_criterion(
        request.dbsession, context, request.POST.get("criterion", ""), user=request.user), _("Removed the criterion."))


@view_config(context=EvaluationCriteriaSet, name="move-criterion", request_method="POST",
             renderer=T + "criteria_set.pt", permission=Permission.ProgrammesProgrammeManage)
def criteria_set_move(context, request):
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""), 0)
    return _action(request, context, lambda: move_criterion(
        request.dbsession, context, request.POST.get("criterion", ""), step, user=request.user),
        _("Moved the criterion."))


@view_config(context=EvaluationCriteriaSet, name="publish", request_method="POST", renderer=T + "criteria_set.pt",
             permission=Permission.ProgrammesProgrammeManage)
def criteria_set_publish(context, request):
    languages = languages_of(request, context)
    return _action(request, context, lambda: publish(request.dbsession, context, languages=languages,
                                                     user=request.user),
                   _("Published: rounds of the programme can now choose these criteria. They can no longer change."))


@view_config(context=EvaluationCriteriaSet, name="copy", request_method="POST", renderer=T + "criteria_set.pt",
             permission=Permission.ProgrammesProgrammeManage)
def criteria_set_copy(context, request):
    return _action(request, context, lambda: copy_set(request.dbsession, context, user=request.user),
                   _("Copied: this is the next version, a draft you can change."))


def includeme(config):
    config.scan(__name__)
