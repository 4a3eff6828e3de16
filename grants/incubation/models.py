"""Cohorts, their members (applications in incubation), sessions, attendance and
capacity scores."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, UTCDateTime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


ENTRY, EXIT = "entry", "exit"
PHASES = (ENTRY, EXIT)
SESSION_KINDS = ("coaching", "training")


class Cohort(Base):
    """A round's incubation cohort: some of its applicants, coached and trained for a
    few months.  ``capacity_areas`` are what its needs assessment scores, by name: the
    officer's own words, or the English names a plugin supplies (which pages translate
    through the catalog)."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    capacity_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    members: Mapped[list["CohortMember"]] = relationship(
        back_populates="cohort", order_by="CohortMember.id", cascade="all, delete-orphan")
    sessions: Mapped[list["IncubationSession"]] = relationship(
        back_populates="cohort", order_by="(IncubationSession.held_on, IncubationSession.id)",
        cascade="all, delete-orphan")


class CohortMember(Base):
    """An application in incubation (one cohort per application)."""

    __tablename__ = "cohort_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), unique=True)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    cohort: Mapped[Cohort] = relationship(back_populates="members")
    application = relationship("Application")
    scores: Mapped[list["CapacityScore"]] = relationship(
        back_populates="member", order_by="CapacityScore.id", cascade="all, delete-orphan")


class IncubationSession(Base):
    """A coaching or training session held for the cohort."""

    __tablename__ = "incubation_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # SESSION_KINDS
    held_on: Mapped[dt.date] = mapped_column(Date)
    facilitator: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(String(2000), default="")  # grants.text.NOTE_MAX

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")
    attendance: Mapped[list["Attendance"]] = relationship(
        back_populates="session", cascade="all, delete-orphan")


class Attendance(Base):
    __tablename__ = "attendance"

    session_id: Mapped[int] = mapped_column(ForeignKey("incubation_sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cohort_members.id", ondelete="CASCADE"), primary_key=True)
    present: Mapped[bool] = mapped_column(Boolean, default=True)

    session: Mapped[IncubationSession] = relationship(back_populates="attendance")
    member: Mapped[CohortMember] = relationship()


class CapacityScore(Base):
    """One capacity area of one member, scored 1–5 at entry or at exit."""

    __tablename__ = "capacity_scores"
    __table_args__ = (UniqueConstraint("member_id", "phase", "area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cohort_members.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(String(10))  # PHASES
    area: Mapped[str] = mapped_column(String(60))
    score: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(2000), default="")  # grants.text.NOTE_MAX
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assessed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    member: Mapped[CohortMember] = relationship(back_populates="scores")
