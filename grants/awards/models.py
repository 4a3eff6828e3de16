"""Awards and their money: the award made from a selected application, its amendments,
its payment schedule (tranches released on a condition, then disbursed), and its budget
against actual spend.

Money is two columns, integer minor units and the ISO 4217 code, read back as
:class:`grants.money.Money` through a property — never a float.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.models import Membership, cached_roles, granted_roles_query, queried_roles, role_if, roles_on
from grants.db import Base, DecimalText, UTCDateTime
from grants.lifecycle.models import WorkflowMixin, workflow_index
from grants.money import Money, money_or_none
from grants.resources import AwardsContainer, TranchesContainer, parent_container
from grants.security import Role


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


#: How often a grantee reports (months between reporting periods).
CADENCES = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
#: What a tranche waits for before it may be released.
CONDITION_NONE = "none"
CONDITION_AGREEMENT = "agreement_signed"  # the signed grant agreement is on file
CONDITION_REPORT = "report_accepted"  # a named report (usually the previous period's) accepted
TRANCHE_CONDITIONS = (CONDITION_NONE, CONDITION_AGREEMENT, CONDITION_REPORT)
#: What an amendment changed.
AMENDMENT_KINDS = ("amount", "dates", "no_cost_extension", "early_end")


class Award(WorkflowMixin, Base):
    """A grant made to a selected application's organisation."""

    __tablename__ = "awards"
    __workflow__ = "award"
    __table_args__ = (workflow_index("awards"),)
    __lineage__ = ("round", "programme")

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    cadence: Mapped[str] = mapped_column(String(20), default="quarterly")  # CADENCES
    agreement_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    agreement_signed_on: Mapped[dt.date | None] = mapped_column(Date)
    # A budget held in another currency (US dollars granted in Tunisian dinars, say):
    # the source amount and the rate used, recorded, never recomputed.
    source_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    source_currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[Decimal | None] = mapped_column(DecimalText)  # units of `currency` per 1 source unit
    fx_date: Mapped[dt.date | None] = mapped_column(Date)
    # Ending early: both required by the end_early transition's form.
    exit_plan: Mapped[str] = mapped_column(String(20_000), default="")  # forms.TEXT_MAX, as the next
    end_rationale: Mapped[str] = mapped_column(String(20_000), default="")
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    awarded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    application = relationship("Application")
    round = relationship("Round")
    agreement_file = relationship("StoredFile")
    amendments: Mapped[list["AwardAmendment"]] = relationship(
        back_populates="award", order_by="AwardAmendment.id", cascade="all, delete-orphan")
    tranches: Mapped[list["Tranche"]] = relationship(
        back_populates="award", order_by="Tranche.position", cascade="all, delete-orphan")
    budget_lines: Mapped[list["BudgetLine"]] = relationship(
        back_populates="award", order_by="BudgetLine.position", cascade="all, delete-orphan")

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @amount.setter
    def amount(self, value: Money) -> None:
        self.amount_minor = value.minor_units
        self.currency = value.currency

    @property
    def source_amount(self) -> Money | None:
        return money_or_none(self.source_amount_minor, self.source_currency)

    @property
    def organisation(self):
        return self.application.organisation

    @property
    def reference(self) -> str:
        """The award's stable reference, used in exports' grant identifiers."""
        return f"G-{self.id:05d}"

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        return parent_container(AwardsContainer, self.round)

    def __getitem__(self, name):
        from grants.resources import ReportsContainer

        if name == "reports":
            return parent_container(ReportsContainer, self)
        if name == "tranches":
            return parent_container(TranchesContainer, self)
        raise KeyError(name)

    @classmethod
    def local_roles_query(cls, user_id, this) -> list:
        """The grantee's members are its applicants; evaluators and officers come from
        the round and the programme above.  SELECTs asked in one statement
        (``grants.accounts.models.lineage_roles``); the organisation is found in the same
        statement, so the application need not be loaded.  It is joined in the EXISTS
        rather than asked in a subquery of its own, which would not be correlated with
        the awards when many are asked at once (``remember_roles``)."""
        from grants.applications.models import Application

        return [
            granted_roles_query(user_id, "awards", this("id")),
            role_if(Role.Applicant, select(Membership.id).where(
                Membership.user_id == user_id, Membership.organisation_id == Application.organisation_id,
                Application.id == this("application_id")).exists()),
        ]

    @cached_roles
    def local_roles_for(self, user) -> set[str]:
        return queried_roles(self, user)

    @classmethod
    def worklist_filter(cls, user):
        from grants.applications.models import Application
        from grants.programmes.models import Round

        return or_(
            cls.application_id.in_(select(Application.id).where(Application.organisation_id.in_(
                select(Membership.organisation_id).where(Membership.user_id == user.id)))),
            cls.round_id.in_(roles_on("rounds", user)),
            cls.round_id.in_(select(Round.id).where(Round.programme_id.in_(roles_on("programmes", user)))),
        )


class AwardAmendment(Base):
    """One change to an award's terms, with what it was before and after and why."""

    __tablename__ = "award_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # AMENDMENT_KINDS
    before: Mapped[dict] = mapped_column(JSON)  # {"amount_minor": …, "currency": …, "ends_on": "2020-06-30"}
    after: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(20_000))  # forms.TEXT_MAX
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    award: Mapped[Award] = relationship(back_populates="amendments")
    made_by = relationship("User")


class Tranche(WorkflowMixin, Base):
    """A part of an award paid on a condition: pending → released → disbursed."""

    __tablename__ = "tranches"
    __workflow__ = "tranche"
    __worklist_due__ = "due_on"  # "My tasks" lists the soonest first
    __lineage__ = ("award", "round", "programme")
    __table_args__ = (UniqueConstraint("award_id", "position"), workflow_index("tranches"))

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, 3…
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    percent: Mapped[Decimal | None] = mapped_column(DecimalText)  # when the schedule was given in percentages
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    condition: Mapped[str] = mapped_column(String(30), default=CONDITION_NONE)  # TRANCHE_CONDITIONS
    condition_report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    award: Mapped[Award] = relationship(back_populates="tranches")
    condition_report = relationship("Report")
    disbursements: Mapped[list["Disbursement"]] = relationship(
        back_populates="tranche", order_by="Disbursement.id", cascade="all, delete-orphan")

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def title(self) -> str:
        """How lists ("My tasks") name a tranche: its award and its place in the schedule."""
        return f"{self.award.title} — {self.award.reference}/{self.position}"

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        return parent_container(TranchesContainer, self.award)

    @classmethod
    def worklist_filter(cls, user):
        return cls.award_id.in_(select(Award.id).where(Award.worklist_filter(user)))


class Disbursement(Base):
    """Money actually paid out against a released tranche."""

    __tablename__ = "disbursements"

    id: Mapped[int] = mapped_column(primary_key=True)
    tranche_id: Mapped[int] = mapped_column(ForeignKey("tranches.id", ondelete="CASCADE"), index=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100), default="")  # the bank's or ledger's reference
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    tranche: Mapped[Tranche] = relationship(back_populates="disbursements")

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class BudgetLine(Base):
    """A planned line of the grantee's budget ("Staff", "Activities", "Equipment")."""

    __tablename__ = "budget_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(200))
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")  # grants.multilingual
    planned_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    award: Mapped[Award] = relationship(back_populates="budget_lines")
    expenditures: Mapped[list["Expenditure"]] = relationship(
        back_populates="line", order_by="Expenditure.id", cascade="all, delete-orphan")

    @property
    def planned(self) -> Money:
        return Money.from_minor(self.planned_minor, self.currency)


class Expenditure(Base):
    """Actual spend against a budget line, usually reported with a period's report."""

    __tablename__ = "expenditures"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_lines.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    spent_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(2000), default="")  # grants.text.NOTE_MAX
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    line: Mapped[BudgetLine] = relationship(back_populates="expenditures")

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)
