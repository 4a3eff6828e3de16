"""Firing transitions: permission -> guards -> state -> history -> effects.

A :class:`Workflow` is one definition (one id, one version) compiled against the
callables and forms it names, with the one shared, model-less ``transitions.Machine``
built for it.  It works on any object with ``state``, ``workflow_id``,
``workflow_version`` and ``workflow_digest`` attributes; storing what it returns is
the caller's business (see ``grants.lifecycle``), which keeps this package free of
web and database imports.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from transitions import Machine
from translationstring import TranslationStringFactory

from .definition import Definition, State, Transition

_ = TranslationStringFactory("grants")

Guard = Callable[["FireContext"], "str | None"]
Effect = Callable[["FireContext"], None]

SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Actor:
    """Who fires: an id for history and the roles they hold *on this object*."""

    id: str | None
    roles: frozenset[str] = frozenset()
    system: bool = False  # `grants tick` and migrations: no permission check, guards still apply

    @classmethod
    def system_actor(cls, name: str = "system") -> "Actor":
        return cls(id=name, roles=frozenset({SYSTEM_ROLE}), system=True)


class Refused(Exception):
    """A transition may not fire; ``reasons`` are sentences a person can read."""

    def __init__(self, reasons: list[Any]):
        self.reasons = list(reasons)
        super().__init__("; ".join(plain(r) for r in self.reasons))


class ProblemsRefused(Refused):
    """A service refused what it was asked; nothing was changed.  ``problems`` are
    (field name or None, reason) pairs, so a page can put each reason beside its input
    (``grants.forms.form_refused``).  Each area names its own subclass
    (``ApplicationRefused``, ``ReviewRefused``, …) so callers can catch just theirs."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__([reason for _field, reason in self.problems])

    @classmethod
    def refuse_if(cls, problems) -> None:
        """Raise with ``problems`` if there are any."""
        if problems:
            raise cls(problems)


def plain(message: Any) -> str:
    """A message in its source language, placeholders filled (for logs and the CLI)."""
    if not hasattr(message, "interpolate"):
        return str(message)
    if message.mapping:
        message = type(message)(message, mapping={
            k: ", ".join(plain(i) for i in v) if isinstance(v, (list, tuple)) else plain(v)
            for k, v in message.mapping.items()})
    return message.interpolate()


class Conflict(Exception):
    """Someone else changed the object first; nothing was written."""


class EffectFailed(Exception):
    """An effect raised after the state had changed.  The caller must abandon the whole
    transaction (state, history and every effect's writes), so nothing is half done.
    ``origin`` names the plugin that added the effect ("" for grants itself)."""

    def __init__(self, transition: Transition, effect: str, origin: str, error: BaseException):
        self.transition = transition
        self.effect = effect
        self.origin = origin
        self.error = error
        super().__init__(f"effect {effect!r} of {transition.trigger!r} failed: {type(error).__name__}: {error}")


@dataclass
class FireContext:
    """What guards and effects are given.  ``env`` carries what the caller provides
    (a database session, the request, ``after_commit``) — the engine never looks inside."""

    obj: Any
    workflow: "Workflow"
    transition: Transition
    actor: Actor
    data: Mapping[str, Any] | None
    comment: str
    now: dt.datetime
    env: Any = None
    refusals: list[Any] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.obj.state


@dataclass(frozen=True)
class Record:
    """One history entry, produced by a fire or a migration, for the caller to store."""

    workflow_id: str
    workflow_version: int
    definition_digest: str
    trigger: str
    from_state: str
    to_state: str
    actor_id: str | None
    comment: str
    data_digest: str | None
    at: dt.datetime


@dataclass(frozen=True)
class Option:
    """A transition as seen by one actor now: may they fire it, and if not, why."""

    transition: Transition
    allowed: bool
    reasons: tuple[Any, ...] = ()


def data_digest(data: Mapping[str, Any] | None) -> str | None:
    if data is None:
        return None
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Workflow:
    def __init__(
        self,
        definition: Definition,
        guards: Mapping[str, list[tuple[str, Guard]]],
        effects: Mapping[str, list[tuple[str, Effect]]],
        forms: Mapping[str, Callable[[], Any]],
    ):
        self.definition = definition
        self._guards = guards  # trigger -> [(name, callable)]
        self._effects = effects
        self._forms = forms  # form name -> schema factory
        self.effect_origins: dict[str, str] = {}  # effect name -> plugin that added it
        self.machine = self._build_machine()

    # -- construction -----------------------------------------------------------

    def _build_machine(self) -> Machine:
        d = self.definition
        machine = Machine(
            model=None,
            states=list(d.states),
            initial=None,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
            name=f"{d.id}@{d.version}",
        )
        for t in d.transitions:
            machine.add_transition(
                t.trigger,
                source=list(t.sources),
                dest=t.dest,
                conditions=[self._condition(name, guard) for name, guard in self._guards.get(t.trigger, [])],
            )
        return machine

    @staticmethod
    def _condition(name: str, guard: Guard) -> Callable[[Any], bool]:
        def check(event) -> bool:
            ctx: FireContext = event.kwargs["ctx"]
            reason = guard(ctx)
            if reason:
                ctx.refusals.append(reason)
                return False
            return True

        check.__name__ = f"guard:{name}"
        return check

    # -- reading ----------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def version(self) -> int:
        return self.definition.version

    def state_of(self, obj: Any) -> State:
        return self.definition.states[obj.state]

    def form_for_transition(self, trigger: str):
        t = self.definition.transition(trigger)
        return self._forms[t.form] if t and t.form else None

    def form_for_state(self, state_id: str):
        form = self.definition.states[state_id].form
        return self._forms[form] if form else None

    def start(self, obj: Any) -> None:
        """Put a new object at the start of this workflow."""
        obj.workflow_id = self.definition.id
        obj.workflow_version = self.definition.version
        obj.workflow_digest = self.definition.digest
        obj.state = self.definition.initial

    def _check_object(self, obj: Any) -> None:
        if (obj.workflow_id, obj.workflow_version) != self.definition.key:
            raise ValueError(
                f"object runs {obj.workflow_id} v{obj.workflow_version}, not {self.definition.id} v{self.definition.version}"
            )

    def _permission_refusal(self, obj: Any, t: Transition, actor: Actor):
        if actor.system:
            return None
        if self.state_of(obj).roles_for(t.permission) & actor.roles:
            return None
        return _("You are not allowed to do “${action}” here.", mapping={"action": _(t.title)})

    def _guard_refusals(self, ctx: FireContext) -> list[Any]:
        reasons = []
        for _name, guard in self._guards.get(ctx.transition.trigger, []):
            reason = guard(ctx)
            if reason:
                reasons.append(reason)
        return reasons

    def options(self, obj: Any, actor: Actor, *, env: Any = None, now: dt.datetime | None = None) -> list[Option]:
        """Every transition out of the object's current state, with whether ``actor`` may
        fire it now and, if not, every reason why.  Guards are called directly (not through
        the machine's ``may_*``) so nothing but the guards runs."""
        self._check_object(obj)
        now = now or utcnow()
        result = []
        for t in self.definition.transitions_from(obj.state):
            reasons = []
            refusal = self._permission_refusal(obj, t, actor)
            if refusal is not None:
                reasons.append(refusal)
            else:
                ctx = FireContext(obj, self, t, actor, None, "", now, env)
                reasons.extend(self._guard_refusals(ctx))
            result.append(Option(t, not reasons, tuple(reasons)))
        return result

    # -- firing -----------------------------------------------------------------

    def fire(
        self,
        obj: Any,
        trigger: str,
        actor: Actor,
        *,
        data: Mapping[str, Any] | None = None,
        comment: str = "",
        env: Any = None,
        now: dt.datetime | None = None,
        record: Callable[[Record], None] | None = None,
    ) -> Record:
        """Fire ``trigger`` on ``obj``.  Raises :class:`Refused` (nothing changed) or
        returns the history :class:`Record`, which ``record`` is given before effects run."""
        self._check_object(obj)
        now = now or utcnow()
        source = obj.state
        t = self.definition.transition(trigger, source)
        if t is None:
            known = self.definition.transition(trigger)
            if known is None:
                raise Refused([_("There is no step called “${trigger}”.", mapping={"trigger": trigger})])
            raise Refused(
                [
                    _(
                        "“${action}” is not possible while this is “${state}”.",
                        mapping={"action": _(known.title), "state": _(self.state_of(obj).title)},
                    )
                ]
            )
        refusal = self._permission_refusal(obj, t, actor)
        if refusal is not None:
            raise Refused([refusal])
        if t.form and data is None:
            raise Refused([_("“${action}” needs its form filled in.", mapping={"action": _(t.title)})])
        comment = (comment or "").strip()
        if t.comment_required and not comment:
            raise Refused([_("Give a reason for “${action}”.", mapping={"action": _(t.title)})])

        ctx = FireContext(obj, self, t, actor, data, comment, now, env)
        if not self.machine.events[trigger].trigger(obj, ctx=ctx):
            raise Refused(ctx.refusals or [_("“${action}” is not possible now.", mapping={"action": _(t.title)})])

        entry = Record(
            workflow_id=self.definition.id,
            workflow_version=self.definition.version,
            definition_digest=self.definition.digest,
            trigger=trigger,
            from_state=source,
            to_state=obj.state,
            actor_id=actor.id,
            comment=comment,
            data_digest=data_digest(data),
            at=now,
        )
        if record is not None:
            record(entry)
        for name, effect in self._effects.get(trigger, []):
            try:
                effect(ctx)
            except Exception as exc:
                obj.state = source  # the caller abandons the transaction; don't leave the object moved
                if isinstance(exc, Conflict):
                    raise
                # Even a refusal is a failure here: the move has happened and must be undone
                # with the transaction, which a caller catching Refused would not do.
                raise EffectFailed(t, name, self.effect_origins.get(name, ""), exc) from exc
        return entry

    def due(self, obj: Any, now: dt.datetime) -> Transition | None:
        """The first time-based transition out of the object's state whose moment has come."""
        for t in self.definition.transitions_from(obj.state):
            if t.at is None:
                continue
            moment = getattr(obj, t.at, None)
            if moment is not None and _aware(moment) <= now:
                return t
        return None


def _aware(moment: dt.datetime) -> dt.datetime:
    # Stored datetimes are UTC; SQLite hands them back without a zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
