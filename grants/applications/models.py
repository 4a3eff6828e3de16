"""Applications to a round."""
from __future__ import annotations

from typing import TYPE_CHECKING

import datetime as dt

from collections import Counter

from sqlalchemy import (JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, event, func,
                        literal, or_, select, union)
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column, object_session, relationship

from grants.accounts.models import (Membership, Organisation, cached_roles, granted_roles_query, queried_roles,
                                    role_if, roles_on)
from grants.db import Base, UTCDateTime, add_to_counts
from grants.lifecycle.models import WorkflowMixin
from grants.money import Money, money_or_none
from grants.resources import ApplicationsContainer, parent_container
from grants.security import Role

if TYPE_CHECKING:
    from grants.programmes.models import Round


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Application(WorkflowMixin, Base):
    __tablename__ = "applications"
    __workflow__ = "application"
    __lineage__ = ("round", "programme")
    __reached_counted_by__ = "round_id"  # the round page's "ever reached" counts
    __table_args__ = (
        # A round's applications in the order they came in: the screening list (grants.listing).
        Index("ix_applications_round_submitted", "round_id", "submitted_at", "id"),
        # A round's pages count its applications by state (the funnel, the home page's
        # figures, the public report) and the public report's cache sums their row versions:
        # one index answers both from the index alone, whatever the number of rounds.
        Index("ix_applications_round_state", "round_id", "state", "row_version"),
        # An applicant's lists, by organisation.
        Index("ix_applications_organisation", "organisation_id"),
        # "My tasks": the applications to screen in every round an officer runs, oldest
        # first, read in this order until the page is full rather than all sorted.
        Index("ix_applications_state_submitted", "state", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    # The form version it was made with (copied from its round when created, never changed).
    form_version: Mapped[str | None] = mapped_column(String(40))
    # What the applicant typed, per section: {"organisation": {"mission": "…"}, …}
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    sections_done: Mapped[list[str]] = mapped_column(JSON, default=list)  # sections saved valid
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)  # amount requested
    amount_currency: Mapped[str | None] = mapped_column(String(3))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The second-stage full proposal (after incubation), same shape as ``answers``.
    proposal: Mapped[dict] = mapped_column(JSON, default=dict)
    proposal_submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    round: Mapped["Round"] = relationship(back_populates="applications")
    organisation: Mapped[Organisation] = relationship()
    attachments: Mapped[list["ApplicationAttachment"]] = relationship(
        back_populates="application", order_by="ApplicationAttachment.id", cascade="all, delete-orphan")
    eligibility_checks: Mapped[list["EligibilityCheck"]] = relationship(
        back_populates="application", order_by="EligibilityCheck.position", cascade="all, delete-orphan")

    @property
    def amount(self) -> Money | None:
        return money_or_none(self.amount_minor, self.amount_currency)

    @amount.setter
    def amount(self, value: Money | None) -> None:
        self.amount_minor = None if value is None else value.minor_units
        self.amount_currency = None if value is None else value.currency

    @property
    def reference(self) -> str:
        """How the application is named where the applicant must not be (blind review)."""
        return f"A-{self.id:05d}"

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        return parent_container(ApplicationsContainer, self.round)

    @classmethod
    def local_roles_query(cls, user_id, this) -> list:
        """The roles an application gives a user, as SELECTs asked in one statement
        (``grants.accounts.models.lineage_roles``): granted ones, reviewer once they have
        declared no conflict of interest, applicant as a member of the organisation."""
        from grants.review.models import ReviewAssignment

        return [
            granted_roles_query(user_id, "applications", this("id")),
            role_if(Role.Reviewer, select(ReviewAssignment.id).where(
                ReviewAssignment.application_id == this("id"), ReviewAssignment.reviewer_id == user_id,
                ReviewAssignment.conflict.is_(False)).exists()),
            role_if(Role.Applicant, select(Membership.id).where(
                Membership.user_id == user_id, Membership.organisation_id == this("organisation_id")).exists()),
        ]

    @cached_roles
    def local_roles_for(self, user) -> set[str]:
        return queried_roles(self, user)

    @classmethod
    def worklist_current(cls):
        """Applications whose award is not made yet: once it is, the work is on the award,
        and steps the application's state still offers (due diligence, clearing) are stale."""
        from grants.awards.models import Award

        return ~select(Award.id).where(Award.application_id == cls.id).exists()

    @classmethod
    def worklist_filter(cls, user):
        """Applications on which ``user`` may hold a local role (for "my tasks").

        Written for how the database can find them fast, which depends on the person.
        Someone with a role on a round or programme (an officer) has every application of
        it: rows in the list's order are read until the page is full, and nearly each one
        qualifies.  Anyone else (an applicant, a reviewer) has a few, found through one
        ``id IN (… UNION …)`` of index lookups: an OR of the subqueries would read every
        application of every round to find a reviewer's two, and a union holding a whole
        round's ids would cost the officer a hash of all of them.  Which one is asked once
        per session and person (one short statement)."""
        from grants.programmes.models import Round
        from grants.review.models import ReviewAssignment

        rounds = union(roles_on("rounds", user),
                       select(Round.id).where(Round.programme_id.in_(roles_on("programmes", user))))
        own = union(
            select(ReviewAssignment.application_id).where(ReviewAssignment.reviewer_id == user.id),
            select(cls.id).where(cls.organisation_id.in_(
                select(Membership.organisation_id).where(Membership.user_id == user.id))),
            roles_on("applications", user))
        session = object_session(user)
        key = ("holds a role on rounds", user.id)
        if session is not None and key not in session.info:
            session.info[key] = session.scalar(select(rounds.exists())) or False
        if session is None or session.info[key]:
            return or_(cls.round_id.in_(rounds), cls.id.in_(own))
        return cls.id.in_(own)


#: The region of :class:`RegionCount` that counts the applications of organisations naming none.
NO_REGION = ""


class RegionCount(Base):
    """How many of a round's applications come from organisations working in each region
    (an organisation working in two regions counts in both; ``NO_REGION``: those naming
    none).  Counting that by joining the round's applications to their organisations'
    regions costs more the more applications there are; this is one short read.  Kept by
    the two flush listeners below (an application made; an organisation's regions changed,
    through ``Organisation.region_links`` or ``.regions``), by ``grants bench seed`` for
    the rows it inserts in bulk, and made from the rows by migration 0023."""

    __tablename__ = "round_region_counts"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False)


@event.listens_for(Session, "before_flush")
def _move_region_counts(session, _flush_context, _instances):
    """An organisation's regions changed: the applications it has already made leave the
    counts of the regions it dropped and join those of the regions it added, in each of
    their rounds (read before the flush, so applications made in this flush are left to
    the listener below)."""
    for org in session.dirty:
        if not isinstance(org, Organisation):
            continue
        changed = attributes.get_history(org, "region_links", passive=attributes.PASSIVE_NO_INITIALIZE)
        if not (changed.added or changed.deleted):
            continue
        changed = attributes.get_history(org, "region_links")  # the whole collection, loaded if need be
        before = {link.region_code for link in (*changed.unchanged, *changed.deleted)} or {NO_REGION}
        after = {link.region_code for link in (*changed.unchanged, *changed.added)} or {NO_REGION}
        for code, sign in [(c, -1) for c in sorted(before - after)] + [(c, 1) for c in sorted(after - before)]:
            add_to_counts(session, RegionCount, names=["round_id", "region_code", "n"], select=(
                select(Application.round_id, literal(code, String), literal(sign, Integer) * func.count())
                .where(Application.organisation_id == org.id).group_by(Application.round_id)))


@event.listens_for(Session, "after_flush")
def _count_new_applications(session, _flush_context):
    """Applications made in this flush join the counts of their organisation's regions
    (after the flush, when their round's id is known whichever way it was given)."""
    added = Counter()
    for application in session.new:
        if isinstance(application, Application):
            organisation = application.organisation or session.get(Organisation, application.organisation_id)
            for code in {link.region_code for link in organisation.region_links} or {NO_REGION}:
                added[application.round_id, code] += 1
    if added:
        add_to_counts(session, RegionCount, [{"round_id": round_id, "region_code": code, "n": n}
                                             for (round_id, code), n in sorted(added.items())])


class ApplicationAttachment(Base):
    """A document attached to an application: ``kind`` is what it is for
    ("registration_certificate", "budget"), ``stage`` which form asked for it."""

    __tablename__ = "application_attachments"
    __table_args__ = (UniqueConstraint("application_id", "stage", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default="application")
    kind: Mapped[str] = mapped_column(String(60))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    application: Mapped[Application] = relationship(back_populates="attachments")
    file = relationship("StoredFile")


class EligibilityCheck(Base):
    """One of a round's eligibility rules applied to one application: the automatic
    result and its reason, then the officer's confirmation or override with theirs.

    ``reason`` is a message and its values (``{"msgid": …, "mapping": {…}}``) so that it
    can be shown in each reader's language."""

    __tablename__ = "eligibility_checks"
    __table_args__ = (UniqueConstraint("application_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the rule's place in the round's list
    kind: Mapped[str] = mapped_column(String(40))
    rule: Mapped[dict] = mapped_column(JSON)  # the rule as it was when evaluated
    passed: Mapped[bool] = mapped_column(Boolean)  # the automatic result
    reason: Mapped[dict | None] = mapped_column(JSON)  # why it failed (None when it passed)
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    officer_decision: Mapped[str | None] = mapped_column(String(20))  # "confirmed" or "overridden"
    officer_reason: Mapped[str] = mapped_column(String(2000), default="")  # grants.text.NOTE_MAX
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="eligibility_checks")

    @property
    def outcome(self) -> bool | None:
        """Eligible on this rule after the officer's word (None until they give it)."""
        if self.officer_decision == "confirmed":
            return self.passed
        if self.officer_decision == "overridden":
            return not self.passed
        return None


# Forms built in the browser live beside the applications that use them.
from . import builder_models  # noqa: E402,F401
