"""The workflow engine.  No web and no database imports here: this package works on any
object with ``state``, ``workflow_id``, ``workflow_version`` and ``workflow_digest``.

The API that UIs, the CLI, plugins and tests share:

- :func:`load_definition` / :func:`load_directory` read definition files;
- :class:`WorkflowRegistry` holds definitions and plugin extensions and compiles them;
- :meth:`Workflow.options` says which transitions an actor may fire now, and why not;
- :meth:`Workflow.fire` fires one: permission -> guards -> state -> history -> effects;
- :func:`lint` and :mod:`grants.workflow.diagram` check and draw definitions.
"""
from .definition import Definition, DefinitionError, State, Transition, load_definition, load_directory
from .engine import Actor, Conflict, EffectFailed, FireContext, Option, ProblemsRefused, Record, Refused, Workflow
from .lint import Problem, lint
from .registry import (
    AddEffect,
    AddGuard,
    AddState,
    AddTransition,
    Extension,
    InsertStep,
    SetStateForm,
    SetTransitionForm,
    Variant,
    WorkflowConfigurationError,
    WorkflowRegistry,
)

__all__ = [
    "Actor",
    "AddEffect",
    "AddGuard",
    "AddState",
    "AddTransition",
    "Conflict",
    "Definition",
    "DefinitionError",
    "EffectFailed",
    "Extension",
    "FireContext",
    "InsertStep",
    "Option",
    "Problem",
    "Record",
    "ProblemsRefused",
    "Refused",
    "SetStateForm",
    "SetTransitionForm",
    "State",
    "Transition",
    "Variant",
    "Workflow",
    "WorkflowConfigurationError",
    "WorkflowRegistry",
    "lint",
    "load_definition",
    "load_directory",
]
