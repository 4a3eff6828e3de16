"""Workflow variants edited in the browser: one row per version.

A version is a draft while it is being edited and becomes released — and never changes
again — when an administrator releases it.  Its ``data`` is the definition as the TOML
files write it (``grants.workflow.definition``), with each title given per language.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, RowVersioned, UTCDateTime

DRAFT = "draft"
RELEASED = "released"


class WorkflowVersion(RowVersioned, Base):
    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("workflow_id", "version", name="uq_workflow_versions_workflow_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    family: Mapped[str] = mapped_column(String(64))  # the kind of object it runs ("application")
    # the plugin the copied workflow came from ("" for grants): it decides which programmes may use it
    origin: Mapped[str] = mapped_column(String(100), default="")
    copied_from: Mapped[str] = mapped_column(String(100))  # "application v1"
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by = relationship("User")

    @property
    def released(self) -> bool:
        return self.status == RELEASED

    @property
    def title(self) -> str:
        return self.data.get("title") or self.workflow_id
