"""Bad input never gets a 500: every kind of path segment, the query parameters the views
read and the fields of the forms, anonymous and signed in, with ids past the database's
integers, bytes that are not UTF-8, NUL and other control characters, bidi overrides and
text longer than any column.  Each answer is a 4xx page in the language asked for (or the
form again with a message), and nothing in the database changes.

Several of these faults show only on PostgreSQL (integer range, NUL, VARCHAR lengths):
CI runs this file on both databases."""
from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal
from urllib.parse import quote

import pytest
import webob
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import factories as f
from grants.accounts.organisations import add_member_without_invitation
from grants.db import Base, UnstorableText, parse_id
from grants.i18n import _, translate_for
from grants.lifecycle.services import WorkflowService
from grants.programmes.models import Funder, Programme
from grants.text import BIDI_CONTROLS, LINE_MAX, LONG_MAX, NOTE_MAX
from grants.web import safe_came_from

# Rows a request may write whatever it carries: the server-side session and the sign-in
# throttle (a refused sign-in is counted, by design).
VOLATILE_TABLES = {"web_sessions", "sign_in_throttles"}

NOT_FOUND = _("Page not found")
BAD_REQUEST = _("Something in the request was wrong")
CONTROL = _("Remove the invisible control characters from this text: they cannot be stored.")

# Ids no row can have, or that only int() would read as one.
BAD_IDS = ["99999999999", "9" * 30, "2147483648", "0", "-1", "+1", "%201", "1_0", "%D9%A1", "abc", "%00", "1%00",
           "%E2%80%AE1"]


# -- the world the requests are made in ---------------------------------------------------------------


def build_world(registry) -> dict:
    """A programme with an open round, an award (reports, a released tranche, evidence
    linked to no outcome), a draft application, and an officer, a member of the grantee,
    an evaluator and an administrator.  Committed.  Returns the urls and emails."""
    from grants.awards import services as award_services
    from grants.mel import evidence

    with registry.database.transaction() as (_tm, db):
        award = f.award(db, registry)
        rnd, org = award.round, award.application.organisation
        prog = rnd.programme
        officer = f.user(db, email="officer@example.org", name="Leila Ben Salah")
        f.grant_role(db, officer, "programme_officer", prog)
        member = f.user(db, email="member@example.org", name="Amel")
        add_member_without_invitation(db, org, member, kind="owner")
        evaluator = f.user(db, email="evaluator@example.org", name="Eva")
        f.grant_role(db, evaluator, "evaluator", rnd)
        f.user(db, email="admin@example.org", name="Admin", admin=True)
        draft = f.application(db, registry, rnd, org, title="Music in Douz", complete=False)
        (tranche,) = award_services.set_schedule(db, registry, award, [{"percent": Decimal(100)}])
        WorkflowService(registry.workflows, db).fire(tranche, "release", actor=f.SYSTEM)
        evidence.add_evidence(db, award, kind="testimonial", title="A teacher on the clubs", text="They stay.",
                              consent_given=True, consent_method="written", consent_date=dt.date(2019, 9, 1))
        report = _first_report(db, award)
        programme_url = f"/programmes/{prog.id}"
        round_url = f"{programme_url}/rounds/{rnd.id}"
        award_url = f"{round_url}/awards/{award.id}"
        return {
            "programme": programme_url, "round": round_url, "application": f"{round_url}/applications/{draft.id}",
            "award": award_url, "report": f"{award_url}/reports/{report.id}",
            "tranche": f"{award_url}/tranches/{tranche.id}", "organisation": f"/organisations/{org.id}",
            "award_application": award.application_id, "round_id": rnd.id, "programme_id": prog.id,
        }


@pytest.fixture
def world(registry):
    return build_world(registry)


def client(app, email=None) -> webtest.TestApp:
    browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    if email:
        f.sign_in(browser, email)
    return browser


def snapshot(registry) -> dict:
    """Every row of every table (but the volatile ones), to compare before and after."""
    with registry.database.transaction() as (_tm, db):
        return {table.name: sorted(repr(tuple(row)) for row in db.execute(select(table)))
                for table in Base.metadata.sorted_tables if table.name not in VOLATILE_TABLES}


def changes(before: dict, after: dict) -> dict:
    return {name: (set(after[name]) - set(before[name]), set(before[name]) - set(after[name]))
            for name in before if before[name] != after[name]}


def in_french(registry, page_text: str, message) -> bool:
    return translate_for(registry, "fr", message) in page_text


def assert_error_page_in_french(registry, response, message):
    assert 400 <= response.status_int < 500, response.status
    assert 'lang="fr"' in response.text, response.text[:300]
    assert in_french(registry, response.text, message), response.text


def raw_get(app, path_qs: str, cookies: dict | None = None) -> webob.Response:
    """GET with the path exactly as given (WebTest itself cannot read a path that is not
    UTF-8 when it keeps the cookies of the answer)."""
    request = webob.Request.blank(path_qs, environ={"HTTP_HOST": "localhost"})
    if cookies:
        request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return request.get_response(app)


# -- every kind of path segment ------------------------------------------------------------------------

SEGMENTS = ["/programmes/{}/", "{programme}/rounds/{}/", "{round}/applications/{}/", "{round}/awards/{}/",
            "{award}/reports/{}/", "{award}/tranches/{}/", "/organisations/{}", "/organisations/{}/edit"]


def test_ids_no_row_can_have_are_not_found_in_every_kind_of_path(app, registry, world):
    before = snapshot(registry)
    for who in (None, "admin@example.org"):
        browser = client(app, who)
        for segment in SEGMENTS:
            for bad in BAD_IDS:
                url = segment.format(bad, **world) + "?_LOCALE_=fr"
                response = browser.get(url, expect_errors=True)
                if who is None and url.startswith("/organisations/") and response.status_int == 302:
                    continue  # pages of organisations ask who you are first
                assert response.status_int in (400, 404), (who, url, response.status)
                assert_error_page_in_french(registry, response,
                                            NOT_FOUND if response.status_int == 404 else BAD_REQUEST)
    assert snapshot(registry) == before


def test_a_path_that_is_not_utf8_is_a_400_in_the_language_asked_for(app, registry, world):
    signed_in = client(app, "admin@example.org")
    for cookies in (None, dict(signed_in.cookies)):
        for segment in [*SEGMENTS, "/%ff", "{award}/%ff", "{award}/evidence%fe"]:
            url = segment.format("%ff", **world)
            response = raw_get(app, url + "?_LOCALE_=fr", cookies)
            assert_error_page_in_french(registry, webtest.TestResponse(response.body, response.status,
                                                                       response.headerlist), BAD_REQUEST)
            # The language may also come from its cookie.
            response = raw_get(app, url, {**(cookies or {}), "grants_lang": "fr"})
            assert response.status_int == 400 and 'lang="fr"' in response.text


def test_a_number_spelled_another_way_is_not_an_id():
    assert [parse_id(v) for v in ("12", "2147483647")] == [12, 2147483647]
    assert [parse_id(v) for v in ("2147483648", "0", "07", "-1", "+1", " 1", "1_0", "١", "1.0", "", None, 1)] == [None] * 12


def test_an_id_spelled_with_a_plus_or_arabic_digits_does_not_reach_the_row(app, registry, world):
    browser = client(app, "admin@example.org")
    browser.get(world["programme"] + "/", status=200)
    pid = world["programme_id"]
    arabic = quote("".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in str(pid)))
    for spelled in (f"+{pid}", f"0{pid}", arabic):
        browser.get(f"/programmes/{spelled}/", status=404)


def test_a_get_by_an_id_past_the_column_finds_nothing(db):
    f.programme(db)
    assert db.get(Programme, 2 ** 31) is None and db.get(Programme, 10 ** 40) is None and db.get(Programme, -2 ** 40) is None


# -- query parameters the views read ----------------------------------------------------------------------

QUERIES = [  # (who may use the page, url with {} for the value)
    ("officer@example.org", "{award}/survey-file?upload={}"),
    ("officer@example.org", "{award}/survey-template?instrument={}"),
    ("officer@example.org", "{award}/evidence-file?evidence={}&part=file"),
    ("officer@example.org", "{award}/assessment-file?file={}"),
    ("officer@example.org", "{award}/framework-element?element={}"),
    ("officer@example.org", "{award}/framework-indicator?indicator={}"),
    ("officer@example.org", "{round}/make-award?application={}"),
    ("officer@example.org", "{round}/incubation-member?member={}"),
    ("officer@example.org", "{round}/ranking?stage={}"),
    ("officer@example.org", "{round}/ranking?limit={}"),
    ("officer@example.org", "{round}/ranking?override={}&change=add"),
    ("officer@example.org", "{round}/assignments?stage={}"),
    ("officer@example.org", "{round}/assignments?per_application={}"),
    ("officer@example.org", "{round}/reports-due?days={}"),
    ("officer@example.org", "{round}/transition?trigger={}"),
    ("officer@example.org", "{award}/assessments?file={}"),
    (None, "/login?came_from={}"),
    (None, "/reset-password?came_from={}"),
    (None, "/?_LOCALE_={}"),
]
BAD_VALUES = [*BAD_IDS, "%ff", "%ff%fe", "%C0%AF", "%0d%0aLocation:%20http://evil.example", "%07", "%1b[31m",
              "%E2%80%AEevil", "x" * 5000, "%ED%A0%80"]


def test_bad_query_parameters_are_never_a_500(app, registry, world):
    browsers = {who: client(app, who) for who in {who for who, _url in QUERIES}}
    before = snapshot(registry)
    for who, url in QUERIES:
        for bad in BAD_VALUES:
            target = url.format(bad, **world)
            response = browsers[who].get(target + "&_LOCALE_=fr" if "?" in target else target,
                                         expect_errors=True)
            assert response.status_int < 500, (who, target, response.status)
            if any(code in bad for code in ("%ff", "%fe", "%C0", "%0d", "%07", "%1b", "%ED", "%00")):
                assert_error_page_in_french(registry, response, BAD_REQUEST)
    assert changes(before, snapshot(registry)) == {}


# -- came_from ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("came_from", ["/programmes/1\r\nSet-Cookie: x=1", "/a\x00b", "/a\tb", "/\\evil.example",
                                       " //evil.example", "//evil.example", "http://evil.example/",
                                       "/\u202e/evil", "javascript:alert(1)"])
def test_came_from_that_a_redirect_cannot_carry_goes_home(config, came_from):
    from pyramid.testing import DummyRequest

    from grants.resources import Root

    request = DummyRequest()
    request.root = Root(request)
    assert safe_came_from(request, came_from) == "http://example.com/"


def test_came_from_beyond_ascii_is_percent_encoded(config):
    from pyramid.testing import DummyRequest

    from grants.resources import Root

    request = DummyRequest()
    request.root = Root(request)
    assert safe_came_from(request, "/programmes/1?q=جمعية") == "/programmes/1?q=%D8%AC%D9%85%D8%B9%D9%8A%D8%A9"
    assert safe_came_from(request, "/programmes/1/?a=%2F") == "/programmes/1/?a=%2F"


@pytest.mark.parametrize("came_from", ["/tasks\r\nX-Evil: 1", "/tasks\x00", "/\\evil.example", "/tasks/é"])
def test_signing_in_with_a_came_from_a_header_cannot_carry_goes_home(app, registry, world, came_from):
    browser = client(app)
    form = f.main_form(browser.get("/login"))
    form["email"], form["password"] = "member@example.org", f.PASSWORD
    form["came_from"].force_value(came_from)
    response = form.submit()
    assert response.status_int == 302
    location = response.headers["Location"]
    assert location.isascii() and "\r" not in location and "\n" not in location
    assert location in ("http://localhost/", "http://localhost/tasks/%C3%A9")


# -- the evidence page of a story linked to no outcome -------------------------------------------------------


def test_evidence_linked_to_no_outcome_is_shown(app, world):
    page = client(app, "officer@example.org").get(world["award"] + "/evidence", status=200)
    assert "A teacher on the clubs" in page.text


# -- text: the model's last line ----------------------------------------------------------------------------


def test_a_model_refuses_text_its_column_cannot_keep_and_drops_bidi_controls(db):
    programme = f.programme(db)
    with pytest.raises(UnstorableText):
        programme.title = "BLADI\x00"
    with pytest.raises(UnstorableText):
        programme.title = "x" * 301
    with pytest.raises(UnstorableText):
        Funder(name="\x1bFunder")
    programme.title = "BL\u202eADI\u2066 2\u2069"
    programme.description = "Line one\nline two\ttabbed"
    db.flush()
    assert programme.title == "BLADI 2" and programme.description == "Line one\nline two\ttabbed"


def test_every_free_text_column_has_a_length():
    """Text columns were unbounded: the forms' limits are now the database's too."""
    from sqlalchemy import Text

    unbounded = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns
                 if isinstance(c.type, Text)}
    assert unbounded <= {"web_sessions.data"}  # a session's own JSON, never typed by anyone


def test_the_limits_forms_state_are_the_columns_lengths():
    from grants.awards import forms as award_forms
    from grants.awards.models import Award, AwardAmendment, BudgetLine
    from grants.evaluation import services as evaluation_services
    from grants.evaluation.models import Assessment, RoundEvaluation
    from grants.lifecycle.models import HistoryEntry
    from grants.mel import evidence, framework
    from grants.mel import services as mel_services
    from grants.mel.models import Evidence, Indicator, IndicatorValue, Report, TocElement
    from grants.programmes import forms as programme_forms

    def length(column):
        return column.property.columns[0].type.length

    assert length(Funder.name) == programme_forms.FUNDER_NAME_MAX
    assert length(Funder.identifier) == programme_forms.FUNDER_IDENTIFIER_MAX
    assert length(BudgetLine.category) == award_forms.CATEGORY_MAX
    assert length(Programme.description) == LONG_MAX
    assert {length(Award.exit_plan), length(Award.end_rationale), length(AwardAmendment.reason)} == {
        award_forms.TEXT_MAX}
    assert {length(Assessment.summary), length(RoundEvaluation.findings), length(RoundEvaluation.shortcomings),
            length(RoundEvaluation.lessons)} == {evaluation_services.TEXT_MAX}
    assert length(TocElement.text) == length(Indicator.baseline_missing_reason) == framework.TEXT_MAX
    assert length(Evidence.text) == evidence.TEXT_MAX and length(Evidence.title) == evidence.TITLE_MAX
    assert length(Report.narrative) == mel_services.NARRATIVE_MAX
    assert length(IndicatorValue.text) == mel_services.VALUE_TEXT_MAX
    assert length(HistoryEntry.comment) >= max(NOTE_MAX, award_forms.TEXT_MAX)  # a step's form may ask for a long reason


# -- text typed into the forms ---------------------------------------------------------------------------------


def _new_programme_form(browser):
    return f.main_form(browser.get("/programmes/new"))


def test_a_text_longer_than_its_limit_is_a_message_beside_it_in_the_users_language(app, registry, world):
    browser = client(app, "admin@example.org")
    browser.set_cookie("grants_lang", "fr")
    before = snapshot(registry)
    form = _new_programme_form(browser)
    form["title"], form["currency"] = "Programme", "TND"
    form["description"] = "x" * (LONG_MAX + 1)
    form["lead_funder"], form["lead_funder_identifier"] = "Funder", "GB-" * 34  # 102 characters
    page = form.submit("submit", status=400)
    text = page.html.find("main").get_text(" ", strip=True)
    assert "Saisissez 20 000 caractères ou moins." in text.replace("\u202f", " ")
    assert "Saisissez 100 caractères ou moins." in text
    assert snapshot(registry) == before


def test_a_note_with_no_limit_of_its_own_gets_the_standard_one(app, registry, world):
    browser = client(app, "officer@example.org")
    form = f.main_form(browser.get(world["round"] + "/transition?trigger=close"))
    before = snapshot(registry)
    form["comment"] = "y" * (NOTE_MAX + 1)
    page = form.submit("fire", status=400)
    assert "Enter 2,000 characters or fewer." in page.text
    assert snapshot(registry) == before


def test_a_long_text_within_its_own_limit_is_kept(app, registry, world):
    """The standard limit of a note (2,000) does not cut what a field allows more of."""
    browser = client(app, "admin@example.org")
    form = _new_programme_form(browser)
    form["title"], form["currency"] = "Long description", "TND"
    form["description"] = "Clubs kept going. " * 500  # 9,000 characters
    form.submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        programme = db.scalars(select(Programme).where(Programme.title == "Long description")).one()
        assert len(programme.description) == 9000 - 1  # the last space stripped


def test_control_characters_in_a_text_are_refused_and_bidi_controls_removed(app, registry, world):
    browser = client(app, "admin@example.org")
    for bad in ("BLADI\x00", "BL\x07ADI", "A\x1b[31mB", "A\x7fB", "A\x85B"):
        before = snapshot(registry)
        form = _new_programme_form(browser)
        form["title"], form["currency"] = bad, "TND"
        page = form.submit("submit", status=400)
        assert "Remove the invisible control characters" in page.text
        assert snapshot(registry) == before
    form = _new_programme_form(browser)
    form["title"], form["currency"] = "\u202eBLADI\u2067 North\u2069", "TND"
    form["description"] = "Two lines\nand a\ttab"
    form.submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        programme = db.scalars(select(Programme).where(Programme.title.like("%North"))).one()
        assert programme.title == "BLADI North" and programme.description == "Two lines\nand a\ttab"


# -- every form, every text input -------------------------------------------------------------------------------

FORM_PAGES = [  # (who uses the form, page)
    (None, "/register"), (None, "/login"), (None, "/reset-password"),
    ("member@example.org", "/organisations/new"), ("member@example.org", "{organisation}/edit"),
    ("member@example.org", "{round}/apply"), ("member@example.org", "{application}/withdraw"),
    ("member@example.org", "{report}"), ("member@example.org", "{award}/framework"),
    ("member@example.org", "{award}/evidence"),
    ("admin@example.org", "/programmes/new"), ("officer@example.org", "{programme}/edit"),
    ("officer@example.org", "{programme}/people"), ("officer@example.org", "{round}/people"),
    ("officer@example.org", "{programme}/add-funder"), ("officer@example.org", "{programme}/rounds/new"),
    ("officer@example.org", "{round}/edit"),
    ("officer@example.org", "{round}/reviewers"), ("officer@example.org", "{round}/incubation"),
    ("officer@example.org", "{round}/public-report-settings"),
    ("officer@example.org", "{round}/make-award?application={award_application}"),
    ("officer@example.org", "{round}/transition?trigger=close"),
    ("officer@example.org", "{award}/amend"),
    ("officer@example.org", "{award}/budget"), ("officer@example.org", "{award}/agreement"),
    ("officer@example.org", "{tranche}/disburse"), ("officer@example.org", "{award}/transition?trigger=end_early"),
    ("evaluator@example.org", "{award}/assessment"), ("officer@example.org", "{round}/evaluation"),
]
# Past the longest column (a report's narrative, 50,000); a NUL and an escape sequence.
BAD_TEXT = ["z" * 50_001, "a\x00b\x1b[2J"]


def _text_inputs(form):
    return [name for name, fields in form.fields.items()
            if name and any(isinstance(field, (webtest.forms.Text, webtest.forms.Textarea, webtest.forms.Email))
                            and not isinstance(field, webtest.forms.Hidden)
                            and field.attrs.get("type") != "password" for field in fields)]


# A multipart part longer than 1,000 bytes goes to a temporary file that the standard
# library's cgi module leaves for the garbage collector to close: its ResourceWarning,
# an error in this suite, would surface in whatever code runs when the collector does.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_every_text_input_of_every_form_refuses_what_cannot_be_stored(app, registry, world):
    try:
        _walk_every_text_input(app, registry, world)
    finally:
        gc.collect()  # while ResourceWarning is ignored


def _walk_every_text_input(app, registry, world):
    browsers = {}
    walked = 0
    for who, page_url in FORM_PAGES:
        browser = browsers.get(who) or browsers.setdefault(who, client(app, who))
        url = page_url.format(**world)
        page = browser.get(url)
        forms = [form for key, form in page.forms.items()
                 if isinstance(key, int) and form.id not in ("language-form", "logout-form")]
        assert forms, url
        before = snapshot(registry)
        for form in forms:
            for name in _text_inputs(form):
                kept = [field.value for field in form.fields[name]]
                for bad in BAD_TEXT:
                    for field in form.fields[name]:
                        field.force_value(bad)
                    response = form.submit(expect_errors=True)
                    walked += 1
                    assert 400 <= response.status_int < 500, (who, url, name, repr(bad[:5]), response.status)
                for field, value in zip(form.fields[name], kept):
                    field.force_value(value)
        assert changes(before, snapshot(registry)) == {}, (who, url)
    assert walked > 100  # the walk reached the forms' inputs


def test_bytes_that_are_not_utf8_in_a_form_body_are_a_400(app, registry, world):
    browser = client(app, "admin@example.org")
    token = f.main_form(browser.get("/programmes/new"))["csrf_token"].value
    before = snapshot(registry)
    body = f"csrf_token={token}&title=%ff%fe&currency=TND&submit=submit".encode()
    page = browser.post("/programmes/new?_LOCALE_=fr", body, content_type="application/x-www-form-urlencoded",
                        status=400)
    assert_error_page_in_french(registry, page, BAD_REQUEST)
    raw = f"csrf_token={token}&title=".encode() + b"\xff\xfe" + b"&currency=TND&submit=submit"
    browser.post("/programmes/new?_LOCALE_=fr", raw, content_type="application/x-www-form-urlencoded", status=400)
    for part in ('Content-Type: text/plain; charset=ascii\r\n\r\nBLADI \xe9t\xe9',
                 'Content-Transfer-Encoding: base64\r\n\r\n/w==', ):
        multipart = (f'--XX\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
                     f'--XX\r\nContent-Disposition: form-data; name="title"\r\n{part}\r\n--XX--\r\n')
        request = webob.Request.blank("/programmes/new?_LOCALE_=fr", method="POST",
                                      environ={"HTTP_HOST": "localhost"}, body=multipart.encode("latin-1"),
                                      content_type="multipart/form-data; boundary=XX")
        request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        response = request.get_response(app)  # WebTest would encode the body again
        assert_error_page_in_french(registry, webtest.TestResponse(response.body, response.status,
                                                                   response.headerlist), BAD_REQUEST)
    page = browser.post("/programmes/new?_LOCALE_=fr", b"title=BLADI",
                        content_type="application/x-www-form-urlencoded; charset=latin-1", status=400)
    assert_error_page_in_french(registry, page, BAD_REQUEST)
    assert snapshot(registry) == before


# -- generated text ----------------------------------------------------------------------------------------------

# Text as a person might paste it, and as a script might send it: any character, the
# controls and bidi overrides among them, and sometimes far too much of it.
TYPED = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
HOSTILE = st.text(st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\t", "\n", "\r",
                                   *sorted(BIDI_CONTROLS), "\u200f", "a", "ب", " "]), min_size=1, max_size=12)
TITLES = st.one_of(TYPED, st.builds(lambda a, b, c: a + b + c, TYPED, HOSTILE, TYPED),
                   st.integers(LINE_MAX - 2, LINE_MAX + 2).map(lambda n: "t" * n))
# Control characters (C0, DEL, C1); tab, newline and carriage return only in one line.
UNSAFE = {*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0))}
LINE_BREAKS = {"\t", "\n", "\r"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(title=TITLES)
def test_a_generated_programme_name_is_kept_cleaned_or_refused_with_nothing_changed(app, registry, title):
    browser = client(app)
    with registry.database.transaction() as (_tm, db):
        if db.scalars(select(Programme.id)).first() is None:
            f.user(db, email="admin@example.org", admin=True)
            db.add(Programme(title="Existing", currency="TND"))
    f.sign_in(browser, "admin@example.org")
    form = _new_programme_form(browser)
    form["title"], form["currency"] = title, "TND"
    before = snapshot(registry)
    response = form.submit("submit", expect_errors=True)
    assert response.status_int < 500
    # What the name should be: without bidi controls, a line break or tab as a space, trimmed.
    expected = "".join(" " if c in LINE_BREAKS else c for c in title if c not in BIDI_CONTROLS).strip()
    refused = not expected or len(expected) > LINE_MAX or bool(set(expected) & UNSAFE)
    if refused:
        assert response.status_int == 400
        assert snapshot(registry) == before
    else:
        assert response.status_int == 302, response.text
        with registry.database.transaction() as (_tm, db):
            stored = db.scalars(select(Programme.title).order_by(Programme.id.desc())).first()
        assert not set(stored) & (BIDI_CONTROLS | UNSAFE)
        assert stored == expected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(narrative=st.one_of(TYPED, st.builds(lambda a, b: a + b, TYPED, HOSTILE)),
       raw=st.binary(min_size=1, max_size=6))
def test_a_generated_report_narrative_or_raw_bytes_never_break_the_report(app, registry, narrative, raw):
    with registry.database.transaction() as (_tm, db):
        from grants.mel.models import Report

        report = db.scalars(select(Report)).first()
    if report is None:
        build_world(registry)
    world = _world_urls(registry)
    browser = client(app, "member@example.org")
    page = browser.get(world["report"])
    form = next(form for key, form in page.forms.items() if isinstance(key, int) and "narrative" in form.fields)
    form["narrative"] = narrative
    before = snapshot(registry)
    response = form.submit("save", expect_errors=True)
    assert response.status_int < 500
    if set(narrative.strip()) & (UNSAFE - LINE_BREAKS):
        assert response.status_int == 400 and "Remove the invisible control characters" in response.text
        assert snapshot(registry) == before
    # The same page, with bytes that may not be UTF-8 in place of the narrative.
    token = form["csrf_token"].value
    body = f"csrf_token={token}&__formid__=report&save=save&narrative=".encode() + raw
    response = browser.post(world["report"], body, content_type="application/x-www-form-urlencoded",
                            expect_errors=True)
    assert response.status_int < 500


def _world_urls(registry) -> dict:
    from grants.awards.models import Award

    with registry.database.transaction() as (_tm, db):
        award = db.scalars(select(Award)).first()
        rnd = award.round
        round_url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        return {"report": f"{round_url}/awards/{award.id}/reports/{_first_report(db, award).id}"}


def _first_report(db, award):
    from grants.mel.models import Report

    return db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)).first()
