"""The workflow editor's pages.  Site administrators edit and move; programme officers
may look.  Each form is plain HTML (no script): every save comes back to the version's
page with the check's result and the diagram drawn again."""
from __future__ import annotations

import shlex

from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import exists, select

from grants.accounts.models import LocalRole
from grants.audit.services import changes_of, record_change
from grants.concurrency import ROW_VERSION, editing
from grants.forms import flash_done
from grants.i18n import _, count_figure, format_datetime, ngettext, site_zone, translate
from grants.lifecycle.services import (MigrationError, carry_out, default_state_map, in_round, plan_migration,
                                      preview_migration, versions_in_use)
from grants.workflow import Actor
from grants.workflow.diagram import to_svg

from . import services
from .models import RELEASED, WorkflowVersion


def _may_edit(request) -> bool:
    return bool(getattr(request.user, "is_admin", False))


def _require_view(request) -> None:
    """Administrators, and programme officers (who choose the variants their rounds run)."""
    user = request.user
    if user is None:
        raise HTTPForbidden()
    if user.is_admin:
        return
    officer = request.dbsession.scalar(select(exists().where(LocalRole.user_id == user.id,
                                                             LocalRole.role == "programme_officer")))
    if not officer:
        raise HTTPForbidden()


def _require_edit(request) -> None:
    if not _may_edit(request):
        raise HTTPForbidden()


def _errors(request, refused) -> list[tuple[str, str]]:
    request.response.status = 400
    return [(field or "editor", translate(request, reason)) for field, reason in refused.problems]


def _row(request) -> WorkflowVersion:
    row = request.dbsession.scalar(select(WorkflowVersion).where(
        WorkflowVersion.workflow_id == request.matchdict["workflow_id"],
        WorkflowVersion.version == int(request.matchdict["version"])))
    if row is None:
        raise HTTPNotFound()
    return row


def _version_url(request, row) -> str:
    return request.route_url("workflow_version", workflow_id=row.workflow_id, version=row.version)


# -- the list, and copying -----------------------------------------------------------------------


@view_config(route_name="workflow_editor", renderer="grants.templates:workflow_editor/list.pt",
             permission=NO_PERMISSION_REQUIRED)
def editor_list(request):
    _require_view(request)
    errors, typed = [], {}
    if request.method == "POST":
        _require_edit(request)
        typed = {k: request.POST.get(k, "") for k in ("source", "workflow_id", "title")}
        source_id, _sep, source_version = typed["source"].rpartition(":")
        try:
            row = services.copy_workflow(request.dbsession, request.registry, source_id,
                                         int(source_version) if source_version.isdigit() else 0,
                                         typed["workflow_id"], typed["title"], by=request.user)
        except services.WorkflowEditRefused as refused:
            errors = _errors(request, refused)
        else:
            flash_done(request, _("Copied into the draft “${id}” version 1.", mapping={"id": row.workflow_id}))
            return HTTPFound(location=_version_url(request, row))
    rows = request.dbsession.scalars(select(WorkflowVersion).order_by(WorkflowVersion.workflow_id,
                                                                      WorkflowVersion.version)).all()
    return {"sources": services.sources(request.registry), "rows": rows, "may_edit": _may_edit(request),
            "errors": errors, "typed": typed, "version_url": lambda row: _version_url(request, row)}


# -- one version -------------------------------------------------------------------------------


def _state_values(request, langs) -> dict:
    post = request.POST
    return {"id": post.get("id", ""), "titles": {lang: post.get(f"title-{lang}", "") for lang in langs},
            "public_titles": {lang: post.get(f"public-{lang}", "") for lang in langs},
            "final": post.get("final") == "yes", "means": post.getall("means"), "form": post.get("form", ""),
            "permissions": post.getall("permissions"), "like": post.get("like", "")}


def _step_values(request, langs) -> dict:
    post = request.POST
    return {"trigger": post.get("trigger", ""), "titles": {lang: post.get(f"title-{lang}", "") for lang in langs},
            "sources": post.getall("from"), "dest": post.get("to", ""), "permission": post.get("permission", ""),
            "guards": post.getall("guards"), "effects": post.getall("effects"), "form": post.get("form", ""),
            "comment_required": post.get("comment_required") == "yes"}


def _index(raw) -> int:
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 6 else -1


def _after_commit(request):
    def later(fn):
        request.tm.get().addAfterCommitHook(lambda success: success and fn())

    return later


def _apply(request, row, action: str, langs):
    """Carry out one POSTed change of a draft; returns the message to flash."""
    db, registry, user = request.dbsession, request.registry, request.user
    if action == "save_state":
        existing = request.POST.get("state") or None
        state_id = services.save_state(db, registry, row, _state_values(request, langs), state_id=existing, by=user)
        return _("Saved the state “${id}”.", mapping={"id": state_id})
    if action == "remove_state":
        state_id = request.POST.get("state", "")
        services.remove_state(db, registry, row, state_id, by=user)
        return _("Removed the state “${id}”.", mapping={"id": state_id})
    if action == "save_step":
        raw = request.POST.get("step", "")
        index = services.save_transition(db, registry, row, _step_values(request, langs),
                                         index=_index(raw) if raw else None, by=user)
        return _("Saved the step “${id}”.", mapping={"id": row.data["transitions"][index]["trigger"]})
    if action == "remove_step":
        services.remove_transition(db, registry, row, _index(request.POST.get("step", "")), by=user)
        return _("Removed the step.")
    if action == "release":
        services.release(db, registry, row, by=user, after_commit=_after_commit(request))
        return _("Released version ${version}: rounds may now choose it.", mapping={"version": row.version})
    raise services.WorkflowEditRefused([(None, _("Choose what to do with the buttons on the page."))])


@view_config(route_name="workflow_version", renderer="grants.templates:workflow_editor/version.pt",
             permission=NO_PERMISSION_REQUIRED)
def version_page(request):
    _require_view(request)
    row = _row(request)
    langs = services.languages(request.registry)
    errors = []
    if request.method == "POST":
        _require_edit(request)
        action = request.POST.get("action", "")
        if action == "new_version":  # reads the released version; changes nothing in it
            new = services.new_version(request.dbsession, request.registry, row, by=request.user)
            flash_done(request, _("This is the draft of version ${version}.", mapping={"version": new.version}))
            return HTTPFound(location=_version_url(request, new))
        try:
            services.refuse_released(row)  # before the version check: a released one is never edited
            with editing(request, row, differences=lambda: [], form_html=lambda: None):
                message = _apply(request, row, action, langs)
        except services.WorkflowEditRefused as refused:
            errors = _errors(request, refused)
        else:
            flash_done(request, message)
            return HTTPFound(location=_version_url(request, row))
    return _page(request, row, langs, errors)


def _page(request, row, langs, errors):
    found = services.check(request.registry, row)
    data = row.data
    state_id = request.params.get("state")
    step = _index(request.params.get("step", ""))
    editing_state = data["states"].get(state_id) if state_id else None
    editing_step = data["transitions"][step] if 0 <= step < len(data["transitions"]) else None
    posted = request.POST if request.method == "POST" else {}
    state_form = {"id": state_id or "", "titles": {}, "public_titles": {}, "final": False, "means": [], "form": "",
                  "permissions": [], "like": ""}
    if editing_state:
        state_form.update(titles=editing_state.get("titles") or {"en": editing_state["title"]},
                          public_titles=editing_state.get("public_titles") or {},
                          final=editing_state.get("final", False), means=editing_state.get("means", []),
                          form=editing_state.get("form", ""),
                          permissions=[f"{p}@{r}" for p, roles in editing_state["permissions"].items() for r in roles])
    step_form = {"trigger": "", "titles": {}, "sources": [], "dest": "", "permission": "", "guards": [], "effects": [],
                 "form": "", "comment_required": False}
    if editing_step:
        step_form.update(trigger=editing_step["trigger"],
                         titles=editing_step.get("titles") or {"en": editing_step["title"]},
                         sources=editing_step["from"], dest=editing_step["to"], permission=editing_step["permission"],
                         guards=editing_step.get("guards", []), effects=editing_step.get("effects", []),
                         form=editing_step.get("form", ""), comment_required=editing_step.get("comment_required"))
    if posted.get("action") == "save_state":  # refused: the form again, as typed
        state_form = _state_values(request, langs)
        state_id = posted.get("state") or None
        editing_state = data["states"].get(state_id) if state_id else None
    if posted.get("action") == "save_step":
        step_form = _step_values(request, langs)
        step = _index(posted.get("step", ""))
        editing_step = data["transitions"][step] if 0 <= step < len(data["transitions"]) else None
    managed = sorted({p for s in data["states"].values() for p in s["permissions"]})
    # A workflow belongs to no round: its changes are in the site's zone, named in the reader's language.
    audit = [{"when": format_datetime(c.at, site_zone(request)), "who": c.user.name if c.user else "—", "what": c.what,
              "before": c.before, "after": c.after} for c in reversed(changes_of(request.dbsession, row))]
    versions = services.versions_of(request.dbsession, row.workflow_id)
    return {
        "row": row, "data": data, "langs": langs, "errors": errors, "may_edit": _may_edit(request),
        "check": found, "svg": to_svg(found.definition, standalone=False) if found.definition else "",
        "choices": services.choices(request.registry, row.family, data),
        "state_id": state_id if editing_state else None, "editing_state": editing_state,
        "step": step if editing_step else None, "editing_step": editing_step, "posted": posted,
        "state_form": state_form, "step_form": step_form, "managed": managed,
        "audit": audit, "versions": versions, "version_url": lambda r: _version_url(request, r),
        "row_version_field": ROW_VERSION,
    }


# -- moving in-flight objects -------------------------------------------------------------------


def _object_label(obj) -> str:
    return getattr(obj, "title", None) or f"{obj.object_type} {obj.id}"


def _sources(request, row):
    """(workflow id, version) pairs of ``row``'s family that objects are on, but ``row``."""
    return [k for k in versions_in_use(request.dbsession, row.family) if k != (row.workflow_id, row.version)]


#: The most objects the page moves in its one request, one transaction: a few seconds of
#: work at most, and locks held no longer.  More than this, and the page gives the command
#: that moves them in batches, each committed on its own (a run killed half-way leaves every
#: object moved with its history row or untouched, and the same command finishes it).
MOVE_IN_REQUEST = 2000

#: How many objects of each state the page names; the others are counted.
MOVE_SHOWN = 20


def _move_command(plan, round_id) -> str:
    """The ``grants workflow migrate`` command that moves what ``plan`` shows, batch by batch."""
    parts = ["grants", "workflow", "migrate", "INI", plan.workflow_id, "--from", str(plan.from_version),
             "--to", f"{plan.to_workflow}:{plan.to_version}"]
    for source, move in plan.moves.items():
        parts += ["--map", f"{source}={move.target}"]
    if round_id is not None:
        parts += ["--round", str(round_id)]
    return shlex.join(parts + ["--batch", "500"])


@view_config(route_name="workflow_move", renderer="grants.templates:workflow_editor/move.pt",
             permission=NO_PERMISSION_REQUIRED)
def move_page(request):
    _require_edit(request)
    from grants.programmes.models import Round

    row = _row(request)
    errors = []
    if row.status != RELEASED:
        raise HTTPNotFound()
    registry = request.registry.workflows
    new = registry.get(row.workflow_id, row.version).definition
    sources = _sources(request, row)
    wanted = request.params.get("from", "")
    source = next((k for k in sources if f"{k[0]}:{k[1]}" == wanted), sources[0] if sources else None)
    rounds = request.dbsession.scalars(select(Round).order_by(Round.id)).all()
    round_id = _index(request.params.get("round", ""))
    chosen_round = next((r for r in rounds if r.id == round_id), None)
    plan, state_map, command = None, {}, None
    if source is not None:
        old = registry.get(*source).definition if source in registry else None
        state_map = default_state_map(old, new) if old is not None else {}
        for key, value in request.params.items():
            if key.startswith("map-") and value:
                if value not in new.states:
                    errors.append((key, translate(request, _("Choose a state of the new version from the list."))))
                else:
                    state_map[key[4:]] = value
        state_map = {k: v for k, v in state_map.items() if old is None or k in old.states}
        in_round_id = chosen_round.id if chosen_round is not None and row.family == "application" else None
        try:
            plan = preview_migration(request.dbsession, registry, source[0], source[1], row.version, state_map,
                                     to_workflow=row.workflow_id, round_id=in_round_id, first=MOVE_SHOWN)
        except MigrationError as exc:
            errors.append(("map", translate(request, _("These objects cannot move like that: ${problem}",
                                                      mapping={"problem": str(exc)}))))
        if plan is not None and plan.total > MOVE_IN_REQUEST and not plan.unmapped:
            command = _move_command(plan, in_round_id)
    if request.method == "POST" and request.POST.get("action") == "move" and plan is not None and not errors:
        if request.POST.get("confirm") != "yes":
            errors.append(("confirm", translate(request, _("Tick the box to confirm the move: nothing was moved."))))
        elif plan.unmapped:
            errors.append(("map", translate(request, _("Choose where the objects in ${states} go.",
                                                      mapping={"states": ", ".join(plan.unmapped)}))))
        elif plan.total > MOVE_IN_REQUEST:
            errors.append(("move-in-batches", translate(request, _too_many(plan.total))))
        else:
            where = in_round(in_round_id) if in_round_id is not None else None
            # Loaded now, in this transaction; one more than the limit tells if more came since the count.
            moving = plan_migration(request.dbsession, registry, source[0], source[1], row.version, state_map,
                                    to_workflow=row.workflow_id, where=where, limit=MOVE_IN_REQUEST + 1)
            total = sum(moving.counts.values())
            if total > MOVE_IN_REQUEST:
                command = _move_command(plan, in_round_id)
                errors.append(("move-in-batches", translate(request, _too_many(total))))
            elif moving.unmapped:  # a state that had no object when counted, a moment ago
                errors.append(("map", translate(request, _("Choose where the objects in ${states} go.",
                                                          mapping={"states": ", ".join(moving.unmapped)}))))
            else:
                moves = {s: t for s, (t, _objects) in moving.moves.items()}
                counts = carry_out(request.dbsession, registry, moving, actor=Actor(id=f"user:{request.user.id}"))
                record_change(request.dbsession, row, "moved objects",
                              {"workflow": source[0], "version": source[1],
                               "round": chosen_round.id if chosen_round is not None else None},
                              {"map": moves, "counts": counts}, user=request.user)
                flash_done(request, ngettext("Moved ${count} object to version ${version}.",
                                             "Moved ${count} objects to version ${version}.",
                                             sum(counts.values()), mapping={"version": row.version}))
                return HTTPFound(location=_version_url(request, row))
    if errors:
        request.response.status = 400
    return {"row": row, "new": new, "sources": sources, "source": source, "rounds": rounds,
            "chosen_round": chosen_round, "plan": plan, "errors": errors, "object_label": _object_label,
            "version_url": _version_url(request, row), "command": command, "limit": MOVE_IN_REQUEST}


def _too_many(total: int):
    return ngettext("${count} object is to move: more than this page moves at once (${limit}), so nothing was "
                    "moved. Move them with the command below, in batches.",
                    "${count} objects are to move: more than this page moves at once (${limit}), so nothing was "
                    "moved. Move them with the command below, in batches.",
                    total, mapping={"limit": count_figure(MOVE_IN_REQUEST)})
