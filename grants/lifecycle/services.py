"""Workflows applied to stored objects: firing inside a database transaction, history,
time-based transitions (`grants tick`), start-up checks, and migrations between versions.

This is the one place where the engine (``grants.workflow``) meets SQLAlchemy.
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable

import transaction
from sqlalchemy import Integer, String, and_, bindparam, exists, func, inspect, literal, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from grants.i18n import _
from grants.concurrency import CHANGED_FIRST, DATABASE_BUSY
from grants.db import counts_statement
from grants.security import lineage, local_roles
from grants.workflow import (Actor, Conflict, EffectFailed, Option, Record, Refused, WorkflowConfigurationError,
                             WorkflowRegistry)
from grants.workflow.engine import utcnow

from .meanings import means, state_means, states_meaning  # noqa: F401  (re-exported for services)
from .models import (STATE_COUNTED, HistoryEntry, InstalledWorkflow, ReachedCount, StateCount, WorkflowMixin,
                     workflow_models)

log = logging.getLogger(__name__)


@dataclass
class Env:
    """What guards and effects receive as ``ctx.env``."""

    dbsession: Session
    request: Any = None
    transaction_manager: Any = None
    settings: dict = field(default_factory=dict)
    #: The application's Pyramid registry (mailer, translations) when there is one.
    app: Any = None

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` only if the surrounding transaction commits (mail, webhooks)."""
        tm = self.transaction_manager or transaction.manager

        def hook(success: bool) -> None:
            if success:
                try:
                    fn()
                except Exception:  # the data is committed; a failed mail must not look like a failed fire
                    log.exception("after-commit action failed")

        tm.get().addAfterCommitHook(hook)


def workflows_of(registry) -> WorkflowRegistry:
    """The WorkflowRegistry, given it or the Pyramid registry that carries it (services
    take either, so scripts and plugins can pass what they have)."""
    return getattr(registry, "workflows", registry)


def settings_of(registry) -> dict:
    """The deployment's settings, given the Pyramid registry or the WorkflowRegistry that
    carries it (``app_registry``); empty for a bare engine in a script."""
    settings = getattr(registry, "settings", None)
    if settings is None:
        settings = getattr(getattr(registry, "app_registry", None), "settings", None)
    return settings or {}


def holds_permission(registry, obj: WorkflowMixin, user, permission: str) -> bool:
    """Does ``user`` hold ``permission`` on ``obj`` in its current workflow state?  The
    answer ``request.has_permission`` gives, for services called without a request."""
    state = workflows_of(registry).for_object(obj).state_of(obj)
    return bool(state.roles_for(permission) & local_roles(obj, user))


# -- variants and meanings -------------------------------------------------------------------


def chosen_workflow(obj: WorkflowMixin) -> str:
    """The workflow a new object runs: the variant of its family chosen by the nearest
    round or programme above it (``workflow_choices``), else the family's base."""
    return workflow_chosen_at(getattr(obj, "__parent__", None), obj.__workflow__)


def workflow_chosen_at(place, family: str) -> str:
    """The workflow new ``family`` objects made under ``place`` run."""
    return workflow_choice_at(place, family)[0]


def workflow_choice_at(place, family: str) -> tuple[str, int | None]:
    """The workflow new ``family`` objects made under ``place`` run, and the version the
    place that chose it pinned (None: the newest).  A pin belongs to its choice: a round
    that chooses nothing follows its programme's choice, not an old pin."""
    for node in lineage(place):
        choice = (getattr(node, "workflow_choices", None) or {}).get(family)
        if choice:
            return choice, (getattr(node, "workflow_pins", None) or {}).get(family)
    return family, None


class WorkflowService:
    """Fire transitions on stored objects.  One per request (or per CLI transaction)."""

    def __init__(self, registry: WorkflowRegistry, dbsession: Session, *, request=None, transaction_manager=None,
                 settings: dict | None = None):
        self.registry = registry
        self.dbsession = dbsession
        self.env = Env(dbsession, request, transaction_manager, settings or {},
                       app=getattr(registry, "app_registry", None))

    # -- reading --------------------------------------------------------------------

    def load(self, model: type, obj_id: int):
        """The object ``model`` ``obj_id`` (None if there is none) with its parents, in one
        statement: firing checks permissions up the lineage, which would otherwise load
        each parent on its own."""
        return self.dbsession.get(model, obj_id, options=model.lineage_options())

    def workflow(self, obj: WorkflowMixin):
        return self.registry.for_object(obj)

    def actor(self, obj: WorkflowMixin, user) -> Actor:
        return Actor(id=None if user is None else f"user:{user.id}", roles=local_roles(obj, user))

    def options(self, obj: WorkflowMixin, user) -> list[Option]:
        return self.workflow(obj).options(obj, self.actor(obj, user), env=self.env)

    def allowed(self, obj: WorkflowMixin, user) -> list[Option]:
        return [o for o in self.options(obj, user) if o.allowed]

    def history(self, obj: WorkflowMixin) -> list[HistoryEntry]:
        return list(
            self.dbsession.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.object_type == obj.object_type, HistoryEntry.object_id == obj.id)
                .order_by(HistoryEntry.id)
            )
        )

    # -- writing --------------------------------------------------------------------

    def start(self, obj: WorkflowMixin, user=None, *, actor: Actor | None = None, now: dt.datetime | None = None):
        """Put a new object into the newest version of its workflow and record its creation."""
        with self.dbsession.no_autoflush:  # the new object may be half-attached to its parent
            choice, pinned = workflow_choice_at(getattr(obj, "__parent__", None), obj.__workflow__)
        try:
            wf = self.registry.get(choice, pinned)
        except (KeyError, WorkflowConfigurationError):  # not released, or no longer checks here
            if pinned is not None:
                raise Refused([_("Version ${version} of the workflow “${workflow}” chosen for this is not "
                                 "released.", mapping={"workflow": choice, "version": pinned})]) from None
            raise Refused([_("The workflow “${workflow}” chosen for this is not installed.",
                             mapping={"workflow": choice})]) from None
        if wf.definition.family != obj.__workflow__:
            raise Refused([_("The workflow “${workflow}” is not one for this kind of object.",
                             mapping={"workflow": choice})])
        wf.start(obj)
        self.dbsession.add(obj)
        self.dbsession.flush()  # we need its id for history
        actor = actor or self.actor(obj, user)
        self._store(obj, Record(wf.id, wf.version, wf.definition.digest, "create", None, obj.state, actor.id, "",
                                None, now or utcnow()))
        return obj

    def fire(self, obj: WorkflowMixin, trigger: str, user=None, *, actor: Actor | None = None, data=None,
             comment: str = "", now: dt.datetime | None = None) -> Record:
        """Fire ``trigger``; raises :class:`Refused` (nothing changed) or :class:`Conflict`
        (someone else moved it first; the transaction must be abandoned)."""
        wf = self.workflow(obj)
        actor = actor or self.actor(obj, user)
        try:
            # Storing the record writes (the "reached" count) before the effects run: a
            # database kept busy by another writer is a conflict there as at the flush.
            record = wf.fire(obj, trigger, actor, data=data, comment=comment, env=self.env, now=now,
                             record=lambda r: self._store(obj, r))
            self.dbsession.flush()
        except EffectFailed as failure:
            # State, history and whatever the effects wrote go together or not at all.
            log.error("%s", failure, exc_info=failure.error)
            (self.env.transaction_manager or transaction.manager).get().doom()
            raise
        except StaleDataError:
            raise Conflict(CHANGED_FIRST) from None
        except OperationalError as exc:
            # SQLite: the other writer kept the lock too long.  PostgreSQL: two fires took
            # the same counters in opposite orders (deadlock), or a serializable
            # transaction lost; either way the other one goes on, and this one is a 409.
            if _lost_to_another_writer(exc):
                raise Conflict(DATABASE_BUSY) from None
            raise
        return record

    def _store(self, obj: WorkflowMixin, r: Record) -> None:
        group = type(obj).__reached_counted_by__
        if group is not None:
            count_reached(self.dbsession, obj.object_type, obj.id, getattr(obj, group), r.to_state)
        self.dbsession.add(
            HistoryEntry(
                object_type=obj.object_type,
                object_id=obj.id,
                workflow_id=r.workflow_id,
                workflow_version=r.workflow_version,
                definition_digest=r.definition_digest,
                trigger=r.trigger,
                from_state=r.from_state,
                to_state=r.to_state,
                actor=r.actor_id,
                user_id=_user_id(r.actor_id),
                comment=r.comment,
                data_digest=r.data_digest,
                at=r.at,
            )
        )


def _lost_to_another_writer(exc: OperationalError) -> bool:
    """Did this transaction lose to another writer?  PostgreSQL says so by the error's
    SQLSTATE (40P01 deadlock, 40001 serialization failure); SQLite by its lock having been
    waited out ("database is locked").  Matched on the driver's own error, never on words
    that a message about something else could contain ("blocked by process …")."""
    if getattr(exc.orig, "sqlstate", None) in ("40P01", "40001"):
        return True
    return isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig)


def count_reached(dbsession: Session, object_type: str, object_id: int, group_id: int, state: str) -> None:
    """Count one more object of ``group_id`` that reached ``state`` (:class:`ReachedCount`),
    unless this object has been there before; called before its history row is added.  One
    statement: the "has it been there" test is a NOT EXISTS on the object's own history
    rows (``ix_workflow_history_reached``) inside the INSERT … ON CONFLICT that adds, so
    two fires at once each count, and a fire that loses its race is rolled back with its
    count.  Rows of this transaction not yet flushed are looked at in the session."""
    for pending in dbsession.new:
        if (isinstance(pending, HistoryEntry) and pending.object_type == object_type
                and pending.object_id == object_id and pending.to_state == state):
            return
    dialect = dbsession.get_bind().dialect.name
    statement = _COUNT_REACHED.get(dialect)
    if statement is None:
        statement = _COUNT_REACHED[dialect] = _count_reached_statement(dialect)
    dbsession.connection().execute(statement, {"object_type": object_type, "object_id": object_id,
                                               "group_id": group_id, "state": state})


#: :func:`count_reached`'s statement per dialect, built once: building it again on each
#: fire (and working out its cache key) was a fifth of a fire's time.
_COUNT_REACHED: dict[str, Any] = {}


def _count_reached_statement(dialect: str):
    object_type, state = bindparam("object_type", type_=String), bindparam("state", type_=String)
    been_there = exists().where(HistoryEntry.object_type == object_type,
                                HistoryEntry.object_id == bindparam("object_id", type_=Integer),
                                HistoryEntry.to_state == state)
    # The WHERE also keeps SQLite from reading ON CONFLICT as part of the SELECT.
    first_time = select(object_type, bindparam("group_id", type_=Integer), state,
                        literal(1, Integer)).where(~been_there)
    return counts_statement(dialect, ReachedCount, names=["object_type", "group_id", "state", "n"],
                            select=first_time)


def reached_counts(dbsession: Session, model: type, group_id: int) -> dict[str, int]:
    """{state: how many ``model`` objects of ``group_id`` have ever been in it}, from
    :class:`ReachedCount` (one short read, whatever the size of the group)."""
    return dict(dbsession.execute(select(ReachedCount.state, ReachedCount.n).where(
        ReachedCount.object_type == model.__tablename__, ReachedCount.group_id == group_id)).all())


def _user_id(actor_id: str | None) -> int | None:
    kind, _, number = (actor_id or "").partition(":")
    return int(number) if kind == "user" and number.isdigit() else None


# -- checks at start-up ----------------------------------------------------------------


class StoredStateError(Exception):
    """The database holds workflow states the running definitions do not know."""


def check_stored_states(dbsession: Session, registry: WorkflowRegistry) -> None:
    """Refuse to run if any row is in a workflow, version or state we do not know, naming
    the rows, the plugin the workflow came from (when the instance has run it before) and
    the way out."""
    tables = set(inspect(dbsession.get_bind()).get_table_names())
    origins = {}
    if InstalledWorkflow.__tablename__ in tables:
        origins = {(row.workflow_id, row.version): row.origin for row in dbsession.scalars(select(InstalledWorkflow))}
    problems = []
    for model in workflow_models():
        if model.__tablename__ not in tables:
            raise StoredStateError(
                f"the database has no table {model.__tablename__!r}: run `grants initdb` with this .ini first"
            )
        rows = dbsession.execute(
            select(model.workflow_id, model.workflow_version, model.state, func.count(), func.min(model.id),
                   func.max(model.id))
            .group_by(model.workflow_id, model.workflow_version, model.state)
        )
        for wf_id, version, state, count, first, last in rows:
            which, are = ((f"1 row of {model.__tablename__} (id {first})", "is") if count == 1 else
                          (f"{count} rows of {model.__tablename__} (ids {first} to {last})", "are"))
            if (wf_id, version) not in registry:
                origin = origins.get((wf_id, version))
                source = f", which came from plugin {origin!r}, now not enabled" if origin else ", which is not installed"
                way_back = (f"enable {origin!r} again in grants.plugins" if origin
                            else "install and enable the plugin that provides it")
                problems.append(
                    f"{which} {'runs' if are == 'is' else 'run'} workflow {wf_id} v{version}{source} "
                    f"(state {state!r}): {way_back}, or move them "
                    f"with `grants workflow migrate INI {wf_id} --from {version} --to {model.__workflow__}:N "
                    f"--map {state}=STATE`"
                )
            elif state not in registry.get(wf_id, version).definition.states:
                problems.append(
                    f"{which} {are} in state {state!r}, which workflow {wf_id} v{version} does not know: restore the "
                    f"definition, or move them with `grants workflow migrate INI {wf_id} --from {version} "
                    f"--to {wf_id}:{version} --map {state}=STATE`"
                )
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise StoredStateError(problems[0] + more)


def record_installed_workflows(dbsession: Session, registry: WorkflowRegistry, now: dt.datetime | None = None) -> None:
    """Remember every compiled workflow and the plugin that provides it (see
    :class:`InstalledWorkflow`).  Safe when several processes start at once."""
    now = now or utcnow()
    known = {(row.workflow_id, row.version): row for row in dbsession.scalars(select(InstalledWorkflow))}
    for wf in registry:
        d = wf.definition
        row = known.get(d.key)
        if row is None:
            dbsession.add(InstalledWorkflow(workflow_id=d.id, version=d.version, family=d.family, origin=d.origin,
                                            digest=d.digest, seen_at=now))
        elif (row.origin, row.digest, row.family) != (d.origin, d.digest, d.family):
            row.origin, row.digest, row.family, row.seen_at = d.origin, d.digest, d.family, now


# -- time ------------------------------------------------------------------------------------


@dataclass
class TickOutcome:
    object_type: str
    object_id: int
    trigger: str
    result: str  # "fired", "refused: ...", "conflict"


#: Due objects looked up per query by :func:`iter_tick`: however many are due, it holds
#: one batch of ids, and each object still moves in a transaction of its own.
TICK_BATCH = 500


def tick(database, registry: WorkflowRegistry, *, now: dt.datetime | None = None, settings: dict | None = None
         ) -> list[TickOutcome]:
    """Every outcome of :func:`iter_tick`, as a list."""
    return list(iter_tick(database, registry, now=now, settings=settings))


def iter_tick(database, registry: WorkflowRegistry, *, now: dt.datetime | None = None,
              settings: dict | None = None, batch: int = TICK_BATCH):
    """Fire every time-based transition that is due, yielding each object's outcome as it
    is done.  Each object moves in its own transaction, so one refusal, conflict or
    failure does not hold up the rest, and a tick killed half-way leaves every object
    moved (with its history row) or untouched.  Running it again, or twice at once, does
    nothing more: a moved object is no longer in the source state, and a concurrent tick
    loses the optimistic-lock race and skips it."""
    now = now or utcnow()
    system = Actor.system_actor("system:tick")
    for model in workflow_models():
        # The workflows its rows run, read from the rows: a plugin's variant or a version
        # edited in the browser ticks as the family's base does.
        with database.transaction() as (_tm, dbsession):
            keys = sorted(dbsession.execute(select(model.workflow_id, model.workflow_version).distinct()).all())
        for workflow_id, version in keys:
            if (workflow_id, version) not in registry:  # start-up refuses such rows; not ours to move
                continue
            wf = registry.get(workflow_id, version)
            for t in wf.definition.transitions:
                if t.at is None:
                    continue
                moment = getattr(model, t.at)
                last = 0
                while True:
                    # Paged by id: the objects fired leave the source states, the others
                    # (refused, failed) are passed by, so each page starts after the last.
                    with database.transaction() as (_tm, dbsession):
                        due_ids = list(dbsession.scalars(
                            select(model.id).where(
                                model.workflow_id == wf.id,
                                model.workflow_version == version,
                                model.state.in_(t.sources),
                                moment.is_not(None),
                                moment <= now,
                                model.id > last,
                            ).order_by(model.id).limit(batch)
                        ))
                    if not due_ids:
                        break
                    for obj_id in due_ids:
                        yield _tick_one(database, registry, model, obj_id, t.trigger, system, now, settings)
                    last = due_ids[-1]


def _tick_one(database, registry, model, obj_id, trigger, system, now, settings) -> TickOutcome:
    def fire(service, obj):
        due = service.workflow(obj).due(obj, now)
        if due is None or due.trigger != trigger:
            return "skipped: no longer due"
        service.fire(obj, trigger, actor=system, now=now)
    return _fire_alone(database, registry, model, obj_id, trigger, settings, fire)


def _fire_alone(database, registry, model, obj_id: int, trigger: str, settings, fire) -> TickOutcome | None:
    """Load ``model`` ``obj_id`` in a transaction of its own and call ``fire(service, obj)``:
    the outcome is "fired", or what ``fire`` returns instead (a reason to pass the object
    by, or ``False`` to pass it by unreported), or the refusal, conflict or failure that
    stopped it — one object's trouble is never the others'."""
    try:
        with database.transaction() as (tm, dbsession):
            service = WorkflowService(registry, dbsession, transaction_manager=tm, settings=settings)
            passed_by = fire(service, service.load(model, obj_id))
        if passed_by is False:
            return None
        return TickOutcome(model.__tablename__, obj_id, trigger, passed_by or "fired")
    except Refused as exc:
        return TickOutcome(model.__tablename__, obj_id, trigger, f"refused: {exc}")
    except (Conflict, StaleDataError):
        return TickOutcome(model.__tablename__, obj_id, trigger, "conflict: another process moved it first")
    except Exception as exc:  # an effect or the database failing on this one: the others still go
        log.exception("%s %s: %s failed", model.__tablename__, obj_id, trigger)
        return TickOutcome(model.__tablename__, obj_id, trigger, f"failed: {type(exc).__name__}: {exc}")


# -- one step on many objects -------------------------------------------------------


#: Objects looked up per query by :func:`iter_fire_many` (each still fires in a
#: transaction of its own).
FIRE_MANY_BATCH = 500


def iter_fire_many(database, registry: WorkflowRegistry, model: type, trigger: str, user_id: int, *,
                   round_id: int | None = None, states: tuple[str, ...] = (), comment: str = "",
                   batch: int = FIRE_MANY_BATCH, settings: dict | None = None):
    """Fire ``trigger`` on every ``model`` object it can leave from (only those in
    ``states`` if given; only those of round ``round_id`` if given) as the user
    ``user_id``, whose roles, the guards and the comment rules apply to each object as on
    its page.  Yields each object's outcome as it is done.

    The bulk operation an officer needs on many objects (release every tranche whose
    condition holds, mark a round's late drafts): like :func:`iter_tick`, each object moves
    in its own transaction, so a run killed half-way leaves every object moved with its
    history row or untouched, and running it again moves the rest (the moved ones are no
    longer in a state the step leaves).  One refusal does not hold up the others."""
    from grants.accounts.models import User

    def fire(service, obj):
        if round_id is not None and not any(getattr(node, "__tablename__", None) == "rounds" and node.id == round_id
                                            for node in lineage(obj)):
            return False  # another round's
        service.fire(obj, trigger, service.dbsession.get(User, user_id), comment=comment)

    with database.transaction() as (_tm, dbsession):
        keys = sorted(dbsession.execute(select(model.workflow_id, model.workflow_version).distinct()).all())
    for workflow_id, version in keys:
        if (workflow_id, version) not in registry:
            continue
        sources = sorted({source for t in registry.get(workflow_id, version).definition.transitions
                          if t.trigger == trigger for source in t.sources})
        if states:
            sources = [s for s in sources if s in states]
        if not sources:
            continue
        last = 0
        while True:
            query = select(model.id).where(model.workflow_id == workflow_id, model.workflow_version == version,
                                           model.state.in_(sources), model.id > last)
            if round_id is not None and "round_id" in model.__table__.c:
                query = query.where(model.round_id == round_id)  # other kinds: by their lineage, below
            with database.transaction() as (_tm, dbsession):
                ids = list(dbsession.scalars(query.order_by(model.id).limit(batch)))
            if not ids:
                break
            for obj_id in ids:
                outcome = _fire_alone(database, registry, model, obj_id, trigger, settings, fire)
                if outcome is not None:
                    yield outcome
            last = ids[-1]


# -- migrations between definition versions ------------------------------------------


class MigrationError(Exception):
    pass


@dataclass
class MigrationPlan:
    """Which objects a migration moves, and where: ``moves`` maps each old state the
    objects are in to (new state, the objects in it).  Nothing has moved yet."""

    workflow_id: str
    from_version: int
    to_workflow: str
    to_version: int
    old: Any  # the old Definition, or None when it is no longer installed
    new: Any
    moves: dict[str, tuple[str | None, list]]

    @property
    def unmapped(self) -> list[str]:
        return sorted(source for source, (target, _objects) in self.moves.items() if target is None)

    @property
    def counts(self) -> dict[str, int]:
        return {source: len(objects) for source, (_target, objects) in self.moves.items()}


def default_state_map(old, new) -> dict[str, str]:
    """Where each state of ``old`` goes in ``new`` unless someone says otherwise: the state
    of the same id, else the first state with a meaning in common."""
    result = {}
    for state in old.states.values():
        if state.id in new.states:
            result[state.id] = state.id
            continue
        for meaning in sorted(state.means):
            found = sorted(new.states_meaning(meaning))
            if found:
                result[state.id] = found[0]
                break
    return result


def _definitions(registry: WorkflowRegistry, workflow_id: str, from_version: int, to_workflow: str,
                 to_version: int, state_map: dict[str, str]):
    """The old definition (None when no longer installed) and the new one, once the map is
    checked against them: MigrationError for a map that cannot be."""
    if (to_workflow, to_version) not in registry:
        raise MigrationError(f"workflow {to_workflow} has no version {to_version}")
    new = registry.get(to_workflow, to_version).definition
    old = registry.get(workflow_id, from_version).definition if (workflow_id, from_version) in registry else None
    if old is None and to_workflow == workflow_id:
        raise MigrationError(f"workflow {workflow_id} has no version {from_version}")
    if old is not None and old.family != new.family:
        raise MigrationError(f"{workflow_id} runs {old.family}s and {to_workflow} runs {new.family}s: "
                             "objects can only move within one family")
    for source, target in state_map.items():
        if old is not None and source not in old.states:
            raise MigrationError(f"--map {source}={target}: v{from_version} has no state {source!r}")
        if target not in new.states:
            raise MigrationError(f"--map {source}={target}: {to_workflow} v{to_version} has no state {target!r}")
    return old, new


def _to_move(model, workflow_id: str, from_version: int, to_workflow: str, to_version: int,
             state_map: dict[str, str], where: Callable | None) -> list:
    """The conditions on ``model``'s rows that a migration moves: what :func:`plan_migration`
    loads and :func:`preview_migration` counts, so the two cannot disagree."""
    conditions = [model.workflow_id == workflow_id, model.workflow_version == from_version]
    if where is not None:
        conditions.append(where(model))
    if (to_workflow, to_version) == (workflow_id, from_version):
        conditions.append(model.state.in_([s for s, t in state_map.items() if s != t]))
    return conditions


def in_round(round_id: int) -> Callable:
    """A ``where`` for the migrations: only the objects of one round (its applications)."""
    def where(model):
        if not hasattr(model, "round_id"):
            raise MigrationError(f"--round {round_id}: {model.__tablename__} do not belong to a round")
        return model.round_id == round_id
    return where


def plan_migration(dbsession: Session, registry: WorkflowRegistry, workflow_id: str, from_version: int,
                   to_version: int, state_map: dict[str, str], *, to_workflow: str | None = None,
                   where: Callable | None = None, after: int = 0, limit: int | None = None) -> MigrationPlan:
    """What :func:`migrate` would move (``where(model)`` narrows the objects, e.g. to one
    round's applications; ``after`` and ``limit``: the next batch, by id).  Raises
    MigrationError for a map that cannot be.  An object already where it would go (a map
    within one version, run again) is left out: moving it again would only add history."""
    to_workflow = to_workflow or workflow_id
    old, new = _definitions(registry, workflow_id, from_version, to_workflow, to_version, state_map)
    moves: dict[str, tuple[str | None, list]] = {}
    for model in (m for m in workflow_models() if m.__workflow__ == new.family):
        query = select(model).where(*_to_move(model, workflow_id, from_version, to_workflow, to_version,
                                              state_map, where))
        for obj in dbsession.scalars(query.where(model.id > after).order_by(model.id).limit(limit)):
            target = state_map.get(obj.state, obj.state if obj.state in new.states else None)
            moves.setdefault(obj.state, (target, []))[1].append(obj)
    return MigrationPlan(workflow_id, from_version, to_workflow, to_version, old, new, dict(sorted(moves.items())))


@dataclass
class StateMove:
    """Where the objects in one old state go, how many they are, and the first of them."""

    target: str | None
    count: int
    first: list


@dataclass
class MigrationPreview:
    """What a migration would move, counted by the database rather than loaded: for each
    old state, the new state, how many objects and the first few of them (by id)."""

    workflow_id: str
    from_version: int
    to_workflow: str
    to_version: int
    old: Any
    new: Any
    moves: dict[str, StateMove]

    @property
    def unmapped(self) -> list[str]:
        return sorted(source for source, move in self.moves.items() if move.target is None)

    @property
    def total(self) -> int:
        return sum(move.count for move in self.moves.values())


def preview_migration(dbsession: Session, registry: WorkflowRegistry, workflow_id: str, from_version: int,
                      to_version: int, state_map: dict[str, str], *, to_workflow: str | None = None,
                      round_id: int | None = None, first: int = 20) -> MigrationPreview:
    """:func:`plan_migration`'s checks and what it would move, at any number of objects: the
    objects in each state are counted (one GROUP BY, read from :class:`StateCount` for the
    tables it counts) and only the ``first`` of each state are loaded.  ``round_id``: only
    that round's objects.  The statements depend on the number of states, not of objects."""
    to_workflow = to_workflow or workflow_id
    old, new = _definitions(registry, workflow_id, from_version, to_workflow, to_version, state_map)
    where = in_round(round_id) if round_id is not None else None
    same_version = (to_workflow, to_version) == (workflow_id, from_version)
    counts: dict[str, int] = {}
    for model in (m for m in workflow_models() if m.__workflow__ == new.family):
        if STATE_COUNTED.get(model.__tablename__) == "round_id":
            # The triggers' counters: a few rows per round and state, whatever the round's size.
            query = (select(StateCount.state, func.sum(StateCount.n))
                     .where(StateCount.object_type == model.__tablename__, StateCount.workflow_id == workflow_id,
                            StateCount.workflow_version == from_version)
                     .group_by(StateCount.state).having(func.sum(StateCount.n) > 0))
            if round_id is not None:
                query = query.where(StateCount.group_id == round_id)
            if same_version:
                query = query.where(StateCount.state.in_([s for s, t in state_map.items() if s != t]))
        else:
            conditions = _to_move(model, workflow_id, from_version, to_workflow, to_version, state_map, where)
            query = select(model.state, func.count()).where(*conditions).group_by(model.state)
        for state, n in dbsession.execute(query):
            counts[state] = counts.get(state, 0) + int(n)
    moves = {}
    for state, n in sorted(counts.items()):
        found = []
        for model in (m for m in workflow_models() if m.__workflow__ == new.family):
            if len(found) < first:
                conditions = _to_move(model, workflow_id, from_version, to_workflow, to_version, state_map, where)
                found += dbsession.scalars(select(model).where(*conditions, model.state == state)
                                           .order_by(model.id).limit(first - len(found)))
        moves[state] = StateMove(state_map.get(state, state if state in new.states else None), n, found)
    return MigrationPreview(workflow_id, from_version, to_workflow, to_version, old, new, moves)


def versions_in_use(dbsession: Session, family: str) -> list[tuple[str, int]]:
    """The (workflow id, version) pairs that objects of ``family`` are on, without reading
    every object: from :class:`StateCount` for the tables it counts, else a DISTINCT that
    the database reads from the table's index on (workflow_id, workflow_version, …)
    (``workflow_index``; a plugin's workflow table should declare it too)."""
    keys = set()
    for model in (m for m in workflow_models() if m.__workflow__ == family):
        if model.__tablename__ in STATE_COUNTED:
            query = (select(StateCount.workflow_id, StateCount.workflow_version).distinct()
                     .where(StateCount.object_type == model.__tablename__, StateCount.n > 0))
        else:
            query = select(model.workflow_id, model.workflow_version).distinct()
        keys.update((wf_id, version) for wf_id, version in dbsession.execute(query))
    return sorted(keys)


def carry_out(dbsession: Session, registry: WorkflowRegistry, plan: MigrationPlan, *, actor: Actor | None = None,
              now: dt.datetime | None = None) -> dict[str, int]:
    """Move the objects of ``plan``, each with a history row saying who moved it, from
    which state and version to which.  Returns how many objects left each old state."""
    if plan.unmapped:
        raise MigrationError(f"{plan.to_workflow} v{plan.to_version} has no state "
                             f"{', '.join(repr(s) for s in plan.unmapped)}: map it with --map OLD=NEW")
    now = now or utcnow()
    actor = actor or Actor.system_actor("system:migrate")
    new = plan.new
    target_name = (f"v{plan.to_version}" if plan.to_workflow == plan.workflow_id
                   else f"{plan.to_workflow} v{plan.to_version}")
    service = WorkflowService(registry, dbsession)
    for source, (target, objects) in plan.moves.items():
        for obj in objects:
            obj.state = target
            obj.workflow_id = plan.to_workflow
            obj.workflow_version = plan.to_version
            obj.workflow_digest = new.digest
            service._store(obj, Record(
                plan.to_workflow, plan.to_version, new.digest, "migrate", source, target, actor.id,
                f"migrated from {plan.workflow_id} v{plan.from_version} to {target_name}: {source} -> {target}",
                None, now))
    dbsession.flush()
    return plan.counts


def migrate(dbsession: Session, registry: WorkflowRegistry, workflow_id: str, from_version: int, to_version: int,
            state_map: dict[str, str], *, now: dt.datetime | None = None, to_workflow: str | None = None,
            where: Callable | None = None, actor: Actor | None = None) -> dict[str, int]:
    """Move every object on ``workflow_id`` v``from_version`` (that ``where`` selects) to
    v``to_version`` of ``to_workflow`` (default: the same workflow; another variant of the
    same family is fine, and so is leaving a workflow whose plugin was disabled).  States
    named in ``state_map`` become the mapped state; others must exist in the new version.
    Each move is recorded in history.  Returns how many objects left each old state.
    The command line and the page that moves objects (grants.workflow_editor) share it."""
    plan = plan_migration(dbsession, registry, workflow_id, from_version, to_version, state_map,
                          to_workflow=to_workflow, where=where)
    return carry_out(dbsession, registry, plan, actor=actor, now=now)


#: Objects moved per transaction by :func:`migrate_in_batches`.
MIGRATE_BATCH = 100


def migrate_in_batches(database, registry: WorkflowRegistry, workflow_id: str, from_version: int,
                       to_version: int, state_map: dict[str, str], *, to_workflow: str | None = None,
                       batch: int = MIGRATE_BATCH, now: dt.datetime | None = None, where: Callable | None = None,
                       progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """:func:`migrate` for any number of objects: ``batch`` objects per transaction, each
    committed with its history rows, so memory stays flat and a run killed half-way
    leaves every object moved with its history row or untouched; running the same
    command again moves the rest (the moved ones no longer match).  Every object's state
    is checked against the map before any moves, so a map that leaves one out changes
    nothing.  ``where(model)`` narrows the objects (:func:`in_round`).  ``progress(moved so
    far)`` is called after each batch."""
    to_workflow = to_workflow or workflow_id
    with database.transaction() as (_tm, dbsession):
        _check_every_state_maps(dbsession, registry, workflow_id, from_version, to_workflow, to_version, state_map,
                                where)
    now = now or utcnow()
    counts: dict[str, int] = {}
    moved = last = 0
    while True:
        with database.transaction() as (_tm, dbsession):
            plan = plan_migration(dbsession, registry, workflow_id, from_version, to_version, state_map,
                                  to_workflow=to_workflow, where=where, after=last, limit=batch)
            objects = [obj for _target, found in plan.moves.values() for obj in found]
            if not objects:
                break
            carry_out(dbsession, registry, plan, now=now)
            last = max(obj.id for obj in objects)
        for source, n in plan.counts.items():
            counts[source] = counts.get(source, 0) + n
        moved += len(objects)
        if progress is not None:
            progress(moved)
    return dict(sorted(counts.items()))


def _check_every_state_maps(dbsession, registry, workflow_id, from_version, to_workflow, to_version, state_map,
                            where=None):
    """Refuse (MigrationError) before anything moves if the map is wrong or leaves a state
    of the objects to move with nowhere to go: the states are counted, not the objects loaded."""
    _old, new = _definitions(registry, workflow_id, from_version, to_workflow, to_version, state_map)
    lost = set()
    for model in (m for m in workflow_models() if m.__workflow__ == new.family):
        query = select(model.state).distinct().where(model.workflow_id == workflow_id,
                                                      model.workflow_version == from_version)
        if where is not None:
            query = query.where(where(model))
        for (state,) in dbsession.execute(query):
            if state not in state_map and state not in new.states:
                lost.add(state)
    if lost:
        raise MigrationError(f"{to_workflow} v{to_version} has no state "
                             f"{', '.join(repr(s) for s in sorted(lost))}: map it with --map OLD=NEW")


# -- worklists ("my tasks") -----------------------------------------------------------------


@dataclass
class Task:
    obj: Any
    state: Any
    options: list[Option]


def worklist_candidates(service: WorkflowService, user, model):
    """A SELECT of the ``model`` rows that may hold a step for ``user``: in a non-final
    state of some installed version that has a transition out, where the user may hold a
    local role (``worklist_filter(user)``), and not moved on from (``worklist_current()``,
    when the model has it: an application whose award is made holds no step any more,
    whatever state it was left in).  Ordered by the model's ``__worklist_due__`` column
    (undated last), then id, so that pages of it are stable."""
    registry = service.registry
    in_states = []
    for version in registry.versions(model.__workflow__):
        wf = registry.get(model.__workflow__, version)
        states = [s.id for s in wf.definition.states.values() if not s.final and wf.definition.transitions_from(s.id)]
        if states:
            in_states.append(and_(model.workflow_id == wf.id, model.workflow_version == version,
                                  model.state.in_(states)))
    if not in_states:
        return None
    query = select(model).where(or_(*in_states))
    if not getattr(user, "is_admin", False):
        query = query.where(model.worklist_filter(user))
    current = getattr(model, "worklist_current", None)
    if current is not None:
        query = query.where(current())
    due = getattr(model, "__worklist_due__", None)
    order = [getattr(model, due).is_(None), getattr(model, due)] if due else []
    return query.order_by(*order, model.id)


def worklist(service: WorkflowService, user, *, model=None, limit: int | None = None, offset: int = 0) -> list[Task]:
    """Objects on which ``user`` can fire at least one transition now (Plone's worklists).

    Candidates come from :func:`worklist_candidates` (of ``model``, or of every workflow
    model), ``limit`` and ``offset`` applied in the database to each model's candidates;
    then the engine decides, guards included."""
    tasks: list[Task] = []
    for each in [model] if model is not None else workflow_models():
        query = worklist_candidates(service, user, each)
        if query is None:
            continue
        if limit is not None:
            query = query.limit(limit).offset(offset)
        for obj in service.dbsession.scalars(query):
            allowed = [o for o in service.options(obj, user) if o.allowed]
            if allowed:
                tasks.append(Task(obj, service.workflow(obj).state_of(obj), allowed))
    return tasks
