"""Editing workflow variants in the browser: copying an installed workflow into a draft,
changing its states and steps, checking it as `grants workflow check` does, releasing it
as an immutable version that the running processes load, and starting the next version.

Every function takes the SQLAlchemy session first and the Pyramid registry (its
``workflows``, ``settings`` and ``database``), flushes but never commits, and records
every change in the audit of configuration (``grants.audit``).
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants.audit.services import record_change
from grants.i18n import SOURCE_LANGUAGE, _, deployment_languages, localize, ngettext
from grants.workflow import Definition, DefinitionError, ProblemsRefused, WorkflowConfigurationError, lint
from grants.workflow.definition import ID_PATTERN, definition_from_data
from grants.workflow.labels import domain_of, stored_label

from .models import DRAFT, RELEASED, WorkflowVersion

log = logging.getLogger(__name__)


class WorkflowEditRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` are (field, reason) pairs."""


def _workflows(registry):
    return getattr(registry, "workflows", registry)


def languages(registry) -> list[str]:
    """The languages titles are typed in: the source language first, then the others."""
    others = [code for code in deployment_languages(registry) if code != SOURCE_LANGUAGE]
    return [SOURCE_LANGUAGE, *others]


# -- between definitions and stored data ------------------------------------------------------


def _translator(registry):
    """Titles of an installed workflow in every language, as its catalogs give them."""
    dirs = registry.queryUtility(ITranslationDirectories, default=[]) if hasattr(registry, "queryUtility") else []
    localizers = {lang: make_localizer(lang, dirs) for lang in languages(registry)}

    def titles(text) -> dict[str, str]:
        return {lang: localize(localizer, text) for lang, localizer in localizers.items()}

    return titles


def definition_to_data(registry, d: Definition) -> dict[str, Any]:
    """``d`` as the data a stored version keeps: the TOML structure, titles per language."""
    titles = _translator(registry)
    states = {}
    for state in d.states.values():
        states[state.id] = {
            "title": str(state.title), "titles": titles(state.title),
            "public": str(state.public_title), "public_titles": titles(state.public_title),
            "permissions": {p: sorted(roles) for p, roles in sorted(state.permissions.items())},
            "final": state.final, "means": sorted(state.means),
            **({"form": state.form} if state.form else {}),
        }
    transitions = []
    for t in d.transitions:
        transitions.append({
            "trigger": t.trigger, "title": str(t.title), "titles": titles(t.title),
            "from": list(t.sources), "to": t.dest, "permission": t.permission,
            "guards": list(t.guards), "effects": list(t.effects), "comment_required": t.comment_required,
            **({"form": t.form} if t.form else {}), **({"at": t.at} if t.at else {}),
            **({"destructive": True} if t.destructive else {}),
        })
    return {"id": d.id, "version": d.version, "title": str(d.title), "titles": titles(d.title),
            "initial": d.initial, "variant_of": d.family, "states": states, "transitions": transitions}


def _plain(data: dict) -> dict:
    """``data`` without the per-language titles: what ``definition_from_data`` reads."""
    plain = {k: v for k, v in data.items() if k != "titles"}
    plain["states"] = {sid: {k: v for k, v in s.items() if k not in ("titles", "public_titles")}
                       for sid, s in data["states"].items()}
    plain["transitions"] = [{k: v for k, v in t.items() if k != "titles"} for t in data["transitions"]]
    return plain


def to_definition(row: WorkflowVersion, data: dict | None = None) -> Definition:
    """The definition a stored version runs, its titles translated from the stored ones.
    Raises DefinitionError."""
    data = row.data if data is None else data
    source = f"{row.workflow_id} v{row.version} (edited in the browser)"
    d = definition_from_data({**_plain(data), "id": row.workflow_id, "version": row.version,
                              "variant_of": row.family}, source)
    domain = domain_of(row.workflow_id, row.version)
    states = {}
    for sid, state in d.states.items():
        raw = data["states"][sid]
        states[sid] = dataclasses.replace(
            state, title=stored_label(state.title, domain, raw.get("titles", {})),
            public_title=stored_label(state.public_title, domain, raw.get("public_titles", {})))
    transitions = tuple(
        dataclasses.replace(t, title=stored_label(t.title, domain, raw.get("titles", {})))
        for t, raw in zip(d.transitions, data["transitions"]))
    return dataclasses.replace(d, title=stored_label(d.title, domain, data.get("titles", {})), states=states,
                               transitions=transitions, origin=row.origin)


# -- what can be chosen ---------------------------------------------------------------------


@dataclass
class Choices:
    """What a state or step may name: what is installed, never typed."""

    permissions: list[str]
    roles: list[str]
    guards: list[str]
    effects: list[str]
    forms: list[str]
    meanings: list[str]


def choices(registry, family: str, data: dict | None = None) -> Choices:
    wfs = _workflows(registry)
    guards, effects, forms, meanings = set(), set(), set(wfs._forms), set()
    for wf in wfs:
        d = wf.definition
        forms.update(s.form for s in d.states.values() if s.form)
        forms.update(t.form for t in d.transitions if t.form)
        guards.update(g for t in d.transitions for g in t.guards)
        effects.update(e for t in d.transitions for e in t.effects)
        if d.family == family:
            meanings.update(d.meanings)
    for state in (data or {}).get("states", {}).values():
        meanings.update(state.get("means", ()))
    return Choices(sorted(wfs.permissions), sorted(wfs.roles), sorted(guards), sorted(effects), sorted(forms),
                   sorted(meanings))


def sources(registry) -> list[Definition]:
    """Every workflow that can be copied: installed ones and released stored versions."""
    return [wf.definition for wf in _workflows(registry)]


# -- checking -------------------------------------------------------------------------------


@dataclass
class Check:
    definition: Definition | None
    problems: list[tuple[str, str]]  # (level, text), as `grants workflow check` prints them

    @property
    def errors(self) -> list[str]:
        return [text for level, text in self.problems if level == "error"]


def check(registry, row: WorkflowVersion) -> Check:
    wfs = _workflows(registry)
    try:
        d = to_definition(row)
    except DefinitionError as exc:
        return Check(None, [("error", str(exc))])
    problems = [("error", p) for p in wfs.check_references(d)]
    base_versions = wfs.versions(d.family)
    if base_versions and d.id != d.family:
        from grants.workflow.registry import lost_meanings

        problems += [("error", p) for p in lost_meanings(d, wfs.get(d.family, base_versions[-1]).definition)]
    problems += [(p.level, str(p)) for p in lint(d)]
    return Check(d, problems)


# -- making versions ------------------------------------------------------------------------------


def all_versions(dbsession: Session) -> list[WorkflowVersion]:
    """Every version of every workflow edited here, drafts included, by id then version."""
    return list(dbsession.scalars(select(WorkflowVersion).order_by(WorkflowVersion.workflow_id,
                                                                   WorkflowVersion.version)))


def versions_of(dbsession: Session, workflow_id: str) -> list[WorkflowVersion]:
    return list(dbsession.scalars(select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id)
                                  .order_by(WorkflowVersion.version)))


def _now(now=None) -> dt.datetime:
    return now or dt.datetime.now(dt.timezone.utc)


def copy_workflow(dbsession: Session, registry, source_id: str, source_version: int, new_id: str, title: str, *,
                  by=None, now=None) -> WorkflowVersion:
    """A draft (version 1) of a new variant ``new_id``, a copy of an installed workflow."""
    wfs = _workflows(registry)
    problems = []
    new_id = (new_id or "").strip()
    title = (title or "").strip()
    if (source_id, source_version) not in wfs:
        problems.append(("source", _("Choose a workflow to copy from the list.")))
    if not ID_PATTERN.match(new_id) or len(new_id) > 64:
        problems.append(("workflow_id", _("Write the id in lower-case letters, digits and _, starting with a "
                                          "letter (64 at most).")))
    elif wfs.versions(new_id) or dbsession.scalar(select(func.count()).select_from(WorkflowVersion)
                                                  .where(WorkflowVersion.workflow_id == new_id)):
        problems.append(("workflow_id", _("A workflow “${id}” exists already: choose another id.",
                                          mapping={"id": new_id})))
    if not title:
        problems.append(("title", _("Give the workflow a title.")))
    WorkflowEditRefused.refuse_if(problems)
    source = wfs.get(source_id, source_version).definition
    data = definition_to_data(registry, source)
    data.update(id=new_id, version=1, title=title, titles={**data["titles"], SOURCE_LANGUAGE: title})
    row = WorkflowVersion(workflow_id=new_id, version=1, family=source.family, origin=source.origin,
                          copied_from=f"{source.id} v{source.version}", status=DRAFT, data=data,
                          created_by_id=getattr(by, "id", None), created_at=_now(now))
    dbsession.add(row)
    dbsession.flush()
    record_change(dbsession, row, "created", None, {"copied_from": row.copied_from, "title": title}, user=by)
    dbsession.flush()
    return row


def new_version(dbsession: Session, registry, row: WorkflowVersion, *, by=None, now=None) -> WorkflowVersion:
    """The next version of ``row``'s workflow, a draft copy of ``row``; the existing draft
    if there is one (a workflow has one draft at a time)."""
    existing = versions_of(dbsession, row.workflow_id)
    draft = next((v for v in existing if v.status == DRAFT), None)
    if draft is not None:
        return draft
    number = existing[-1].version + 1
    data = {**copy.deepcopy(row.data), "version": number}
    new = WorkflowVersion(workflow_id=row.workflow_id, version=number, family=row.family, origin=row.origin,
                          copied_from=f"{row.workflow_id} v{row.version}", status=DRAFT, data=data,
                          created_by_id=getattr(by, "id", None), created_at=_now(now))
    dbsession.add(new)
    dbsession.flush()
    record_change(dbsession, new, "created", None, {"copied_from": new.copied_from}, user=by)
    dbsession.flush()
    return new


def refuse_released(row: WorkflowVersion) -> None:
    if row.status != DRAFT:
        raise WorkflowEditRefused([(None, _("A released version is never changed: make a new version from it."))])


def _store(dbsession, row: WorkflowVersion, data: dict, what: str, before, after, by) -> None:
    """Keep ``data`` if it still reads as a definition; audit the change."""
    try:
        to_definition(row, data)
    except DefinitionError as exc:
        raise WorkflowEditRefused([(None, _("This change would make the workflow unreadable: ${problem}",
                                            mapping={"problem": exc.problem}))]) from None
    row.data = data  # a new dict: the JSON column sees the change
    record_change(dbsession, row, what, before, after, user=by)
    dbsession.flush()


def _titles(values: dict, key: str, registry, field: str, problems: list, required=True) -> dict[str, str]:
    typed = {lang: (values.get(key, {}).get(lang) or "").strip() for lang in languages(registry)}
    if required and not typed[SOURCE_LANGUAGE]:
        problems.append((f"{field}-{SOURCE_LANGUAGE}", _("Give the title in English: the other languages fall "
                                                         "back to it.")))
    for lang, text in typed.items():
        if len(text) > 200:
            problems.append((f"{field}-{lang}", _("Enter 200 characters or fewer")))
    return {lang: text for lang, text in typed.items() if text}


def _subset(values, allowed, field, problems, message) -> list[str]:
    chosen = [v for v in values if v]
    if any(v not in allowed for v in chosen):
        problems.append((field, message))
    return sorted(set(chosen), key=chosen.index)


def save_state(dbsession: Session, registry, row: WorkflowVersion, values: dict, *, state_id: str | None = None,
               by=None) -> str:
    """Add a state (``state_id`` None) or change one.  ``values``: id (a new state's, or
    an existing state's new id: it is renamed), titles and public_titles (language ->
    text), final, means, form, permissions (a list of "permission@role"), like (a state
    whose permissions a new one starts from).  Returns the state's id."""
    refuse_released(row)
    data = copy.deepcopy(row.data)
    available = choices(registry, row.family, data)
    problems: list = []
    renamed_from = None
    if state_id is not None and state_id not in data["states"]:
        raise WorkflowEditRefused([(None, _("That state is no longer in this workflow."))])
    new_id = (values.get("id") or "").strip() if state_id is None or values.get("id") else state_id
    if new_id != state_id:
        if not ID_PATTERN.match(new_id) or len(new_id) > 64:
            problems.append(("state-id", _("Write the id in lower-case letters, digits and _, starting with a "
                                           "letter (64 at most).")))
        elif new_id in data["states"]:
            problems.append(("state-id", _("There is already a state “${id}”.", mapping={"id": new_id})))
    if state_id is None:
        state_id, before = new_id, None
    else:
        before = data["states"][state_id]
        if new_id != state_id:
            renamed_from = state_id
    titles = _titles(values, "titles", registry, "state-title", problems)
    public = _titles(values, "public_titles", registry, "state-public", problems, required=False)
    means = _subset(values.get("means", []), available.meanings, "state-means", problems,
                    _("Choose meanings from the list."))
    form = values.get("form") or ""
    if form and form not in available.forms:
        problems.append(("state-form", _("Choose a form from the list.")))
    pairs = _subset(values.get("permissions", []),
                    {f"{p}@{r}" for p in available.permissions for r in available.roles}, "state-permissions",
                    problems, _("Choose permissions from the list."))
    final = bool(values.get("final"))
    leaving = [t["trigger"] for t in data["transitions"] if state_id in t["from"]]
    if final and leaving:
        problems.append(("state-final", _("A final state cannot have steps leaving it: remove ${steps} first.",
                                          mapping={"steps": ", ".join(leaving)})))
    WorkflowEditRefused.refuse_if(problems)
    permissions: dict[str, list[str]] = {}
    if before is None and not pairs and values.get("like") in data["states"]:
        permissions = copy.deepcopy(data["states"][values["like"]]["permissions"])
    for pair in pairs:
        perm, _sep, role = pair.rpartition("@")
        permissions.setdefault(perm, []).append(role)
    state = {"title": titles[SOURCE_LANGUAGE], "titles": titles,
             "public": public.get(SOURCE_LANGUAGE) or titles[SOURCE_LANGUAGE], "public_titles": public or titles,
             "permissions": {p: sorted(r) for p, r in sorted(permissions.items())}, "final": final, "means": means,
             **({"form": form} if form else {})}
    if renamed_from is None:
        data["states"][state_id] = state
        _store(dbsession, row, data, f"state {state_id}", before, state, by)
        return state_id
    _rename_state(data, renamed_from, new_id, state)
    # The history says which id became which, beside what else the same save changed.
    _store(dbsession, row, data, f"state {renamed_from} renamed {new_id}", {"id": renamed_from, **before},
           {"id": new_id, **state}, by)
    return new_id


def _rename_state(data: dict, old: str, new: str, state: dict) -> None:
    """Give the state ``old`` the id ``new`` (a draft only: no object is in it yet): the
    steps that leave or reach it, and the first state, follow.  The state keeps its place
    in the list, and whatever it carries (its form, permissions, meanings) moves with it;
    guards and effects belong to steps, which keep theirs."""
    data["states"] = {(new if sid == old else sid): (state if sid == old else s) for sid, s in data["states"].items()}
    for t in data["transitions"]:
        t["from"] = [new if s == old else s for s in t["from"]]
        if t["to"] == old:
            t["to"] = new
    if data["initial"] == old:
        data["initial"] = new


def remove_state(dbsession: Session, registry, row: WorkflowVersion, state_id: str, *, by=None) -> None:
    refuse_released(row)
    data = copy.deepcopy(row.data)
    if state_id not in data["states"]:
        raise WorkflowEditRefused([(None, _("That state is no longer in this workflow."))])
    if state_id == data["initial"]:
        raise WorkflowEditRefused([(None, _("The first state of the workflow cannot be removed."))])
    using = [t["trigger"] for t in data["transitions"] if state_id in t["from"] or t["to"] == state_id]
    if using:
        raise WorkflowEditRefused([(None, _("Steps lead to or from “${state}”: remove or re-route ${steps} first.",
                                            mapping={"state": state_id, "steps": ", ".join(using)}))])
    before = data["states"].pop(state_id)
    _store(dbsession, row, data, f"state {state_id}", before, None, by)


def save_transition(dbsession: Session, registry, row: WorkflowVersion, values: dict, *, index: int | None = None,
                    by=None) -> int:
    """Add a step (``index`` None) or change (re-route) the step at ``index``.  ``values``:
    trigger, titles, sources (state ids), dest, permission, guards, effects, form,
    comment_required."""
    refuse_released(row)
    data = copy.deepcopy(row.data)
    available = choices(registry, row.family, data)
    if index is not None and not 0 <= index < len(data["transitions"]):
        raise WorkflowEditRefused([(None, _("That step is no longer in this workflow."))])
    before = data["transitions"][index] if index is not None else None
    problems: list = []
    trigger = (values.get("trigger") or "").strip()
    if not ID_PATTERN.match(trigger) or len(trigger) > 64:
        problems.append(("step-trigger", _("Write the id in lower-case letters, digits and _, starting with a "
                                           "letter (64 at most).")))
    titles = _titles(values, "titles", registry, "step-title", problems)
    states = data["states"]
    step_sources = _subset(values.get("sources", []), states, "step-from", problems,
                           _("Choose the states it leaves from the list."))
    if not step_sources:
        problems.append(("step-from", _("Choose at least one state the step leaves.")))
    dest = values.get("dest") or ""
    if dest not in states:
        problems.append(("step-to", _("Choose the state the step leads to.")))
    permission = values.get("permission") or ""
    if permission not in available.permissions:
        problems.append(("step-permission", _("Choose a permission from the list.")))
    guards = _subset(values.get("guards", []), available.guards, "step-guards", problems,
                     _("Choose guards from the list."))
    effects = _subset(values.get("effects", []), available.effects, "step-effects", problems,
                      _("Choose effects from the list."))
    form = values.get("form") or ""
    if form and form not in available.forms:
        problems.append(("step-form", _("Choose a form from the list.")))
    for source in step_sources:
        if states.get(source, {}).get("final"):
            problems.append(("step-from", _("“${state}” is final: no step may leave it.", mapping={"state": source})))
        for i, other in enumerate(data["transitions"]):
            if i != index and other["trigger"] == trigger and source in other["from"]:
                problems.append(("step-trigger", _("The step “${trigger}” already leaves “${state}”.",
                                                   mapping={"trigger": trigger, "state": source})))
    WorkflowEditRefused.refuse_if(problems)
    step = {"trigger": trigger, "title": titles[SOURCE_LANGUAGE], "titles": titles, "from": step_sources,
            "to": dest, "permission": permission, "guards": guards, "effects": effects,
            "comment_required": bool(values.get("comment_required")), **({"form": form} if form else {}),
            **({"at": before["at"]} if before and before.get("at") else {}),
            # the editor has no field for it: an edited step keeps the mark it had
            **({"destructive": True} if before and before.get("destructive") else {})}
    if index is None:
        data["transitions"].append(step)
        index = len(data["transitions"]) - 1
    else:
        data["transitions"][index] = step
    _store(dbsession, row, data, f"step {trigger}", before, step, by)
    return index


def remove_transition(dbsession: Session, registry, row: WorkflowVersion, index: int, *, by=None) -> None:
    refuse_released(row)
    data = copy.deepcopy(row.data)
    if not 0 <= index < len(data["transitions"]):
        raise WorkflowEditRefused([(None, _("That step is no longer in this workflow."))])
    before = data["transitions"].pop(index)
    _store(dbsession, row, data, f"step {before['trigger']}", before, None, by)


def release(dbsession: Session, registry, row: WorkflowVersion, *, by=None, now=None, after_commit=None) -> None:
    """Make ``row`` an immutable version the rounds may choose.  Refused while the check
    finds errors.  The running process compiles it once the transaction commits
    (``after_commit``: a function taking a callable); others load it when they need it."""
    refuse_released(row)
    found = check(registry, row)
    if found.errors:
        raise WorkflowEditRefused([(None, ngettext(
            "Put right what the check finds before releasing: ${count} error.",
            "Put right what the check finds before releasing: ${count} errors.", len(found.errors)))])
    row.status = RELEASED
    row.released_at = _now(now)
    record_change(dbsession, row, "status", DRAFT, RELEASED, user=by)
    dbsession.flush()
    definition = found.definition
    wfs = _workflows(registry)
    if after_commit is None:
        wfs.add_stored(definition)
    else:
        after_commit(lambda: wfs.add_stored(definition))


# -- loading released versions --------------------------------------------------------------


class StoredWorkflows:
    """What ``WorkflowRegistry.stored`` reads: released versions, in a transaction of its own."""

    def __init__(self, database):
        self.database = database

    def one(self, workflow_id: str, version: int) -> Definition | None:
        with self.database.transaction() as (_tm, dbsession):
            row = dbsession.scalar(select(WorkflowVersion).where(
                WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.version == version,
                WorkflowVersion.status == RELEASED))
            return to_definition(row) if row is not None else None

    def all(self) -> list[Definition]:
        with self.database.transaction() as (_tm, dbsession):
            rows = dbsession.scalars(select(WorkflowVersion).where(WorkflowVersion.status == RELEASED)
                                     .order_by(WorkflowVersion.workflow_id, WorkflowVersion.version))
            return [to_definition(row) for row in rows]


def load_released(registry) -> list[str]:
    """At start-up: compile every released version.  One that no longer checks (a plugin it
    uses was disabled) is left out with a warning; start-up's check of stored states then
    names any object still on it."""
    wfs = _workflows(registry)
    skipped = []
    if wfs.stored is None:
        return skipped
    from sqlalchemy import inspect

    if WorkflowVersion.__tablename__ not in inspect(registry.database.engine).get_table_names():
        return skipped  # `grants initdb` not run yet: start-up's own check says so
    for d in wfs.stored.all():
        try:
            wfs.add_stored(d)
        except WorkflowConfigurationError as exc:
            log.warning("workflow %s v%s edited in the browser is not loaded: %s", d.id, d.version, exc)
            skipped.append(f"{d.id} v{d.version}")
    return skipped
