"""Pages for survey instruments, uploads and triangulation evidence.

* Round ``@@instruments`` (officers): the instruments the round's grantees use, in which
  waves; attach, change the waves, detach; load the standard instruments.
* Award ``@@surveys`` (whoever reads the award's MEL data; uploads by whoever edits its
  framework): each instrument and wave with its upload, an upload form for each, the
  problems of a refused upload line by line, and the results per version — never merged.
* Award ``@@evidence``: stories and testimonials, each labelled not representative and
  shown with its consent record; a form to add one.

The forms with files are written out in the templates (deform's form has no file
upload that survives a failed submit); like every form here they post a CSRF token, show
the error summary and keep what was typed.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from grants import multilingual
from grants.awards.models import Award
from grants.forms import flash_done
from grants.i18n import _, format_datetime, format_percent_figure, ngettext, translate, zone_of
from grants.programmes.models import Round
from grants.security import Permission

from grants.audit.services import record_change

from . import evidence as ev
from . import surveys
from .instrument_editor import instrument_choices
from .models import WAVES, Evidence, SurveyInstrument, SurveyUpload, TocElement

T = "grants.templates:surveys/"


def _errors(request, problems, ids: dict, default: str) -> list[tuple[str, str]]:
    """A refusal's problems as error-summary entries (input id, message)."""
    return [(ids.get(name, default), translate(request, reason)) for name, reason in problems]


def _by_field(errors) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for oid, message in errors:
        out.setdefault(oid, []).append(message)
    return out


def _int(value) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _when(award):
    """A moment of the award's surveys (an upload, a story's record) in its round's zone,
    the zone named in the reader's language, as every page of the round shows times."""
    zone = zone_of(award)
    return lambda moment: "" if moment is None else format_datetime(moment, zone)


def _percent(request):
    """A share (0–1) as the reader's language writes a percentage: "64.0%", "64,0 %"."""
    return lambda share: format_percent_figure((share * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
                                               request.locale_name)


def _award_crumbs(request, award) -> dict:
    rnd = award.round
    return {"award": award, "rnd": rnd, "programme": rnd.programme,
            "organisation": award.application.organisation}


# -- the round's instruments ------------------------------------------------------------------------


def _instruments_page(context, request, *, errors=(), typed=None) -> dict:
    db = request.dbsession
    attached = surveys.round_instruments(db, context)
    uploads: dict[int, int] = {}
    for upload in db.scalars(select(SurveyUpload).join(Award, Award.id == SurveyUpload.award_id)
                             .where(Award.round_id == context.id)):
        uploads[upload.instrument_id] = uploads.get(upload.instrument_id, 0) + 1
    typed = typed or {}
    return {
        "rnd": context,
        "programme": context.programme,
        "attached": attached,
        "attached_ids": {ri.instrument_id for ri in attached},
        "uploads": uploads,
        # Code-defined instruments and the programme's own published ones (grants.mel.instrument_editor).
        "versions": instrument_choices(db, context.programme, request.registry),
        "own_url": request.resource_url(context.programme, "survey-instruments") if request.has_permission(
            Permission.ProgrammesProgrammeManage, context.programme) else None,
        "waves": WAVES,
        "wave_titles": surveys.WAVE_TITLES,
        "typed_instrument": typed.get("instrument", ""),
        "typed_waves": typed.get("waves", ("baseline", "post")),
        "errors": list(errors),
        "field_errors": _by_field(errors),
        "item_text": lambda item: surveys.item_text(item, request.locale_name),
        "item_labels": lambda item: surveys.item_labels(item, request.locale_name),
        "standard_count": len(surveys.standard_instrument_files(request.registry, context.programme.plugins)),
    }


def _attached_snapshot(db, rnd) -> list[dict]:
    """The round's instruments for the audit: plain JSON."""
    return [{"instrument_id": ri.instrument_id, "code": ri.instrument.code, "version": ri.instrument.version,
             "waves": list(ri.waves)} for ri in surveys.round_instruments(db, rnd)]


def _title(request, instrument) -> str:
    """An instrument's title in a message (plain text): the reader's language, else the
    default one followed by "(not translated)"."""
    return multilingual.option_text(request, instrument, "title")


@view_config(context=Round, name="instruments", renderer=T + "instruments.pt",
             permission=Permission.ProgrammesRoundManage)
def round_instruments(context, request):
    """GET lists the round's instruments; POST ``action`` = attach (instrument, waves),
    detach (instrument) or load (the standard instruments)."""
    if request.method != "POST":
        return _instruments_page(context, request)
    db = request.dbsession
    action = request.POST.get("action", "")
    before = _attached_snapshot(db, context)
    if action == "load":
        try:
            loaded = surveys.load_standard_instruments(db, registry=request.registry,
                                                       plugins=context.programme.plugins)
        except surveys.SurveyRefused as refused:  # a programme's own instrument took a standard one's code
            request.tm.doom()
            request.response.status = 409
            return _instruments_page(context, request, errors=[("load", translate(request, r))
                                                               for r in refused.reasons])
        flash_done(request, _("The standard instruments are in the list: ${titles}.",
                              mapping={"titles": ", ".join(f"{i.title} ({i.version})" for i in loaded)}))
        return HTTPFound(location=request.resource_url(context, "instruments"))
    instrument = db.get(SurveyInstrument, _int(request.POST.get("instrument")) or 0)
    if action == "detach":
        if instrument is None:
            raise HTTPNotFound()
        try:
            surveys.detach_instrument(db, context, instrument)
        except surveys.SurveyRefused as refused:
            request.session.flash("; ".join(translate(request, r) for r in refused.reasons), "error")
        else:
            record_change(db, context, "survey_instruments", before, _attached_snapshot(db, context),
                          user=request.user)
            flash_done(request, _("The round no longer uses “${title}” version ${version}. Results already "
                                  "uploaded are kept.", mapping={"title": _title(request, instrument),
                                                                 "version": instrument.version}))
        return HTTPFound(location=request.resource_url(context, "instruments"))
    if action != "attach":
        raise HTTPNotFound()
    waves = request.POST.getall("waves")
    typed = {"instrument": request.POST.get("instrument", ""), "waves": waves}
    ids = {"instrument": "attach-instrument", "waves": "attach-waves-0"}
    if instrument is None:
        request.response.status = 400
        errors = [("attach-instrument", translate(request, _("Choose an instrument from the list.")))]
        return _instruments_page(context, request, errors=errors, typed=typed)
    try:
        surveys.attach_instrument(db, context, instrument, waves, request.registry)
    except surveys.SurveyRefused as refused:
        request.tm.doom()
        request.response.status = 400
        return _instruments_page(context, request, errors=_errors(request, refused.problems, ids, "attach-instrument"),
                                 typed=typed)
    record_change(db, context, "survey_instruments", before, _attached_snapshot(db, context), user=request.user)
    flash_done(request, _("The round's grantees use “${title}” version ${version}.",
                          mapping={"title": _title(request, instrument), "version": instrument.version}))
    return HTTPFound(location=request.resource_url(context, "instruments"))


# -- an award's surveys -----------------------------------------------------------------------------


def _form_id(instrument, wave) -> str:
    return f"upload-{instrument.id}-{wave}"


def _surveys_page(context, request, *, errors=(), failed_form: str | None = None) -> dict:
    from grants.accounts.models import User

    db = request.dbsession
    attached = surveys.round_instruments(db, context.round)
    uploads = {(u.instrument_id, u.wave): u for u in surveys.uploads_of(db, context)}
    rows = []
    for ri in attached:
        waves = []
        for wave in ri.waves:
            upload = uploads.get((ri.instrument_id, wave))
            waves.append({"wave": wave, "upload": upload, "form_id": _form_id(ri.instrument, wave),
                          "uploaded_by": None if upload is None or upload.uploaded_by_id is None
                          else db.get(User, upload.uploaded_by_id)})
        rows.append({"instrument": ri.instrument, "waves": waves,
                     "template_url": request.resource_url(context, "survey-template",
                                                          query={"instrument": ri.instrument_id})})
    attached_ids = {ri.instrument_id for ri in attached}
    return {
        **_award_crumbs(request, context),
        "rows": rows,
        "results": surveys.award_results(db, context, locale=request.locale_name),
        "attached_ids": attached_ids,
        "can_upload": request.has_permission(Permission.MelFrameworkEdit, context),
        "wave_titles": surveys.WAVE_TITLES,
        "errors": list(errors),
        "failed_form": failed_form,
        "field_errors": _by_field(errors),
        "when": _when(context),
        "percent": _percent(request),
        "file_url": lambda upload: request.resource_url(context, "survey-file", query={"upload": upload.id}),
        "dimension_titles": surveys.DIMENSION_TITLES,
        "item_text": lambda item: surveys.item_text(item, request.locale_name),
    }


@view_config(context=Award, name="surveys", renderer=T + "surveys.pt", permission=Permission.MelDataView)
def award_surveys(context, request):
    """GET shows the award's instruments, uploads and results; POST uploads one CSV
    (``instrument``, ``wave``, ``file``) for whoever may edit the award's framework."""
    if request.method != "POST":
        return _surveys_page(context, request)
    if not request.has_permission(Permission.MelFrameworkEdit, context):
        raise HTTPForbidden()
    db = request.dbsession
    instrument = db.get(SurveyInstrument, _int(request.POST.get("instrument")) or 0)
    wave = request.POST.get("wave", "")
    if instrument is None or wave not in WAVES:
        raise HTTPNotFound()
    form_id = _form_id(instrument, wave)
    file_id = f"{form_id}-file"
    upload = request.POST.get("file")
    if upload is None or not getattr(upload, "filename", None):
        request.response.status = 400
        return _surveys_page(context, request, failed_form=form_id, errors=[
            (file_id, translate(request, _("Choose the CSV file with the ${wave} results to upload.",
                                           mapping={"wave": surveys.WAVE_TITLES[wave]})))])
    from grants.files import FileRefused, read_upload

    try:
        saved = surveys.upload_survey_results(db, request.registry, context, instrument, wave,
                                              read_upload(upload, request.registry.settings),
                                              filename=upload.filename, user=request.user)
    except (surveys.SurveyRefused, FileRefused) as refused:
        request.tm.doom()
        request.response.status = 400
        return _surveys_page(context, request, failed_form=form_id,
                             errors=_errors(request, refused.problems, {}, file_id))
    flash_done(request, ngettext("Uploaded the ${wave} results of “${title}” version ${version}: ${count} respondent.",
                                   "Uploaded the ${wave} results of “${title}” version ${version}: ${count} respondents.",
                                   saved.respondents, mapping={"wave": surveys.WAVE_TITLES[wave],
                                                               "title": _title(request, instrument),
                                                               "version": instrument.version}))
    return HTTPFound(location=request.resource_url(context, "surveys", anchor=f"version-{instrument.id}"))


@view_config(context=Award, name="survey-template", permission=Permission.MelDataView)
def survey_template(context, request):
    """An empty CSV for one of the round's instruments, to fill in."""
    instrument = request.dbsession.get(SurveyInstrument, _int(request.params.get("instrument")) or 0)
    if instrument is None or surveys.attachment(request.dbsession, context.round, instrument) is None:
        raise HTTPNotFound()
    from grants.files.views import content_disposition

    response = Response(surveys.csv_template(instrument), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = content_disposition(
        f"{instrument.code}-v{instrument.version}.csv")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@view_config(context=Award, name="survey-file", permission=Permission.MelDataView)
def survey_file(context, request):
    """The CSV an upload was made from."""
    from grants.files.models import StoredFile
    from grants.files.views import file_response

    upload = request.dbsession.get(SurveyUpload, _int(request.params.get("upload")) or 0)
    if upload is None or upload.award_id != context.id or upload.file_id is None:
        raise HTTPNotFound()
    return file_response(request, request.dbsession.get(StoredFile, upload.file_id))


# -- an award's evidence ----------------------------------------------------------------------------------

EVIDENCE_IDS = {
    "kind": "evidence-kind", "title": "evidence-title", "text": "evidence-text", "toc_element": "evidence-toc_element",
    "file": "evidence-file", "consent_given": "evidence-consent_given", "consent_method": "evidence-consent_method-0",
    "consent_date": "evidence-consent_date-day", "consent_file": "evidence-consent_file",
}

DATE_MESSAGES = {
    "missing": _("Enter the date consent was given, with a day, month and year."),
    "day": _("Enter the day consent was given as a number from 1 to 31."),
    "month": _("Enter the month consent was given as a number from 1 to 12 or its name, like 10 or October."),
    "year": _("Enter the year consent was given with 4 digits, like 2019."),
    "real": _("Enter a real date for the consent, like 30 10 2019."),
}


def _evidence_page(context, request, *, errors=(), typed=None) -> dict:
    from grants.accounts.models import User
    from grants.files.models import StoredFile

    db = request.dbsession
    items = ev.evidence_of(db, context)
    elements = {e.id: e for e in db.scalars(select(TocElement).where(TocElement.award_id == context.id))}
    file_ids = {i for item in items for i in (item.file_id, item.consent_file_id) if i is not None}
    files = {f.id: f for f in db.scalars(select(StoredFile).where(StoredFile.id.in_(file_ids)))} if file_ids else {}
    people = {u.id: u for u in db.scalars(select(User).where(User.id.in_({i.created_by_id for i in items
                                                                          if i.created_by_id})))}
    return {
        **_award_crumbs(request, context),
        "items": items,
        "elements": elements,
        "files": files,
        "people": people,
        "outcomes": ev.outcome_elements(db, context),
        "kind_titles": ev.KIND_TITLES,
        "consent_methods": ev.CONSENT_METHODS,
        "level_title": _level_title,
        "can_add": request.has_permission(Permission.MelFrameworkEdit, context),
        "typed": typed or {},
        "errors": list(errors),
        "field_errors": _by_field(errors),
        "when": _when(context),
        "file_url": lambda item, part: request.resource_url(context, "evidence-file",
                                                            query={"evidence": item.id, "part": part}),
    }


def _level_title(kind: str):
    titles = {"short_term_outcomes": _("Short-term outcome"), "medium_term_outcomes": _("Medium-term outcome"),
              "impact": _("Impact")}
    return titles.get(kind) or kind.replace("_", " ").capitalize()


@view_config(context=Award, name="evidence", renderer=T + "evidence.pt", permission=Permission.MelDataView)
def award_evidence(context, request):
    """GET lists the award's evidence; POST adds one item (for whoever may edit the
    award's framework)."""
    if request.method != "POST":
        return _evidence_page(context, request)
    if not request.has_permission(Permission.MelFrameworkEdit, context):
        raise HTTPForbidden()
    from grants.files import FileRefused, read_upload, store
    from grants.incubation.forms import parse_date

    post = request.POST
    typed = {name: post.get(name, "") for name in ("kind", "title", "text", "toc_element", "consent_method",
                                                    "consent_date-day", "consent_date-month", "consent_date-year")}
    typed["consent_given"] = post.get("consent_given") == "yes"
    typed["sensitive"] = post.get("sensitive") == "yes"
    errors: list[tuple[str, str]] = []
    try:
        consent_date = parse_date({part: post.get(f"consent_date-{part}", "") for part in ("day", "month", "year")},
                                  DATE_MESSAGES)
    except ValueError as exc:
        consent_date = None
        errors.append((EVIDENCE_IDS["consent_date"], translate(request, exc.args[0])))
    stored = {}
    for name in ("file", "consent_file"):
        upload = post.get(name)
        if upload is None or not getattr(upload, "filename", None):
            continue
        try:
            stored[name] = store(request.dbsession, request.registry.settings, filename=upload.filename,
                                 data=read_upload(upload, request.registry.settings), uploaded_by=request.user)
        except FileRefused as refused:
            errors.extend((EVIDENCE_IDS[name], translate(request, r)) for r in refused.reasons)
    element = post.get("toc_element", "")
    try:
        item = ev.add_evidence(request.dbsession, context, kind=typed["kind"], title=typed["title"],
                               text=typed["text"], toc_element=_int(element) if element else None,
                               file=stored.get("file"), consent_given=typed["consent_given"],
                               consent_method=typed["consent_method"], consent_date=consent_date,
                               consent_file=stored.get("consent_file"), sensitive=typed["sensitive"],
                               user=request.user)
    except ev.EvidenceRefused as refused:
        problems = [(n, r) for n, r in refused.problems if not (n == "consent_date" and any(
            oid == EVIDENCE_IDS["consent_date"] for oid, _m in errors))]
        errors.extend(_errors(request, problems, EVIDENCE_IDS, "evidence-title"))
        item = None
    if errors:
        request.tm.doom()
        request.response.status = 400
        order = list(EVIDENCE_IDS.values())
        errors.sort(key=lambda e: order.index(e[0]) if e[0] in order else len(order))
        if stored:
            errors.append(("evidence-file", translate(request, _("Choose the files again: they are kept only when "
                                                                 "the evidence is added."))))
        return _evidence_page(context, request, errors=errors, typed=typed)
    flash_done(request, _("Evidence added: “${title}”. It is shown as an individual account, never as "
                          "representative.", mapping={"title": item.title}))
    return HTTPFound(location=request.resource_url(context, "evidence", anchor=f"evidence-{item.id}"))


@view_config(context=Award, name="evidence-file", permission=Permission.MelDataView)
def evidence_file(context, request):
    """An evidence item's file (``part=file``) or its signed consent (``part=consent``)."""
    from grants.files.models import StoredFile
    from grants.files.views import file_response

    item = request.dbsession.get(Evidence, _int(request.params.get("evidence")) or 0)
    if item is None or item.award_id != context.id:
        raise HTTPNotFound()
    file_id = {"file": item.file_id, "consent": item.consent_file_id}.get(request.params.get("part", ""))
    if file_id is None:
        raise HTTPNotFound()
    return file_response(request, request.dbsession.get(StoredFile, file_id))


def includeme(config):
    config.scan(__name__)

