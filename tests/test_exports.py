"""Open data about the grants made: 360Giving (JSON and CSV) and IATI 2.03, on three
programmes in three currencies — BLADI in Tunisian dinars (millimes: 45,000.125 TND), a
Shared Endeavour call in pounds where Google.org matched City Hall, a Kampala fund in
Ugandan shillings (no decimals) with a funder who asked not to be named — and awards in
every state of the award workflow (active, ended early, closed)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

import factories as f
from grants.awards.models import Disbursement, Tranche
from grants.lifecycle.services import WorkflowService
from grants.mel.models import Evidence, Indicator, IndicatorTarget, Report
from grants.mel.services import save_report
from grants.programmes import services as programmes
from grants.reporting import exports
from standards_checks import check_360giving_csv, check_360giving_package, check_iati, personal_strings

UTC = dt.timezone.utc
NOW = dt.datetime(2021, 3, 1, 12, 0, tzinfo=UTC)
HIDDEN = "Quiet Donor Foundation"
REASON = "Measured by the round's survey: its baseline wave is the starting point."


def tnd(amount):
    return f.money(amount, "TND")


def _reports(db, award):
    from sqlalchemy import select

    return list(db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))


def _accept(service, report):
    service.fire(report, "submit", actor=f.SYSTEM, now=NOW)
    service.fire(report, "accept", actor=f.SYSTEM, comment="Thank you.", now=NOW)


def build(db, registry) -> dict:
    """The three programmes, their awards and what happened to them.  Returns ids."""
    service = WorkflowService(registry.workflows, db)
    people = {
        "officer": f.user(db, email="leila.officer@example.org", name="Leila Ben Salah"),
        "afek": f.user(db, email="omar.drira@afek.example.tn", name="Omar Drira"),
        "harrow": f.user(db, email="jo.bloggs@harrow.example.org", name="Jo Bloggs"),
        "kampala": f.user(db, email="sarah.n@kampala.example.ug", name="Sarah Nakato"),
    }

    # BLADI, in Tunisian dinars: the US Department of State funds the whole programme.
    bladi = programmes.create_programme(db, title="BLADI", currency="TND")
    bladi.grant_id_prefix = "360G-bladi"
    state_dept = programmes.get_or_create_funder(db, name="US Department of State", identifier="US-GOV-1",
                                                 kind="government")
    programmes.add_funder_contribution(db, bladi, state_dept, role="lead", amount=f.money("250000", "USD"))
    call = f.round_(db, registry, bladi, title="Nabda b houmti")
    afek = f.registered_organisation(db, people["afek"], legal_name="جمعية أفق — AFEK", regions=["TN-73"],
                                     contact_email="contact@afek.example.tn", contact_phone="+216 75 000 111")
    active = f.award(db, registry, rnd=call, org=afek, amount=tnd("45000.125"), starts_on=dt.date(2019, 10, 1))
    reach = Indicator(award_id=active.id, code="OUT-1", title="Young people taking part", level="outputs",
                      measure="unit", unit="people", baseline_value=Decimal(0), baseline_date=dt.date(2019, 10, 1),
                      method="direct_measurement", disaggregation=["sex"], library_code="pve-reach")
    agree = Indicator(award_id=active.id, code="OC-1", title="Participants who feel able to act",
                      level="short_term_outcomes", measure="percentage", unit="%", method="survey",
                      baseline_missing_reason=REASON)
    db.add_all([reach, agree])
    db.flush()
    reports = _reports(db, active)
    db.add_all([IndicatorTarget(indicator_id=reach.id, report_id=reports[0].id, value=Decimal(50)),
                IndicatorTarget(indicator_id=reach.id, report_id=reports[3].id, value=Decimal(200)),
                IndicatorTarget(indicator_id=agree.id, report_id=reports[3].id, value=Decimal("70"))])
    db.flush()
    save_report(db, reports[0], narrative="Clubs met weekly.", now=NOW, values=[
        (reach, {}, Decimal(60), ""), (reach, {"sex": "female"}, Decimal(35), ""),
        (reach, {"sex": "male"}, Decimal(25), ""), (agree, {}, Decimal("55.5"), "")])
    _accept(service, reports[0])
    # The second report is submitted, not accepted: its figures are never published.
    save_report(db, reports[1], narrative="Still counting.", now=NOW, values=[
        (reach, {}, Decimal(999), ""), (agree, {}, Decimal("99.5"), "")])
    service.fire(reports[1], "submit", actor=f.SYSTEM, now=NOW)
    db.add(Evidence(award_id=active.id, kind="testimonial", title="Omar's story", text="Omar Drira took part.",
                    consent_given=True, consent_method="written", consent_date=dt.date(2020, 1, 10)))
    tranche = Tranche(award=active, position=1, amount_minor=tnd("15000.042").minor_units, currency="TND",
                      due_on=dt.date(2019, 10, 15))
    service.start(tranche, actor=f.SYSTEM)
    db.add(Disbursement(tranche=tranche, award_id=active.id, amount_minor=tnd("15000.042").minor_units,
                        currency="TND", paid_on=dt.date(2019, 10, 20), reference="BIAT-0001"))

    # The Shared Endeavour Fund, in pounds: Google.org matched City Hall pound for pound.
    sef = programmes.create_programme(db, title="Shared Endeavour Fund", currency="GBP")
    sef.grant_id_prefix = "360G-mopac"
    mopac = programmes.get_or_create_funder(db, name="Mayor's Office for Policing and Crime",
                                            identifier="GB-GOV-MOPAC", kind="government")
    google = programmes.get_or_create_funder(db, name="Google.org", identifier="US-EIN-000000000", kind="corporate")
    groundwork = programmes.get_or_create_funder(db, name="Groundwork London", kind="ngo")
    call1 = f.round_(db, registry, sef, title="Call 1")
    programmes.add_funder_contribution(db, sef, mopac, role="lead", amount=f.money(400_000), round=call1)
    programmes.add_funder_contribution(db, sef, google, role="co_funder", amount=f.money(400_000), round=call1,
                                       matches=mopac)
    programmes.add_funder_contribution(db, sef, groundwork, role="implementer")
    harrow = f.registered_organisation(db, people["harrow"], legal_name="Harrow Youth Theatre", country="GB",
                                       legal_form="registered_charity", registration_number="1164883",
                                       regions=["GB-HRW"], contact_email="hello@harrow.example.org",
                                       contact_phone="+44 20 7946 0000", alternative_name="")
    ended = f.award(db, registry, rnd=call1, org=harrow, amount=f.money("49999.99"), starts_on=dt.date(2020, 7, 1),
                    months=12, title="Theatre against hate")
    tranche = Tranche(award=ended, position=1, amount_minor=f.money("25000.00").minor_units, currency="GBP",
                      due_on=dt.date(2020, 7, 1))
    service.start(tranche, actor=f.SYSTEM)
    db.add(Disbursement(tranche=tranche, award_id=ended.id, amount_minor=f.money("25000.00").minor_units,
                        currency="GBP", paid_on=dt.date(2020, 7, 3)))
    service.fire(ended, "end_early", actor=f.SYSTEM, now=NOW, data={
        "exit_plan": "Sessions move to the partner school.", "rationale": "The venue closed.",
        "ended_on": dt.date(2020, 12, 31)})

    # A Kampala fund in shillings (no decimals), one funder not to be named.
    kyf = programmes.create_programme(db, title="Kampala Youth Fund", currency="UGX")
    kyf.grant_id_prefix = "360G-kyf"
    kcca = programmes.get_or_create_funder(db, name="Kampala Capital City Authority", identifier="UG-GOV-KCCA",
                                           kind="government")
    quiet = programmes.get_or_create_funder(db, name=HIDDEN, kind="foundation")
    ug_round = f.round_(db, registry, kyf, title="Round 1")
    programmes.add_funder_contribution(db, kyf, kcca, role="lead", amount=f.money("50000000", "UGX"), round=ug_round)
    programmes.add_funder_contribution(db, kyf, quiet, role="co_funder", amount=f.money("10000000", "UGX"),
                                       round=ug_round)
    ug_round.hidden_funder_ids = [quiet.id]
    collective = f.registered_organisation(db, people["kampala"], legal_name="Kampala Arts Collective", country="UG",
                                           legal_form="association", registration_number="INDP-2015-77", regions=[],
                                           contact_email="info@kampala.example.ug", contact_phone="+256 41 000 222")
    closed = f.award(db, registry, rnd=ug_round, org=collective, amount=f.money("1500000", "UGX"),
                     starts_on=dt.date(2019, 1, 1), months=6, cadence="quarterly", title="Murals for peace")
    for report in _reports(db, closed):
        save_report(db, report, narrative="Done.", values=[], now=NOW)
        _accept(service, report)
    service.fire(closed, "close", actor=f.SYSTEM, now=NOW)
    db.flush()
    assert (active.state, ended.state, closed.state) == ("active", "ended_early", "closed")
    return {"active": active.id, "ended": ended.id, "closed": closed.id, "afek": afek.id,
            "personal": personal_strings(db), "hidden": quiet.id, "ug_round": ug_round.id}


def grants_by_title(package):
    return {g["title"]: g for g in package["grants"]}


@pytest.fixture
def world(db, registry):
    return build(db, registry)


def test_360giving_package_is_valid_exact_and_complete(db, registry, world):
    body = exports.threesixty_giving(db, registry, now=NOW)
    package = check_360giving_package(json.loads(body, parse_float=Decimal), forbidden=world["personal"])
    text = body.decode()
    # Exact amounts, written as JSON numbers with the currency's decimals.
    assert '"amountAwarded": 45000.125,' in text
    assert '"amountAwarded": 49999.99,' in text
    assert '"amountAwarded": 1500000,' in text
    assert '"amountDisbursed": 15000.042,' in text
    grants = grants_by_title(package)
    assert set(grants) == {"Theatre clubs in Kebili", "Theatre against hate", "Murals for peace"}
    bladi, sef, kyf = grants["Theatre clubs in Kebili"], grants["Theatre against hate"], grants["Murals for peace"]
    assert bladi["amountAwarded"] == Decimal("45000.125") and bladi["currency"] == "TND"
    assert bladi["id"] == f"360G-bladi-G-{world['active']:05d}"
    assert bladi["recipientOrganization"][0] == {"id": f"360G-bladi-ORG-{world['afek']}", "name": "جمعية أفق — AFEK",
                                                 "addressCountry": "Tunisia"}
    assert bladi["beneficiaryLocation"] == [{"name": "Kebili", "countryCode": "TN", "geoCode": "TN-73"}]
    assert bladi["fundingOrganization"] == [{"id": "US-GOV-1", "name": "US Department of State"}]
    assert bladi["plannedDates"] == [{"startDate": "2019-10-01", "endDate": "2020-09-30", "duration": 12}]
    assert bladi["disbursementTransaction"][0]["value"] == Decimal("15000.042")
    assert "classifications" not in bladi
    # Several funders; match funding marked; a registered charity's org-id.
    assert sef["fundingOrganization"] == [{"id": "GB-GOV-MOPAC", "name": "Mayor's Office for Policing and Crime"},
                                          {"id": "US-EIN-000000000", "name": "Google.org"}]
    assert sef["classifications"] == [{
        "vocabulary": "360G-mopac-funding", "code": "match-funded",
        "title": "Match funded: Google.org matched Mayor's Office for Policing and Crime"}]
    assert sef["recipientOrganization"][0]["id"] == "GB-CHC-1164883"
    assert sef["recipientOrganization"][0]["charityNumber"] == "1164883"
    assert sef["actualDates"][0]["endDate"] == "2020-12-31" and sef["amountDisbursed"] == Decimal("25000.00")
    assert sef["grantProgramme"][0]["title"] == "Shared Endeavour Fund: Call 1"
    # The funder who asked not to be named: its place kept, its name nowhere.
    assert kyf["fundingOrganization"] == [
        {"id": "UG-GOV-KCCA", "name": "Kampala Capital City Authority"},
        {"id": f"360G-kyf-FUNDER-WITHHELD-R{world['ug_round']}-1", "name": "Another funder"}]
    assert HIDDEN not in text
    assert kyf["amountAwarded"] == Decimal(1500000) and kyf["currency"] == "UGX"
    # Never a person, never what applicants wrote about people.
    for leaked in ("Omar Drira", "omar.drira@afek.example.tn", "contact@afek.example.tn", "+216 75 000 111", "Omar"):
        assert leaked not in text
    assert package["version"] == "1.4" and package["publisher"]["name"]


def test_360giving_csv_uses_the_standards_column_titles_and_exact_amounts(db, registry, world):
    text = exports.threesixty_giving(db, registry, fmt="csv", now=NOW).decode()
    rows = check_360giving_csv(text, forbidden=world["personal"])
    header = next(csv.reader(io.StringIO(text)))
    for column in ("Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
                   "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:0:Identifier", "Funding Org:0:Name",
                   "Funding Org:1:Identifier", "Funding Org:1:Name", "Grant Programme:Code",
                   "Planned Dates:Start Date"):
        assert column in header
    by_title = {r["Title"]: r for r in rows}
    assert by_title["Theatre clubs in Kebili"]["Amount Awarded"] == "45000.125"
    assert by_title["Murals for peace"]["Amount Awarded"] == "1500000"
    sef = by_title["Theatre against hate"]
    assert (sef["Amount Awarded"], sef["Amount Disbursed"]) == ("49999.99", "25000.00")
    assert (sef["Funding Org:0:Name"], sef["Funding Org:1:Name"]) == ("Mayor's Office for Policing and Crime",
                                                                      "Google.org")
    assert sef["Classifications:0:Code"] == "match-funded"
    assert by_title["Murals for peace"]["Funding Org:1:Name"] == "Another funder"
    assert HIDDEN not in text


def _activity(root, reference_suffix):
    return next(a for a in root.findall("iati-activity") if a.findtext("iati-identifier").endswith(reference_suffix))


def test_iati_activities_follow_the_schema_with_results_from_accepted_reports(db, registry, world):
    body = exports.iati_activities(db, registry, now=NOW)
    root = check_iati(body, forbidden=world["personal"])
    assert root.get("version") == "2.03" and root.get("generated-datetime") == "2021-03-01T12:00:00+00:00"
    active = _activity(root, f"G-{world['active']:05d}")
    assert active.findtext("iati-identifier") == f"US-GOV-1-G-{world['active']:05d}"
    assert active.get("default-currency") == "TND"
    assert active.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert active.find("reporting-org").get("ref") == "US-GOV-1"
    roles = [(p.get("role"), p.get("ref"), p.findtext("narrative")) for p in active.findall("participating-org")]
    assert roles == [("1", "US-GOV-1", "US Department of State"), ("4", None, "جمعية أفق — AFEK")]
    assert active.find("participating-org[@role='4']/narrative").get(
        "{http://www.w3.org/XML/1998/namespace}lang") == "ar"
    assert active.find("description/narrative").get("{http://www.w3.org/XML/1998/namespace}lang") is None
    assert active.find("activity-status").get("code") == "2"
    dates = {d.get("type"): d.get("iso-date") for d in active.findall("activity-date")}
    assert dates == {"1": "2019-10-01", "2": "2019-10-01", "3": "2020-09-30"}
    transactions = [(t.find("transaction-type").get("code"), t.findtext("value")) for t in active.findall("transaction")]
    assert transactions == [("2", "45000.125"), ("3", "15000.042")]
    assert active.find("budget/value").text == "45000.125"
    results = {r.findtext("title/narrative"): r for r in active.findall("result")}
    assert [r.get("type") for r in active.findall("result")] == ["1", "2"]  # outputs before outcomes
    reach = results["Outputs"].find("indicator")
    assert (reach.get("measure"), reach.get("ascending")) == ("1", "1")
    assert reach.find("reference").attrib == {"vocabulary": "99", "code": "pve-reach"}
    assert reach.find("baseline").attrib == {"year": "2019", "iso-date": "2019-10-01", "value": "0"}
    periods = reach.findall("period")
    first = periods[0]
    assert first.find("period-start").get("iso-date") == "2019-10-01"
    assert first.find("target").get("value") == "50"
    actuals = [(a.get("value"), [(d.get("name"), d.get("value")) for d in a.findall("dimension")])
               for a in first.findall("actual")]
    assert actuals == [("60", []), ("35", [("sex", "female")]), ("25", [("sex", "male")])]
    # The submitted (not accepted) report's figures are nowhere; the last period has its target only.
    assert b'value="999"' not in body and b'"99.5"' not in body
    assert [p.find("target").get("value") for p in periods[1:]] == ["200"] and periods[1].find("actual") is None
    agree = results["Short term outcomes"].find("indicator")
    assert agree.get("measure") == "2" and agree.find("baseline") is None
    assert REASON in agree.findtext("description/narrative")
    assert [a.get("value") for a in agree.findall("period/actual")] == ["55.5"]
    # The other states, the other currencies, the other funders.
    ended = _activity(root, f"G-{world['ended']:05d}")
    assert ended.find("activity-status").get("code") == "4"
    assert {d.get("type"): d.get("iso-date") for d in ended.findall("activity-date")}["4"] == "2020-12-31"
    funders = [p.findtext("narrative") for p in ended.findall("participating-org[@role='1']")]
    assert funders == ["Mayor's Office for Policing and Crime", "Google.org"]
    assert ended.find("participating-org[@role='4']").get("ref") == "GB-CHC-1164883"
    assert [t.findtext("value") for t in ended.findall("transaction")] == ["49999.99", "25000.00"]
    closed = _activity(root, f"G-{world['closed']:05d}")
    assert closed.find("activity-status").get("code") == "4" and closed.get("default-currency") == "UGX"
    assert closed.find("transaction/value").text == "1500000"
    hidden = closed.findall("participating-org[@role='1']")[1]
    assert hidden.get("ref") is None and hidden.findtext("narrative") == "Another funder"
    assert HIDDEN.encode() not in body
    assert b"Omar" not in body and b"BIAT-0001" not in body


def test_the_checkers_catch_what_the_standards_forbid(db, registry, world):
    package = json.loads(exports.threesixty_giving(db, registry, now=NOW), parse_float=Decimal)
    broken = json.loads(json.dumps(package, default=str))
    del broken["grants"][0]["fundingOrganization"]
    broken["grants"][1]["currency"] = "XYZ"
    broken["grants"][2]["recipientIndividual"] = {"id": "x", "name": "y"}
    with pytest.raises(AssertionError) as failure:
        check_360giving_package(broken, forbidden=["Jo Bloggs"])
    problems = " ".join(failure.value.args[0])
    assert "grants[0]: needs exactly one of the required sets" in problems
    assert "'XYZ' is not an ISO 4217 code" in problems and "grants[2]: needs exactly one" in problems
    with pytest.raises(AssertionError, match="minItems 1"):
        check_360giving_package({"grants": []})
    with pytest.raises(AssertionError, match="personal data 'Harrow Youth'"):
        check_360giving_package(package, forbidden=["Harrow Youth"])
    root = ET.fromstring(exports.iati_activities(db, registry, now=NOW))
    activity = root.find("iati-activity")
    title = activity.find("title")
    activity.remove(title)
    activity.append(title)  # after the results: out of the schema's order
    activity.find("result/indicator/baseline").attrib.pop("year")
    with pytest.raises(AssertionError) as failure:
        check_iati(ET.tostring(root))
    problems = " ".join(failure.value.args[0])
    assert "<title> comes after <result>" in problems and "<baseline> needs @year" in problems


# -- the command line -------------------------------------------------------------------------------


def _ini(path: Path, url: str) -> Path:
    path.write_text("\n".join(["[app:main]", "use = egg:grants", f"sqlalchemy.url = {url}", "grants.secret = test",
                               "mail.backend = console", f"grants.files_dir = {path.parent / 'files'}"]) + "\n")
    return path


def _grants(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("grants")
    proc = subprocess.run([str(exe), *args], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


def test_grants_export_from_the_command_line(registry, database_url, tmp_path):
    with registry.database.transaction() as (_tm, db):
        world = build(db, registry)
    ini = str(_ini(tmp_path / "test.ini", database_url))
    package = json.loads(_grants("export", "360giving", ini).stdout, parse_float=Decimal)
    check_360giving_package(package, forbidden=world["personal"])
    assert {g["amountAwarded"] for g in package["grants"]} == {Decimal("45000.125"), Decimal("49999.99"),
                                                               Decimal("1500000")}
    out = tmp_path / "grants.csv"
    proc = _grants("export", "360giving", ini, "--format", "csv", "-o", str(out))
    assert f"wrote {out}" in proc.stderr.decode()
    rows = check_360giving_csv(out.read_text(encoding="utf-8"), forbidden=world["personal"])
    assert sorted(r["Amount Awarded"] for r in rows) == ["1500000", "45000.125", "49999.99"]
    root = check_iati(_grants("export", "iati", ini).stdout, forbidden=world["personal"])
    assert len(root.findall("iati-activity")) == 3


def test_360giving_csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(db, registry):
    """Titles and names are typed by people; numbers stay numbers (grants.spreadsheet)."""
    prog = programmes.create_programme(db, title="-2+3 Fund", currency="GBP")
    prog.grant_id_prefix = "360G-x"
    funder = programmes.get_or_create_funder(db, name="+cmd|' /C calc'!A0", kind="foundation")
    programmes.add_funder_contribution(db, prog, funder, role="lead")
    rnd = f.round_(db, registry, prog, title="\tRound")
    owner = f.user(db, email="owner@example.org")
    org = f.registered_organisation(db, owner, legal_name="@SUM(1+1)*cmd|' /C calc'!A0", country="GB",
                                    legal_form="association", registration_number="1", regions=["GB-HRW"])
    f.award(db, registry, rnd=rnd, org=org, amount=f.money("1250.50"), title='=HYPERLINK("http://evil.example","x")')
    text = exports.threesixty_giving(db, registry, fmt="csv", now=NOW).decode()
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["Title"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["Recipient Org:Name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert row["Funding Org:0:Name"] == "'+cmd|' /C calc'!A0"
    assert row["Grant Programme:Title"] == "'-2+3 Fund: \tRound"
    assert row["Description"].startswith("'=HYPERLINK(")
    assert row["Amount Awarded"] == "1250.50" and row["Planned Dates:Duration (months)"] == "12"
    formulas = [(column, value) for column, value in row.items() if value.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert formulas == []


def test_numbers_written_to_csv_stay_numbers_and_text_that_looks_like_one_is_text():
    from grants import spreadsheet

    assert spreadsheet.cell(Decimal("-250.00")) == "-250.00"
    assert spreadsheet.cell(Decimal("1.5E+6")) == "1500000"
    assert spreadsheet.cell(-3) == "-3"
    assert spreadsheet.cell("-3") == "'-3"
    assert spreadsheet.cell("\r=1") == "'\r=1"
    assert spreadsheet.cell(dt.date(2020, 1, 2)) == "2020-01-02"
    assert spreadsheet.cell(None) == "" and spreadsheet.cell("AFEK") == "AFEK"
    out = io.StringIO()
    spreadsheet.writer(out).writerow(["=1+1", Decimal("-1.50"), "plain"])
    assert out.getvalue() == "'=1+1,-1.50,plain\r\n"


def test_the_publisher_is_never_a_funder_that_a_round_in_the_file_hides(db, registry):
    """The publisher speaks for every grant in the file, so a funder hidden by one round
    is not named as publisher because another round names it."""
    prog = programmes.create_programme(db, title="Kampala Youth Fund", currency="UGX")
    prog.grant_id_prefix = "360G-kyf"
    quiet = programmes.get_or_create_funder(db, name=HIDDEN, identifier="GB-CHC-1", kind="foundation")
    programmes.add_funder_contribution(db, prog, quiet, role="lead", amount=f.money("10000000", "UGX"))
    hiding, naming = f.round_(db, registry, prog, title="Round 1"), f.round_(db, registry, prog, title="Round 2")
    hiding.hidden_funder_ids = [quiet.id]
    for rnd in (hiding, naming):
        owner = f.user(db)
        f.award(db, registry, rnd=rnd, org=f.organisation(db, owner), amount=f.money("1500000", "UGX"))
    package = json.loads(exports.threesixty_giving(db, registry, now=NOW))
    assert HIDDEN not in json.dumps(package["publisher"])
    by_round = {g["grantProgramme"][0]["title"]: g["fundingOrganization"] for g in package["grants"]}
    assert by_round["Kampala Youth Fund: Round 1"][0]["name"] == "Another funder"
    assert by_round["Kampala Youth Fund: Round 2"][0]["name"] == HIDDEN  # that round names it
