"""One row per change of configuration, never updated or deleted."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from grants.db import Base, UTCDateTime


class ConfigurationChange(Base):
    """``what`` names the thing changed ("role", "title", "budget", …); ``before`` and
    ``after`` are plain JSON values (None where the thing did not exist)."""

    __tablename__ = "configuration_changes"
    __table_args__ = (Index("ix_configuration_changes_object", "object_type", "object_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(String(100))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    user = relationship("User")


@event.listens_for(Session, "before_flush")
def _changes_are_append_only(session, _flush_context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, ConfigurationChange) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("the configuration audit is append-only")
