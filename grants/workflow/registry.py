"""The set of workflows an application runs: definitions, plugin extensions, compiled
:class:`~grants.workflow.engine.Workflow` objects (one Machine each).

Used in two phases.  While configuring, definitions, extensions, callables and forms are
added in any order.  :meth:`WorkflowRegistry.freeze` then applies the extensions,
validates every reference, lints, and compiles each (id, version) exactly once.  After
that the registry only answers questions.
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .definition import Definition, DefinitionError, State, Transition
from .engine import Workflow


class WorkflowConfigurationError(Exception):
    """Start-up must stop: ``str()`` is one line saying why."""


# -- extensions: what plugins may change ------------------------------------------------


@dataclass(frozen=True)
class Extension:
    workflow_id: str
    origin: str  # the plugin (package) that asked for it
    version: int | None = None  # None: every version of the workflow

    def describe(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def apply(self, d: Definition) -> Definition:  # pragma: no cover - overridden
        raise NotImplementedError


def _fail(d: Definition, ext: Extension, problem: str):
    return WorkflowConfigurationError(
        f"plugin {ext.origin}: cannot {ext.describe()} in workflow {d.id} v{d.version}: {problem}"
    )


@dataclass(frozen=True)
class InsertStep(Extension):
    """Put a new state between ``after`` and ``before``.

    Only the transitions named in ``reroute`` (each leads ``after -> before``) are
    re-routed: they now lead into the new state, and the new transition ``transition``
    leads on from it to ``before``.  Where the re-routed transitions' effects and form go
    is explicit:

    - ``effects="after_step"`` (the default): their effects and form move to the step's own
      transition, so what they do — record a decision, mail the applicant — happens when
      the step is passed, never before;
    - ``effects="before_step"``: they stay on the re-routed transitions and run on entry to
      the step.
    """

    after: str = ""
    before: str = ""
    state: State | None = None
    transition: Transition | None = None  # new-state -> before
    reroute: tuple[str, ...] = ()
    effects: str = "after_step"

    def describe(self) -> str:
        rerouted = ", ".join(repr(t) for t in self.reroute)
        return (f"insert step {self.state.id!r} between {self.after!r} and {self.before!r} "
                f"(re-routes {rerouted}; their effects run {self.effects.replace('_', ' ')})")

    def apply(self, d: Definition) -> Definition:
        if self.state.id in d.states:
            raise _fail(d, self, f"state {self.state.id!r} already exists")
        if self.effects not in ("after_step", "before_step"):
            raise _fail(d, self, f"effects must be 'after_step' or 'before_step', not {self.effects!r}")
        if not self.reroute:
            raise _fail(d, self, "name the transitions it re-routes (reroute=[...])")
        leading = {t.trigger for t in d.transitions if self.after in t.sources and t.dest == self.before}
        for trigger in self.reroute:
            if trigger not in leading:
                raise _fail(d, self, f"no transition {trigger!r} leads from {self.after!r} to {self.before!r}"
                                     f" (those that do: {', '.join(sorted(leading)) or 'none'})")
        moved_effects: list[str] = []
        moved_form: str | None = None
        transitions = []
        for t in d.transitions:
            if t.trigger in self.reroute and self.after in t.sources and t.dest == self.before:
                if len(t.sources) > 1:
                    # Only the after -> before path moves; the same trigger elsewhere keeps its target.
                    transitions.append(dataclasses.replace(t, sources=tuple(s for s in t.sources if s != self.after)))
                    t = dataclasses.replace(t, sources=(self.after,))
                if self.effects == "after_step":
                    moved_effects += [e for e in t.effects if e not in moved_effects]
                    moved_form = moved_form or t.form
                    t = dataclasses.replace(t, effects=(), form=None)
                t = dataclasses.replace(t, dest=self.state.id)
            transitions.append(t)
        step = dataclasses.replace(self.transition, sources=(self.state.id,), dest=self.before)
        if moved_effects or moved_form:
            step = dataclasses.replace(step, effects=(*moved_effects, *step.effects), form=step.form or moved_form)
        transitions.append(step)
        return dataclasses.replace(d, states={**d.states, self.state.id: self.state}, transitions=tuple(transitions))


@dataclass(frozen=True)
class Variant:
    """A named workflow derived from another (``base``): it starts as a copy of the base
    as extended, and the plugin that owns it changes it with the same directives.  A round
    (or programme) chooses which variant its objects run; the base is left alone."""

    id: str
    base: str
    origin: str
    title: str | None = None


@dataclass(frozen=True)
class AddState(Extension):
    state: State | None = None

    def describe(self) -> str:
        return f"add state {self.state.id!r}"

    def apply(self, d: Definition) -> Definition:
        if self.state.id in d.states:
            raise _fail(d, self, "that state already exists")
        return dataclasses.replace(d, states={**d.states, self.state.id: self.state})


@dataclass(frozen=True)
class AddTransition(Extension):
    transition: Transition | None = None

    def describe(self) -> str:
        return f"add transition {self.transition.trigger!r}"

    def apply(self, d: Definition) -> Definition:
        t = self.transition
        for s in (*t.sources, t.dest):
            if s not in d.states:
                raise _fail(d, self, f"unknown state {s!r}")
        for s in t.sources:
            if d.transition(t.trigger, s):
                raise _fail(d, self, f"trigger {t.trigger!r} already leaves {s!r}")
        return dataclasses.replace(d, transitions=(*d.transitions, t))


@dataclass(frozen=True)
class _ChangeTransitions(Extension):
    trigger: str = ""

    def _change(self, t: Transition) -> Transition:  # pragma: no cover - overridden
        raise NotImplementedError

    def apply(self, d: Definition) -> Definition:
        if not d.transition(self.trigger):
            raise _fail(d, self, f"there is no transition {self.trigger!r}")
        return dataclasses.replace(
            d, transitions=tuple(self._change(t) if t.trigger == self.trigger else t for t in d.transitions)
        )


@dataclass(frozen=True)
class AddGuard(_ChangeTransitions):
    guard: str = ""

    def describe(self) -> str:
        return f"add guard {self.guard!r} to {self.trigger!r}"

    def _change(self, t: Transition) -> Transition:
        return dataclasses.replace(t, guards=(*t.guards, self.guard))


@dataclass(frozen=True)
class AddEffect(_ChangeTransitions):
    effect: str = ""

    def describe(self) -> str:
        return f"add effect {self.effect!r} to {self.trigger!r}"

    def _change(self, t: Transition) -> Transition:
        return dataclasses.replace(t, effects=(*t.effects, self.effect))


@dataclass(frozen=True)
class SetTransitionForm(_ChangeTransitions):
    form: str = ""

    def describe(self) -> str:
        return f"set the form of {self.trigger!r} to {self.form!r}"

    def _change(self, t: Transition) -> Transition:
        return dataclasses.replace(t, form=self.form)


@dataclass(frozen=True)
class SetStateForm(Extension):
    state_id: str = ""
    form: str = ""

    def describe(self) -> str:
        return f"set the form of state {self.state_id!r} to {self.form!r}"

    def apply(self, d: Definition) -> Definition:
        if self.state_id not in d.states:
            raise _fail(d, self, f"there is no state {self.state_id!r}")
        state = dataclasses.replace(d.states[self.state_id], form=self.form)
        return dataclasses.replace(d, states={**d.states, self.state_id: state})


# -- the registry ----------------------------------------------------------------------------


def resolve_dotted(name: str) -> Any:
    """``package.module:attribute`` (or ``package.module.attribute``) -> the object."""
    module_name, _, attr = name.partition(":") if ":" in name else name.rpartition(".")
    if not module_name or not attr:
        raise LookupError(f"{name!r} is neither a registered name nor a dotted name")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise LookupError(f"{name!r}: cannot import {module_name} ({exc})") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LookupError(f"{name!r}: {module_name} has no {attr}") from None
    return obj


class WorkflowRegistry:
    machines_built = 0  # how many transitions.Machine objects were ever built (tests count them)
    #: Every definition compiled in this process, by (id, version).  Meanings are facts of
    #: a definition, so code that asks "which stored states mean 'accepted'?" reads them
    #: here without a registry in hand (see grants.lifecycle.meanings).
    compiled: dict[tuple[str, int], Definition] = {}

    def __init__(self, permissions: Iterable[str] = (), roles: Iterable[str] = ()):
        self.permissions = frozenset(permissions)  # empty: any permission name is accepted
        self.roles = frozenset(roles)
        self._definitions: dict[tuple[str, int], Definition] = {}
        self._extensions: list[Extension] = []
        self._callables: dict[str, Callable] = {}
        self._forms: dict[str, Callable] = {}
        self._workflows: dict[tuple[str, int], Workflow] = {}
        self._variants: dict[str, Variant] = {}
        #: Entry-point names of the plugins the deployment enables: what they change is
        #: confined to workflows they own (their own, or variants they derive).
        self.plugin_names: set[str] = set()
        self.frozen = False
        #: Where workflows edited in the browser are kept (grants.workflow_editor): an object
        #: with ``one(workflow_id, version)`` and ``all()`` giving released Definitions.  A
        #: released version never changes, so any process may load it when first asked.
        self.stored = None
        #: Ids of the workflows compiled from ``stored`` (a round pins one of their versions).
        self.stored_ids: set[str] = set()

    # -- configuring --------------------------------------------------------------

    def _mutable(self):
        if self.frozen:
            raise WorkflowConfigurationError("workflows are already compiled; configure before the app starts")

    def add_definition(self, definition: Definition) -> None:
        self._mutable()
        if definition.key in self._definitions:
            other = self._definitions[definition.key]
            raise WorkflowConfigurationError(
                f"workflow {definition.id} v{definition.version} is defined twice: {other.source} and {definition.source}"
            )
        self._definitions[definition.key] = definition

    def add_variant(self, variant: Variant) -> None:
        self._mutable()
        if variant.id in self._variants or any(key[0] == variant.id for key in self._definitions):
            raise WorkflowConfigurationError(
                f"plugin {variant.origin}: cannot add variant {variant.id!r}: a workflow with that id exists")
        self._variants[variant.id] = variant

    def add_permissions(self, names: Iterable[str]) -> None:
        self._mutable()
        if self.permissions:
            self.permissions = self.permissions | frozenset(names)

    def add_roles(self, names: Iterable[str]) -> None:
        self._mutable()
        if self.roles:
            self.roles = self.roles | frozenset(names)

    def add_extension(self, extension: Extension) -> None:
        self._mutable()
        self._extensions.append(extension)

    def add_callable(self, name: str, fn: Callable) -> None:
        self._mutable()
        self._callables[name] = fn

    def add_form(self, name: str, schema_factory: Callable) -> None:
        self._mutable()
        self._forms[name] = schema_factory

    # -- compiling ---------------------------------------------------------------

    def resolve(self, name: str) -> Callable:
        if name in self._callables:
            return self._callables[name]
        return resolve_dotted(name)

    def resolve_form(self, name: str) -> Callable:
        if name in self._forms:
            return self._forms[name]
        return resolve_dotted(name)

    def effective_definitions(self) -> list[Definition]:
        """Every definition — shipped, added by plugins, and derived variants — with the
        extensions that target it applied, in registration order."""
        bases: dict[str, list[Definition]] = {}
        for key in sorted(self._definitions):
            bases.setdefault(key[0], []).append(self._definitions[key])
        known = set(bases) | set(self._variants)
        for ext in self._extensions:
            if ext.workflow_id not in known:
                raise WorkflowConfigurationError(
                    f"plugin {ext.origin}: cannot {ext.describe()}: there is no workflow {ext.workflow_id!r}"
                )
        for variant in self._variants.values():
            if variant.base not in known:
                raise WorkflowConfigurationError(
                    f"plugin {variant.origin}: cannot derive {variant.id!r}: there is no workflow {variant.base!r}")

        done: dict[str, list[Definition]] = {}

        def build(wf_id: str, chain: tuple[str, ...] = ()) -> list[Definition]:
            if wf_id in done:
                return done[wf_id]
            if wf_id in chain:
                raise WorkflowConfigurationError(f"variants derive from each other in a circle: {' -> '.join(chain)}")
            if wf_id in self._variants:
                variant = self._variants[wf_id]
                derived = [
                    dataclasses.replace(
                        base, id=variant.id, title=variant.title or base.title, origin=variant.origin,
                        family=base.family,
                        extensions=(*base.extensions, f"{variant.origin}: variant {variant.id!r} of {base.id!r}"))
                    for base in build(variant.base, (*chain, wf_id))
                ]
            else:
                derived = bases[wf_id]
            for ext in self._extensions:
                if ext.workflow_id == wf_id and ext.version is not None and ext.version not in {d.version for d in derived}:
                    raise WorkflowConfigurationError(
                        f"plugin {ext.origin}: cannot {ext.describe()}: workflow {wf_id!r} has no version {ext.version}"
                    )
            result = []
            for d in derived:
                for ext in self._extensions:
                    if ext.workflow_id == d.id and ext.version in (None, d.version):
                        self._check_ownership(d, ext)
                        d = ext.apply(d)
                        d = dataclasses.replace(d, extensions=(*d.extensions, f"{ext.origin}: {ext.describe()}"))
                result.append(d)
            done[wf_id] = result
            return result

        return [d for wf_id in sorted(known) for d in build(wf_id)]

    def _check_ownership(self, d: Definition, ext: Extension) -> None:
        """A plugin changes only workflows it owns, so a programme that does not use it
        never sees its steps."""
        if ext.origin in self.plugin_names and d.origin != ext.origin:
            owner = f"plugin {d.origin!r}" if d.origin else "grants"
            raise WorkflowConfigurationError(
                f"plugin {ext.origin}: cannot {ext.describe()} in workflow {d.id!r} (from {owner}): that would change "
                f"it for every programme. Derive a variant and change that: "
                f"config.add_workflow_variant('{ext.origin}_{d.id}', base='{d.id}')"
            )

    def variants(self, family: str) -> list[Definition]:
        """The newest version of every compiled workflow of ``family`` (the base first)."""
        newest: dict[str, Definition] = {}
        for (wf_id, _version), wf in sorted(self._workflows.items()):
            if wf.definition.family == family:
                newest[wf_id] = wf.definition
        return sorted(newest.values(), key=lambda d: (d.id != family, d.id))

    def states_meaning(self, family: str, meaning: str) -> dict[str, frozenset[str]]:
        """workflow id -> the states meaning ``meaning``, across every compiled workflow of
        ``family`` and every version (for queries over stored objects)."""
        result: dict[str, set[str]] = {}
        for (wf_id, _version), wf in self._workflows.items():
            if wf.definition.family == family:
                result.setdefault(wf_id, set()).update(wf.definition.states_meaning(meaning))
        return {wf_id: frozenset(states) for wf_id, states in sorted(result.items()) if states}

    def check_references(self, d: Definition) -> list[str]:
        """Problems with names the definition uses: permissions, roles, callables, forms."""
        problems = []
        where = f"{d.source}: workflow {d.id} v{d.version}"
        for state in d.states.values():
            for perm, roles in state.permissions.items():
                if self.permissions and perm not in self.permissions:
                    problems.append(f"{where}: states.{state.id}.permissions: unknown permission {perm!r}")
                for role in sorted(roles - self.roles if self.roles else set()):
                    problems.append(f"{where}: states.{state.id}.permissions.{perm}: unknown role {role!r}")
            if state.form:
                try:
                    self.resolve_form(state.form)
                except LookupError as exc:
                    problems.append(f"{where}: states.{state.id}.form: {exc}")
        for t in d.transitions:
            place = f"{where}: transition {t.trigger}"
            if self.permissions and t.permission not in self.permissions:
                problems.append(f"{place}: unknown permission {t.permission!r}")
            for kind, names in (("guard", t.guards), ("effect", t.effects)):
                for name in names:
                    try:
                        fn = self.resolve(name)
                    except LookupError as exc:
                        problems.append(f"{place}: {kind} {exc}")
                        continue
                    if not callable(fn):
                        problems.append(f"{place}: {kind} {name!r} is not callable")
            if t.form:
                try:
                    self.resolve_form(t.form)
                except LookupError as exc:
                    problems.append(f"{place}: form {exc}")
        return problems

    def freeze(self) -> None:
        """Apply extensions, check, lint and compile.  Raises WorkflowConfigurationError."""
        from .lint import lint  # lint imports this module's types

        if self.frozen:
            return
        definitions = self.effective_definitions()
        by_key = {d.key: d for d in definitions}
        for d in definitions:
            problems = self.check_references(d) + [str(p) for p in lint(d) if p.is_error]
            problems += lost_meanings(d, by_key.get((d.family, d.version)))
            if problems:
                more = f" (and {len(problems) - 1} more; run `grants workflow check`)" if len(problems) > 1 else ""
                raise WorkflowConfigurationError(problems[0] + more)
        for d in definitions:
            guards = {t.trigger: [(g, self.resolve(g)) for g in t.guards] for t in d.transitions}
            effects = {t.trigger: [(e, self.resolve(e)) for e in t.effects] for t in d.transitions}
            forms = {name: self.resolve_form(name) for name in _form_names(d)}
            wf = Workflow(d, guards, effects, forms)
            wf.effect_origins = self._effect_origins(d)
            self._workflows[d.key] = wf
            WorkflowRegistry.compiled[d.key] = d
            WorkflowRegistry.machines_built += 1
        self.frozen = True

    def problems(self, d: Definition) -> list[str]:
        """What stops ``d`` from running here: unknown names, lint errors, and meanings its
        family's base declares that it lost (against the base's newest version)."""
        from .lint import lint

        problems = self.check_references(d) + [str(p) for p in lint(d) if p.is_error]
        base_versions = self.versions(d.family)
        if base_versions and d.id != d.family:
            problems += lost_meanings(d, self._workflows[(d.family, base_versions[-1])].definition)
        return problems

    def add_stored(self, d: Definition) -> Workflow:
        """Compile one released stored definition into a frozen registry (at start-up, on
        release, or when an object on it is first met).  Raises WorkflowConfigurationError."""
        if not self.frozen:
            raise WorkflowConfigurationError("stored workflows are added after the installed ones are compiled")
        if d.key in self._workflows:
            return self._workflows[d.key]
        problems = self.problems(d)
        if problems:
            raise WorkflowConfigurationError(problems[0])
        guards = {t.trigger: [(g, self.resolve(g)) for g in t.guards] for t in d.transitions}
        effects = {t.trigger: [(e, self.resolve(e)) for e in t.effects] for t in d.transitions}
        forms = {name: self.resolve_form(name) for name in _form_names(d)}
        wf = Workflow(d, guards, effects, forms)
        wf.effect_origins = {}
        self._workflows[d.key] = wf  # one assignment: other threads see all of it or nothing
        self.stored_ids.add(d.id)
        WorkflowRegistry.compiled[d.key] = d
        WorkflowRegistry.machines_built += 1
        return wf

    def load_stored(self, key: tuple[str, int] | None = None) -> None:
        """Compile released stored versions not compiled yet: every one, or just ``key``."""
        if self.stored is None or not self.frozen:
            return
        found = self.stored.all() if key is None else [d for d in [self.stored.one(*key)] if d is not None]
        for d in found:
            if d.key not in self._workflows:
                self.add_stored(d)

    def _effect_origins(self, d: Definition) -> dict[str, str]:
        """Which plugin added each effect (for the message when one fails)."""
        origins = {e: t.origin for t in d.transitions for e in t.effects if t.origin}
        origins.update({ext.effect: ext.origin for ext in self._extensions
                        if isinstance(ext, AddEffect) and ext.workflow_id == d.id})
        return origins

    # -- asking ------------------------------------------------------------------

    def get(self, workflow_id: str, version: int | None = None) -> Workflow:
        if not self.frozen:
            raise WorkflowConfigurationError("workflows are not compiled yet")
        if version is None:
            versions = self.versions(workflow_id)
            if not versions:
                raise KeyError(workflow_id)
            version = versions[-1]
        if (workflow_id, version) not in self._workflows:
            self.load_stored((workflow_id, version))
        return self._workflows[(workflow_id, version)]

    def for_object(self, obj: Any) -> Workflow:
        return self.get(obj.workflow_id, obj.workflow_version)

    def versions(self, workflow_id: str) -> list[int]:
        return sorted(v for (i, v) in self._workflows if i == workflow_id)

    def __iter__(self):
        return iter(self._workflows[k] for k in sorted(self._workflows))

    def __contains__(self, key: tuple[str, int]) -> bool:
        if key not in self._workflows and isinstance(key, tuple) and len(key) == 2:
            try:
                self.load_stored(key)
            except WorkflowConfigurationError:
                return False
        return key in self._workflows


def lost_meanings(d: Definition, base: Definition | None) -> list[str]:
    """A variant must keep every meaning its family's base declares: awards, funnels,
    reports and worklists find objects by meaning.  The base's ``optional_meanings`` may
    go: what asks for one (returning an application for changes) is then not offered."""
    if base is None or base.id == d.id:
        return []
    return [f"{d.source}: workflow {d.id} v{d.version} (a variant of {base.id}): no state means {m!r} any more "
            f"(in {base.id} the state {sorted(base.states_meaning(m))[0]!r} does); give one of its states "
            f"means = [\"{m}\"]" for m in sorted(base.meanings - d.meanings - base.optional_meanings)]


def _form_names(d: Definition) -> set[str]:
    names = {s.form for s in d.states.values() if s.form}
    names.update(t.form for t in d.transitions if t.form)
    return names


__all__ = [
    "AddEffect",
    "AddGuard",
    "AddState",
    "AddTransition",
    "DefinitionError",
    "Extension",
    "InsertStep",
    "SetStateForm",
    "SetTransitionForm",
    "Variant",
    "WorkflowConfigurationError",
    "WorkflowRegistry",
]
