"""Monitoring, evaluation and learning: an award's results framework (theory of change
and indicators), its reporting periods and reports, standardised survey instruments and
the aggregated responses uploaded for them, and triangulation evidence.

Indicator values are exact decimals (``grants.db.DecimalText``); a value with no
``dimensions`` is the total, one with ``{"sex": "female"}`` a disaggregated cell.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, DecimalText, RowVersioned, UTCDateTime
from grants.lifecycle.models import WorkflowMixin, workflow_index
from grants.resources import ReportsContainer, parent_container


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


#: Theory-of-change levels when a programme configures none.  A
#: programme may add intermediate layers (``Programme.results_levels``).
DEFAULT_LEVELS = ("inputs", "activities", "outputs", "short_term_outcomes", "medium_term_outcomes", "impact")
#: Parts of a theory of change that are not levels of results.
ASSUMPTION, EXTERNAL_FACTOR = "assumption", "external_factor"
#: How an indicator is measured (the IATI IndicatorMeasure codes in brackets).
MEASURES = {"unit": "1", "percentage": "2", "nominal": "3", "ordinal": "4", "qualitative": "5"}
#: Data-collection methods.
METHODS = ("survey", "interview", "focus_group", "direct_measurement", "administrative_data", "observation")
#: Disaggregation dimensions and their allowed values.
DIMENSIONS = {
    "sex": ("female", "male", "other", "not_stated"),
    "age_band": ("under_15", "15_17", "18_24", "25_34", "35_plus", "not_stated"),
    "region": (),  # any ISO 3166-2 code the programme's regions list knows
}
#: Survey waves, in order: before, straight after the activity, then three and six months
#: later, to see whether a change lasts.
WAVES = ("baseline", "post", "plus_3_months", "plus_6_months")
#: Kinds of triangulation evidence (individual accounts, never aggregated).
EVIDENCE_KINDS = ("success_story", "testimonial", "diary", "video_diary", "case_study")


class TocElement(RowVersioned, Base):
    """One box of an award's theory of change: a result at some level, an assumption, or
    an external factor outside the grantee's control."""

    __tablename__ = "toc_elements"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # a level, ASSUMPTION or EXTERNAL_FACTOR
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(5000))  # grants.mel.framework.TEXT_MAX


class Indicator(RowVersioned, Base):
    """How the grantee will show a result was reached."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("award_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    toc_element_id: Mapped[int | None] = mapped_column(ForeignKey("toc_elements.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    level: Mapped[str] = mapped_column(String(40))  # one of the programme's levels
    measure: Mapped[str] = mapped_column(String(20))  # MEASURES
    unit: Mapped[str] = mapped_column(String(60), default="")  # "people", "sessions"
    # {"title"|"unit": {language: text}} (grants.multilingual)
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    ascending: Mapped[bool] = mapped_column(Boolean, default=True)  # is more better?
    baseline_value: Mapped[Decimal | None] = mapped_column(DecimalText)
    baseline_date: Mapped[dt.date | None] = mapped_column(Date)
    baseline_missing_reason: Mapped[str] = mapped_column(String(5000), default="")  # required when no baseline
    method: Mapped[str] = mapped_column(String(40))  # METHODS
    disaggregation: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys of DIMENSIONS
    library_code: Mapped[str | None] = mapped_column(String(60))  # picked from the indicator library
    # Rolled up from a survey: the instrument (any version of this code) and its item.
    instrument_code: Mapped[str | None] = mapped_column(String(60))
    instrument_item: Mapped[str | None] = mapped_column(String(60))

    targets: Mapped[list["IndicatorTarget"]] = relationship(
        back_populates="indicator", order_by="IndicatorTarget.id", cascade="all, delete-orphan")
    # Its award, whose programme says the languages of its title and unit.
    award = relationship("Award")


class IndicatorTarget(Base):
    """The value an indicator should reach by the end of a reporting period."""

    __tablename__ = "indicator_targets"
    __table_args__ = (UniqueConstraint("indicator_id", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    value: Mapped[Decimal] = mapped_column(DecimalText)

    indicator: Mapped[Indicator] = relationship(back_populates="targets")


class Report(WorkflowMixin, Base):
    """A reporting period of an award and the grantee's report on it:
    due → submitted → accepted, or returned with comments and resubmitted; a report
    still due at ``due_at`` becomes overdue (``grants tick``)."""

    __tablename__ = "reports"
    __workflow__ = "report"
    __worklist_due__ = "due_at"  # "My tasks" lists the soonest first
    __lineage__ = ("award", "round", "programme")
    __table_args__ = (UniqueConstraint("award_id", "number"), workflow_index("reports"))

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… in date order
    kind: Mapped[str] = mapped_column(String(20), default="progress")  # "progress" or "final"
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    narrative: Mapped[str] = mapped_column(String(50_000), default="")  # services.NARRATIVE_MAX
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the reminder before due_at was sent

    award = relationship("Award")
    values: Mapped[list["IndicatorValue"]] = relationship(
        back_populates="report", order_by="IndicatorValue.id", cascade="all, delete-orphan")

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def title(self) -> str:
        """How lists ("My tasks") name a report: its award and its number."""
        return f"{self.award.title} — {self.award.reference}/R{self.number}"

    @property
    def __parent__(self):
        return parent_container(ReportsContainer, self.award)

    @classmethod
    def worklist_filter(cls, user):
        from grants.awards.models import Award

        return cls.award_id.in_(select(Award.id).where(Award.worklist_filter(user)))


class IndicatorValue(Base):
    """A value reported for an indicator in a period: the total (``dimensions == {}``)
    or one disaggregated cell.  Qualitative indicators carry ``text``."""

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("report_id", "indicator_id", "cell"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    dimensions: Mapped[dict] = mapped_column(JSON, default=dict)  # {"sex": "female", "age_band": "18_24"}
    cell: Mapped[str] = mapped_column(String(200), default="")  # dimensions as "age_band=18_24;sex=female"
    value: Mapped[Decimal | None] = mapped_column(DecimalText)
    text: Mapped[str] = mapped_column(String(20_000), default="")  # grants.text.LONG_MAX
    source: Mapped[str] = mapped_column(String(20), default="reported")  # "reported" or "survey"
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("survey_instruments.id"))  # when from a survey

    report: Mapped[Report] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()


class LibraryIndicator(Base):
    """An indicator in a shared library (loaded from a file), to pick from."""

    __tablename__ = "library_indicators"
    __table_args__ = (UniqueConstraint("library", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library: Mapped[str] = mapped_column(String(60))  # "pve-bank"
    code: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(500))
    level: Mapped[str] = mapped_column(String(40))
    measure: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(60), default="")
    method: Mapped[str] = mapped_column(String(40))
    disaggregation: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(String(20_000), default="")  # grants.text.LONG_MAX


#: An instrument's life when a programme makes it in the browser: a draft is edited;
#: publishing freezes it for good; a copy starts the next version.  Code-defined
#: instruments are published from the start.
INSTRUMENT_DRAFT, INSTRUMENT_PUBLISHED = "draft", "published"


class SurveyInstrument(RowVersioned, Base):
    """A standardised questionnaire, versioned: results from two versions are never
    compared as if they were one.  ``items``: ``[{"code": "q1", "text": "…",
    "scale": 5, "labels": ["Strongly disagree", …, "Strongly agree"]}]``.

    Code-defined instruments (grants' own files, a plugin's ``config.add_survey_instrument``)
    have no programme.  A programme's own (grants.mel.instrument_editor) are made in the
    browser: versions of one ``code``, each a draft until published, then never changed."""

    __tablename__ = "survey_instruments"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))  # in the default language of its programme
    # {"title": {language: text}} (grants.multilingual)
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    items: Mapped[list[dict]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=INSTRUMENT_PUBLISHED,
                                        server_default=INSTRUMENT_PUBLISHED)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def __name__(self) -> str:
        return str(self.id)

    @property
    def __parent__(self):
        """A programme's instrument lives under it, so its officers manage it;
        code-defined instruments have no page of their own."""
        from sqlalchemy.orm import object_session

        from grants.programmes.models import Programme

        from .instrument_editor import InstrumentsContainer

        programme = object_session(self).get(Programme, self.programme_id) if self.programme_id is not None else None
        return parent_container(InstrumentsContainer, programme) if programme is not None else None

    @property
    def published(self) -> bool:
        return self.status == INSTRUMENT_PUBLISHED

    @property
    def programme(self):
        """The programme whose languages the title is written in (grants.multilingual
        finds it here); None for a code-defined instrument, or one not stored yet."""
        from sqlalchemy.orm import object_session

        from grants.programmes.models import Programme

        session = object_session(self)
        if self.programme_id is None or session is None:
            return None
        return session.get(Programme, self.programme_id)


class RoundInstrument(Base):
    """An instrument every grantee of a round uses, and the waves it is run in."""

    __tablename__ = "round_instruments"
    __table_args__ = (UniqueConstraint("round_id", "instrument_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("survey_instruments.id"))
    waves: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(WAVES))

    instrument: Mapped[SurveyInstrument] = relationship()


class SurveyUpload(Base):
    """One grantee's aggregated responses to one instrument version in one wave (CSV)."""

    __tablename__ = "survey_uploads"
    __table_args__ = (UniqueConstraint("award_id", "instrument_id", "wave"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("survey_instruments.id"))
    wave: Mapped[str] = mapped_column(String(20))  # WAVES
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    respondents: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    instrument: Mapped[SurveyInstrument] = relationship()
    results: Mapped[list["SurveyResult"]] = relationship(
        back_populates="upload", order_by="SurveyResult.id", cascade="all, delete-orphan")


class SurveyResult(Base):
    """One item's aggregate in an upload: how many answered each point of the scale."""

    __tablename__ = "survey_results"
    __table_args__ = (UniqueConstraint("upload_id", "item", "cell"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("survey_uploads.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(60))
    dimensions: Mapped[dict] = mapped_column(JSON, default=dict)
    cell: Mapped[str] = mapped_column(String(200), default="")
    counts: Mapped[list[int]] = mapped_column(JSON)  # responses per scale point, 1..scale
    respondents: Mapped[int] = mapped_column(Integer)
    mean: Mapped[Decimal] = mapped_column(DecimalText)

    upload: Mapped[SurveyUpload] = relationship(back_populates="results")


class Evidence(Base):
    """Triangulation: a story, testimonial or diary attached to an outcome.  Never
    representative, never counted in an aggregate; kept only with a consent record."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    toc_element_id: Mapped[int | None] = mapped_column(ForeignKey("toc_elements.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))  # EVIDENCE_KINDS
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(String(20_000), default="")  # grants.mel.evidence.TEXT_MAX
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    # Always true: one person's account is shown as "not representative" wherever it appears.
    not_representative: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_given: Mapped[bool] = mapped_column(Boolean)
    consent_method: Mapped[str] = mapped_column(String(40))  # "written", "recorded_verbal", "guardian_written"
    consent_date: Mapped[dt.date] = mapped_column(Date)
    consent_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # never on public pages when true
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
