"""States by meaning, not by id.

Each state of a workflow says what it means (``means = ["selected", "awardable"]`` in its
definition).  Domain code asks by meaning — "is this application awardable?", "count the
reports that are accepted" — so a variant that renames or inserts states keeps awards,
funnels, reports, exports and worklists right.  `grants workflow check` (and start-up)
refuse a variant that drops a meaning its base declares.

The vocabulary of the shipped workflows (``final`` also means every final state):

============  ==================================================================================
application   draft, submitted, returned_for_changes, eligible, application_review, ineligible,
              incubation, proposal_review, selected, due_diligence, cleared, awardable, declined,
              not_funded, unsuccessful, withdrawn
round         draft, open, closed, in_review, decided, cancelled
award         active, ended_early, closed, ended
report        due, overdue, to_write, submitted, returned, accepted
tranche       pending, released, disbursed
============  ==================================================================================

Meanings are facts of compiled definitions, read from every definition compiled in this
process (``WorkflowRegistry.compiled``); several registries (tests) only add workflows.
"""
from __future__ import annotations

from sqlalchemy import and_, false, or_

from grants.workflow import WorkflowRegistry


def _definitions(family: str):
    return [d for d in WorkflowRegistry.compiled.values() if d.family == family]


def states_meaning(family: str, *meanings: str) -> frozenset[str]:
    """Every state id, in any workflow of ``family``, that means one of ``meanings`` (for
    history rows, which record states)."""
    return frozenset(s for d in _definitions(family) for m in meanings for s in d.states_meaning(m))


def means(obj, *meanings: str) -> bool:
    """Does the object's current state mean any of ``meanings``?"""
    d = WorkflowRegistry.compiled.get((obj.workflow_id, obj.workflow_version))
    if d is None:
        raise LookupError(f"workflow {obj.workflow_id} v{obj.workflow_version} is not compiled in this process")
    return any(obj.state in d.states_meaning(m) for m in meanings)


def state_means(model, *meanings: str):
    """A SQL condition: rows of ``model`` whose state means any of ``meanings``, whatever
    workflow of the family each runs."""
    return columns_mean(model.__workflow__, model.workflow_id, model.state, *meanings)


def counted_meaning(model, *meanings: str):
    """A SQL condition on the counters of ``grants.lifecycle.models.StateCount``: the rows
    counting ``model`` objects in a state meaning any of ``meanings``.  ``sum(n)`` over them
    (per ``group_id``, a round) is how many are there now, read from a few rows."""
    from .models import StateCount

    return and_(StateCount.object_type == model.__tablename__,
                columns_mean(model.__workflow__, StateCount.workflow_id, StateCount.state, *meanings))


def columns_mean(family: str, workflow_id, state, *meanings: str):
    """:func:`state_means` on any columns holding a workflow id and a state of ``family``
    (the counters of ``grants.lifecycle.models.StateCount``, say)."""
    by_workflow: dict[str, set[str]] = {}
    for d in _definitions(family):
        for m in meanings:
            by_workflow.setdefault(d.id, set()).update(d.states_meaning(m))
    clauses = [and_(workflow_id == wf_id, state.in_(sorted(states)))
               for wf_id, states in sorted(by_workflow.items()) if states]
    return or_(*clauses) if clauses else false()


def history_reached(family: str, *meanings: str):
    """A SQL condition on history rows: moves into a state meaning any of ``meanings``
    (each row records the workflow it ran, so variants are read right)."""
    from .models import HistoryEntry

    clauses = []
    for d in _definitions(family):
        states = sorted({s for m in meanings for s in d.states_meaning(m)})
        if states:
            clauses.append(and_(HistoryEntry.workflow_id == d.id, HistoryEntry.workflow_version == d.version,
                                HistoryEntry.to_state.in_(states)))
    return or_(*clauses) if clauses else false()


#: How a state looks on a page (grants.css ``.state-<tone>``), by what it means; the first
#: tone with a meaning of the object's state wins.  The badge always shows the state's title
#: too: the colour repeats the word, never replaces it (WCAG 1.4.1).
STATE_TONES = (
    ("stopped", ("ineligible", "declined", "not_funded", "unsuccessful", "withdrawn", "cancelled", "ended_early")),
    ("attention", ("returned_for_changes", "returned", "overdue", "due", "to_write")),
    ("success", ("selected", "cleared", "awardable", "accepted", "active", "decided", "released", "disbursed")),
    ("progress", ("submitted", "eligible", "application_review", "incubation", "proposal_review", "due_diligence",
                  "open", "in_review", "pending")),
)


def state_tone(obj) -> str:
    """The tone of ``obj``'s state badge: stopped, attention, success, progress or neutral
    (draft, closed, ended and any state whose meanings none of these name)."""
    d = WorkflowRegistry.compiled.get((obj.workflow_id, obj.workflow_version))
    if d is None:
        return "neutral"
    for tone, meanings in STATE_TONES:
        if any(obj.state in d.states_meaning(m) for m in meanings):
            return tone
    return "neutral"


def state_permits(model, permission: str, roles):
    """A SQL condition: rows of ``model`` whose current state grants ``permission`` to one
    of ``roles`` — the state's permission map, as its ACL reads it (``grants.security.
    workflow_acl``), so a list can keep only what the reader may act on without loading
    each row to ask."""
    return columns_permit(model.__workflow__, model.workflow_id, model.workflow_version, model.state,
                          permission, roles)


def columns_permit(family: str, workflow_id, workflow_version, state, permission: str, roles):
    """:func:`state_permits` on any columns holding a workflow id, version and state of
    ``family`` (the counters of ``grants.lifecycle.models.StateCount``, say)."""
    roles = set(roles)
    clauses = []
    for d in _definitions(family):
        states = sorted(sid for sid, s in d.states.items() if roles & set(s.permissions.get(permission, ())))
        if states:
            clauses.append(and_(workflow_id == d.id, workflow_version == d.version, state.in_(states)))
    return or_(*clauses) if clauses else false()
