"""Applications to a round."""
from __future__ import annotations

from typing import TYPE_CHECKING

import datetime as dt

from sqlalchemy import ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from grants.accounts.models import Membership, Organisation, granted_roles, roles_on
from grants.db import Base, UTCDateTime
from grants.lifecycle.models import WorkflowMixin
from grants.resources import ApplicationsContainer, parent_container
from grants.security import Role

if TYPE_CHECKING:
    from grants.programmes.models import Round


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Application(WorkflowMixin, Base):
    __tablename__ = "applications"
    __workflow__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    round: Mapped["Round"] = relationship(back_populates="applications")
    organisation: Mapped[Organisation] = relationship()

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        return parent_container(ApplicationsContainer, self.round)

    def local_roles_for(self, user) -> set[str]:
        session = object_session(self)
        roles = granted_roles(session, user, "applications", self.id)
        if user is not None and session is not None:
            member = session.scalar(
                select(Membership.id).where(
                    Membership.user_id == user.id, Membership.organisation_id == self.organisation_id
                )
            )
            if member is not None:
                roles.add(Role.Applicant)
        return roles

    @classmethod
    def worklist_filter(cls, user):
        """Applications on which ``user`` may hold a local role (for "my tasks")."""
        from grants.programmes.models import Round

        return or_(
            cls.organisation_id.in_(select(Membership.organisation_id).where(Membership.user_id == user.id)),
            cls.id.in_(roles_on("applications", user)),
            cls.round_id.in_(roles_on("rounds", user)),
            cls.round_id.in_(select(Round.id).where(Round.programme_id.in_(roles_on("programmes", user)))),
        )
