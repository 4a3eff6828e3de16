"""Independent evaluation: an evaluator assigned to a round (the local role
``evaluator`` on the round) assesses each grantee, and writes the round's findings
that the public report carries, shortcomings included."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, RowVersioned, UTCDateTime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


#: What an evaluator scores each grantee on, 1–5 (OECD-DAC-style criteria).
ASSESSMENT_CRITERIA = ("relevance", "effectiveness", "efficiency", "sustainability", "fidelity", "mel_quality")


class Assessment(RowVersioned, Base):
    """An evaluator's assessment of one award: scores, a summary, files.  The grantee
    reads it; only its evaluator changes it."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("award_id", "evaluator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # {criterion: 1..5}
    summary: Mapped[str] = mapped_column(String(20_000), default="")  # services.TEXT_MAX
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    # Draft until the evaluator submits it; only then does the grantee read it.  Once
    # submitted it is not changed: the evaluator reopens it first, with a recorded reason.
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The criteria it was scored with (grants.evaluation.criteria_sets), fixed at its first
    # save: a round's later choice does not change what an assessment means.  None for one
    # written before criteria were data (it reads its round's criteria).
    criteria_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("evaluation_criteria_sets.id", ondelete="SET NULL"))

    evaluator = relationship("User")
    files: Mapped[list["AssessmentFile"]] = relationship(
        back_populates="assessment", order_by="AssessmentFile.id", cascade="all, delete-orphan")


#: A criteria set's life, as a rubric's: a draft is edited; publishing freezes it; a copy
#: starts the next version.
DRAFT, PUBLISHED = "draft", "published"


class EvaluationCriteriaSet(RowVersioned, Base):
    """The criteria an evaluator scores each grantee on, 1–5, in order.  ``criteria`` is
    ``[{"id", "title", "titles": {language: text}, "hints": {language: text}}]`` for a
    programme's own set (edited in the browser); a code-defined set (grants' own, a
    plugin's ``config.add_evaluation_criteria``; ``source`` names which) stores
    ``[{"id", "title", "hint"}]`` as English messages the catalogues translate, has no
    programme and is published.  A programme's sets are versions of a family
    (``family_id``: the id of its first version)."""

    __tablename__ = "evaluation_criteria_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    criteria: Mapped[list[dict]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(100))  # "grants" or a plugin's name, for code-defined sets
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(20), default=PUBLISHED, server_default=PUBLISHED)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        """A programme's set lives under it, so its officers manage it; code-defined sets
        have no page."""
        from sqlalchemy.orm import object_session

        from grants.programmes.models import Programme
        from grants.resources import parent_container

        from .criteria_sets import CriteriaSetsContainer

        programme = object_session(self).get(Programme, self.programme_id) if self.programme_id is not None else None
        return parent_container(CriteriaSetsContainer, programme) if programme is not None else None

    @property
    def published(self) -> bool:
        return self.status == PUBLISHED


class AssessmentFile(Base):
    __tablename__ = "assessment_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    title: Mapped[str] = mapped_column(String(300), default="")

    assessment: Mapped[Assessment] = relationship(back_populates="files")
    file = relationship("StoredFile")


class RoundEvaluation(RowVersioned, Base):
    """The evaluation's findings for a round, for its public report."""

    __tablename__ = "round_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), unique=True)
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    findings: Mapped[str] = mapped_column(String(20_000), default="")  # services.TEXT_MAX, as the next two
    shortcomings: Mapped[str] = mapped_column(String(20_000), default="")  # published too: what did not work
    lessons: Mapped[str] = mapped_column(String(20_000), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
