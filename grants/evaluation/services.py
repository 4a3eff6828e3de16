"""Independent evaluation: who evaluates a round, each grantee's assessment, and the
round's findings for its public report.

An evaluator is a person with the local role ``evaluator`` on the round (so, through
the lineage, on every award in it: they read the awards' MEL data and assess them, and
have no part in money or funding decisions — see workflows/award.toml and round.toml).
They must be independent: nobody who belongs to an organisation awarded in the round.

    assign_evaluator(db, rnd, user)           # refused if not independent, or already assigned
    save_assessment(db, award, user, scores={"relevance": 4, …}, summary="…",
                    files=[("Field visit notes", stored_file)])   # one per award and evaluator
    save_round_evaluation(db, rnd, findings="…", shortcomings="…", lessons="…", user=user)

Functions take the session first, flush but never commit, and refuse with
:class:`EvaluationRefused` (``problems``: (field, reason) pairs); a refusal changes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.accounts.models import LocalRole, Membership, User
from grants.audit.services import changes_of, record_change
from grants.i18n import _, ngettext
from grants.security import Role
from grants.text import control_problems
from grants.workflow import ProblemsRefused

from .models import ASSESSMENT_CRITERIA, Assessment, AssessmentFile, RoundEvaluation

CRITERION_TITLES = {
    "relevance": _("Relevance"),
    "effectiveness": _("Effectiveness"),
    "efficiency": _("Efficiency"),
    "sustainability": _("Sustainability"),
    "fidelity": _("Fidelity to the plan"),
    "mel_quality": _("Quality of monitoring and evaluation"),
}
assert tuple(CRITERION_TITLES) == ASSESSMENT_CRITERIA

CRITERION_HINTS = {
    "relevance": _("Did the project answer the needs of the people and places it served?"),
    "effectiveness": _("Did it reach the outcomes it set out to reach?"),
    "efficiency": _("Were money and time used well for what was achieved?"),
    "sustainability": _("Will the benefits last after the grant ends?"),
    "fidelity": _("Was the project delivered as planned, and were changes explained?"),
    "mel_quality": _("Were the data collected, reported and used well?"),
}

@dataclass(frozen=True)
class Criterion:
    """What an evaluator scores a grantee on, 1–5: a stable id (the stored key), a title
    and a hint (the question behind it)."""

    id: str
    title: Any
    hint: Any = None


#: Grants' own criteria: every programme uses them unless one of its plugins brings its own.
CORE_CRITERIA = tuple(Criterion(c, CRITERION_TITLES[c], CRITERION_HINTS[c]) for c in ASSESSMENT_CRITERIA)
CRITERIA_KEY = "grants.evaluation_criteria"  # plugin -> its criteria


def add_evaluation_criteria(config, criteria) -> None:
    """The directive ``config.add_evaluation_criteria``: the criteria assessments use in
    the programmes that use the plugin, instead of grants' own (``criteria``: Criterion
    objects or (id, title, hint) tuples, in the order the evaluator sees them).  A
    programme cannot use two plugins that both set criteria."""
    from grants.plugins import PluginError, current_plugin, register_change, scoped_claim

    plugin = current_plugin(config)
    if not plugin:
        raise PluginError("add_evaluation_criteria is for plugins, called from their includeme")
    chosen = tuple(c if isinstance(c, Criterion) else Criterion(*c) for c in criteria)
    ids = [c.id for c in chosen]
    if not chosen or len(set(ids)) != len(ids) or not all(i and i.replace("_", "").isalnum() for i in ids):
        raise PluginError(f"plugin {plugin!r}: evaluation criteria need distinct ids of letters, digits and "
                          f"underscores ({', '.join(ids) or 'none given'})")
    scoped_claim(config, ("grants:evaluation-criteria",), "set the evaluation criteria")
    register_change(config, ("grants:evaluation-criteria", plugin), "set the evaluation criteria",
                    lambda: config.registry.setdefault(CRITERIA_KEY, {}).__setitem__(plugin, chosen))


def criteria_registry(registry):
    """The mapping plugins' criteria are kept in: the Pyramid registry (or, given the
    ``workflows``, theirs; the current one when None), or None outside one."""
    if registry is None:
        from pyramid.threadlocal import get_current_registry

        registry = get_current_registry()
    registry = getattr(registry, "app_registry", None) or registry
    return registry if hasattr(registry, "get") else None


def criteria_for(registry, programme) -> tuple[Criterion, ...]:
    """The code-defined criteria assessments in ``programme`` use when its round chose no
    set (grants.evaluation.criteria_sets): those of the first of its plugins that sets
    some, else grants' own (``registry``: the Pyramid registry or its ``workflows``; the
    current one when None)."""
    registry = criteria_registry(registry)
    found = (registry.get(CRITERIA_KEY) or {}) if registry is not None else {}
    for plugin in getattr(programme, "plugins", None) or ():
        if plugin in found:
            return found[plugin]
    return CORE_CRITERIA


SCORE_TITLES = {1: _("1 — very weak"), 2: _("2 — weak"), 3: _("3 — fair"), 4: _("4 — good"), 5: _("5 — strong")}
SCORES = tuple(SCORE_TITLES)

TEXT_MAX = 20_000
NOTE_MAX = 2_000
FILE_TITLE_MAX = 300
EVALUATOR = str(Role.Evaluator)


class EvaluationRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# -- evaluators ----------------------------------------------------------------------------------


def evaluators_of(dbsession: Session, rnd) -> list[User]:
    """The round's evaluators, by name."""
    return list(dbsession.scalars(
        select(User).join(LocalRole, LocalRole.user_id == User.id)
        .where(LocalRole.role == EVALUATOR, LocalRole.object_type == "rounds", LocalRole.object_id == rnd.id)
        .order_by(User.name, User.id)))


def _role_row(dbsession: Session, rnd, user) -> LocalRole | None:
    return dbsession.scalar(select(LocalRole).where(
        LocalRole.user_id == user.id, LocalRole.role == EVALUATOR, LocalRole.object_type == "rounds",
        LocalRole.object_id == rnd.id))


def is_evaluator(dbsession: Session, rnd, user) -> bool:
    return user is not None and _role_row(dbsession, rnd, user) is not None


def awarded_organisations(dbsession: Session, rnd) -> list[int]:
    """Ids of the organisations holding an award in ``rnd``."""
    from grants.applications.models import Application
    from grants.awards.models import Award

    return list(dbsession.scalars(select(Application.organisation_id).join(Award, Award.application_id ==
                                                                           Application.id)
                                  .where(Award.round_id == rnd.id).distinct()))


def _member_of(dbsession: Session, user, organisation_ids: Iterable[int]) -> bool:
    ids = list(organisation_ids)
    if not ids:
        return False
    return dbsession.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                        Membership.organisation_id.in_(ids)).limit(1)) is not None


def assign_evaluator(dbsession: Session, rnd, user: User) -> LocalRole:
    """Make ``user`` an evaluator of ``rnd``.  Refused if they belong to an organisation
    awarded in the round (an evaluator is independent of the grantees) or are already
    an evaluator of it."""
    problems: list = []
    if user is None:
        problems.append(("email", _("There is no account with that e-mail address: ask the evaluator to register "
                                    "first.")))
    elif _role_row(dbsession, rnd, user) is not None:
        problems.append(("email", _("${name} already evaluates this round.", mapping={"name": user.name})))
    elif _member_of(dbsession, user, awarded_organisations(dbsession, rnd)):
        problems.append(("email", _(
            "${name} belongs to an organisation funded in this round, so cannot evaluate it independently.",
            mapping={"name": user.name})))
    EvaluationRefused.refuse_if(problems)
    role = LocalRole(user_id=user.id, role=EVALUATOR, object_type="rounds", object_id=rnd.id)
    dbsession.add(role)
    dbsession.flush()
    return role


def unassign_evaluator(dbsession: Session, rnd, user: User) -> None:
    """``user`` no longer evaluates ``rnd``; the assessments they wrote are kept."""
    role = None if user is None else _role_row(dbsession, rnd, user)
    EvaluationRefused.refuse_if([] if role is not None else [
        ("evaluator", _("That person does not evaluate this round."))])
    dbsession.delete(role)
    dbsession.flush()


# -- the round's findings ---------------------------------------------------------------------------


def round_evaluation(dbsession: Session, rnd) -> RoundEvaluation | None:
    return dbsession.scalar(select(RoundEvaluation).where(RoundEvaluation.round_id == rnd.id))


def save_round_evaluation(dbsession: Session, rnd, *, findings: str, shortcomings: str = "", lessons: str = "",
                          user, now: dt.datetime | None = None) -> RoundEvaluation:
    """Write (or rewrite) the round's evaluation for its public report: what was found,
    what did not work (published too: a report that hides its shortcomings teaches the
    next round nothing) and the lessons.  Only an
    evaluator of the round (or an administrator) writes it."""
    findings, shortcomings, lessons = (str(v or "").strip() for v in (findings, shortcomings, lessons))
    problems: list = []
    if user is None or not (is_evaluator(dbsession, rnd, user) or getattr(user, "is_admin", False)):
        problems.append((None, _("Only the round's evaluators write its evaluation.")))
    if not findings:
        problems.append(("findings", _("Write the evaluation's findings.")))
    for name, value in (("findings", findings), ("shortcomings", shortcomings), ("lessons", lessons)):
        if len(value) > TEXT_MAX:
            problems.append((name, ngettext(
                "Write ${count} character or fewer.",
                "Write ${count} characters or fewer.", TEXT_MAX)))
    problems.extend(control_problems(findings=findings, shortcomings=shortcomings, lessons=lessons))
    EvaluationRefused.refuse_if(problems)
    row = round_evaluation(dbsession, rnd)
    if row is None:
        row = RoundEvaluation(round_id=rnd.id)
        dbsession.add(row)
    row.findings, row.shortcomings, row.lessons = findings, shortcomings, lessons
    row.evaluator_id = user.id
    row.updated_at = now or _now()
    dbsession.flush()
    return row


# -- assessments of grantees ----------------------------------------------------------------------------


def assessments_of(dbsession: Session, award) -> list[Assessment]:
    return list(dbsession.scalars(select(Assessment).where(Assessment.award_id == award.id)
                                  .order_by(Assessment.created_at, Assessment.id)))


def assessment_by(dbsession: Session, award, evaluator) -> Assessment | None:
    if evaluator is None:
        return None
    return dbsession.scalar(select(Assessment).where(Assessment.award_id == award.id,
                                                     Assessment.evaluator_id == evaluator.id))


def _score(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number in SCORES else None


def save_assessment(dbsession: Session, award, evaluator: User, *, scores: Mapping[str, object], summary: str,
                    files: Iterable[tuple[str, object]] = (), now: dt.datetime | None = None,
                    registry=None, submit: bool = False) -> Assessment:
    """The evaluator's assessment of ``award`` (one per award and evaluator; saving
    again changes it): a score from 1 to 5 for every criterion of the award's programme
    (:func:`criteria_for`; ``registry`` as there), a summary, and files
    ``[(title, StoredFile)]`` added to those already there.  Only an evaluator of the
    award's round, independent of the grantee, assesses it.

    An assessment is a draft (the grantee does not read it) until saved with
    ``submit=True``.  A submitted assessment is not changed: saving it again is refused
    until its evaluator reopens it (:func:`reopen_assessment`, with a recorded reason).

    The criteria are those of the set the assessment was first saved with, else the
    round's (grants.evaluation.criteria_sets): a round's later choice does not change them."""
    from .criteria_sets import criteria_of, set_for_assessment

    assessment = assessment_by(dbsession, award, evaluator)
    criteria_set = set_for_assessment(dbsession, registry, award, assessment, create=True)
    criteria = criteria_of(criteria_set)
    ids = [c.id for c in criteria]
    now = now or _now()
    summary = str(summary or "").strip()
    files = list(files or ())
    problems: list = []
    if evaluator is None or not is_evaluator(dbsession, award.round, evaluator):
        problems.append((None, _("Only an evaluator of this round assesses its grants.")))
    elif _member_of(dbsession, evaluator, [award.application.organisation_id]):
        problems.append((None, _("You belong to this grantee's organisation, so cannot assess it.")))
    clean: dict[str, int] = {}
    for criterion in criteria:
        score = _score(scores.get(criterion.id)) if criterion.id in scores else None
        if score is None:
            problems.append((criterion.id, _("Score “${criterion}” from 1 to 5.",
                                             mapping={"criterion": criterion.title})))
        else:
            clean[criterion.id] = score
    for name in scores:
        if name not in ids:
            problems.append((None, _("“${criterion}” is not a criterion of the assessment.",
                                     mapping={"criterion": str(name)})))
    if not summary:
        problems.append(("summary", _("Write a summary of your assessment.")))
    elif len(summary) > TEXT_MAX:
        problems.append(("summary", ngettext(
            "Write ${count} character or fewer.",
            "Write ${count} characters or fewer.", TEXT_MAX)))
    problems.extend(control_problems(summary=summary))
    problems.extend(control_problems(files="".join(str(title or "") for title, _f in files)))
    for title, stored in files:
        if stored is None or getattr(stored, "id", None) is None:
            problems.append(("files", _("A file could not be kept: upload it again.")))
        elif len(str(title or "")) > FILE_TITLE_MAX:
            problems.append(("files", ngettext(
                "Give a file title of ${count} character or fewer.",
                "Give a file title of ${count} characters or fewer.", FILE_TITLE_MAX)))
    if assessment is not None and assessment.submitted_at is not None:
        problems.insert(0, (None, SUBMITTED_REFUSAL))
    EvaluationRefused.refuse_if(problems)
    if assessment is None:
        assessment = Assessment(award_id=award.id, evaluator_id=evaluator.id, created_at=now)
        dbsession.add(assessment)
    assessment.criteria_set_id = criteria_set.id
    assessment.scores = clean
    assessment.summary = summary
    assessment.updated_at = now
    for title, stored in files:
        assessment.files.append(AssessmentFile(file_id=stored.id, file=stored,
                                               title=" ".join(str(title or "").split()) or stored.filename))
    dbsession.flush()
    if submit:
        assessment.submitted_at = now
        record_change(dbsession, assessment, "submitted", None, assessment_snapshot(assessment), user=evaluator,
                      now=now)
        dbsession.flush()
    return assessment


SUBMITTED_REFUSAL = _("This assessment is submitted and the grantee may have read it, so it cannot be changed "
                      "as it stands: reopen it first, saying why.")


def assessment_snapshot(assessment: Assessment) -> dict:
    """What the grantee read when it was submitted: plain JSON for the audit."""
    return {"scores": dict(assessment.scores), "summary": assessment.summary,
            "files": [row.title for row in assessment.files]}


def reopen_assessment(dbsession: Session, assessment: Assessment, evaluator: User, *, reason: str,
                      now: dt.datetime | None = None) -> Assessment:
    """Make a submitted assessment a draft again so its evaluator can change it.  Only
    its evaluator reopens it, with a reason the grantee reads beside it (recorded with
    what was submitted, so the change is never silent)."""
    reason = " ".join(str(reason or "").split())
    problems: list = []
    if evaluator is None or assessment.evaluator_id != evaluator.id:
        problems.append((None, _("Only the evaluator who wrote this assessment reopens it.")))
    elif assessment.submitted_at is None:
        problems.append((None, _("This assessment is not submitted: it can be changed as it is.")))
    if not reason:
        problems.append(("reason", _("Say why you reopen the assessment: the grantee reads it.")))
    elif len(reason) > NOTE_MAX:
        problems.append(("reason", ngettext(
            "Write ${count} character or fewer.",
            "Write ${count} characters or fewer.", NOTE_MAX)))
    problems.extend(control_problems(reason=reason))
    EvaluationRefused.refuse_if(problems)
    record_change(dbsession, assessment, "reopened", assessment_snapshot(assessment), {"reason": reason},
                  user=evaluator, now=now)
    assessment.submitted_at = None
    dbsession.flush()
    return assessment


def assessment_history(dbsession: Session, assessment: Assessment) -> list:
    """Its submissions and reopenings (audit rows), oldest first."""
    return [c for c in changes_of(dbsession, assessment) if c.what in ("submitted", "reopened")]


def last_submitted(dbsession: Session, assessment: Assessment) -> dict | None:
    """What the grantee last read: the current assessment if submitted, else (reopened)
    what was submitted last; None for a draft never submitted."""
    if assessment.submitted_at is not None:
        return assessment_snapshot(assessment)
    history = assessment_history(dbsession, assessment)
    return history[-1].before if history and history[-1].what == "reopened" else None
