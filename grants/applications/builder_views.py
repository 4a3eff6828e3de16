"""The form builder's pages, for the officers of a programme (and admins).

``/programmes/<id>/forms``                 the programme's forms and versions; create; import a file
``/programmes/<id>/forms/<key@n>``         a draft's editor (or a published version, read only)
``/programmes/<id>/forms/<key@n>/preview`` each section as an applicant sees it (``?lang=ar``)
``/programmes/<id>/forms/<key@n>/export``  the version as a JSON file

The editor is one server-rendered form (no script): every button saves what is typed
and then adds, removes or moves a section, a question or a document.  Its fields are
named by their place in the content (``s.0.q.1.label.ar``); choices and a table's
columns are lines ("code = label").  The form carries the draft's row version, so a
second officer saving an older copy gets the 409 page with both versions.
"""
from __future__ import annotations

import re

import deform
from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPNotFound
from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories
from pyramid.renderers import get_renderer, render, render_to_response
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy.exc import IntegrityError

from grants.audit.changes import EMPTY, ReadableChange
from grants.audit.services import changes_of
from grants.concurrency import CHANGED_FIRST, Difference, abandon_changes, current_version, editing
from grants.forms import field_errors, flash_done, make_form
from grants.i18n import _, deployment_languages, format_datetime, language_tag, text_direction, translate, zone_of
from grants.multilingual import languages_of
from grants.programmes.models import Programme
from grants.security import Permission
from grants.text import has_control_characters
from grants.workflow import Conflict

from . import builder
from .builder import KIND_LABELS, KINDS, BuilderRefused
from .builder_models import DRAFT
from .formdefs import partial

T = "grants.templates:applications/"
ACTIONS = ("save", "publish", "add_section", "remove_section", "up_section", "down_section", "add_question",
           "remove_question", "up_question", "down_question", "add_document", "remove_document")


def _languages(programme) -> list[str]:
    """The languages a form of ``programme`` is written in: the programme's content
    languages, its default first (grants.multilingual)."""
    return languages_of(programme)


def _version_or_404(request, programme, version_id) -> BuiltFormVersion:
    row = builder.find_version(request.dbsession, version_id)
    if row is None or row.form.programme_id != programme.id:
        raise HTTPNotFound()
    return row


def _where_id(where: str) -> str:
    return "field-" + "".join(c if c.isalnum() else "-" for c in (where or "form"))


def editor_name(where: str) -> str:
    """The editor's field for a place :func:`builder.check_content` names
    ("sections[0].questions[1].choices[2].label.ar" is the field "s.0.q.1.choices.ar")."""
    name = re.sub(r"sections\[(\d+)\]", r"s.\1", where or "")
    name = re.sub(r"questions\[(\d+)\]", r"q.\1", name)
    name = re.sub(r"documents\[(\d+)\]", r"d.\1", name)
    name = re.sub(r"choices\[\d+\]\.code$", "choices", name)
    name = re.sub(r"choices\[\d+\]\.label", "choices", name)
    name = re.sub(r"columns\[\d+\]\.label", "column_labels", name)
    name = re.sub(r"columns\[\d+\]\.\w+$", "columns", name)
    return name


def _editor_problems(request, problems, languages) -> list[tuple[str, str]]:
    """(input id, message) for the editor's error summary: each links to its field (a
    text written in no language, to its first language's input)."""
    out = []
    for where, reason in problems:
        name = editor_name(where)
        if name.endswith((".title", ".label", ".choices", ".column_labels")) or name == "title":
            name = f"{name}.{languages[0]}" if languages else name
        out.append((_where_id(name), translate(request, reason)))
    return out


def _problems(request, problems) -> list[tuple[str, str]]:
    return [(_where_id(where), f"{where}: {translate(request, reason)}" if where else translate(request, reason))
            for where, reason in problems]


def _lost_race(request) -> Conflict:
    """Two officers made the same key, or the same next draft, at the same moment: the
    second is told, as for any other change someone else made first (a 409 page)."""
    abandon_changes(request)
    return Conflict(CHANGED_FIRST)


# -- the list ------------------------------------------------------------------------------------------


@view_config(context=Programme, name="forms", renderer=T + "builder_list.pt",
             permission=Permission.ProgrammesProgrammeManage)
def forms_page(context, request):
    if request.subpath:
        # One view answers below /forms (traversal ends at the programme): each page its template.
        result = version_page(context, request)
        if not isinstance(result, dict):
            return result
        template = "builder_preview.pt" if request.subpath[1:] == ("preview",) else "builder_edit.pt"
        return render_to_response(T + template, result, request=request, response=request.response)
    page = {"programme": context, "errors": [], "typed": {}, "form_languages": _languages(context),
            "language_names": deployment_languages(request),
            "kind_labels": KIND_LABELS}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "create":
                page["typed"] = dict(request.POST)
                title = {code: request.POST.get(f"title.{code}", "") for code in _languages(context)}
                version = builder.create_form(request.dbsession, context, key=request.POST.get("key", ""),
                                              stage=request.POST.get("stage", ""), title=title,
                                              languages=_languages(context), user=request.user)
            elif action == "import":
                upload = request.POST.get("file")
                if upload is None or not getattr(upload, "file", None):
                    raise BuilderRefused([("file", _("Choose the JSON file of a form to import."))])
                data = upload.file.read(2_000_001)
                if len(data) > 2_000_000:
                    raise BuilderRefused([("file", _("Choose a file of 2 MB or less."))])
                version = builder.import_file(request.dbsession, context, data, user=request.user)
            else:
                raise HTTPBadRequest()
        except IntegrityError:
            raise _lost_race(request) from None
        except BuilderRefused as refused:
            abandon_changes(request)  # nothing is stored (and the page reads what is)
            request.response.status = 400
            page["errors"] = _problems(request, refused.problems)
            page["failed"] = action
        else:
            flash_done(request, _("Made the draft ${version}.", mapping={"version": version.version_id}))
            return HTTPFound(location=request.resource_url(context, "forms", version.version_id))
    page["forms"] = builder.forms_of_programme(request.dbsession, context)
    page["titles"] = {f.id: builder.LocalText(f.versions[-1].content.get("title") or {}, _languages(context))
                      for f in page["forms"]}
    return page


# -- one version ----------------------------------------------------------------------------------------


def version_page(programme, request):
    version = _version_or_404(request, programme, request.subpath[0])
    rest = request.subpath[1:]
    if rest == ("preview",):
        return preview_page(programme, request, version)
    if rest == ("export",):
        response = Response(builder.export_version(version), content_type="application/json", charset="utf-8")
        response.content_disposition = f'attachment; filename="{version.form.key}-{version.number}.json"'
        return response
    if rest:
        raise HTTPNotFound()
    if request.method == "POST":
        if request.POST.get("action") == "copy":
            try:
                copy = builder.copy_to_draft(request.dbsession, version, user=request.user)
            except IntegrityError:
                raise _lost_race(request) from None
            except BuilderRefused as refused:
                request.response.status = 409
                return _editor(request, programme, version, errors=_problems(request, refused.problems))
            flash_done(request, _("Made the draft ${version}.", mapping={"version": copy.version_id}))
            return HTTPFound(location=request.resource_url(programme, "forms", copy.version_id))
        return _save(request, programme, version)
    return _editor(request, programme, version)


def _editor(request, programme, version, *, content=None, typed=None, errors=()):
    content = content if content is not None else version.content
    # A draft is written in the programme's languages as they are now (one added since
    # the draft began gets its inputs); a published version keeps its own.
    languages = _languages(programme) if version.status == DRAFT else (content.get("languages")
                                                                        or _languages(programme))
    return {"changes": form_changes(request, version), "editor_macros": get_renderer(T + "builder_editor.pt").implementation().macros,
            "programme": programme, "version": version, "content": content,
            "values": typed if typed is not None else flatten(content), "form_languages": languages,
            "language_names": deployment_languages(request), "kinds": KINDS, "kind_labels": KIND_LABELS,
            "editable": version.status == DRAFT, "errors": list(errors),
            "error_ids": {field for field, _m in errors}, "row_version": current_version(version),
            "versions": version.form.versions, "field_id": _where_id, "rtl": {
                code: text_direction(code) == "rtl" for code in languages},
            "language_tag": language_tag}


def _save(request, programme, version):
    if version.status != DRAFT:
        request.response.status = 409
        return _editor(request, programme, version, errors=_problems(request, [(None, _(
            "This version is published and never changes: copy it to a new draft."))]))
    languages = _languages(programme)
    content, problems = from_post(request.POST, languages)
    action, *where = (request.POST.get("action") or "save").split(".")
    if action not in ACTIONS:
        raise HTTPBadRequest()
    if problems:
        request.response.status = 400
        return _editor(request, programme, version, content=content, typed=dict(request.POST),
                       errors=_editor_problems(request, problems, languages))
    try:
        content = apply_action(content, action, [int(n) for n in where if n.isdigit()],
                               request.POST.get(f"s.{where[0]}.new_kind") if where else None)
    except (IndexError, ValueError):
        raise HTTPBadRequest() from None
    try:
        with editing(request, version, differences=lambda: _differences(request, version, content),
                     form_html=lambda: _typed_editor(request, programme, version, content)):
            builder.save_draft(request.dbsession, version, content, user=request.user)
            if action == "publish":
                builder.publish(request.dbsession, version, user=request.user)
    except BuilderRefused as refused:
        abandon_changes(request)  # nothing is stored; the page carries the version as it is stored
        request.response.status = 400
        return _editor(request, programme, version, content=content, typed=flatten(content),
                       errors=_editor_problems(request, refused.problems, languages))
    if action == "publish":
        flash_done(request, _("Published ${version}: rounds of the programme can now choose it.",
                              mapping={"version": version.version_id}))
    else:
        flash_done(request, _("Saved the draft."))
    anchor = f"s-{where[0]}" if where and action not in ("remove_section",) else None
    return HTTPFound(location=request.resource_url(programme, "forms", version.version_id, anchor=anchor))


def _typed_editor(request, programme, version, typed_content) -> str:
    """The editor holding what was typed, drawn from the version saved now (for the 409
    page, called after the rollback): sending it again keeps what was typed."""
    values = _editor(request, programme, version, content=typed_content, typed=flatten(typed_content))
    return render(T + "builder_editor.pt", values, request=request)


def _differences(request, version, typed_content) -> list[Difference]:
    """Every field of the draft that differs between what this officer sent and what is
    saved now (read after the rollback: the other officer's version)."""
    mine, theirs = flatten(typed_content), flatten(version.content)
    return [Difference(name, mine.get(name, ""), theirs.get(name, "")) for name in dict.fromkeys([*mine, *theirs])
            if mine.get(name, "") != theirs.get(name, "")]


# -- between the content and the editor's fields ----------------------------------------------------------


def _lines(pairs) -> str:
    return "\n".join(f"{code} = {label}" for code, label in pairs)


def form_changes(request, version) -> list[ReadableChange]:
    """The version's history, newest first, as the shared history table shows it: a saved
    draft is one row per field it changed, named by its section and question ("budget ›
    lines › label › ar"), with the text before and after."""
    rows = []
    zone = zone_of(version.form.programme)  # the programme's rounds' zone, as its other pages
    for change in reversed(changes_of(request.dbsession, version)):
        when = format_datetime(change.at, zone)
        who = change.user.name if change.user is not None else "—"
        if change.what == "draft":
            for field, before, after in content_changes(change.before, change.after):
                rows.append(ReadableChange(when, who, field, before or EMPTY, after or EMPTY, change))
        elif change.what == "status":
            rows.append(ReadableChange(when, who, translate(request, _("Status")), translate(request, _("Draft")),
                                       translate(request, _("Published")), change))
        else:  # the version began: started, copied or imported
            after = change.after or {}
            if after.get("copied_from"):
                began = _("Copied from ${version}", mapping={"version": after["copied_from"]})
            elif after.get("imported"):
                began = _("Imported from a file")
            else:
                began = _("Started the form")
            rows.append(ReadableChange(when, who, translate(request, _("Version")), EMPTY,
                                       f"{after.get('version', version.version_id)}: {translate(request, began)}",
                                       change))
    return rows


def content_changes(before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """What one save changed, field by field: (field, text before, text after).  Fields are
    named by section and question names, not positions, so moving a question is one
    "order" row, not a change of every field after it."""
    old, new = _named_fields(before or {}), _named_fields(after or {})
    rows = [(field, old.get(field, ""), new.get(field, "")) for field in sorted(set(old) | set(new))
            if old.get(field, "") != new.get(field, "")]
    old_order, new_order = _order(before or {}), _order(after or {})
    if old_order != new_order and set(old_order) == set(new_order):
        rows.append(("order", ", ".join(old_order), ", ".join(new_order)))
    return rows


def _named_fields(content: dict) -> dict[str, str]:
    sections = content.get("sections") or []
    named = {}
    for key, value in flatten(content).items():
        parts = key.split(".")
        if parts[0] != "s":
            named[key] = value
            continue
        section = sections[int(parts[1])]
        name, rest = [section.get("name") or parts[1]], parts[2:]
        if rest and rest[0] in ("q", "d"):
            item = (section.get("questions" if rest[0] == "q" else "documents") or [])[int(rest[1])]
            name.append(item.get("name") or item.get("kind") or rest[1])
            rest = rest[2:]
        named[" › ".join(name + rest)] = value
    return named


def _order(content: dict) -> list[str]:
    """Sections, and the questions and documents of each, in order."""
    out = []
    for section in content.get("sections") or []:
        out.append(section.get("name", ""))
        out += [f"{section.get('name', '')} › {q.get('name', '')}" for q in section.get("questions") or []]
        out += [f"{section.get('name', '')} › {d.get('kind', '')}" for d in section.get("documents") or []]
    return out


def flatten(content: dict) -> dict[str, str]:
    """The editor's fields for ``content``, as text."""
    languages = content.get("languages") or []
    flat = {"fallback": "on" if content.get("fallback") else "",
            "amount_question": content.get("amount_question") or "",
            "title_question": content.get("title_question") or ""}
    for code in languages:
        flat[f"title.{code}"] = (content.get("title") or {}).get(code, "")
    for i, sec in enumerate(content.get("sections") or []):
        flat[f"s.{i}.name"] = sec.get("name", "")
        for code in languages:
            flat[f"s.{i}.title.{code}"] = (sec.get("title") or {}).get(code, "")
        for j, doc in enumerate(sec.get("documents") or []):
            flat[f"s.{i}.d.{j}.kind"] = doc.get("kind", "")
            flat[f"s.{i}.d.{j}.required"] = "on" if doc.get("required", True) else ""
            flat[f"s.{i}.d.{j}.identifying"] = "on" if doc.get("identifying") else ""
            for code in languages:
                flat[f"s.{i}.d.{j}.title.{code}"] = (doc.get("title") or {}).get(code, "")
        for k, q in enumerate(sec.get("questions") or []):
            p = f"s.{i}.q.{k}"
            flat[f"{p}.name"], flat[f"{p}.kind"] = q.get("name", ""), q.get("kind", "")
            flat[f"{p}.required"] = "on" if q.get("required", True) else ""
            for limit in ("max_length", "min", "max", "rows", "max_rows"):
                flat[f"{p}.{limit}"] = "" if q.get(limit) is None else str(q[limit])
            flat[f"{p}.total"] = q.get("total") or ""
            flat[f"{p}.columns"] = _lines((c.get("name", ""), c.get("kind", "")) for c in q.get("columns") or [])
            condition = q.get("condition") or {}
            flat[f"{p}.condition_question"] = condition.get("question", "")
            flat[f"{p}.condition_value"] = condition.get("value", "")
            for code in languages:
                flat[f"{p}.label.{code}"] = (q.get("label") or {}).get(code, "")
                flat[f"{p}.help.{code}"] = (q.get("help") or {}).get(code, "")
                flat[f"{p}.choices.{code}"] = _lines((c.get("code", ""), (c.get("label") or {}).get(code, ""))
                                                     for c in q.get("choices") or [])
                flat[f"{p}.column_labels.{code}"] = _lines((c.get("name", ""), (c.get("label") or {}).get(code, ""))
                                                           for c in q.get("columns") or [])
    return flat


def _pairs(text: str, where: str, problems: list) -> list[tuple[str, str]]:
    pairs = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        code, equals, label = line.partition("=")
        if not equals:
            problems.append((where, _("Line ${line}: write it as code = label.", mapping={"line": n})))
            continue
        pairs.append((code.strip(), label.strip()))
    return pairs


def from_post(post, languages) -> tuple[dict, list]:
    """The content the editor's fields describe, and what is wrong with what was typed
    (a limit that is not a whole number, a line that is not ``code = label``)."""
    problems: list = []

    def get(name):
        value = post.get(name, "")
        if not isinstance(value, str):
            return ""
        if has_control_characters(value):
            problems.append((name, _("Remove the invisible control characters from this text: "
                                     "they cannot be stored.")))
            return ""
        return value.strip()

    def texts(prefix):
        return {code: get(f"{prefix}.{code}") for code in languages if get(f"{prefix}.{code}")}

    def number(name):
        raw = get(name)
        if not raw:
            return None
        from grants.programmes.forms import normalise_digits

        raw = normalise_digits(raw)
        if not raw.isdigit() or len(raw) > 9:
            problems.append((name, _("Enter a whole number, like 3")))
            return None
        return int(raw)

    content = {"format": builder.FORMAT, "languages": list(languages), "fallback": bool(get("fallback")),
               "title": texts("title"), "amount_question": get("amount_question"),
               "title_question": get("title_question"), "sections": []}
    i = 0
    while f"s.{i}.name" in post:
        sec = {"name": get(f"s.{i}.name"), "title": texts(f"s.{i}.title"), "questions": [], "documents": []}
        j = 0
        while f"s.{i}.d.{j}.kind" in post:
            sec["documents"].append({"kind": get(f"s.{i}.d.{j}.kind"), "title": texts(f"s.{i}.d.{j}.title"),
                                     "required": bool(get(f"s.{i}.d.{j}.required")),
                                     "identifying": bool(get(f"s.{i}.d.{j}.identifying"))})
            j += 1
        k = 0
        while f"s.{i}.q.{k}.name" in post:
            p = f"s.{i}.q.{k}"
            q = {"name": get(f"{p}.name"), "kind": get(f"{p}.kind"), "label": texts(f"{p}.label"),
                 "help": texts(f"{p}.help"), "required": bool(get(f"{p}.required"))}
            for limit in ("max_length", "min", "max", "rows", "max_rows"):
                value = number(f"{p}.{limit}")
                if value is not None:
                    q[limit] = value
            if q["kind"] in builder.CHOICE_KINDS:
                choices: dict[str, dict] = {}
                for code in languages:
                    for choice, label in _pairs(get(f"{p}.choices.{code}"), f"{p}.choices.{code}", problems):
                        choices.setdefault(choice, {})
                        if label:
                            choices[choice][code] = label
                q["choices"] = [{"code": code, "label": labels} for code, labels in choices.items()]
            if q["kind"] == "table":
                columns = [{"name": name, "kind": kind, "label": {}} for name, kind in
                           _pairs(get(f"{p}.columns"), f"{p}.columns", problems)]
                for code in languages:
                    for name, label in _pairs(get(f"{p}.column_labels.{code}"), f"{p}.column_labels.{code}",
                                              problems):
                        for column in columns:
                            if column["name"] == name and label:
                                column["label"][code] = label
                q["columns"] = columns
                if get(f"{p}.total"):
                    q["total"] = get(f"{p}.total")
            if get(f"{p}.condition_question"):
                q["condition"] = {"question": get(f"{p}.condition_question"), "value": get(f"{p}.condition_value")}
            sec["questions"].append(q)
            k += 1
        content["sections"].append(sec)
        i += 1
    return content, problems


def _free_name(prefix: str, taken) -> str:
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def apply_action(content: dict, action: str, where: list[int], new_kind: str | None = None) -> dict:
    """``content`` after one of the editor's buttons (IndexError for a place that is not there)."""
    sections = content["sections"]
    if action == "add_section":
        sections.append(builder.new_section(_free_name("section_", {s["name"] for s in sections})))
    elif action in ("remove_section", "up_section", "down_section"):
        i = where[0]
        sections[i]  # noqa: B018 - there, or IndexError
        if action == "remove_section":
            del sections[i]
        else:
            _move(sections, i, -1 if action == "up_section" else 1)
    elif action == "add_question":
        taken = {q["name"] for _i, _s, q in builder.questions_in_order(content)}
        kind = new_kind if new_kind in KINDS else "short_text"
        question = builder.new_question(_free_name("question_", taken), kind)
        if kind == "table":
            question.update(columns=[{"name": "item", "kind": "short_text", "label": {}},
                                     {"name": "cost", "kind": "money", "label": {}}], total="cost",
                            rows=builder.DEFAULT_ROWS)
        sections[where[0]]["questions"].append(question)
    elif action in ("remove_question", "up_question", "down_question"):
        questions = sections[where[0]]["questions"]
        questions[where[1]]  # noqa: B018
        if action == "remove_question":
            del questions[where[1]]
        else:
            _move(questions, where[1], -1 if action == "up_question" else 1)
    elif action == "add_document":
        taken = {d["kind"] for s in sections for d in s["documents"]}
        sections[where[0]]["documents"].append(builder.new_document(_free_name("document_", taken)))
    elif action == "remove_document":
        documents = sections[where[0]]["documents"]
        del documents[where[1]]
    return content


def _move(items: list, i: int, step: int) -> None:
    j = i + step
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]


# -- the preview -------------------------------------------------------------------------------------------


def _speak(request, code: str) -> None:
    """Draw this page in ``code`` (the preview's ``?lang=``), whatever the visitor chose."""
    dirs = request.registry.queryUtility(ITranslationDirectories, default=[])
    request.locale_name = code
    request.localizer = make_localizer(code, dirs)
    request.text_direction = text_direction(code)
    request.language_tag = language_tag(code)


def _preview_country() -> str | None:
    from grants import regions

    return next(iter(sorted(regions.COUNTRIES_WITH_REGIONS)), None)


def preview_page(programme, request, version):
    content = version.content
    problems = builder.check_content(content)
    languages = content.get("languages") or _languages(programme)
    lang = request.params.get("lang")
    if lang in deployment_languages(request):
        _speak(request, lang)
    page = {"programme": programme, "version": version, "form_languages": languages,
            "language_names": deployment_languages(request), "problems": _problems(request, problems),
            "form": None, "section": None, "form_html": None, "errors": [], "checked": False}
    if problems:
        return page  # a draft that cannot be compiled yet: what is missing is listed
    form = builder.compile_form(content, version.version_id)
    names = [s.name for s in form.sections]
    name = request.params.get("section") or names[0]
    if name not in names:
        raise HTTPNotFound()
    section = form.section(name)
    page.update(form=form, section=section, position=names.index(name) + 1, total=len(names))
    if section.has_questions:
        bind = {"currency": programme.currency, "country": request.params.get("country") or _preview_country(),
                "locale": request.locale_name, "application": None}
        schema = section.schema_factory()
        if request.method == "POST" and "later" in request.POST:
            schema = partial(schema)
        deform_form = make_form(request, schema, "section", _("Save and continue"), button_name="continue",
                                bind=bind)
        deform_form.buttons = (
            deform.Button("continue", translate(request, _("Save and continue")), css_class="btn-primary"),
            deform.Button("later", translate(request, _("Save and come back later")),
                          css_class="btn-outline-secondary"),
        )
        if request.method == "POST":
            # The answers are checked as an applicant's would be, and kept nowhere.
            page["checked"] = True
            try:
                deform_form.validate(list(request.POST.items()))
                page["form_html"] = deform_form.serialize()  # what was typed, as accepted
                page["valid"] = True
            except deform.ValidationFailure as failure:
                request.response.status = 400
                page["errors"] = field_errors(request, failure.field)
                page["form_html"] = failure.render()
        if page["form_html"] is None:
            page["form_html"] = deform_form.render()
    return page
