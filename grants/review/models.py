"""Review as stored: rubrics, the reviewers invited to a round, assignments with their
conflict-of-interest declarations, reviews (scores and rationales), moderations,
selection overrides and decisions.  The arithmetic lives in ``grants.review.scoring``.

A reviewer holds the ``reviewer`` role on an application only through an assignment
whose declaration says "no conflict" (see ``Application.local_roles_for``): before
declaring, or with a conflict, they can neither see nor score it.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, RowVersioned, UTCDateTime

from . import scoring


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


#: Review happens in stages: the first application, then (after incubation) the full proposal.
APPLICATION_STAGE, PROPOSAL_STAGE = "application", "proposal"
STAGES = (APPLICATION_STAGE, PROPOSAL_STAGE)
#: What an application's state means while it is reviewed (and competes) at each stage
#: (grants.lifecycle.meanings): "eligible" and "proposal_submitted" in the shipped workflow.
STAGE_MEANINGS = {APPLICATION_STAGE: "application_review", PROPOSAL_STAGE: "proposal_review"}


#: A rubric's life: a draft is edited; publishing freezes it for good (rounds choose only
#: published rubrics, and reviews are scored with them); a copy starts the next version.
DRAFT, PUBLISHED = "draft", "published"


class Rubric(RowVersioned, Base):
    """Weighted criteria, each scored 1–5 with a label per score.  ``criteria`` is
    ``[{"id", "title", "weight" (a decimal string), "labels": {"1": …, …, "5": …}}]``;
    a rubric made in the browser adds ``"titles"`` and ``"guidance"`` (``{language: text}``)
    to each criterion, and its ``title`` is then the text in the programme's first language.

    Code-defined rubrics (grants' general one, a plugin's ``config.add_rubric``) have no
    programme and are published.  A programme's own rubrics are versions of a family
    (``family_id``: the id of its first version; ``version``: 1, 2, …)."""

    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    criteria: Mapped[list[dict]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(20), default=PUBLISHED, server_default=PUBLISHED)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        """A programme's rubric lives under it, so its officers manage it; code-defined
        rubrics (no programme) have no page."""
        from sqlalchemy.orm import object_session

        from grants.programmes.models import Programme
        from grants.resources import parent_container

        from .rubrics import RubricsContainer

        session = object_session(self)
        programme = session.get(Programme, self.programme_id) if self.programme_id is not None else None
        return parent_container(RubricsContainer, programme) if programme is not None else None

    @property
    def published(self) -> bool:
        return self.status == PUBLISHED

    def scoring_rubric(self, locale: str | None = None) -> scoring.Rubric:
        """The rubric reviews are counted with; with ``locale``, each criterion's title is
        the one written in that language when the rubric has one (ids and weights are the
        same in every language, so scores do not depend on who reads them)."""
        return scoring.Rubric(tuple(
            scoring.Criterion(c["id"], criterion_title(c, locale), Decimal(str(c["weight"])),
                              {int(k): v for k, v in c["labels"].items()})
            for c in self.criteria))

    def guidance(self, criterion_id: str, locale: str | None) -> str:
        """What reviewers are told about a criterion, in ``locale`` ("" when none)."""
        found = next((c for c in self.criteria if c["id"] == criterion_id), None)
        texts = (found or {}).get("guidance") or {}
        return texts.get(locale) or ""


def criterion_title(criterion: dict, locale: str | None) -> str:
    """A stored criterion's title in ``locale`` when written in it, else its ``title``
    (a message the catalogues translate, for code-defined rubrics)."""
    titles = criterion.get("titles") or {}
    return (titles.get(locale) if locale else None) or criterion["title"]


def criterion_fallback(criterion: dict, locale: str | None) -> str | None:
    """The language of the title :func:`criterion_title` gives a reader of ``locale`` when
    it is not theirs — a rubric made in the browser with no title in ``locale`` shows the
    one in its programme's default language — else None (theirs, or a code-defined
    criterion, whose title the catalogues translate)."""
    titles = criterion.get("titles") or {}
    if not titles or (locale and titles.get(locale)):
        return None
    return next((code for code, text in titles.items() if text == criterion["title"]), next(iter(titles)))


class RoundReviewer(Base):
    """A person invited to review in a round (the pool assignment draws from)."""

    __tablename__ = "round_reviewers"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])


class ReviewAssignment(Base):
    """One reviewer on one application at one stage, with their declaration.
    ``conflict`` is None until declared."""

    __tablename__ = "review_assignments"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=APPLICATION_STAGE)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    declared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    conflict: Mapped[bool | None] = mapped_column(Boolean)
    conflict_reason: Mapped[str] = mapped_column(String(2000), default="")  # grants.text.NOTE_MAX

    application = relationship("Application")
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    review: Mapped["Review | None"] = relationship(back_populates="assignment", uselist=False,
                                                  cascade="all, delete-orphan")


class Review(Base):
    """A reviewer's scores and rationales for one assignment (``{criterion id: …}``).
    Saved as a draft until ``submitted_at`` is set."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignments.id", ondelete="CASCADE"),
                                               unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(20), default=APPLICATION_STAGE)
    # The rubric the scores were given with (a published rubric never changes): the review
    # keeps it whatever the round chooses later.
    rubric_id: Mapped[int | None] = mapped_column(ForeignKey("rubrics.id", ondelete="SET NULL"))
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    rationales: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="review")

    def scoring_review(self) -> scoring.Review:
        return scoring.Review(self.application_id, self.reviewer_id, tuple(
            scoring.CriterionScore(cid, int(score), self.rationales.get(cid, ""))
            for cid, score in self.scores.items()))


class ScoreModeration(Base):
    """An officer's change to an application's score, keeping before and after.
    Scores are decimal strings (exact on every database)."""

    __tablename__ = "score_moderations"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=APPLICATION_STAGE)
    score_before: Mapped[str] = mapped_column(String(20))
    score_after: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(2000))  # grants.text.NOTE_MAX
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    def scoring_moderation(self) -> scoring.Moderation:
        return scoring.Moderation(self.application_id, self.moderator_id, Decimal(self.score_before),
                                  Decimal(self.score_after), self.reason)


class SelectionOverride(Base):
    """An officer adding to or removing from the suggested selection, with a reason."""

    __tablename__ = "selection_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=APPLICATION_STAGE)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))  # scoring.OverrideAction
    reason: Mapped[str] = mapped_column(String(2000))  # grants.text.NOTE_MAX
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class Decision(Base):
    """A decision on an application: which step (the transition's trigger), why, and the
    funder's own reference for it (a board minute, a grant committee number)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=APPLICATION_STAGE)
    outcome: Mapped[str] = mapped_column(String(40))  # the trigger: incubate, select, decline, not_fund, …
    to_state: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(2000), default="")  # grants.text.NOTE_MAX
    funder_reference: Mapped[str] = mapped_column(String(100), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
