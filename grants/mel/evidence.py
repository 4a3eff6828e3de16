"""Triangulation evidence: individual stories, testimonials and diaries that tell what the
numbers leave out, as long as each is objective and none is presented as representative
of the people a project served.

Evidence is kept only with a consent record (given, how, when, and the signed form if
there is one), may be linked to an outcome of the award's theory of change, is always
marked *not representative*, and never enters an aggregate: survey results, the round's
summary and indicator values are computed from survey uploads only
(``grants.mel.surveys``), which never read this table.

    item = add_evidence(db, award, kind="testimonial", title="A mother on the theatre club",
                        text="…", toc_element=outcome, consent_given=True, consent_method="written",
                        consent_date=date(2019, 11, 4), consent_file=signed_form, user=member)
    evidence_of(db, award)                       # newest first
    evidence_of(db, award, include_sensitive=False)   # what may ever be shown beyond the award
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.i18n import _, ngettext
from grants.text import control_problems
from grants.workflow import ProblemsRefused

from .models import EVIDENCE_KINDS, Evidence, TocElement

KIND_TITLES = {
    "success_story": _("Success story"),
    "testimonial": _("Testimonial"),
    "diary": _("Diary"),
    "video_diary": _("Video diary"),
    "case_study": _("Case study"),
}
assert tuple(KIND_TITLES) == EVIDENCE_KINDS

#: How consent was given.
CONSENT_METHODS = {
    "written": _("Written, signed by the person"),
    "recorded_verbal": _("Spoken, and recorded"),
    "guardian_written": _("Written, signed by a parent or guardian"),
}

TITLE_MAX = 300
TEXT_MAX = 20_000


class EvidenceRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


def is_outcome_level(kind: str) -> bool:
    """Whether a theory-of-change element is a result at outcome or impact level (a
    programme may name its own levels: "short_term_outcomes", "intermediate_outcomes"…)."""
    return "outcome" in (kind or "") or kind == "impact"


def outcome_elements(dbsession: Session, award) -> list[TocElement]:
    """The award's outcomes and impact, to which evidence may be linked."""
    elements = dbsession.scalars(select(TocElement).where(TocElement.award_id == award.id)
                                 .order_by(TocElement.position, TocElement.id))
    return [e for e in elements if is_outcome_level(e.kind)]


def _element(dbsession: Session, toc_element) -> TocElement | None:
    if toc_element is None or isinstance(toc_element, TocElement):
        return toc_element
    try:
        return dbsession.get(TocElement, int(toc_element))
    except (TypeError, ValueError):
        return None


def add_evidence(dbsession: Session, award, *, kind: str, title: str, text: str = "", toc_element=None, file=None,
                 consent_given: bool, consent_method: str, consent_date: dt.date | None, consent_file=None,
                 sensitive: bool = False, user=None, now: dt.datetime | None = None) -> Evidence:
    """Keep one piece of evidence for ``award``.  Refused without a consent record
    (consent given, its method and date, not in the future), without a title, or
    without the account itself (``text`` or a ``file``, a StoredFile); ``toc_element``
    (a TocElement or its id), when given, must be an outcome or impact of this award.
    Evidence is always stored as not representative."""
    now = now or dt.datetime.now(dt.timezone.utc)
    title = " ".join(str(title or "").split())
    text = str(text or "").strip()
    problems: list = []
    if kind not in EVIDENCE_KINDS:
        problems.append(("kind", _("Choose what kind of evidence this is.")))
    if not title:
        problems.append(("title", _("Give the evidence a title, like “A mother on the theatre club”.")))
    elif len(title) > TITLE_MAX:
        problems.append(("title", ngettext("Give a title of ${count} character or fewer.",
                                             "Give a title of ${count} characters or fewer.", TITLE_MAX)))
    if not text and file is None:
        problems.append(("text", _("Write the account, or attach the file that holds it.")))
    elif len(text) > TEXT_MAX:
        problems.append(("text", ngettext(
            "Write the account in ${count} character or fewer, or attach it as a file.",
            "Write the account in ${count} characters or fewer, or attach it as a file.", TEXT_MAX)))
    if consent_given is not True:
        problems.append(("consent_given", _(
            "Evidence about a person is kept only with their consent: confirm that consent was given.")))
    if consent_method not in CONSENT_METHODS:
        problems.append(("consent_method", _("Choose how consent was given.")))
    if not isinstance(consent_date, dt.date):
        problems.append(("consent_date", _("Enter the date consent was given, with a day, month and year.")))
    elif consent_date > now.date():
        problems.append(("consent_date", _("The date consent was given cannot be in the future.")))
    element = _element(dbsession, toc_element)
    if toc_element is not None and (element is None or element.award_id != award.id):
        problems.append(("toc_element", _("Choose an outcome of this grant's theory of change.")))
    elif element is not None and not is_outcome_level(element.kind):
        problems.append(("toc_element", _(
            "Evidence is linked to an outcome or to the impact, not to an activity or output: choose an outcome.")))
    problems.extend(control_problems(multiline=False, title=title))
    problems.extend(control_problems(text=text))
    EvidenceRefused.refuse_if(problems)
    evidence = Evidence(award_id=award.id, toc_element_id=None if element is None else element.id, kind=kind,
                        title=title, text=text, file_id=None if file is None else file.id, not_representative=True,
                        consent_given=True, consent_method=consent_method, consent_date=consent_date,
                        consent_file_id=None if consent_file is None else consent_file.id, sensitive=bool(sensitive),
                        created_by_id=getattr(user, "id", None), created_at=now)
    dbsession.add(evidence)
    dbsession.flush()
    return evidence


def evidence_of(dbsession: Session, award, *, include_sensitive: bool = True) -> list[Evidence]:
    """The award's evidence, newest first."""
    query = select(Evidence).where(Evidence.award_id == award.id)
    if not include_sensitive:
        query = query.where(Evidence.sensitive.is_(False))
    return list(dbsession.scalars(query.order_by(Evidence.created_at.desc(), Evidence.id.desc())))
