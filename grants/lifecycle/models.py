"""What every object with a workflow stores, and the append-only history of its moves."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, declared_attr, joinedload, mapped_column

from grants.db import Base, UTCDateTime


class WorkflowMixin:
    """Columns for an object that moves through a workflow.

    ``row_version`` is SQLAlchemy's ``version_id_col``: every UPDATE says
    ``WHERE row_version = <what we read>``, so of two concurrent fires only one matches.
    Subclasses name their workflow in ``__workflow__``.
    """

    __workflow__: str = ""
    #: The relationships from this object up to its parents, nearest first ("round",
    #: "programme"): what permission checks walk (``grants.security.lineage``).  Loading an
    #: object for a fire joins them in (``lineage_options``) instead of one lazy load each.
    __lineage__: tuple[str, ...] = ()
    #: The column whose value groups "how many ever reached each state" (an application's
    #: ``round_id``), kept in :class:`ReachedCount` as the history is written; None: not counted.
    __reached_counted_by__: str | None = None

    workflow_id: Mapped[str] = mapped_column(String(64))
    workflow_version: Mapped[int] = mapped_column(Integer)
    workflow_digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64), index=True)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.row_version}

    @classmethod
    def lineage_options(cls) -> list:
        """Loader options bringing the parents in with the object, in the same statement."""
        if not cls.__lineage__:
            return []
        model, path = cls, None
        for name in cls.__lineage__:
            attribute = getattr(model, name)
            path = joinedload(attribute) if path is None else path.joinedload(attribute)
            model = attribute.property.mapper.class_
        return [path]

    @property
    def object_type(self) -> str:
        return self.__tablename__

    @property
    def __acl__(self):
        """Computed now from the state's permission map; never stored."""
        from pyramid.threadlocal import get_current_registry

        from grants.security import workflow_acl

        wf = get_current_registry().workflows.for_object(self)
        return workflow_acl(wf.state_of(self), wf.definition.managed_permissions)


def workflow_index(table: str) -> Index:
    """The index on (workflow_id, workflow_version, state, id) of a workflow table that
    :class:`StateCount` does not count (``STATE_COUNTED``): the move page's list of the
    versions in use is a DISTINCT read from it, and its first objects of each state the
    start of one range of it, not a walk of every row (migration 0025)."""
    return Index(f"ix_{table}_workflow", "workflow_id", "workflow_version", "state", "id")


def workflow_models() -> list[type]:
    """Every mapped class that carries a workflow."""
    return sorted(
        (m.class_ for m in Base.registry.mappers if issubclass(m.class_, WorkflowMixin)),
        key=lambda cls: cls.__tablename__,
    )


class HistoryEntry(Base):
    """One move of one object.  Rows are only ever inserted (see the flush guard below)."""

    __tablename__ = "workflow_history"
    # The second index: "how many applications ever reached each state" (the funnels)
    # reads the steps of a round's applications from the index alone.
    __table_args__ = (Index("ix_workflow_history_object", "object_type", "object_id", "id"),
                      Index("ix_workflow_history_reached", "object_type", "object_id", "workflow_id",
                            "workflow_version", "to_state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int] = mapped_column(Integer)
    workflow_id: Mapped[str] = mapped_column(String(64))
    workflow_version: Mapped[int] = mapped_column(Integer)
    definition_digest: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(128))  # "user:12", "system:tick", "system:migrate"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # a step's comment, or the long reason a step's own form asks for (an early end's rationale)
    comment: Mapped[str] = mapped_column(String(20_000), default="")  # grants.text.LONG_MAX
    data_digest: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReachedCount(Base):
    """How many objects of one kind, in one group (an application's round), have ever been
    in each state: "20 incubated" stays 20 after they all move on.  Counting that from the
    history reads every step of every object of the group, so a round's page would cost
    more the more applications it has; this row is one read instead.  It is kept in the
    same transaction as the history row that makes it grow (``WorkflowService._store``, one
    statement: ``grants.db.add_to_counts``), by the bulk writers of history (``grants bench
    seed``), and made from the history by migration 0023."""

    __tablename__ = "workflow_reached_counts"

    object_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False)


class StateCount(Base):
    """How many objects of one kind, in one group (an application's round), are in each
    state of each workflow version now: the round page's funnel, and which workflows its
    applications run.  Counting that over the round's rows costs more the bigger the round;
    this is one short read.

    Kept by triggers in the database (migration 0024), not by Python: a row made, moved,
    migrated to another version or deleted by any path (a fire, ``grants workflow
    migrate``, a bulk insert, plain SQL) is counted in its own statement.  A move takes
    the two counter rows it changes in the same order (by state) so two moves the opposite
    way do not deadlock.  Only the tables named in that migration are counted
    (applications, by round)."""

    __tablename__ = "workflow_state_counts"

    object_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False)


#: The tables whose rows :class:`StateCount` counts (migration 0024 made their triggers), and
#: the column its ``group_id`` holds: a reader may take counts from it only for these.
STATE_COUNTED = {"applications": "round_id"}


class InstalledWorkflow(Base):
    """Every workflow (and version) an instance has run, with the plugin that provided it,
    written at start-up.  When a plugin is disabled while objects still run its workflow,
    start-up can name the plugin and the way back."""

    __tablename__ = "installed_workflows"

    workflow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    family: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(100), default="")
    digest: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


@event.listens_for(Session, "before_flush")
def _history_is_append_only(session, _flush_context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, HistoryEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("workflow history is append-only")

