"""Programmes (a funder's scheme) and their rounds (calls for applications)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, or_
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from grants.accounts.models import granted_roles, roles_on
from grants.db import Base, UTCDateTime
from grants.lifecycle.models import WorkflowMixin
from grants.resources import ApplicationsContainer, ProgrammesContainer, Root, RoundsContainer, parent_container


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")  # ISO 4217

    rounds: Mapped[list["Round"]] = relationship(back_populates="programme", order_by="Round.id")

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        return ProgrammesContainer(Root(), object_session(self))

    def __getitem__(self, name):
        if name == "rounds":
            return parent_container(RoundsContainer, self)
        raise KeyError(name)

    def local_roles_for(self, user) -> set[str]:
        return granted_roles(object_session(self), user, "programmes", self.id)


class Round(WorkflowMixin, Base):
    """A call: applications are accepted between ``opens_at`` and ``closes_at``."""

    __tablename__ = "rounds"
    __workflow__ = "round"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    title: Mapped[str] = mapped_column(String(300))
    opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # how dates are shown and entered

    programme: Mapped[Programme] = relationship(back_populates="rounds")
    applications: Mapped[list["Application"]] = relationship(back_populates="round", order_by="Application.id")

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        return parent_container(RoundsContainer, self.programme)

    def __getitem__(self, name):
        if name == "applications":
            return parent_container(ApplicationsContainer, self)
        raise KeyError(name)

    def local_roles_for(self, user) -> set[str]:
        return granted_roles(object_session(self), user, "rounds", self.id)

    @classmethod
    def worklist_filter(cls, user):
        """Rounds on which ``user`` may hold a local role (for "my tasks")."""
        return or_(
            cls.id.in_(roles_on("rounds", user)),
            cls.programme_id.in_(roles_on("programmes", user)),
        )


from grants.applications.models import Application  # noqa: E402  (relationship target)
