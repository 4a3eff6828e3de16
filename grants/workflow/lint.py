"""Lint a definition: reachability, ways out, permissions nobody holds.

Reference checks (do the named permissions, roles, callables and forms exist?) live in
:meth:`WorkflowRegistry.check_references`, because they depend on what is installed.
"""
from __future__ import annotations

from dataclasses import dataclass

from .definition import Definition


@dataclass(frozen=True)
class Problem:
    level: str  # "error" or "warning"
    source: str
    place: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.level == "error"

    def __str__(self) -> str:
        return f"{self.source}: {self.place}: {self.message}"


def reachable_states(d: Definition) -> set[str]:
    seen = {d.initial}
    frontier = [d.initial]
    while frontier:
        state = frontier.pop()
        for t in d.transitions_from(state):
            if t.dest not in seen:
                seen.add(t.dest)
                frontier.append(t.dest)
    return seen


def lint(d: Definition) -> list[Problem]:
    problems: list[Problem] = []
    where = f"workflow {d.id} v{d.version}"

    def add(level: str, place: str, message: str) -> None:
        problems.append(Problem(level, d.source, f"{where}: {place}", message))

    reachable = reachable_states(d)
    for state in d.states.values():
        if state.id not in reachable:
            add("error", f"states.{state.id}", f"unreachable from the initial state {d.initial!r}")
        if not state.final and not d.transitions_from(state.id):
            add("error", f"states.{state.id}", "a dead end: not final, and no transition leaves it")
    for t in d.transitions:
        for source in t.sources:
            if t.at is not None:
                continue  # `grants tick` fires it even if no person may
            if not d.states[source].roles_for(t.permission):
                add(
                    "error",
                    f"transition {t.trigger} from {source}",
                    f"no role holds {t.permission!r} in state {source!r}, so nobody can fire it",
                )
    finals = [s for s in d.states.values() if s.final]
    if not finals:
        add("warning", "states", "no state is marked final")
    return problems
