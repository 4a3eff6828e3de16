"""Forms built in the browser: a programme's form (a stable key, a stage) and its
versions, whose content is JSON (grants.applications.builder explains its shape).

A version is a ``draft`` (edited, with a row version so two officers saving at once do
not overwrite each other) or ``published`` (never changed again: applications made with
it keep reading it).  A form has at most one draft at a time; the next one is a copy of
a published version.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, RowVersioned, UTCDateTime

DRAFT, PUBLISHED = "draft", "published"


class BuiltForm(Base):
    """A form a programme's officers build.  ``key`` is unique on the site, because the
    version ids applications keep (``key@number``) are."""

    __tablename__ = "built_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    stage: Mapped[str] = mapped_column(String(20), default="application")

    programme = relationship("Programme")
    versions: Mapped[list["BuiltFormVersion"]] = relationship(
        back_populates="form", order_by="BuiltFormVersion.number", cascade="all, delete-orphan")

    @property
    def draft(self) -> "BuiltFormVersion | None":
        return next((v for v in self.versions if v.status == DRAFT), None)

    @property
    def published(self) -> list["BuiltFormVersion"]:
        return [v for v in self.versions if v.status == PUBLISHED]


class BuiltFormVersion(RowVersioned, Base):
    """One version of a built form: its content, and whether it is still a draft."""

    __tablename__ = "built_form_versions"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("built_forms.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    content: Mapped[Any] = mapped_column(JSON, nullable=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    form: Mapped[BuiltForm] = relationship(back_populates="versions")

    @property
    def version_id(self) -> str:
        """The id a round names and an application keeps (``Application.form_version``)."""
        return f"{self.form.key}@{self.number}"
