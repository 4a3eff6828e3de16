"""Why one shared Machine per (workflow, version): fire N transitions on N objects with
the engine's shared model-less Machine, against the anti-pattern of building a Machine
per loaded row (what `Machine(model=row)` on every load would cost).  Prints the ratio.

    python bench/shared_machine.py [N]
"""
from __future__ import annotations

import sys
import time

from transitions import Machine

from grants.lifecycle import shipped_definition_files
from grants.workflow import Actor, WorkflowRegistry, load_definition


class Row:
    def __init__(self):
        self.state = self.workflow_id = self.workflow_version = self.workflow_digest = None
        self.title = "row"


def main(n: int = 2000) -> None:
    registry = WorkflowRegistry()
    for path in shipped_definition_files():
        definition = load_definition(path)
        registry.add_definition(definition)
        # The engine alone: guards and effects (which read the database) do nothing here.
        for t in definition.transitions:
            for name in (*t.guards, *t.effects):
                registry.add_callable(name, lambda ctx: None)
    registry.freeze()
    wf = registry.get("application")
    actor = Actor.system_actor()

    rows = [Row() for _ in range(n)]
    start = time.perf_counter()
    for row in rows:
        wf.start(row)
        wf.fire(row, "submit", actor)
        wf.fire(row, "confirm_eligible", actor)
    shared = time.perf_counter() - start

    d = wf.definition
    rows = [Row() for _ in range(n)]
    start = time.perf_counter()
    for row in rows:
        m = Machine(model=row, states=list(d.states), initial=d.initial, auto_transitions=False)
        for t in d.transitions:
            m.add_transition(t.trigger, source=list(t.sources), dest=t.dest)
        row.submit()
        row.confirm_eligible()
    per_row = time.perf_counter() - start

    print(f"{n} objects, 2 fires each")
    print(f"shared machine (engine, with permission checks and history records): {shared * 1000:8.1f} ms")
    print(f"a Machine built per row (bare transitions, no checks):              {per_row * 1000:8.1f} ms")
    print(f"ratio per-row / shared: {per_row / shared:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
