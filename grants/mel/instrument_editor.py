"""Survey instruments a programme makes in the browser.

Instruments were only defined in code (grants' TOML files, a plugin's
``config.add_survey_instrument``), each version immutable.  A programme's officer can now
start an instrument of its own (a draft with a code and a title), add its items — a code,
a scale of 2 to 11 points, and in every language the deployment offers the question and
one label per point — put them in order and publish it.  A published version never
changes (results uploaded for it are only ever read with it): rounds of the programme
choose it on their *Survey instruments* page from a list beside the code-defined ones,
and *Copy to a new version* starts the next version of the same code, a draft again.
Every step is in the audit of configuration, shown on the instrument's page::

    inst = new_instrument(db, programme, "belonging", "Belonging", user=officer)
    save_item(db, inst, None, code="belong", scale="3", texts={"en": "I belong here.", …},
              labels={"en": "No\\nSomewhat\\nYes", …}, languages=("en", "fr", "ar"), user=officer)
    publish(db, inst, languages=("en", "fr", "ar"), user=officer)
    copy_instrument(db, inst, user=officer)        # version 2, a draft

Items are stored as code-defined ones are (``text`` and ``labels`` in the first language,
the others under ``translations``), so uploads, templates and roll-ups read them alike.
"""
from __future__ import annotations

import datetime as dt
import json

import colander
import deform
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import multilingual, versioned
from grants.concurrency import Difference, editing, render_as_typed, with_version
from grants.forms import FormSchema, flash_done, form_failed, form_refused, make_form
from grants.i18n import _, language_name, ngettext
from grants.text import too_long
from grants.programmes.models import Programme
from grants.security import Permission

from .models import INSTRUMENT_DRAFT, INSTRUMENT_PUBLISHED, SurveyInstrument, SurveyUpload
from .surveys import (_CODE, MAX_SCALE, MIN_SCALE, SurveyRefused, _validate_items, item_labels, item_text,
                      other_plugins_codes)

TITLE_MAX = 300
TEXT_MAX = 1000
MAX_ITEMS = 60


def snapshot(instrument: SurveyInstrument) -> dict:
    """What the audit keeps of an instrument: plain JSON."""
    return {"code": instrument.code, "title": instrument.title, "version": instrument.version,
            "status": instrument.status, "items": [dict(i) for i in instrument.items],
            **({"titles": multilingual.texts(instrument, "title")} if instrument.translations else {})}


KIND = versioned.Kind(SurveyInstrument, SurveyRefused, snapshot,
                      frozen=_("This instrument version is published, so it never changes: copy it to make its next "
                               "version."),
                      family=lambda instrument: SurveyInstrument.code == instrument.code, errors_field="items")


# -- reading -----------------------------------------------------------------------------------------


def instruments_of(dbsession: Session, programme: Programme) -> list[SurveyInstrument]:
    """The programme's own instruments, each code's versions together."""
    return list(dbsession.scalars(select(SurveyInstrument).where(SurveyInstrument.programme_id == programme.id)
                                  .order_by(SurveyInstrument.code, SurveyInstrument.version)))


def instrument_choices(dbsession: Session, programme: Programme, registry=None) -> list[SurveyInstrument]:
    """What rounds of ``programme`` may use: the instruments made for the whole site but
    those of plugins it does not use, then its own published ones."""
    offered = SurveyInstrument.programme_id.is_(None)
    if registry is not None:
        offered &= SurveyInstrument.code.not_in(other_plugins_codes(registry, programme.plugins))
    return list(dbsession.scalars(
        select(SurveyInstrument).where(offered | ((SurveyInstrument.programme_id == programme.id)
                                                  & (SurveyInstrument.status == INSTRUMENT_PUBLISHED)))
        .order_by(SurveyInstrument.code, SurveyInstrument.version)))


def instrument_refusal(rnd, instrument: SurveyInstrument, registry=None):
    """Why ``rnd`` may not use ``instrument`` (a sentence), or None.  With ``registry``, a
    plugin's instrument is refused to a programme that does not use the plugin."""
    if instrument.programme_id is not None and instrument.programme_id != rnd.programme_id:
        return _("This instrument belongs to another programme.")
    if (instrument.programme_id is None and registry is not None
            and instrument.code in other_plugins_codes(registry, rnd.programme.plugins)):
        return _("This instrument is not offered to this programme.")
    if not instrument.published:
        return _("This instrument is a draft: publish it before a round uses it.")
    return None


def has_results(dbsession: Session, instrument: SurveyInstrument) -> bool:
    return dbsession.scalar(select(SurveyUpload.id).where(SurveyUpload.instrument_id == instrument.id).limit(1)) \
        is not None


# -- changing ----------------------------------------------------------------------------------------


def _refuse_unless_draft(dbsession: Session, instrument: SurveyInstrument) -> None:
    # Results read with a version freeze it even while a draft (uploads only reach
    # published ones, so this guards rows changed by hand).
    KIND.refuse_unless_draft(instrument, frozen=has_results(dbsession, instrument))


def new_instrument(dbsession: Session, programme: Programme, code: str, title, *, user=None) -> SurveyInstrument:
    """A new draft instrument of ``programme``, version 1 of a code no instrument has yet.
    ``title`` is ``{language: text}`` in the programme's languages (a plain string is the
    default language's); the default language's is needed."""
    code = str(code or "").strip()
    if isinstance(title, str):
        title = " ".join(title.split())
    titles, title_problems = multilingual.clean_texts(title, languages=multilingual.languages_of(programme),
                                                      field="title", limit=TITLE_MAX,
                                                      required=_("Give the instrument a title."))
    problems: list = []
    if not _CODE.match(code):
        problems.append(("code", _("Give the instrument a code of lower-case letters, digits, “_” or “-”, "
                                   "60 characters at most, like “resilience_belonging”.")))
    elif dbsession.scalar(select(SurveyInstrument.id).where(SurveyInstrument.code == code).limit(1)) is not None:
        problems.append(("code", _("An instrument already has the code “${code}”: choose another, or copy that "
                                   "instrument to make its next version.", mapping={"code": code})))
    SurveyRefused.refuse_if(problems + title_problems)
    instrument = SurveyInstrument(code=code, version=1, title="", items=[], programme_id=programme.id,
                                  status=INSTRUMENT_DRAFT)
    dbsession.add(instrument)  # in the session first, so that its programme's languages are found
    multilingual.set_texts(instrument, "title", titles)
    return KIND.start(dbsession, instrument, user=user)


def save_title(dbsession: Session, instrument: SurveyInstrument, title, *, user=None) -> None:
    """Change a draft's title (``{language: text}`` in its programme's languages)."""
    _refuse_unless_draft(dbsession, instrument)
    titles, problems = multilingual.clean_texts(title, languages=multilingual.languages_of(instrument),
                                                field="title", limit=TITLE_MAX,
                                                required=_("Give the instrument a title."))
    SurveyRefused.refuse_if(problems)
    KIND.change(dbsession, instrument, "title", lambda: multilingual.set_texts(instrument, "title", titles), user=user)


def _labels(value) -> list[str]:
    """Labels typed one per line (blank lines ignored)."""
    if isinstance(value, (list, tuple)):
        lines = value
    else:
        lines = str(value or "").splitlines()
    return [" ".join(str(line).split()) for line in lines if str(line).strip()]


def save_item(dbsession: Session, instrument: SurveyInstrument, item_code: str | None, *, code: str, scale,
              texts: dict, labels: dict, languages, user=None) -> dict:
    """Add an item at the end of a draft (``item_code`` None) or change the item
    ``item_code``.  The question and its labels (one per point, lowest first) are needed
    in the first of ``languages`` now, in the others before publishing."""
    _refuse_unless_draft(dbsession, instrument)
    languages = list(languages)
    first = languages[0]
    code = str(code or "").strip()
    texts = {lang: " ".join(str(texts.get(lang) or "").split()) for lang in languages}
    label_lists = {lang: _labels(labels.get(lang)) for lang in languages}
    problems: list = []
    existing = next((i for i in instrument.items if i["code"] == item_code), None) if item_code else None
    if item_code and existing is None:
        problems.append((None, _("That item is no longer in the instrument.")))
    if not _CODE.match(code):
        problems.append(("code", _("Give the item a code of lower-case letters, digits, “_” or “-”, like "
                                   "“belong”.")))
    elif any(i["code"] == code and i is not existing for i in instrument.items):
        problems.append(("code", _("Another item has the code “${code}”: each item needs its own.",
                                   mapping={"code": code})))
    try:
        points = int(str(scale or "").strip())
        if not MIN_SCALE <= points <= MAX_SCALE:
            raise ValueError
    except ValueError:
        problems.append(("scale", ngettext(
            "Give a scale of ${min} to ${count} point.", "Give a scale of ${min} to ${count} points.", MAX_SCALE,
            {"min": MIN_SCALE})))
        points = None
    if not texts[first]:
        problems.append((f"text_{first}", _("Write the question in ${language}.",
                                             mapping={"language": language_name(first)})))
    for lang in languages:
        if len(texts[lang]) > TEXT_MAX:
            problems.append((f"text_{lang}", too_long(TEXT_MAX)))
        given = label_lists[lang]
        if (lang == first or given) and points is not None and len(given) != points:
            problems.append((f"labels_{lang}", ngettext(
                "Give ${count} label in ${language}, one per line, from the lowest point to the highest.",
                "Give ${count} labels in ${language}, one per line, from the lowest point to the highest.",
                points, {"language": language_name(lang)})))
        if given and not texts[lang]:
            problems.append((f"text_{lang}", _("Write the question in ${language} too, or leave its labels empty.",
                                               mapping={"language": language_name(lang)})))
    if existing is None and len(instrument.items) >= MAX_ITEMS:
        problems.append((None, ngettext("An instrument has at most ${count} item.",
                                          "An instrument has at most ${count} items.", MAX_ITEMS)))
    SurveyRefused.refuse_if(problems)
    translations = {lang: {"text": texts[lang], **({"labels": label_lists[lang]} if label_lists[lang] else {})}
                    for lang in languages[1:] if texts[lang]}
    item = {"code": code, "text": texts[first], "scale": points, "labels": label_lists[first],
            **({"translations": translations} if translations else {})}
    items = [item if i is existing else i for i in instrument.items] if existing else [*instrument.items, item]
    _clean, item_problems = _validate_items(items)  # the checks uploads rely on
    SurveyRefused.refuse_if(item_problems)
    # A new list, so the JSON column is seen to change.
    KIND.change(dbsession, instrument, "items", lambda: setattr(instrument, "items", items), user=user)
    return item


def remove_item(dbsession: Session, instrument: SurveyInstrument, item_code: str, *, user=None) -> None:
    _refuse_unless_draft(dbsession, instrument)
    if not any(i["code"] == item_code for i in instrument.items):
        raise SurveyRefused([(None, _("That item is no longer in the instrument."))])
    remaining = [i for i in instrument.items if i["code"] != item_code]
    KIND.change(dbsession, instrument, "items", lambda: setattr(instrument, "items", remaining), user=user)


def move_item(dbsession: Session, instrument: SurveyInstrument, item_code: str, step: int, *, user=None) -> None:
    """Move an item one place up (``step`` -1) or down (+1)."""
    _refuse_unless_draft(dbsession, instrument)
    codes = [i["code"] for i in instrument.items]
    if item_code not in codes or step not in (-1, 1):
        raise SurveyRefused([(None, _("That item is no longer in the instrument."))])
    reordered = versioned.moved(instrument.items, codes.index(item_code), step)
    if reordered is None:
        return  # already first (or last): nothing to record
    KIND.change(dbsession, instrument, "items", lambda: setattr(instrument, "items", reordered), user=user)


def publish(dbsession: Session, instrument: SurveyInstrument, *, languages, user=None,
            now: dt.datetime | None = None) -> SurveyInstrument:
    """Freeze a draft for good.  Refused without items, or with an item whose question or
    labels are missing in one of ``languages``."""
    _refuse_unless_draft(dbsession, instrument)
    languages = list(languages)
    problems: list = []
    if not instrument.items:
        problems.append((None, _("Add at least one item before publishing.")))
    for position, item in enumerate(instrument.items, start=1):
        translations = item.get("translations") or {}
        missing = [language_name(lang) for lang in languages[1:]
                   if not all((translations.get(lang) or {}).get(part) for part in ("text", "labels"))]
        if missing:
            problems.append((None, _("Item ${position} has no question or labels in ${languages}.",
                                     mapping={"position": position, "languages": ", ".join(missing)})))
    return KIND.publish(dbsession, instrument, problems, user=user, now=now)


def copy_instrument(dbsession: Session, instrument: SurveyInstrument, *, user=None) -> SurveyInstrument:
    """The next version of the instrument's code: a draft with the same title and items."""
    if instrument.programme_id is None:
        raise SurveyRefused([(None, _("Only a programme's own instruments can be copied here."))])
    copy = SurveyInstrument(code=instrument.code, version=KIND.next_version(dbsession, instrument),
                            title=instrument.title, translations=json.loads(json.dumps(instrument.translations or {})),
                            items=json.loads(json.dumps(instrument.items)), programme_id=instrument.programme_id,
                            status=INSTRUMENT_DRAFT)
    return KIND.copy(dbsession, instrument, copy, user=user)


# -- traversal: /programmes/{id}/survey-instruments/{id} ---------------------------------------------


class InstrumentsContainer(versioned.ProgrammeRows):
    __name__ = "survey-instruments"
    model = SurveyInstrument


# -- pages -----------------------------------------------------------------------------------------------

T = "grants.templates:surveys/"


def languages_of(request, instrument: SurveyInstrument) -> list[str]:
    """The languages an instrument is written in (its programme's, the default first)."""
    return versioned.content_languages(request, instrument)


def _title_node(languages):
    # One input per programme language, each with its lang and dir; the service says
    # what is missing or too long, beside the input concerned.
    return multilingual.multilingual_node("title", _("Title of the instrument"), languages, max_length=TITLE_MAX)


def _new_form(request, programme):
    schema = FormSchema()
    schema.add(colander.SchemaNode(
        colander.String(), name="code", title=_("Code"), missing="",
        description=_("Lower-case letters, digits, “_” or “-”, like “belonging”. Every version keeps it."),
        widget=deform.widget.TextInputWidget(attributes={"dir": "ltr", "autocomplete": "off", "spellcheck": "false"})))
    schema.add(_title_node(multilingual.languages_of(programme)))
    form = make_form(request, schema, "new-instrument", _("Start the instrument"))
    multilingual.stable_ids(form, "title")
    return form


def _title_form(request, instrument):
    schema = FormSchema()
    schema.add(_title_node(languages_of(request, instrument)))
    with_version(schema, instrument)
    form = make_form(request, schema, "instrument-title", _("Save the title"))
    form.action = request.resource_url(instrument, "title")
    multilingual.stable_ids(form, "title")
    return form


def _title_fields(form, languages) -> dict:
    """Where the title form shows a service's problem with one language of the title."""
    return multilingual.problem_fields(form, languages)


def _item_form(request, instrument, item_code=""):
    schema = FormSchema()
    languages = languages_of(request, instrument)
    schema.add(colander.SchemaNode(
        colander.String(), name="code", title=_("Code of the item"), missing="",
        description=_("Like “belong”: the column uploads name it by."),
        widget=deform.widget.TextInputWidget(attributes={"dir": "ltr", "autocomplete": "off", "spellcheck": "false"})))
    schema.add(colander.SchemaNode(
        colander.String(), name="scale", title=_("Points on the scale"), missing="",
        description=_("From ${min} to ${max}.", mapping={"min": MIN_SCALE, "max": MAX_SCALE}),
        widget=deform.widget.TextInputWidget(attributes={"dir": "ltr", "inputmode": "numeric",
                                                         "autocomplete": "off"})))
    for position, lang in enumerate(languages):
        later = None if position == 0 else _("Needed before the instrument is published.")
        schema.add(colander.SchemaNode(
            colander.String(), name=f"text_{lang}", missing="", description=later,
            title=_("Question in ${language}", mapping={"language": language_name(lang)}),
            widget=deform.widget.TextAreaWidget(rows=2, attributes={"dir": "auto", "lang": lang})))
        schema.add(colander.SchemaNode(
            colander.String(), name=f"labels_{lang}", missing="",
            title=_("Labels in ${language}", mapping={"language": language_name(lang)}),
            description=_("One per line, from the lowest point to the highest."),
            widget=deform.widget.TextAreaWidget(rows=5, attributes={"dir": "auto", "lang": lang})))
    schema.add(colander.SchemaNode(colander.String(), name="item", missing="", default=item_code,
                                   widget=deform.widget.HiddenWidget()))
    with_version(schema, instrument)
    form = make_form(request, schema, "item", _("Save the item") if item_code else _("Add the item"))
    form.action = request.resource_url(instrument, "item")
    return form


def _item_values(item: dict, languages) -> dict:
    values = {"code": item["code"], "scale": str(item["scale"]), "item": item["code"]}
    translations = item.get("translations") or {}
    for position, lang in enumerate(languages):
        if position == 0:
            values[f"text_{lang}"], labels = item["text"], item["labels"]
        else:
            values[f"text_{lang}"] = (translations.get(lang) or {}).get("text", "")
            labels = (translations.get(lang) or {}).get("labels", [])
        values[f"labels_{lang}"] = "\n".join(labels)
    return values


def _history(request, instrument) -> list[dict]:
    return versioned.history(request, instrument, {"created": _("created"), "items": _("changed the items"),
                                                   "title": _("changed the title"), "published": _("published")})


def _instrument_page(request, instrument, form_html="", errors=(), editing_code=None, title_html=None) -> dict:
    db = request.dbsession
    versions = list(db.scalars(select(SurveyInstrument).where(SurveyInstrument.code == instrument.code,
                                                              SurveyInstrument.programme_id ==
                                                              instrument.programme_id)
                               .order_by(SurveyInstrument.version)))
    locale = request.locale_name
    rows = [{"code": i["code"], "text": item_text(i, locale), "labels": item_labels(i, locale), "scale": i["scale"]}
            for i in instrument.items]
    if title_html is None and instrument.status == INSTRUMENT_DRAFT:
        form = _title_form(request, instrument)
        title_html = form.render({"title": multilingual.as_form_value(instrument, "title",
                                                                      languages_of(request, instrument))})
    return {"instrument": instrument, "programme": instrument.__parent__.__parent__, "items": rows,
            "title_html": title_html or "",
            "form_html": form_html, "errors": list(errors), "editing_code": editing_code,
            "results": has_results(db, instrument), "versions": versions, "history": _history(request, instrument),
            "json_text": versioned.json_text}


@view_config(context=InstrumentsContainer, renderer=T + "programme_instruments.pt",
             permission=Permission.ProgrammesProgrammeManage)
def programme_instruments(container, request):
    """The programme's own instruments, every version, and a form to start one."""
    context = container.__parent__
    form = _new_form(request, context)
    page = {"programme": context, "instruments": instruments_of(request.dbsession, context), "errors": []}
    if request.method != "POST":
        return {**page, "form_html": form.render()}
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return {**page, **form_failed(request, failure)}
    try:
        instrument = new_instrument(request.dbsession, context, data["code"], data["title"], user=request.user)
    except SurveyRefused as refused:
        request.tm.doom()
        return {**page, **form_refused(request, form, refused.problems,
                                       _title_fields(form, multilingual.languages_of(context)))}
    flash_done(request, _("Instrument started: add its items, then publish it."))
    return HTTPFound(location=request.resource_url(instrument))


@view_config(context=SurveyInstrument, renderer=T + "programme_instrument.pt",
             permission=Permission.ProgrammesProgrammeManage)
def instrument_page(context, request):
    """An instrument version: its items, the item form (while a draft), publish and copy."""
    form_html = _item_form(request, context).render() if context.status == INSTRUMENT_DRAFT else ""
    return _instrument_page(request, context, form_html)


@view_config(context=SurveyInstrument, name="item", renderer=T + "programme_instrument.pt",
             permission=Permission.ProgrammesProgrammeManage)
def instrument_item(context, request):
    """GET ``?item=<code>``: the form to change that item.  POST: add or save one."""
    languages = languages_of(request, context)
    item_code = (request.params.get("item") or "").strip()

    def differences(data):
        stored = next((i for i in context.items if i["code"] == item_code), None)
        if stored is None:
            return [Difference(_("Items"), data.get("code", ""), "; ".join(i["code"] for i in context.items))]
        values = _item_values(stored, languages)
        return [Difference(_("Question in ${language}", mapping={"language": language_name(lang)}),
                           data.get(f"text_{lang}", ""), values[f"text_{lang}"]) for lang in languages]

    def save(data):
        save_item(request.dbsession, context, item_code or None, code=data["code"], scale=data["scale"],
                  texts={lang: data[f"text_{lang}"] for lang in languages},
                  labels={lang: data[f"labels_{lang}"] for lang in languages}, languages=languages,
                  user=request.user)

    return versioned.edit_entry(
        request, KIND, context, entry_id=item_code,
        existing=next((i for i in context.items if i["code"] == item_code), None),
        form=_item_form(request, context, item_code),
        values=lambda existing: _item_values(existing, languages),
        page=lambda form_html, errors, editing: _instrument_page(request, context, form_html, errors, editing),
        save=save, differences=differences, done=_("Saved the item."))


@view_config(context=SurveyInstrument, name="title", request_method="POST", renderer=T + "programme_instrument.pt",
             permission=Permission.ProgrammesProgrammeManage)
def instrument_title(context, request):
    """Change a draft's title, in each of its programme's languages."""
    languages = languages_of(request, context)
    form = _title_form(request, context)
    item_html = _item_form(request, context).render() if context.status == INSTRUMENT_DRAFT else ""
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return _instrument_page(request, context, item_html, **_title_failed(form_failed(request, failure)))
    typed = dict(form.cstruct)

    def differences():
        mine = data["title"] if isinstance(data["title"], dict) else {languages[0]: data["title"]}
        stored = multilingual.texts(context, "title")
        return [Difference(_("Title in ${language}", mapping={"language": language_name(code)}),
                           mine.get(code, ""), stored.get(code, "")) for code in languages]

    try:
        with editing(request, context, differences=differences,
                     form_html=lambda: render_as_typed(form, typed, version=context.row_version)):
            save_title(request.dbsession, context, data["title"], user=request.user)
    except SurveyRefused as refused:
        request.tm.doom()
        failed = form_refused(request, form, refused.problems, _title_fields(form, languages))
        if context.status != INSTRUMENT_DRAFT:
            request.response.status = 409  # published meanwhile
        return _instrument_page(request, context, item_html, **_title_failed(failed))
    flash_done(request, _("Saved the title."))
    return HTTPFound(location=request.resource_url(context))


def _title_failed(failed: dict) -> dict:
    """A refused title form (from form_failed) as the page's arguments."""
    return {"title_html": failed["form_html"], "errors": failed["errors"]}


def _action(request, instrument, do, done):
    return versioned.action(request, KIND, instrument, do, done, lambda errors: _instrument_page(
        request, instrument, _item_form(request, instrument).render() if instrument.status == INSTRUMENT_DRAFT else "",
        errors))


@view_config(context=SurveyInstrument, name="remove-item", request_method="POST",
             renderer=T + "programme_instrument.pt", permission=Permission.ProgrammesProgrammeManage)
def instrument_remove_item(context, request):
    return _action(request, context, lambda: remove_item(request.dbsession, context, request.POST.get("item", ""),
                                                         user=request.user), _("Removed the item."))


@view_config(context=SurveyInstrument, name="move-item", request_method="POST",
             renderer=T + "programme_instrument.pt", permission=Permission.ProgrammesProgrammeManage)
def instrument_move_item(context, request):
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""), 0)
    return _action(request, context, lambda: move_item(request.dbsession, context, request.POST.get("item", ""), step,
                                                       user=request.user), _("Moved the item."))


@view_config(context=SurveyInstrument, name="publish", request_method="POST",
             renderer=T + "programme_instrument.pt", permission=Permission.ProgrammesProgrammeManage)
def instrument_publish(context, request):
    languages = languages_of(request, context)
    return _action(request, context, lambda: publish(request.dbsession, context, languages=languages,
                                                     user=request.user),
                   _("Published: rounds of the programme can now use this instrument. It never changes again."))


@view_config(context=SurveyInstrument, name="copy", request_method="POST",
             renderer=T + "programme_instrument.pt", permission=Permission.ProgrammesProgrammeManage)
def instrument_copy(context, request):
    return _action(request, context, lambda: copy_instrument(request.dbsession, context, user=request.user),
                   _("Copied: this is the next version, a draft you can change."))


def includeme(config):
    config.scan(__name__)
