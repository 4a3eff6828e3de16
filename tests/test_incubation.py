"""Incubation: a cohort over a calendar-correct period, members from the applications the
`incubate` decision moved, sessions and registers, the needs assessment at entry and exit
with its exact summary, the invitation to the second stage, and the pages."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import factories as f
from grants.applications.models import Application
from grants.incubation import services
from grants.incubation.models import (
    Attendance,
    CapacityScore,
    Cohort,
    CohortMember,
    IncubationSession,
)
from grants.incubation.services import IncubationRefused
from grants.lifecycle.services import WorkflowService
from grants.mail import Mailer
from grants.workflow import Refused

D = dt.date
#: The areas the tests' cohorts assess, by a short key.
AREA = {"programme_delivery": "Programme delivery", "financial_management": "Financial management",
        "hr_management": "Human resources management", "external_relations": "External relations and communication",
        "governance": "Management and governance"}
AREAS = tuple(AREA.values())
FIN, GOV = AREA["financial_management"], AREA["governance"]
START = D(2019, 2, 1)  # four months from February 2019


def create_cohort(db, rnd, **values):
    """A cohort assessing AREAS unless other areas are given."""
    values.setdefault("capacity_areas", AREAS)
    return services.create_cohort(db, rnd, **values)


def reasons(refused) -> list[str]:
    return [r.interpolate() if hasattr(r, "interpolate") else str(r) for r in refused.value.reasons]


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def incubated(db, registry, rnd, org, *, title="Theatre clubs in Kebili", tm=None) -> Application:
    """An application submitted, screened and moved to incubation by the `incubate`
    decision, each through the WorkflowService."""
    application = f.application(db, registry, rnd, org, title=title, state="eligible")
    WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
        application, "incubate", actor=f.SYSTEM, data={"funder_reference": "BLADI-2019-INC"},
        comment="One of the 20 for incubation")
    return application


def cohort_with(db, registry, n, *, title="Cohort 2019", rnd=None):
    """A round, a cohort and ``n`` members (each its own organisation)."""
    rnd = rnd or f.round_(db, registry)
    cohort = create_cohort(db, rnd, title=title, starts_on=START)
    for i in range(n):
        incubated(db, registry, rnd, f.organisation(db, name=f"Association {i + 1}"), title=f"Project {i + 1}")
    members = services.enrol_incubated(db, cohort)
    return rnd, cohort, members


def full(**scores) -> dict:
    """Scores for every area (by its key): 3 unless given."""
    return {title: scores.get(key, 3) for key, title in AREA.items()}


# -- cohorts ------------------------------------------------------------------------------------------


def test_a_cohort_lasts_calendar_months_from_its_start(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        bladi = create_cohort(db, rnd, title="  Cohort 2019 ", starts_on=START)
        assert (bladi.title, bladi.starts_on, bladi.ends_on) == ("Cohort 2019", START, D(2019, 6, 1))
        assert bladi.capacity_areas == list(AREAS)
        # the end of a longer month falls on the last day of a shorter one, leap years included
        assert create_cohort(db, rnd, title="B", starts_on=D(2018, 10, 31)).ends_on == D(2019, 2, 28)
        assert create_cohort(db, rnd, title="C", starts_on=D(2019, 10, 31)).ends_on == D(2020, 2, 29)
        long = create_cohort(db, rnd, title="D", starts_on=D(2019, 11, 15), months=14)
        assert long.ends_on == D(2021, 1, 15)
        own = create_cohort(db, rnd, title="E", starts_on=START,
                            capacity_areas=[" Gouvernance ", "", "الحوكمة"])  # the officer's own words
        assert own.capacity_areas == ["Gouvernance", "الحوكمة"]
        assert [c.title for c in services.cohorts_of(db, rnd)] == ["Cohort 2019", "B", "C", "D", "E"]


@pytest.mark.parametrize("changes, field, message", [
    ({"title": "   "}, "title", "Enter the cohort's name"),
    ({"title": "cohort 2019"}, "title", "This round already has a cohort called “cohort 2019”"),
    ({"starts_on": None}, "starts_on", "Enter the date the incubation starts"),
    ({"starts_on": dt.datetime(2019, 2, 1, 9)}, "starts_on", "Enter the date the incubation starts"),
    ({"months": 0}, "months", "a whole number from 1 to 24"),
    ({"months": 25}, "months", "a whole number from 1 to 24"),
    ({"months": True}, "months", "a whole number from 1 to 24"),
    ({"capacity_areas": ["Governance", "x" * 61]}, "capacity_areas", "to 60 characters or fewer"),
    ({"capacity_areas": []}, "capacity_areas", "Name at least one capacity area to assess"),
    ({"capacity_areas": None}, "capacity_areas", "Name at least one capacity area to assess"),  # no plugin names any
    ({"capacity_areas": [" ", ""]}, "capacity_areas", "Name at least one capacity area to assess"),
    ({"capacity_areas": ["Governance", "governance"]}, "capacity_areas", "Name each capacity area once"),
    ({"capacity_areas": [f"Area {n}" for n in range(13)]}, "capacity_areas", "Name 12 capacity areas or fewer"),
    ({"capacity_areas": ["Governance", 3]}, "capacity_areas", "Name each capacity area in words"),
])
def test_a_cohort_is_refused_with_a_reason_and_nothing_made(registry, changes, field, message):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        create_cohort(db, rnd, title="Cohort 2019", starts_on=START)
        values = {"title": "Cohort 2020", "starts_on": D(2020, 2, 1), **changes}
        with pytest.raises(IncubationRefused) as refused:
            create_cohort(db, rnd, **values)
        assert isinstance(refused.value, Refused)
        assert [p[0] for p in refused.value.problems] == [field]
        assert message in reasons(refused)[0]
        assert count(db, Cohort) == 1


def test_the_same_title_is_fine_in_another_round(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        other = f.round_(db, registry, rnd.programme, title="Round 2")
        create_cohort(db, rnd, title="Cohort", starts_on=START)
        assert create_cohort(db, other, title="Cohort", starts_on=START).round_id == other.id


# -- members ------------------------------------------------------------------------------------------


def test_only_applications_of_the_round_in_incubation_join_and_only_once(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        other_round = f.round_(db, registry, rnd.programme, title="Round 2")
        cohort = create_cohort(db, rnd, title="Cohort 2019", starts_on=START)
        second = create_cohort(db, rnd, title="Cohort 2019 bis", starts_on=START)
        afek = incubated(db, registry, rnd, f.organisation(db, name="AFEK"))
        draft = f.application(db, registry, rnd, f.organisation(db, name="Khatwa"))
        elsewhere = incubated(db, registry, other_round, f.organisation(db, name="Mashhad"))

        member = services.enrol(db, cohort, afek)
        assert (member.cohort, member.application) == (cohort, afek)
        with pytest.raises(IncubationRefused) as refused:
            services.enrol(db, cohort, draft)
        assert reasons(refused) == ["“Khatwa” is not in incubation, so it cannot join the cohort"]
        with pytest.raises(IncubationRefused) as refused:
            services.enrol(db, cohort, elsewhere)
        assert "applied to another round" in reasons(refused)[0]
        for target in (cohort, second):
            with pytest.raises(IncubationRefused) as refused:
                services.enrol(db, target, afek)
            assert reasons(refused) == ["“AFEK” is already in the cohort “Cohort 2019”"]
        assert count(db, CohortMember) == 1
        assert services.cohort_of(db, afek) == member and services.cohort_of(db, draft) is None


def test_enrol_incubated_takes_every_waiting_application_of_the_round(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        cohort = create_cohort(db, rnd, title="Cohort 2019", starts_on=START)
        early = incubated(db, registry, rnd, f.organisation(db))
        services.enrol(db, cohort, early)
        waiting = [incubated(db, registry, rnd, f.organisation(db)) for _ in range(3)]
        f.application(db, registry, rnd, f.organisation(db))  # a draft: not invited
        incubated(db, registry, f.round_(db, registry, rnd.programme, title="Round 2"), f.organisation(db))

        members = services.enrol_incubated(db, cohort)
        assert [m.application for m in members] == waiting
        assert [m.application for m in cohort.members] == [early, *waiting]
        assert services.enrol_incubated(db, cohort) == []


# -- sessions and registers -------------------------------------------------------------------------


def test_sessions_are_held_within_the_incubation(registry):
    with registry.database.transaction() as (_tm, db):
        _rnd, cohort, _members = cohort_with(db, registry, 0)
        first = services.add_session(db, cohort, title=" Budgeting a project ", kind="training", held_on=START,
                                     facilitator="Amel B.", notes="Bring last year's accounts")
        last = services.add_session(db, cohort, title="Governance clinic", kind="coaching", held_on=D(2019, 6, 1))
        assert (first.title, first.kind, first.facilitator) == ("Budgeting a project", "training", "Amel B.")
        middle = services.add_session(db, cohort, title="Communication", kind="training", held_on=D(2019, 3, 3))
        assert cohort.sessions == [first, middle, last]  # in date order

        outside = "Enter a date within the incubation, from 1 Feb 2019 to 1 Jun 2019"
        for values, field, message in [
            ({"held_on": D(2019, 1, 31)}, "held_on", outside),
            ({"held_on": D(2019, 6, 2)}, "held_on", outside),
            ({"held_on": None}, "held_on", "Enter the date of the session"),
            ({"kind": "webinar"}, "kind", "Choose whether the session is coaching or training"),
            ({"title": ""}, "title", "Enter what the session is about"),
        ]:
            with pytest.raises(IncubationRefused) as refused:
                services.add_session(db, cohort, **{"title": "T", "kind": "coaching", "held_on": START, **values})
            assert refused.value.problems[0][0] == field and message in reasons(refused)[0]
        assert count(db, IncubationSession) == 3


def test_a_register_marks_every_member_present_or_absent_and_can_be_taken_again(registry):
    with registry.database.transaction() as (_tm, db):
        _rnd, cohort, (a, b, c) = cohort_with(db, registry, 3)
        session = services.add_session(db, cohort, title="Budgeting", kind="training", held_on=D(2019, 2, 12))
        rows = services.record_attendance(db, session, [a.id, c.id])
        assert {r.member_id: r.present for r in rows} == {a.id: True, b.id: False, c.id: True}
        services.record_attendance(db, session, [a.id, c.id])  # the same register again: no change
        assert count(db, Attendance) == 3
        services.record_attendance(db, session, {b.id})
        assert {r.member_id: r.present for r in session.attendance} == {a.id: False, b.id: True, c.id: False}

        stranger = cohort_with(db, registry, 1, title="Other")[2][0]
        with pytest.raises(IncubationRefused) as refused:
            services.record_attendance(db, session, [a.id, stranger.id])
        assert reasons(refused) == [f"Mark attendance only for members of the cohort (not {stranger.id})"]
        assert {r.member_id: r.present for r in session.attendance} == {a.id: False, b.id: True, c.id: False}
        assert count(db, Attendance) == 3


# -- the needs assessment -----------------------------------------------------------------------------


def test_capacity_is_scored_in_every_area_at_entry_then_at_exit(registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, name="Leila")
        _rnd, cohort, (member,) = cohort_with(db, registry, 1)

        with pytest.raises(IncubationRefused) as refused:
            services.record_capacity(db, member, officer, phase="exit", scores=full())
        assert reasons(refused) == ["Record the entry assessment of “Association 1” before the exit one"]

        rows = services.record_capacity(db, member, officer, phase="entry", scores=full(financial_management=1),
                                        notes={FIN: " No separate project account "})
        assert [(r.area, r.score) for r in rows] == [(a, 1 if a == FIN else 3) for a in AREAS]
        assert rows[1].note == "No separate project account" and rows[0].note == ""
        assert {r.assessed_by_id for r in rows} == {officer.id}

        # again: replaced, not added to
        services.record_capacity(db, member, officer, phase="entry", scores=full(financial_management=2))
        entry = services.scores_of(member, "entry")
        assert entry[FIN].score == 2 and entry[FIN].note == ""
        services.record_capacity(db, member, None, phase="exit", scores=full(financial_management=4, governance=5))
        assert count(db, CapacityScore) == 10
        assert services.scores_of(member, "exit")[GOV].score == 5


@pytest.mark.parametrize("scores, notes, field, message", [
    ({**full(), GOV: None}, None, GOV, "Choose a score from 1 to 5 for Management and governance"),
    ({k: v for k, v in full().items() if k != AREA["hr_management"]}, None, AREA["hr_management"],
     "Choose a score from 1 to 5 for Human resources management"),
    (full(governance=0), None, GOV, "Score Management and governance with a whole number from 1 to 5"),
    (full(governance=6), None, GOV, "Score Management and governance with a whole number from 1 to 5"),
    (full(governance="4"), None, GOV, "Score Management and governance with a whole number from 1 to 5"),
    (full(governance=True), None, GOV, "Score Management and governance with a whole number from 1 to 5"),
    ({**full(), "fundraising": 3}, None, None, "fundraising: not a capacity area of this cohort"),
    (full(), {"fundraising": "Good"}, None, "fundraising: not a capacity area of this cohort"),
])
def test_a_capacity_assessment_with_a_mistake_is_refused_and_changes_nothing(registry, scores, notes, field, message):
    with registry.database.transaction() as (_tm, db):
        _rnd, _cohort, (member,) = cohort_with(db, registry, 1)
        services.record_capacity(db, member, None, phase="entry", scores=full(governance=2))
        with pytest.raises(IncubationRefused) as refused:
            services.record_capacity(db, member, None, phase="entry", scores=scores, notes=notes)
        assert refused.value.problems == [(field, refused.value.reasons[0])]
        assert reasons(refused) == [message]
        assert count(db, CapacityScore) == 5
        assert services.scores_of(member, "entry")[GOV].score == 2


def test_an_unknown_phase_is_refused(registry):
    with registry.database.transaction() as (_tm, db):
        _rnd, _cohort, (member,) = cohort_with(db, registry, 1)
        with pytest.raises(IncubationRefused) as refused:
            services.record_capacity(db, member, None, phase="midterm", scores=full())
        assert reasons(refused) == ["Say whether this is the entry or the exit assessment"]


def test_the_summary_gives_exact_means_changes_and_attendance(registry):
    with registry.database.transaction() as (_tm, db):
        rnd, cohort, (a, b, c, d) = cohort_with(db, registry, 4)
        s1, s2, s3 = (services.add_session(db, cohort, title=f"S{i}", kind="coaching", held_on=D(2019, 3, i))
                      for i in (1, 2, 3))
        services.record_attendance(db, s1, [a.id, b.id, c.id])
        services.record_attendance(db, s2, [a.id])
        # a late joiner: only the registers taken since it joined count for it
        late = services.enrol(db, cohort, incubated(db, registry, rnd, f.organisation(db, name="Late")))
        services.record_attendance(db, s3, [a.id, late.id])

        # d leaves before the exit assessment, so the exit means are over a, b and c:
        # financial management: entry 1, 2, 2, 3 (mean 2); exit 4, 3, 2 (mean 3); changes 3, 1, 0 (mean 4/3)
        # governance: entry 1, 1, 2, 5 (mean 2.25); exit 2, 1, 3 (mean 2); changes 1, 0, 1 (mean 2/3)
        entries = {a: (1, 1), b: (2, 1), c: (2, 2), d: (3, 5)}
        exits = {a: (4, 2), b: (3, 1), c: (2, 3)}
        for phase, table in (("entry", entries), ("exit", exits)):
            for m, (fin, gov) in table.items():
                services.record_capacity(db, m, None, phase=phase,
                                         scores=full(financial_management=fin, governance=gov))

        summary = services.cohort_summary(db, cohort)
        assert summary.sessions == 3
        by_area = {area.area: area for area in summary.areas}
        assert list(by_area) == list(AREAS)
        fin = by_area[FIN]
        assert (fin.entry_mean, fin.exit_mean, fin.improved, fin.entry_count, fin.exit_count) == (
            Decimal(2), Decimal(3), 2, 4, 3)
        # the mean change is over those assessed at both: not exit mean − entry mean
        assert fin.mean_change == services.CONTEXT.divide(Decimal(4), Decimal(3))
        assert str(fin.mean_change) == "1." + "3" * 33  # 34 significant digits, never a float
        assert services.display(fin.mean_change) == "1.33" and services.display(None) == "—"
        gov = by_area[GOV]
        assert (gov.entry_mean, gov.exit_mean, gov.improved) == (Decimal("2.25"), Decimal(2), 2)
        assert services.display(gov.mean_change) == "0.67"
        delivery = by_area[AREA["programme_delivery"]]
        assert (delivery.entry_mean, delivery.exit_mean, delivery.mean_change, delivery.improved) == (3, 3, 0, 0)
        assert str(fin.title) == "Financial management"

        ma = summary.member(a.id)
        assert (ma.attended, ma.recorded, ma.attendance_rate) == (3, 3, Decimal(1))
        mb = summary.member(b.id)
        assert (mb.attended, mb.recorded, mb.attendance_rate) == (1, 3, services.CONTEXT.divide(1, 3))
        md = summary.member(d.id)
        assert (md.attended, md.recorded, md.attendance_rate) == (0, 3, Decimal(0))
        ml = summary.member(late.id)
        assert (ml.attended, ml.recorded, ml.attendance_rate) == (1, 1, Decimal(1))
        assert ma.entry[FIN] == 1
        assert ma.exit[FIN] == 4
        assert ma.change == {AREA["programme_delivery"]: 0, FIN: 3, AREA["hr_management"]: 0,
                             AREA["external_relations"]: 0, GOV: 1}
        assert md.exit == {} and md.change == {}
        assert summary.member(late.id).entry == {} and summary.member(late.id).attendance_rate == Decimal(1)


def test_a_cohort_of_twenty_has_exact_means(registry):
    """A cohort of 20: dividing by 20 always ends, so every mean is exact."""
    with registry.database.transaction() as (_tm, db):
        _rnd, cohort, members = cohort_with(db, registry, 20)
        for i, m in enumerate(members):
            services.record_capacity(db, m, None, phase="entry", scores=full(programme_delivery=1 + i % 5))
            services.record_capacity(db, m, None, phase="exit", scores=full(programme_delivery=min(5, 2 + i % 5)))
        delivery = services.cohort_summary(db, cohort).areas[0]
        assert (delivery.entry_mean, delivery.exit_mean, delivery.mean_change) == (
            Decimal(3), Decimal("3.8"), Decimal("0.8"))
        assert delivery.improved == 16  # every member but the four already at 5


# -- the second stage ---------------------------------------------------------------------------------


def test_the_cohort_is_invited_to_the_second_stage_after_commit(registry, settings):
    with registry.database.transaction() as (tm, db):
        rnd = f.round_(db, registry)
        cohort = create_cohort(db, rnd, title="Cohort 2019", starts_on=START)
        amel = f.user(db, email="amel@example.org", locale="fr")
        omar = f.user(db, email="omar@example.org", locale="ar")
        sana = f.user(db, email="sana@example.org")
        bithret = incubated(db, registry, rnd, f.organisation(db, amel, omar, name="Bithret Amal"),
                            title="Seed of Hope", tm=tm)
        afek = incubated(db, registry, rnd, f.organisation(db, sana, name="AFEK"), tm=tm)
        gone = incubated(db, registry, rnd, f.organisation(db, f.user(db, email="left@example.org")), tm=tm)
        services.enrol_incubated(db, cohort)
        WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
            gone, "not_fund", actor=f.SYSTEM, data={}, comment="Left the incubation in March")
        before = len(registry.mailer.sent())

        assert services.invite_to_second_stage(db, registry, cohort, transaction_manager=tm,
                                               base_url="https://grants.example.org/") == 3
        assert len(registry.mailer.sent()) == before  # nothing before the commit
        path = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{bithret.id}/@@proposal"
        afek_path = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{afek.id}/@@proposal"
    invitations = [m for m in Mailer(settings).sent() if "@@proposal" in m.get_content()]
    assert sorted(m["To"] for m in invitations) == ["amel@example.org", "omar@example.org", "sana@example.org"]
    # each in their own language: Amel French, Omar Arabic, Sana English
    to_amel = next(m for m in invitations if m["To"] == "amel@example.org")
    assert to_amel["Subject"].replace("\xa0", " ") == "Soumettez votre proposition complète : « Seed of Hope »"
    to_omar = next(m for m in invitations if m["To"] == "omar@example.org")
    assert to_omar["Subject"] == "قدّم مقترحك الكامل: «Seed of Hope»"
    to_sana = next(m for m in invitations if m["To"] == "sana@example.org")
    assert to_sana["Subject"] == "Submit your full proposal: “Theatre clubs in Kebili”"
    body = to_amel.get_content()
    assert "https://grants.example.org" + path in body and "Cohort 2019" in body and "1 juin 2019" in body
    assert afek_path in next(m for m in invitations if m["To"] == "sana@example.org").get_content()


def test_no_invitation_leaves_when_the_transaction_rolls_back(registry, settings):
    with pytest.raises(RuntimeError):
        with registry.database.transaction() as (tm, db):
            _rnd, cohort, _members = cohort_with(db, registry, 0)
            incubated(db, registry, _rnd, f.organisation(db, f.user(db, email="amel@example.org")), tm=tm)
            services.enrol_incubated(db, cohort)
            assert services.invite_to_second_stage(db, registry, cohort, transaction_manager=tm) == 1
            raise RuntimeError("something else failed")
    assert not [m for m in Mailer(settings).sent() if "@@proposal" in m.get_content()]


def test_inviting_a_cohort_with_nobody_left_in_incubation_is_refused(registry):
    with registry.database.transaction() as (tm, db):
        _rnd, cohort, (member,) = cohort_with(db, registry, 1)
        WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
            member.application, "withdraw", actor=f.SYSTEM)
        with pytest.raises(IncubationRefused) as refused:
            services.invite_to_second_stage(db, registry, cohort, transaction_manager=tm)
        assert reasons(refused) == ["No member of the cohort “Cohort 2019” is still in incubation: there is nobody "
                                    "to invite"]


# -- pages --------------------------------------------------------------------------------------------


def words(page) -> str:
    """The page's text as a reader sees it (markup and line breaks gone)."""
    return " ".join(page.html.get_text().split())


def by_id(form, oid):
    """A form input by its id (day, month and year repeat their names; so do checkboxes)."""
    return next(fld for fields in form.fields.values() for fld in fields if getattr(fld, "id", None) == oid)


def _incubating(registry):
    """An officer of the programme, a round with three applications in incubation, and
    the applicant of the first.  Returns (round URL, application ids)."""
    with registry.database.transaction() as (tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        rnd = f.round_(db, registry)
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        applicant = f.user(db, email="amel@example.org", name="Amel")
        ids = [incubated(db, registry, rnd, f.organisation(db, *([applicant] if i == 0 else []), name=name),
                         title=title, tm=tm).id
               for i, (name, title) in enumerate([("Bithret Amal", "Seed of Hope"), ("جمعية أفق — AFEK", "Theatre"),
                                                  ("Khatwa", "Youth centre")])]
        return f"/programmes/{rnd.programme_id}/rounds/{rnd.id}", ids


def test_an_officer_runs_the_incubation_through_the_pages(testapp, registry, settings):
    url, (bithret_id, afek_id, khatwa_id) = _incubating(registry)
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/@@incubation")
    assert "3 applications in incubation are waiting for a cohort." in words(page)

    # a first try with mistakes: everything typed comes back, with the problems
    form = page.forms["cohort"]
    form["title"] = ""
    by_id(form, "cohort-starts_on-day").value = "٣١"
    by_id(form, "cohort-starts_on-month").value = "février"
    by_id(form, "cohort-starts_on-year").value = "2019"
    form["months"] = "4"
    form["capacity_areas"] = "\n".join(AREAS)  # the officer names what the assessment covers
    failed = form.submit("submit", status=400)
    assert failed.html.title.get_text().strip().startswith("Error:")
    links = {a["href"]: a.get_text(strip=True) for a in failed.html.select(".error-summary a")}
    assert links == {"#cohort-title": "Enter the cohort's name, like “Cohort 2019”",
                     "#cohort-starts_on-day": "Enter a real date for the start of the incubation, like 1 2 2019"}
    assert failed.forms["cohort"]["capacity_areas"].value.split("\n") == list(AREAS)
    assert failed.html.find(id="cohort-title")["aria-invalid"] == "true"
    assert failed.html.find(id="cohort-starts_on-month")["value"] == "février"

    form = failed.forms["cohort"]
    form["title"] = "Cohort 2019"
    by_id(form, "cohort-starts_on-day").value = "١"
    page = form.submit("submit").follow()
    assert "Cohort created: Cohort 2019, from 1 Feb 2019 to 1 Jun 2019." in words(page)

    # the same name again: the service's refusal beside the field
    form = page.forms["cohort"]
    form["title"] = "cohort 2019"
    form["capacity_areas"] = "Governance"
    for part, value in (("day", "1"), ("month", "3"), ("year", "2019")):
        by_id(form, f"cohort-starts_on-{part}").value = value
    failed = form.submit("submit", status=400)
    assert "This round already has a cohort called “cohort 2019”" in failed.html.select_one(".error-summary").text
    assert failed.html.find(id="error-cohort-title") is not None
    with registry.database.transaction() as (_tm, db):
        (cohort,) = db.scalars(select(Cohort)).all()
        cohort_id = cohort.id

    page = page.forms[f"enrol-{cohort_id}"].submit().follow()
    assert "Enrolled 3 applications in “Cohort 2019”." in words(page)
    members = page.html.find(id=f"members-{cohort_id}")
    assert [th.get_text(strip=True) for th in members.select("tbody th")] == ["Bithret Amal", "جمعية أفق — AFEK",
                                                                              "Khatwa"]
    assert "In incubation" in members.text

    # a session outside the incubation is refused beside its date; then one inside it
    form = page.forms[f"add-session-{cohort_id}"]
    form["title"] = "Budgeting a project"
    form[f"add-session-{cohort_id}-kind"] = "training"
    for part, value in (("day", "1"), ("month", "July"), ("year", "2019")):
        by_id(form, f"add-session-{cohort_id}-held_on-{part}").value = value
    failed = form.submit("submit", status=400)
    summary = failed.html.select_one(".error-summary")
    assert summary.a["href"] == f"#add-session-{cohort_id}-held_on-day"
    assert summary.a.get_text(strip=True) == "Enter a date within the incubation, from 1 Feb 2019 to 1 Jun 2019"
    form = failed.forms[f"add-session-{cohort_id}"]
    assert form["title"].value == "Budgeting a project"
    by_id(form, f"add-session-{cohort_id}-held_on-month").value = "2"
    by_id(form, f"add-session-{cohort_id}-held_on-day").value = "12"
    page = form.submit("submit").follow()
    assert "Added the session “Budgeting a project”." in words(page)
    with registry.database.transaction() as (_tm, db):
        session = db.scalars(select(IncubationSession)).one()
        assert (session.kind, session.held_on) == ("training", D(2019, 2, 12))
        session_id = session.id
        member_ids = {m.application_id: m.id for m in db.scalars(select(CohortMember))}

    # the register: Bithret Amal and Khatwa came
    form = page.forms[f"attendance-{session_id}"]
    by_id(form, f"attendance-{session_id}-present").checked = True  # the first member
    by_id(form, f"attendance-{session_id}-present-2").checked = True
    page = form.submit("submit").follow()
    assert "Saved the register of “Budgeting a project”: 2 of 3 participants present." in words(page)
    rows = {tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in page.html.find(id=f"members-{cohort_id}").select("tbody tr")}
    assert rows["Bithret Amal"][2:4] == ["1 of 1", "100%"] and rows["جمعية أفق — AFEK"][2:4] == ["0 of 1", "0%"]
    assert page.forms[f"attendance-{session_id}"].fields["checkbox"][0].checked  # the register is shown as taken

    # the needs assessment of Bithret Amal: a missing score comes back, then entry and exit
    member_page = page.click(href=f"member={member_ids[bithret_id]}")
    assert "Record the entry assessment first" in words(member_page) and "capacity-exit" not in member_page.forms
    form = member_page.forms["capacity-entry"]
    # fields are named by the area's place in the cohort's list (areas are named in words)
    for n, score in enumerate(("2", "1", "2", "3"), start=1):  # governance (the fifth) left out
        form[f"capacity-entry-area_{n}"] = score
    form["area_2_note"] = "No separate project account"
    failed = form.submit("submit", status=400)
    links = {a["href"]: a.get_text(strip=True) for a in failed.html.select(".error-summary a")}
    assert links == {"#capacity-entry-area_5": "Choose a score from 1 to 5 for Management and governance"}
    assert failed.html.find(id="error-capacity-entry-area_5") is not None
    form = failed.forms["capacity-entry"]
    assert form["capacity-entry-area_2"].value == "1"
    assert form["area_2_note"].value == "No separate project account"
    form["capacity-entry-area_5"] = "2"
    member_page = form.submit("submit").follow()
    assert "Saved the entry assessment of Bithret Amal." in words(member_page)
    form = member_page.forms["capacity-exit"]
    for n, score in enumerate(("3", "3", "2", "4", "4"), start=1):
        form[f"capacity-exit-area_{n}"] = score
    member_page = form.submit("submit").follow()
    capacity = {tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.select("td")]
                for tr in member_page.html.find(id="capacity").select("tbody tr")}
    assert capacity["Financial management"] == ["1", "3", "+2"]
    assert capacity["Human resources management"] == ["2", "2", "+0"]
    assert "Attended 1 of the 1 session whose" in member_page.html.find(id="attendance").get_text(" ", strip=True)

    page = testapp.get(url + "/@@incubation")
    areas = {tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
             for tr in page.html.find(id=f"areas-{cohort_id}").select("tbody tr")}
    assert areas["Financial management"] == ["1.00", "3.00", "2.00", "1 of 1"]
    assert areas["Management and governance"] == ["2.00", "4.00", "2.00", "1 of 1"]
    testapp.set_cookie("grants_lang", "fr")  # means as French writes numbers
    french = testapp.get(url + "/@@incubation").html.find(id=f"areas-{cohort_id}").select("tbody tr")
    assert ["1,00", "3,00", "2,00"] in [[td.get_text(strip=True) for td in tr.select("td")][:3] for tr in french]
    testapp.set_cookie("grants_lang", "en")

    # Khatwa leaves; the others are invited to the second stage
    with registry.database.transaction() as (tm, db):
        WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
            db.get(Application, khatwa_id), "not_fund", actor=f.SYSTEM, data={}, comment="Left in March")
    page = page.forms[f"invite-{cohort_id}"].submit().follow()
    assert "Invited the cohort “Cohort 2019” to submit full proposals: 1 message sent." in words(page)
    invitation = next(m for m in Mailer(settings).sent() if m["Subject"].startswith("Submit your full proposal"))
    assert invitation["To"] == "amel@example.org"
    assert f"http://localhost{url}/applications/{bithret_id}/@@proposal" in invitation.get_content()


def test_a_cohort_without_capacity_areas_is_refused_beside_the_field(testapp, registry):
    """grants names no capacity areas of its own: in a programme whose plugins supply none,
    the officer names them, and a cohort naming none is not made."""
    url, _ids = _incubating(registry)
    f.sign_in(testapp, "leila@example.org")
    form = testapp.get(url + "/@@incubation").forms["cohort"]
    assert form["capacity_areas"].value == ""
    form["title"] = "Cohort 2019"
    for part, value in (("day", "1"), ("month", "2"), ("year", "2019")):
        by_id(form, f"cohort-starts_on-{part}").value = value
    failed = form.submit("submit", status=400)
    links = {a["href"]: a.get_text(strip=True) for a in failed.html.select(".error-summary a")}
    assert links == {"#cohort-capacity_areas": "Name at least one capacity area to assess, like “Financial "
                                               "management”"}
    with registry.database.transaction() as (_tm, db):
        assert count(db, Cohort) == 0


def test_the_applicant_sees_their_sessions_and_scores(testapp, registry):
    url, (bithret_id, afek_id, _khatwa_id) = _incubating(registry)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Application, bithret_id).round
        cohort = create_cohort(db, rnd, title="Cohort 2019", starts_on=START)
        (bithret, afek, khatwa) = services.enrol_incubated(db, cohort)
        budgeting = services.add_session(db, cohort, title="Budgeting", kind="training", held_on=D(2019, 2, 12),
                                         facilitator="Amel B.")
        services.add_session(db, cohort, title="Governance clinic", kind="coaching", held_on=D(2019, 3, 5))
        services.record_attendance(db, budgeting, [bithret.id])
        services.record_capacity(db, bithret, None, phase="entry", scores=full(financial_management=1),
                                 notes={FIN: "No separate project account"})
        services.record_capacity(db, bithret, None, phase="exit", scores=full(financial_management=4))
    f.sign_in(testapp, "amel@example.org")
    record = testapp.get(f"{url}/applications/{bithret_id}/@@incubation-record")
    assert "Your organisation is in the cohort Cohort 2019" in record.html.get_text(" ", strip=True)
    sessions = [[td.get_text(" ", strip=True) for td in tr.select("td")]
                for tr in record.html.find(id="sessions").select("tbody tr")]
    assert sessions == [["12 Feb 2019", "Budgeting · Amel B.", "Training", "Present"],
                        ["5 Mar 2019", "Governance clinic", "Coaching", "Not recorded"]]
    capacity = {tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
                for tr in record.html.find(id="capacity").select("tbody tr")}
    assert capacity["Financial management"] == ["1", "4", "+3", "At entry: No separate project account"]
    assert capacity["Programme delivery"] == ["3", "3", "+0", ""]
    assert "You attended 1 of the 1 session whose" in record.html.find(id="attendance").get_text(" ", strip=True)
    assert record.html.find("a", href=f"http://localhost{url}/applications/{bithret_id}/@@proposal") is not None

    # not their application, and not the officers' pages
    testapp.get(f"{url}/applications/{afek_id}/@@incubation-record", status=403)
    testapp.get(f"{url}/@@incubation", status=403)
    testapp.get(f"{url}/@@incubation-member?member={bithret.id}", status=403)


def test_an_application_outside_any_cohort_says_so(testapp, registry):
    url, (bithret_id, _afek_id, _khatwa_id) = _incubating(registry)
    f.sign_in(testapp, "amel@example.org")
    record = testapp.get(f"{url}/applications/{bithret_id}/@@incubation-record")
    assert record.html.find(id="no-cohort") is not None


def test_a_member_of_another_round_is_not_found_here(testapp, registry):
    url, _ids = _incubating(registry)
    with registry.database.transaction() as (_tm, db):
        _rnd, _cohort, (stranger,) = cohort_with(db, registry, 1, title="Elsewhere")
        stranger_id = stranger.id
    f.sign_in(testapp, "leila@example.org")
    testapp.get(f"{url}/@@incubation-member?member={stranger_id}", status=404)
    testapp.get(f"{url}/@@incubation-member?member=abc", status=404)
