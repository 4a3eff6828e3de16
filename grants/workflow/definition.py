"""Workflow definitions: data files read into frozen dataclasses, validated on load.

A definition is a TOML file (see ``workflows/`` and ``docs/workflows.md``).  Loading
checks its structure and its internal references; problems are raised as
:class:`DefinitionError` naming the file, the place in it, and what is wrong.
Checks that need the outside world (known permissions and roles, resolvable
callables and forms) are made by :class:`grants.workflow.registry.WorkflowRegistry`.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class DefinitionError(Exception):
    """A workflow definition is malformed.  ``str()`` is one line: source, place, problem."""

    def __init__(self, source: str, place: str, problem: str):
        self.source = source
        self.place = place
        self.problem = problem
        super().__init__(f"{source}: {place}: {problem}" if place else f"{source}: {problem}")


@dataclass(frozen=True)
class State:
    id: str
    title: str  # what staff see
    public_title: str  # what applicants and the public see
    # permission -> roles that hold it while an object is in this state (DCWorkflow's map)
    permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    final: bool = False
    form: str | None = None  # the form that edits the object while it is in this state
    # What the state means to the rest of the system ("submitted", "selected", …): domain
    # code asks for a meaning, never for a state id, so a variant may rename or insert states.
    means: frozenset[str] = frozenset()

    def roles_for(self, permission: str) -> frozenset[str]:
        return self.permissions.get(permission, frozenset())


@dataclass(frozen=True)
class Transition:
    trigger: str
    title: str
    sources: tuple[str, ...]
    dest: str
    permission: str
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    form: str | None = None
    # Name of the object's attribute holding the moment after which `grants tick` fires
    # this transition by itself.  None for transitions only people fire.
    at: str | None = None
    comment_required: bool = False
    # A step that ends, rejects or withdraws something (end a grant early, decline, withdraw):
    # pages and "My tasks" show it apart from harmless steps so that nobody takes it by mistake.
    destructive: bool = False
    # Who added it: "" for the definition file, a plugin's package name otherwise.
    origin: str = ""


@dataclass(frozen=True)
class Definition:
    id: str
    version: int
    title: str
    initial: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    source: str = "<memory>"
    extensions: tuple[str, ...] = ()  # descriptions of the plugin changes applied
    # The shipped workflow this one is a variant of (its own id for a base workflow): the
    # kind of object it runs ("application", "round", …).
    family: str = ""
    # Who provides it: "" for grants itself, else the plugin's entry-point name.
    origin: str = ""
    # Meanings of a base workflow its variants may leave out (``optional_meanings`` in the
    # file): the feature that asks for one is then simply not offered on that variant.
    optional_meanings: frozenset[str] = frozenset()

    def __post_init__(self):
        if not self.family:
            object.__setattr__(self, "family", self.id)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def transitions_from(self, state_id: str) -> list[Transition]:
        return [t for t in self.transitions if state_id in t.sources]

    def transition(self, trigger: str, source: str | None = None) -> Transition | None:
        for t in self.transitions:
            if t.trigger == trigger and (source is None or source in t.sources):
                return t
        return None

    def states_meaning(self, meaning: str) -> frozenset[str]:
        """The ids of the states that mean ``meaning`` ("final" is every final state)."""
        return self._meaning_index.get(meaning, frozenset())

    @functools.cached_property
    def _meaning_index(self) -> dict[str, frozenset[str]]:
        index: dict[str, set[str]] = {"final": {s.id for s in self.states.values() if s.final}}
        for s in self.states.values():
            for m in s.means:
                index.setdefault(m, set()).add(s.id)
        return {m: frozenset(ids) for m, ids in index.items()}

    @functools.cached_property
    def meanings(self) -> frozenset[str]:
        """Every meaning some state declares."""
        return frozenset(m for s in self.states.values() for m in s.means)

    @functools.cached_property
    def managed_permissions(self) -> frozenset[str]:
        """Every permission some state's map speaks of: the workflow is authoritative for these.
        Computed once: every ACL check on a workflow object needs it."""
        perms: set[str] = set()
        for state in self.states.values():
            perms.update(state.permissions)
        return frozenset(perms)

    def canonical(self) -> dict[str, Any]:
        """A plain-data form of everything that affects behaviour (labels included)."""
        data = dataclasses.asdict(self)
        data.pop("source")
        # A rule for variants, not for how this one runs: adding it keeps the digests that
        # history rows and installed-workflow rows recorded.
        data.pop("optional_meanings")
        # How a step is styled changes no behaviour: marking one destructive keeps the digest
        # that running objects carry.
        for transition in data["transitions"]:
            transition.pop("destructive")
        data["states"] = [
            {**dataclasses.asdict(s), "permissions": {p: sorted(r) for p, r in sorted(s.permissions.items())},
             "means": sorted(s.means)}
            for s in self.states.values()
        ]
        return data

    @functools.cached_property
    def digest(self) -> str:
        """Hash of the definition as it runs (plugin extensions included); computed once."""
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False, default=list)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# -- reading files -------------------------------------------------------------------


def load_definition(path: str | Path) -> Definition:
    path = Path(path)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(source, "", f"not valid TOML ({exc})") from None
    except OSError as exc:
        raise DefinitionError(source, "", f"cannot be read ({exc.strerror})") from None
    return definition_from_data(data, source)


def load_directory(path: str | Path) -> list[Definition]:
    return [load_definition(p) for p in sorted(Path(path).glob("*.toml"))]


def _expect(source: str, place: str, value: Any, kind: type | tuple, what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DefinitionError(source, place, f"expected {what}, got {value!r}")
    return value


def _identifier(source: str, place: str, value: Any) -> str:
    _expect(source, place, value, str, "an identifier")
    if not ID_PATTERN.match(value):
        raise DefinitionError(
            source, place, f"{value!r} is not an identifier (lower-case letters, digits and _, starting with a letter)"
        )
    return value


def _string_list(source: str, place: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    _expect(source, place, value, list, "a list of strings")
    for i, item in enumerate(value):
        _expect(source, f"{place}[{i}]", item, str, "a string")
    return tuple(value)


_TOP_KEYS = {"id", "version", "title", "initial", "states", "transitions", "variant_of", "optional_meanings"}
_STATE_KEYS = {"title", "public", "permissions", "final", "form", "means"}
_TRANSITION_KEYS = {"trigger", "title", "from", "to", "permission", "guards", "effects", "form", "at", "comment_required",
                    "destructive"}


def _no_unknown_keys(source: str, place: str, data: Mapping, allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            where = f"{place}.{key}" if place else key
            raise DefinitionError(source, where, f"unknown key (expected one of: {', '.join(sorted(allowed))})")


def definition_from_data(data: Mapping[str, Any], source: str = "<memory>") -> Definition:
    _no_unknown_keys(source, "", data, _TOP_KEYS)
    for key in ("id", "version", "initial", "states", "transitions"):
        if key not in data:
            raise DefinitionError(source, key, "missing")
    wf_id = _identifier(source, "id", data["id"])
    version = _expect(source, "version", data["version"], int, "a whole number")
    if version < 1:
        raise DefinitionError(source, "version", "must be 1 or more")
    title = _expect(source, "title", data.get("title", wf_id), str, "a string")

    raw_states = _expect(source, "states", data["states"], dict, "a table of states")
    if not raw_states:
        raise DefinitionError(source, "states", "a workflow needs at least one state")
    states: dict[str, State] = {}
    for state_id, raw in raw_states.items():
        place = f"states.{state_id}"
        _identifier(source, place, state_id)
        _expect(source, place, raw, dict, "a table")
        _no_unknown_keys(source, place, raw, _STATE_KEYS)
        perms_raw = _expect(source, f"{place}.permissions", raw.get("permissions", {}), dict, "a table")
        perms = {
            perm: frozenset(_string_list(source, f"{place}.permissions.{perm}", roles))
            for perm, roles in perms_raw.items()
        }
        state_title = _expect(source, f"{place}.title", raw.get("title", state_id), str, "a string")
        form = raw.get("form")
        if form is not None:
            _expect(source, f"{place}.form", form, str, "a form name")
        states[state_id] = State(
            id=state_id,
            title=state_title,
            public_title=_expect(source, f"{place}.public", raw.get("public", state_title), str, "a string"),
            permissions=perms,
            final=_expect(source, f"{place}.final", raw.get("final", False), bool, "true or false"),
            form=form,
            means=frozenset(_identifier(source, f"{place}.means[{i}]", m)
                            for i, m in enumerate(_string_list(source, f"{place}.means", raw.get("means", [])))),
        )

    initial = _identifier(source, "initial", data["initial"])
    if initial not in states:
        raise DefinitionError(source, "initial", f"unknown state {initial!r}")

    raw_transitions = _expect(source, "transitions", data["transitions"], list, "a list of [[transitions]]")
    transitions = []
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(raw_transitions):
        place = f"transitions[{i}]"
        _expect(source, place, raw, dict, "a table")
        _no_unknown_keys(source, place, raw, _TRANSITION_KEYS)
        for key in ("trigger", "from", "to", "permission"):
            if key not in raw:
                raise DefinitionError(source, f"{place}.{key}", "missing")
        trigger = _identifier(source, f"{place}.trigger", raw["trigger"])
        place = f"transitions[{i}] ({trigger})"
        sources = _string_list(source, f"{place}.from", raw["from"])
        if not sources:
            raise DefinitionError(source, f"{place}.from", "names no state")
        for s in sources:
            if s not in states:
                raise DefinitionError(source, f"{place}.from", f"unknown state {s!r}")
            if (trigger, s) in seen:
                raise DefinitionError(source, f"{place}.from", f"trigger {trigger!r} is already defined from {s!r}")
            seen.add((trigger, s))
        dest = _expect(source, f"{place}.to", raw["to"], str, "a state id")
        if dest not in states:
            raise DefinitionError(source, f"{place}.to", f"unknown state {dest!r}")
        at = raw.get("at")
        if at is not None:
            _identifier(source, f"{place}.at", at)
        form = raw.get("form")
        if form is not None:
            _expect(source, f"{place}.form", form, str, "a form name")
        transitions.append(
            Transition(
                trigger=trigger,
                title=_expect(source, f"{place}.title", raw.get("title", trigger), str, "a string"),
                sources=sources,
                dest=dest,
                permission=_expect(source, f"{place}.permission", raw["permission"], str, "a permission"),
                guards=_string_list(source, f"{place}.guards", raw.get("guards", [])),
                effects=_string_list(source, f"{place}.effects", raw.get("effects", [])),
                form=form,
                at=at,
                comment_required=_expect(
                    source, f"{place}.comment_required", raw.get("comment_required", False), bool, "true or false"
                ),
                destructive=_expect(source, f"{place}.destructive", raw.get("destructive", False), bool,
                                    "true or false"),
            )
        )
    for state in states.values():
        if state.final and any(state.id in t.sources for t in transitions):
            raise DefinitionError(source, f"states.{state.id}.final", "a final state cannot have transitions out of it")
    variant_of = data.get("variant_of")
    if variant_of is not None:
        _identifier(source, "variant_of", variant_of)
    optional = frozenset(_identifier(source, f"optional_meanings[{i}]", m)
                         for i, m in enumerate(_string_list(source, "optional_meanings",
                                                            data.get("optional_meanings", []))))
    return Definition(
        id=wf_id,
        version=version,
        title=title,
        initial=initial,
        states=states,
        transitions=tuple(transitions),
        source=source,
        family=variant_of or wf_id,
        optional_meanings=optional,
    )
