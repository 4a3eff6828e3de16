"""Programmes (a funder's scheme) and their rounds (calls for applications).

Money is stored as two columns, integer minor units and the ISO 4217 code, and read
back through a property as :class:`grants.money.Money` (``Round.budget``,
``ProgrammeFunder.contribution``, ``RoundTier.minimum``/``maximum``).

A round's eligibility rules are data, a JSON list the application side evaluates::

    [{"kind": "registered_organisation"},
     {"kind": "region_in", "regions": ["TN-11", "TN-12"]},
     {"kind": "amount_within_max"},                      # the largest tier's maximum
     {"kind": "amount_within_max", "max_minor": 5000000},  # or an explicit maximum
     {"kind": "required_attachments", "attachments": ["registration_certificate", "budget"]}]

``grants.programmes.services.normalise_eligibility_rules`` is the one place that checks
that shape.
"""
from __future__ import annotations

import datetime as dt

from pyramid.authorization import Allow, Everyone
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, or_
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from grants.accounts.models import cached_roles, granted_roles_query, queried_roles, roles_on
from grants.db import Base, RowVersioned, UTCDateTime
from grants.lifecycle.models import WorkflowMixin, workflow_index
from grants.money import Money, money_or_none
from grants.resources import ApplicationsContainer, AwardsContainer, ProgrammesContainer, Root, RoundsContainer, parent_container
from grants.security import Permission, Role, role_principal

#: What kind of body a funder is (for reporting and the 360Giving export).
FUNDER_KINDS = ("government", "multilateral", "foundation", "corporate", "philanthropist", "ngo", "other")
#: A funder's part in a programme.
LEAD, CO_FUNDER, IMPLEMENTER = "lead", "co_funder", "implementer"
FUNDER_ROLES = (LEAD, CO_FUNDER, IMPLEMENTER)
#: Eligibility rule kinds a round may declare (evaluated by the application side).
RULE_KINDS = ("registered_organisation", "region_in", "amount_within_max", "required_attachments")


class Funder(Base):
    """A body that funds or implements programmes: a government department, a
    foundation, a company.  ``identifier`` is an org-id (``GB-GOV-…``, ``US-EIN-…``) or a
    360Giving fallback (``360G-…``)."""

    __tablename__ = "funders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    identifier: Mapped[str | None] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="other")

    def __repr__(self) -> str:
        return f"<Funder {self.id} {self.name}>"


class Programme(RowVersioned, Base):
    """A funder's scheme.  Its title and description are multilingual (grants.multilingual):
    the columns hold the default language's text, ``translations`` every language."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(String(20_000), default="")  # forms.ProgrammeSchema
    # The languages its content is written in (a subset of the deployment's
    # grants.languages) and the one every text must have, which exports use.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # {field: {language: text}} for title and description (grants.multilingual)
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    currency: Mapped[str] = mapped_column(String(3), default="USD")  # ISO 4217
    # entry-point names (group grants.plugins) this programme uses: what they add applies
    # to this programme only
    plugins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # workflow family -> the variant its objects run ({"round": "my_plugin_round"}); a
    # round's own choices come first (grants.lifecycle.services.chosen_workflow)
    workflow_choices: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # The theory-of-change levels its grantees use (grants.mel.models.DEFAULT_LEVELS if empty).
    results_levels: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # The 360Giving identifier prefix registered for the publisher ("360G-cityfund").
    grant_id_prefix: Mapped[str] = mapped_column(String(60), default="360G-grants", server_default="360G-grants")

    rounds: Mapped[list["Round"]] = relationship(back_populates="programme", order_by="Round.id")
    contributions: Mapped[list["ProgrammeFunder"]] = relationship(
        back_populates="programme", order_by="ProgrammeFunder.id", cascade="all, delete-orphan")

    def funders_in_role(self, role: str) -> list[Funder]:
        seen: dict[int, Funder] = {}
        for c in self.contributions:
            if c.role == role:
                seen.setdefault(c.funder_id, c.funder)
        return list(seen.values())

    @property
    def plugin_scope(self) -> list[str]:
        """The plugins whose steps, forms and roles apply here (grants.plugins.plugins_in_scope)."""
        return list(self.plugins or ())

    @property
    def lead_funders(self) -> list[Funder]:
        return self.funders_in_role(LEAD)

    @property
    def co_funders(self) -> list[Funder]:
        return self.funders_in_role(CO_FUNDER)

    @property
    def implementers(self) -> list[Funder]:
        return self.funders_in_role(IMPLEMENTER)

    @property
    def __acl__(self):
        """Programmes have no workflow: they are public; their officers manage them and
        create rounds in them (admins may do anything, from the root)."""
        officer = role_principal(Role.ProgrammeOfficer)
        return [
            (Allow, Everyone, Permission.ProgrammesProgrammeView),
            (Allow, officer, Permission.ProgrammesProgrammeManage),
            (Allow, officer, Permission.ProgrammesRoundManage),
        ]

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        return ProgrammesContainer(Root(), object_session(self))

    def __getitem__(self, name):
        if name == "rounds":
            return parent_container(RoundsContainer, self)
        if name == "rubrics":  # the programme's own rubrics (grants.review.rubrics)
            from grants.review.rubrics import RubricsContainer

            return parent_container(RubricsContainer, self)
        if name == "evaluation-criteria":  # its evaluation criteria sets (grants.evaluation.criteria_sets)
            from grants.evaluation.criteria_sets import CriteriaSetsContainer

            return parent_container(CriteriaSetsContainer, self)
        if name == "survey-instruments":  # its own survey instruments (grants.mel.instrument_editor)
            from grants.mel.instrument_editor import InstrumentsContainer

            return parent_container(InstrumentsContainer, self)
        raise KeyError(name)

    @classmethod
    def local_roles_query(cls, user_id, this) -> list:
        """SELECTs of the roles a user holds here (``grants.accounts.models.lineage_roles``)."""
        return [granted_roles_query(user_id, "programmes", this("id"))]

    @cached_roles
    def local_roles_for(self, user) -> set[str]:
        return queried_roles(self, user)


class Round(WorkflowMixin, Base):
    """A call: applications are accepted between ``opens_at`` and ``closes_at``."""

    __tablename__ = "rounds"
    __workflow__ = "round"
    __table_args__ = (workflow_index("rounds"),)
    __worklist_due__ = "closes_at"  # "My tasks" lists the soonest first
    __lineage__ = ("programme",)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    title: Mapped[str] = mapped_column(String(300))
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")  # grants.multilingual
    opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # how dates are shown and entered
    budget_minor: Mapped[int | None] = mapped_column(BigInteger)  # in the programme's currency
    budget_currency: Mapped[str | None] = mapped_column(String(3))
    application_form_version: Mapped[str | None] = mapped_column(String(40))  # pinned when the round opens
    # The second-stage proposal form (None: the programme's default); a proposal keeps the
    # version it started with (grants.applications.formdefs.PROPOSAL_VERSION_KEY).
    proposal_form_version: Mapped[str | None] = mapped_column(String(40))
    rubric_id: Mapped[int | None] = mapped_column(Integer)  # the review rubric (no table yet)
    # The evaluation criteria set its assessments use (grants.evaluation.criteria_sets);
    # None: the programme's default (a plugin's, else grants' own).
    evaluation_criteria_id: Mapped[int | None] = mapped_column(Integer)
    blind_review: Mapped[bool] = mapped_column(Boolean, default=False)
    eligibility_rules: Mapped[list[dict]] = mapped_column(JSON, default=list)  # see the module docstring
    # The public round report: published when, cells below this many are suppressed,
    # and funders (ids) whose names public pages must not show (donor-perception risk).
    report_published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    small_cell_threshold: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    hidden_funder_ids: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")
    # workflow family -> variant for the objects made in this round ({"application": …})
    workflow_choices: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # family -> the version of that choice new objects run, when the round pins one (a
    # version released in the workflow editor); absent: the newest version
    workflow_pins: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")

    programme: Mapped[Programme] = relationship(back_populates="rounds")
    applications: Mapped[list["Application"]] = relationship(back_populates="round", order_by="Application.id")
    tiers: Mapped[list["RoundTier"]] = relationship(
        back_populates="round", order_by=lambda: [RoundTier.min_minor, RoundTier.id], cascade="all, delete-orphan")
    contributions: Mapped[list["ProgrammeFunder"]] = relationship(
        back_populates="round", order_by="ProgrammeFunder.id", passive_deletes=True)

    @property
    def budget(self) -> Money | None:
        return money_or_none(self.budget_minor, self.budget_currency)

    @budget.setter
    def budget(self, value: Money | None) -> None:
        self.budget_minor = None if value is None else value.minor_units
        self.budget_currency = None if value is None else value.currency

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        return parent_container(RoundsContainer, self.programme)

    def __getitem__(self, name):
        if name == "applications":
            return parent_container(ApplicationsContainer, self)
        if name == "awards":
            return parent_container(AwardsContainer, self)
        raise KeyError(name)

    @classmethod
    def local_roles_query(cls, user_id, this) -> list:
        """SELECTs of the roles a user holds here (``grants.accounts.models.lineage_roles``)."""
        return [granted_roles_query(user_id, "rounds", this("id"))]

    @cached_roles
    def local_roles_for(self, user) -> set[str]:
        return queried_roles(self, user)

    @classmethod
    def worklist_filter(cls, user):
        """Rounds on which ``user`` may hold a local role (for "my tasks")."""
        return or_(
            cls.id.in_(roles_on("rounds", user)),
            cls.programme_id.in_(roles_on("programmes", user)),
        )


class RoundTier(Base):
    """A grant-size band in a round: "£50,001–£100,000, with 50% match funding"."""

    __tablename__ = "round_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")  # grants.multilingual
    min_minor: Mapped[int] = mapped_column(BigInteger)
    max_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    conditions: Mapped[str] = mapped_column(String(2000), default="")  # grants.text.NOTE_MAX
    match_funding_percent: Mapped[int | None] = mapped_column(Integer)  # 50: half must come from elsewhere

    round: Mapped[Round] = relationship(back_populates="tiers")

    @property
    def minimum(self) -> Money:
        return Money.from_minor(self.min_minor, self.currency)

    @property
    def maximum(self) -> Money:
        return Money.from_minor(self.max_minor, self.currency)


class ProgrammeFunder(Base):
    """A funder's part in a programme: its role, and what it puts in (for the whole
    programme, or for one round).  ``matches`` names the funder whose money this matches:
    a company matching a city's money pound for pound, say."""

    __tablename__ = "programme_funders"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"))
    role: Mapped[str] = mapped_column(String(20))  # lead, co_funder, implementer
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    matches_funder_id: Mapped[int | None] = mapped_column(ForeignKey("funders.id"))
    note: Mapped[str] = mapped_column(String(2000), default="")  # grants.text.NOTE_MAX

    programme: Mapped[Programme] = relationship(back_populates="contributions")
    funder: Mapped[Funder] = relationship(foreign_keys=[funder_id])
    matches: Mapped[Funder | None] = relationship(foreign_keys=[matches_funder_id])
    round: Mapped[Round | None] = relationship(back_populates="contributions")

    @property
    def contribution(self) -> Money | None:
        return money_or_none(self.amount_minor, self.currency)

    @contribution.setter
    def contribution(self, value: Money | None) -> None:
        self.amount_minor = None if value is None else value.minor_units
        self.currency = None if value is None else value.currency


from grants.applications.models import Application  # noqa: E402  (relationship target)
