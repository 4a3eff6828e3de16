"""Incubation: the Python API used by the pages, the demo and plugins.

A programme may take some of a round's applicants through a few months of coaching and
training, with a needs assessment in the capacity areas it chooses at entry and again at
exit; then the cohort is invited to write a full proposal (the application workflow's
``submit_proposal``).

Every function takes the SQLAlchemy session first, flushes but never commits, and refuses
bad input with :class:`IncubationRefused` — whose ``reasons`` are sentences a person can
read (TranslationStrings, domain ``grants``) and whose ``problems`` say which field each
is about.  A refusal changes nothing.

A cohort and its members (applications the ``incubate`` decision moved to ``incubation``)::

    cohort = create_cohort(db, rnd, title="Cohort 2019", starts_on=date(2019, 2, 1),   # 4 months
                           capacity_areas=["Financial management", "Governance"])
    # or, naming none, the areas a plugin the programme uses supplies (config.add_capacity_areas):
    cohort = create_cohort(db, rnd, title="Cohort 2020", starts_on=date(2020, 2, 1), registry=registry)
    cohort.ends_on                          # date(2019, 6, 1)
    enrol_incubated(db, cohort)             # every application of the round in incubation, not yet enrolled
    enrol(db, cohort, application)          # or one at a time

Sessions and attendance::

    s = add_session(db, cohort, title="Budgeting a project", kind="training", held_on=date(2019, 2, 12),
                    facilitator="Amel B.")
    record_attendance(db, s, [m1.id, m2.id])   # everyone else in the cohort is marked absent

The needs assessment: every area of the cohort scored 1–5, at entry, then at exit::

    record_capacity(db, member, officer, phase="entry",
                    scores={"Financial management": 1, "Governance": 2},
                    notes={"Financial management": "No separate bank account for projects"})
    record_capacity(db, member, officer, phase="exit", scores={...})   # refused before the entry one

    summary = cohort_summary(db, cohort)
    summary.areas[1].mean_change            # Decimal("1.25"): exact, never a float
    summary.members[0].attendance_rate      # Decimal: sessions present / sessions whose attendance was taken

The second stage::

    invite_to_second_stage(db, request.registry, cohort, transaction_manager=request.tm,
                           base_url=request.application_url)   # → how many people were mailed
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any, Iterable, Mapping

from pyramid.traversal import resource_path
from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.i18n import _, format_date, format_number, ngettext
from grants.lifecycle.meanings import means, state_means
from grants.workflow import ProblemsRefused

from .models import (
    ENTRY,
    EXIT,
    PHASES,
    SESSION_KINDS,
    Attendance,
    CapacityScore,
    Cohort,
    CohortMember,
    IncubationSession,
)

#: The state an application is in while its organisation is incubated.
#: What an application in incubation means (grants.lifecycle.meanings)
INCUBATION = "incubation"

#: The longest name of a capacity area (CapacityScore.area), and the most a cohort assesses.
AREA_MAX_LENGTH = 60
MAX_AREAS = 12

#: What each score means, for the people who give and read them.
SCORE_TITLES = {
    1: _("1 — very weak"),
    2: _("2 — weak"),
    3: _("3 — fair"),
    4: _("4 — good"),
    5: _("5 — strong"),
}
SCORES = tuple(SCORE_TITLES)

KIND_TITLES = {"coaching": _("Coaching"), "training": _("Training")}
assert tuple(KIND_TITLES) == SESSION_KINDS

#: The longest incubation we accept, in months (four is usual).
MAX_MONTHS = 24

#: Means are computed in decimal128 (34 significant digits) from exact integer sums: with
#: 20 members (or any count whose prime factors are 2 and 5) every mean is exact.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
DISPLAY_QUANTUM = Decimal("0.01")


class IncubationRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


_refuse_if = IncubationRefused.refuse_if


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day where it is shorter
    (31 October + 4 months = 28 February, or 29 in a leap year)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def display(value: Decimal | None, locale_name: str = "en") -> str:
    """A mean or change for people: two decimal places, ROUND_HALF_EVEN, as the language
    writes numbers ("1.33", "1,33"); "—" for none."""
    if value is None:
        return "—"
    return format_number(value.quantize(DISPLAY_QUANTUM, rounding=ROUND_HALF_EVEN, context=CONTEXT), locale_name)


def _name(application) -> str:
    return application.organisation.legal_name if application.organisation else application.title


# -- cohorts and members -----------------------------------------------------------------------


def cohorts_of(dbsession: Session, rnd) -> list[Cohort]:
    """The round's cohorts, oldest first."""
    return list(dbsession.scalars(select(Cohort).where(Cohort.round_id == rnd.id).order_by(Cohort.id)))


def area_title(area: str):
    """How a capacity area reads: its name through the catalog (a plugin's areas are
    translated there; an officer's own names read as they typed them)."""
    return _(area)


def add_capacity_areas(config, areas) -> None:
    """Name the capacity areas a cohort of the plugin's programmes assesses when the
    officer names none: ``areas`` is a list of names in English (as messages of the
    ``grants`` domain, translated by the plugin's catalogs), in the order they are shown,
    each of 60 characters or fewer.  The core supplies none: without a plugin, the officer
    names a cohort's areas.  A programme cannot use two plugins that both supply them."""
    from pyramid.exceptions import ConfigurationError

    from grants.plugins import current_plugin, register_change, scoped_claim

    names = [str(a).strip() for a in areas]
    if not names or any(not n or len(n) > AREA_MAX_LENGTH for n in names) or len(set(names)) != len(names):
        raise ConfigurationError(f"add_capacity_areas: name each area once, in 1 to {AREA_MAX_LENGTH} characters")
    plugin = current_plugin(config)
    scoped_claim(config, ("grants:capacity-areas",), "supply the capacity areas of cohorts")
    register_change(config, ("grants:capacity-areas", plugin), "supply the capacity areas of cohorts",
                    lambda: config.registry.setdefault("grants.capacity_areas", {}).__setitem__(plugin, names))


def default_capacity_areas(registry, programme) -> list[str]:
    """The areas a plugin the programme uses supplies for its cohorts (none by default)."""
    supplied = (registry.get("grants.capacity_areas") or {}) if registry is not None else {}
    for plugin in programme.plugins or ():
        if plugin in supplied:
            return list(supplied[plugin])
    return []


def create_cohort(dbsession: Session, rnd, *, title: str, starts_on: dt.date, months: int = 4,
                  capacity_areas: Iterable[str] | None = None, registry=None) -> Cohort:
    """A new cohort in round ``rnd``, incubated from ``starts_on`` for ``months`` calendar
    months (``ends_on`` is the same day ``months`` later).  Its needs assessment covers
    ``capacity_areas`` (names, in the order they are shown); naming none takes those a
    plugin of the programme supplies (``registry`` says which), and with none of those
    either the cohort is refused: somebody has to say what to assess."""
    title = (title or "").strip()
    if capacity_areas is None:
        capacity_areas = default_capacity_areas(registry, rnd.programme)
    areas = [a.strip() if isinstance(a, str) else a for a in capacity_areas or ()]
    areas = [a for a in areas if a != ""]
    problems: list[tuple[str | None, Any]] = []
    if not title:
        problems.append(("title", _("Enter the cohort's name, like “Cohort 2019”")))
    elif len(title) > 300:
        problems.append(("title", _("Enter a name of 300 characters or fewer")))
    elif any(c.title.casefold() == title.casefold() for c in cohorts_of(dbsession, rnd)):
        problems.append(("title", _("This round already has a cohort called “${title}”: choose another name",
                                    mapping={"title": title})))
    if not isinstance(starts_on, dt.date) or isinstance(starts_on, dt.datetime):
        problems.append(("starts_on", _("Enter the date the incubation starts, with a day, month and year")))
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        problems.append(("months", _("Enter how many months the incubation lasts, a whole number from 1 to "
                                     "${max}, like 4", mapping={"max": MAX_MONTHS})))
    if not areas:
        problems.append(("capacity_areas", _("Name at least one capacity area to assess, like “Financial "
                                             "management”")))
    elif any(not isinstance(a, str) for a in areas):
        problems.append(("capacity_areas", _("Name each capacity area in words")))
    elif any(len(a) > AREA_MAX_LENGTH for a in areas):
        problems.append(("capacity_areas", ngettext(
            "Shorten each capacity area's name to ${count} character or fewer",
            "Shorten each capacity area's name to ${count} characters or fewer", AREA_MAX_LENGTH)))
    elif len({a.casefold() for a in areas}) != len(areas):
        problems.append(("capacity_areas", _("Name each capacity area once")))
    elif len(areas) > MAX_AREAS:
        problems.append(("capacity_areas", ngettext("Name ${count} capacity area or fewer",
                                                      "Name ${count} capacity areas or fewer", MAX_AREAS)))
    _refuse_if(problems)
    cohort = Cohort(round_id=rnd.id, title=title, starts_on=starts_on, ends_on=add_months(starts_on, months),
                    capacity_areas=areas)
    dbsession.add(cohort)
    dbsession.flush()
    return cohort


def cohort_of(dbsession: Session, application) -> CohortMember | None:
    """The application's place in a cohort, if it has one."""
    return dbsession.scalar(select(CohortMember).where(CohortMember.application_id == application.id))


def enrol(dbsession: Session, cohort: Cohort, application) -> CohortMember:
    """Put ``application`` (of the cohort's round, in state ``incubation``) in ``cohort``.
    An application belongs to one cohort, once."""
    problems = []
    name = _name(application)
    if application.round_id != cohort.round_id:
        problems.append(("application", _("“${name}” applied to another round: only this round's applications "
                                          "can join its cohort", mapping={"name": name})))
    elif not means(application, INCUBATION):
        problems.append(("application", _("“${name}” is not in incubation, so it cannot join the "
                                          "cohort", mapping={"name": name})))
    existing = cohort_of(dbsession, application)
    if existing is not None:
        problems.append(("application", _("“${name}” is already in the cohort “${cohort}”",
                                          mapping={"name": name, "cohort": existing.cohort.title})))
    _refuse_if(problems)
    member = CohortMember(cohort=cohort, application=application)
    dbsession.add(member)
    dbsession.flush()
    return member


def enrol_incubated(dbsession: Session, cohort: Cohort) -> list[CohortMember]:
    """Enrol every application of the cohort's round that is in incubation and in no
    cohort yet; returns the new members (none when everyone is already enrolled)."""
    from grants.applications.models import Application

    waiting = dbsession.scalars(
        select(Application)
        .where(Application.round_id == cohort.round_id, state_means(Application, INCUBATION),
               Application.id.not_in(select(CohortMember.application_id)))
        .order_by(Application.id))
    return [enrol(dbsession, cohort, application) for application in waiting]


# -- sessions and attendance ---------------------------------------------------------------------


def add_session(dbsession: Session, cohort: Cohort, *, title: str, kind: str, held_on: dt.date,
                facilitator: str = "", notes: str = "") -> IncubationSession:
    """A coaching or training session (``kind``, one of :data:`SESSION_KINDS`) held for the
    cohort on a day within its incubation period."""
    title = (title or "").strip()
    facilitator = (facilitator or "").strip()
    problems: list[tuple[str | None, Any]] = []
    if not title:
        problems.append(("title", _("Enter what the session is about, like “Budgeting a project”")))
    elif len(title) > 300:
        problems.append(("title", _("Enter a title of 300 characters or fewer")))
    if kind not in SESSION_KINDS:
        problems.append(("kind", _("Choose whether the session is coaching or training")))
    if not isinstance(held_on, dt.date) or isinstance(held_on, dt.datetime):
        problems.append(("held_on", _("Enter the date of the session, with a day, month and year")))
    elif not cohort.starts_on <= held_on <= cohort.ends_on:
        problems.append(("held_on", _("Enter a date within the incubation, from ${start} to ${end}",
                                      mapping={"start": format_date(cohort.starts_on),
                                               "end": format_date(cohort.ends_on)})))
    if len(facilitator) > 200:
        problems.append(("facilitator", _("Enter a facilitator's name of 200 characters or fewer")))
    _refuse_if(problems)
    session = IncubationSession(cohort=cohort, title=title, kind=kind, held_on=held_on, facilitator=facilitator,
                                notes=notes or "")
    dbsession.add(session)
    dbsession.flush()
    return session


def record_attendance(dbsession: Session, session: IncubationSession,
                      present_member_ids: Iterable[int]) -> list[Attendance]:
    """Take the session's register: the members listed were present, every other member of
    the cohort absent.  Taking it again replaces it (the same call twice changes nothing)."""
    present = set(present_member_ids)
    members = session.cohort.members
    known = {m.id for m in members}
    strangers = sorted(present - known, key=str)
    _refuse_if([("present", _("Mark attendance only for members of the cohort (not ${ids})",
                              mapping={"ids": ", ".join(map(str, strangers))}))] if strangers else [])
    rows = {a.member_id: a for a in session.attendance}
    out = []
    for member in members:
        row = rows.get(member.id)
        if row is None:
            row = Attendance(session=session, member=member)
            dbsession.add(row)
        row.present = member.id in present
        out.append(row)
    dbsession.flush()
    return out


# -- the needs assessment --------------------------------------------------------------------------


def scores_of(member: CohortMember, phase: str) -> dict[str, CapacityScore]:
    """The member's scores in one phase, by area."""
    return {s.area: s for s in member.scores if s.phase == phase}


def record_capacity(dbsession: Session, member: CohortMember, user, *, phase: str, scores: Mapping[str, int],
                    notes: Mapping[str, str] | None = None) -> list[CapacityScore]:
    """Score every capacity area of the member's cohort from 1 to 5 at ``phase``
    (``"entry"`` or ``"exit"``), with an optional note per area; ``user`` made the
    assessment.  The exit assessment needs the entry one first.  Recording a phase again
    replaces it.  Returns the phase's scores in the cohort's area order."""
    areas = list(member.cohort.capacity_areas)
    notes = dict(notes or {})
    problems: list[tuple[str | None, Any]] = []
    if phase not in PHASES:
        raise IncubationRefused([("phase", _("Say whether this is the entry or the exit assessment"))])
    if phase == EXIT and not scores_of(member, ENTRY):
        problems.append((None, _("Record the entry assessment of “${name}” before the exit one",
                                 mapping={"name": _name(member.application)})))
    for area in areas:
        title = area_title(area)
        value = scores.get(area)
        if value is None:
            problems.append((area, _("Choose a score from 1 to 5 for ${area}", mapping={"area": title})))
        elif isinstance(value, bool) or not isinstance(value, int) or value not in SCORES:
            problems.append((area, _("Score ${area} with a whole number from 1 to 5", mapping={"area": title})))
    extra = [a for a in (*scores, *notes) if a not in areas]
    if extra:
        problems.append((None, _("${areas}: not a capacity area of this cohort",
                                 mapping={"areas": ", ".join(dict.fromkeys(map(str, extra)))})))
    _refuse_if(problems)
    existing = scores_of(member, phase)
    now = dt.datetime.now(dt.timezone.utc)
    out = []
    for area in areas:
        row = existing.get(area)
        if row is None:
            row = CapacityScore(member=member, phase=phase, area=area)
            dbsession.add(row)
        row.score = scores[area]
        row.note = (notes.get(area) or "").strip()
        row.assessed_by_id = getattr(user, "id", None)
        row.assessed_at = now
        out.append(row)
    dbsession.flush()
    return out


# -- the summary -----------------------------------------------------------------------------------


@dataclass
class MemberSummary:
    member: CohortMember
    attended: int  # sessions the member was present at
    recorded: int  # sessions whose register lists the member (present or absent)
    attendance_rate: Decimal | None  # attended / recorded, from 0 to 1; None before any register
    entry: dict[str, int] = field(default_factory=dict)  # area → score
    exit: dict[str, int] = field(default_factory=dict)
    change: dict[str, int] = field(default_factory=dict)  # area → exit − entry, where both exist

    @property
    def application(self):
        return self.member.application


@dataclass
class AreaSummary:
    area: str
    title: Any  # TranslationString
    entry_mean: Decimal | None  # over the members scored at entry
    exit_mean: Decimal | None  # over the members scored at exit
    mean_change: Decimal | None  # mean of (exit − entry) over the members scored at both
    entry_count: int
    exit_count: int
    improved: int  # members whose exit score is higher than their entry score


@dataclass
class CohortSummary:
    cohort: Cohort
    sessions: int
    members: list[MemberSummary]
    areas: list[AreaSummary]

    def member(self, member_id: int) -> MemberSummary:
        return next(m for m in self.members if m.member.id == member_id)


def _mean(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return CONTEXT.divide(Decimal(sum(values)), Decimal(len(values)))


def cohort_summary(dbsession: Session, cohort: Cohort) -> CohortSummary:
    """Per member: attendance and the scores at entry and exit with their change; per
    area: the mean at entry, at exit, the mean change and how many improved.

    The mean change is taken over members assessed at both entry and exit, so it may
    differ from ``exit_mean − entry_mean`` while some exit assessments are missing."""
    registers = dbsession.execute(
        select(Attendance.member_id, Attendance.present)
        .join(IncubationSession, IncubationSession.id == Attendance.session_id)
        .where(IncubationSession.cohort_id == cohort.id)).all()
    members = []
    for member in cohort.members:
        mine = [present for member_id, present in registers if member_id == member.id]
        attended = sum(1 for present in mine if present)
        entry = {a: s.score for a, s in scores_of(member, ENTRY).items()}
        exit_ = {a: s.score for a, s in scores_of(member, EXIT).items()}
        members.append(MemberSummary(
            member=member, attended=attended, recorded=len(mine),
            attendance_rate=CONTEXT.divide(Decimal(attended), Decimal(len(mine))) if mine else None,
            entry=entry, exit=exit_, change={a: exit_[a] - entry[a] for a in entry if a in exit_}))
    areas = []
    for area in cohort.capacity_areas:
        at_entry = [m.entry[area] for m in members if area in m.entry]
        at_exit = [m.exit[area] for m in members if area in m.exit]
        changes = [m.change[area] for m in members if area in m.change]
        areas.append(AreaSummary(area=area, title=area_title(area), entry_mean=_mean(at_entry),
                                 exit_mean=_mean(at_exit), mean_change=_mean(changes), entry_count=len(at_entry),
                                 exit_count=len(at_exit), improved=sum(1 for c in changes if c > 0)))
    return CohortSummary(cohort=cohort, sessions=len(cohort.sessions), members=members, areas=areas)


# -- the second stage ------------------------------------------------------------------------------


def proposal_path(application) -> str:
    """Where the applicant writes the full proposal (the application's ``@@proposal`` page)."""
    return resource_path(application) + "/@@proposal"


def invite_to_second_stage(dbsession: Session, registry, cohort: Cohort, *, transaction_manager=None,
                           base_url: str = "") -> int:
    """Tell every person in every member organisation still in incubation that the full
    proposal is open, with the address of its page (``base_url`` + the application's path,
    or the path alone), each in their own language, once the transaction commits.
    ``registry`` is the Pyramid registry (its mailer and translations).  Members that
    have left incubation (not funded, withdrawn, proposal already submitted) are not
    written to.  Returns how many people were written to."""
    from grants.accounts.models import Membership, User
    from grants.mail import notify

    invited = [m for m in cohort.members if means(m.application, INCUBATION)]
    _refuse_if([(None, _("No member of the cohort “${cohort}” is still in incubation: there is nobody to invite",
                         mapping={"cohort": cohort.title}))] if not invited else [])
    sent = 0
    for member in invited:
        application = member.application
        link = base_url.rstrip("/") + proposal_path(application)
        people = dbsession.scalars(
            select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == application.organisation_id).order_by(User.id))
        for user in people:
            subject = _("Submit your full proposal: “${title}”", mapping={"title": application.title})
            body = _(
                "Hello ${name},\n\n"
                "The second stage of ${round} is open: your organisation, a member of the incubation cohort "
                "“${cohort}”, is invited to submit a full proposal for “${title}”.\n\n"
                "Sign in and write it here:\n\n${link}\n\n"
                "The incubation ends on ${end}.",
                mapping={"name": user.name, "round": application.round.title, "cohort": cohort.title,
                         "title": application.title, "link": link, "end": format_date(cohort.ends_on)})
            notify(registry, user, subject, body, transaction_manager=transaction_manager)
            sent += 1
    return sent
