"""Checks that an export keeps to its open-data standard, for any data set (the tests' and
the demo's): 360Giving 1.4 (the JSON package and its spreadsheet form) and IATI 2.03
activity XML.  Each checker raises AssertionError listing every problem it found, and
returns what it parsed.

What is checked comes from the standards' own schema files (360-giving-schema.json and
360-giving-package-schema.json 1.4; iati-activities-schema.xsd 2.03): required fields and
their types, both of 360Giving's ``oneOf`` required sets, ``minItems``, ISO 4217
currencies, ISO dates; IATI's element order, cardinalities and required attributes.  On
top: none of the ``forbidden`` strings (users' e-mails and names, organisations' contact
e-mails and phones) may appear anywhere in the output.

    data = json.loads(body, parse_float=Decimal)
    check_360giving_package(data, forbidden=personal_strings(db))
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation

from babel.numbers import list_currencies

#: ISO 4217 codes, from CLDR (not from the code under test).
CURRENCIES = frozenset(list_currencies())
DATE = re.compile(r"^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# -- 360Giving ------------------------------------------------------------------------------------------

GRANT_REQUIRED = (
    ("id", "title", "description", "currency", "amountAwarded", "awardDate", "recipientOrganization",
     "fundingOrganization"),
    ("id", "title", "description", "currency", "amountAwarded", "awardDate", "recipientIndividual",
     "fundingOrganization"),
)
CSV_REQUIRED = ("Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date")
CSV_RECIPIENTS = (("Recipient Org:Identifier", "Recipient Org:Name"), ("Recipient Ind:Identifier", "Recipient Ind:Name"))
CSV_FUNDERS = (("Funding Org:Identifier", "Funding Org:Name"), ("Funding Org:0:Identifier", "Funding Org:0:Name"))


def is_date(value) -> bool:
    """``YYYY-MM-DD`` or a full date-time, as 360Giving's date fields accept."""
    if not isinstance(value, str):
        return False
    if DATE.match(value):
        try:
            dt.date.fromisoformat(value)
            return True
        except ValueError:
            return False
    return is_datetime(value)


def is_datetime(value) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.tzinfo is not None


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _forbidden_in(text: str, forbidden, where: str) -> list[str]:
    folded = text.casefold()
    return [f"{where}: contains personal data {s!r}" for s in forbidden if s and s.casefold() in folded]


def _check_organisations(value, where: str) -> list[str]:
    problems = []
    if not isinstance(value, list) or len(value) < 1:
        return [f"{where}: an array with at least one organisation (minItems 1)"]
    for i, org in enumerate(value):
        if not isinstance(org, dict):
            problems.append(f"{where}[{i}]: an object")
            continue
        for key in ("id", "name"):
            if not isinstance(org.get(key), str) or not org[key].strip():
                problems.append(f"{where}[{i}].{key}: a non-empty string (required)")
    return problems


def check_grant(grant: dict, where: str = "grant") -> list[str]:
    """Problems with one 360Giving grant object."""
    if not isinstance(grant, dict):
        return [f"{where}: an object"]
    problems = []
    matched = [req for req in GRANT_REQUIRED if all(k in grant for k in req)]
    if len(matched) != 1:  # oneOf: exactly one of the two sets
        missing = [k for k in GRANT_REQUIRED[0] if k not in grant]
        problems.append(f"{where}: needs exactly one of the required sets (missing {missing}; "
                        f"recipientOrganization and recipientIndividual never both)")
    for key in ("id", "title", "description"):
        if key in grant and (not isinstance(grant[key], str) or not grant[key].strip()):
            problems.append(f"{where}.{key}: a non-empty string")
    if "currency" in grant and grant["currency"] not in CURRENCIES:
        problems.append(f"{where}.currency: {grant['currency']!r} is not an ISO 4217 code")
    for key in ("amountAwarded", "amountAppliedFor", "amountDisbursed"):
        if key in grant and not _is_number(grant[key]):
            problems.append(f"{where}.{key}: a number, not {grant[key]!r}")
    if "awardDate" in grant and not is_date(grant["awardDate"]):
        problems.append(f"{where}.awardDate: YYYY-MM-DD or a date-time, not {grant['awardDate']!r}")
    if "recipientOrganization" in grant:
        problems += _check_organisations(grant["recipientOrganization"], f"{where}.recipientOrganization")
    if "recipientIndividual" in grant:
        person = grant["recipientIndividual"]
        if not isinstance(person, dict) or not person.get("id") or not person.get("name"):
            problems.append(f"{where}.recipientIndividual: an object with id and name")
    if "fundingOrganization" in grant:
        problems += _check_organisations(grant["fundingOrganization"], f"{where}.fundingOrganization")
    for key in ("plannedDates", "actualDates"):
        for i, dates in enumerate(grant.get(key, [])):
            for part in ("startDate", "endDate"):
                if part in dates and not is_date(dates[part]):
                    problems.append(f"{where}.{key}[{i}].{part}: a date, not {dates[part]!r}")
            if "duration" in dates and not (isinstance(dates["duration"], int) and not isinstance(dates["duration"], bool)):
                problems.append(f"{where}.{key}[{i}].duration: a whole number of months")
    for i, place in enumerate(grant.get("beneficiaryLocation", [])):
        if not isinstance(place, dict):
            problems.append(f"{where}.beneficiaryLocation[{i}]: an object")
        elif "countryCode" in place and not re.fullmatch(r"[A-Z]{2}", place["countryCode"] or ""):
            problems.append(f"{where}.beneficiaryLocation[{i}].countryCode: ISO 3166-1 alpha-2")
    for i, programme in enumerate(grant.get("grantProgramme", [])):
        if not isinstance(programme, dict) or not isinstance(programme.get("code", ""), str):
            problems.append(f"{where}.grantProgramme[{i}]: an object with a string code")
    for i, c in enumerate(grant.get("classifications", [])):
        if not isinstance(c, dict) or not all(isinstance(c.get(k), str) for k in ("vocabulary", "code")):
            problems.append(f"{where}.classifications[{i}]: vocabulary and code strings")
    for key in ("disbursementTransaction", "commitmentTransaction", "applicationTransaction"):
        for i, t in enumerate(grant.get(key, [])):
            if "value" in t and not _is_number(t["value"]):
                problems.append(f"{where}.{key}[{i}].value: a number")
            if "currency" in t and t["currency"] not in CURRENCIES:
                problems.append(f"{where}.{key}[{i}].currency: ISO 4217")
            if "transactionDate" in t and not is_date(t["transactionDate"]):
                problems.append(f"{where}.{key}[{i}].transactionDate: a date")
    if "dateModified" in grant and not is_datetime(grant["dateModified"]):
        problems.append(f"{where}.dateModified: a full date-time")
    return problems


def check_360giving_package(data: dict, forbidden=()) -> dict:
    """A 360Giving package: ``grants`` (at least one, none twice) and its metadata."""
    problems = []
    if not isinstance(data, dict):
        raise AssertionError(["the package is a JSON object"])
    grants = data.get("grants")
    if not isinstance(grants, list) or len(grants) < 1:
        problems.append("grants: an array with at least one grant (required, minItems 1)")
        grants = []
    ids = [g.get("id") for g in grants if isinstance(g, dict)]
    if len(ids) != len(set(ids)):
        problems.append("grants: two grants share an identifier")
    for i, grant in enumerate(grants):
        problems += check_grant(grant, f"grants[{i}]")
    if "version" in data and not re.fullmatch(r"\d+\.\d+", str(data["version"])):
        problems.append(f"version: major.minor, not {data['version']!r}")
    for key in ("issued", "modified"):
        if key in data and not is_date(data[key]):
            problems.append(f"{key}: a date or date-time")
    if "publisher" in data and not (isinstance(data["publisher"], dict) and data["publisher"].get("name")):
        problems.append("publisher: an object with a name (required)")
    if "license" in data and not str(data["license"]).startswith(("http://", "https://")):
        problems.append("license: the licence's URI")
    problems += _forbidden_in(json.dumps(data, default=str, ensure_ascii=False), forbidden, "360Giving package")
    if problems:
        raise AssertionError(problems)
    return data


def check_360giving_csv(text: str, forbidden=()) -> list[dict]:
    """The spreadsheet form: the standard's column titles, the required cells in every
    row, amounts that read as exact numbers."""
    rows = list(csv.DictReader(io.StringIO(text)))
    header = next(csv.reader(io.StringIO(text)), [])
    problems = [f"column {c!r} is required" for c in CSV_REQUIRED if c not in header]
    recipients = [pair for pair in CSV_RECIPIENTS if all(c in header for c in pair)]
    funders = [pair for pair in CSV_FUNDERS if all(c in header for c in pair)]
    if not recipients:
        problems.append("columns Recipient Org:Identifier and Recipient Org:Name (or Recipient Ind:…) are required")
    if not funders:
        problems.append("columns Funding Org:Identifier and Funding Org:Name (or Funding Org:0:…) are required")
    if not rows:
        problems.append("no grant rows")
    for n, row in enumerate(rows, start=2):
        for column in CSV_REQUIRED:
            if column in header and not (row.get(column) or "").strip():
                problems.append(f"line {n}: {column} is empty")
        filled = [pair for pair in recipients if all((row.get(c) or "").strip() for c in pair)]
        if len(filled) != 1:
            problems.append(f"line {n}: one recipient (organisation or individual), with identifier and name")
        if funders and not any(all((row.get(c) or "").strip() for c in pair) for pair in funders):
            problems.append(f"line {n}: the funding organisation's identifier and name are empty")
        if row.get("Currency") and row["Currency"] not in CURRENCIES:
            problems.append(f"line {n}: Currency {row['Currency']!r} is not an ISO 4217 code")
        for column in ("Amount Awarded", "Amount Disbursed", "Amount Applied For"):
            value = (row.get(column) or "").strip()
            if value:
                try:
                    Decimal(value)
                except InvalidOperation:
                    problems.append(f"line {n}: {column} {value!r} is not a plain number")
                if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
                    problems.append(f"line {n}: {column} {value!r} has separators or an exponent")
        for column in ("Award Date", "Planned Dates:Start Date", "Planned Dates:End Date"):
            value = (row.get(column) or "").strip()
            if value and not is_date(value):
                problems.append(f"line {n}: {column} {value!r} is not a date")
    problems += _forbidden_in(text, forbidden, "360Giving CSV")
    if problems:
        raise AssertionError(problems)
    return rows


# -- IATI 2.03 ----------------------------------------------------------------------------------------

#: iati-activity's children, in the order of the schema's sequence.
ACTIVITY_ORDER = (
    "iati-identifier", "reporting-org", "title", "description", "participating-org", "other-identifier",
    "activity-status", "activity-date", "contact-info", "activity-scope", "recipient-country", "recipient-region",
    "location", "sector", "tag", "country-budget-items", "humanitarian-scope", "policy-marker", "collaboration-type",
    "default-flow-type", "default-finance-type", "default-aid-type", "default-tied-status", "budget",
    "planned-disbursement", "capital-spend", "transaction", "document-link", "related-activity", "legacy-data",
    "conditions", "result", "crs-add", "fss",
)
#: (min, max) occurrences; None is unbounded.  Elements not listed are 0..n or 0..1 as below.
ACTIVITY_OCCURS = {
    "iati-identifier": (1, 1), "reporting-org": (1, 1), "title": (1, 1), "description": (1, None),
    "participating-org": (1, None), "activity-status": (1, 1), "activity-date": (1, None),
    "activity-scope": (0, 1), "country-budget-items": (0, 1), "collaboration-type": (0, 1),
    "default-flow-type": (0, 1), "default-finance-type": (0, 1), "default-tied-status": (0, 1),
    "capital-spend": (0, 1), "conditions": (0, 1), "crs-add": (0, 1), "fss": (0, 1),
}
TRANSACTION_ORDER = ("transaction-type", "transaction-date", "value", "description", "provider-org", "receiver-org",
                     "disbursement-channel", "sector", "recipient-country", "recipient-region", "flow-type",
                     "finance-type", "aid-type", "tied-status")
BUDGET_ORDER = ("period-start", "period-end", "value")
RESULT_ORDER = ("title", "description", "document-link", "reference", "indicator")
INDICATOR_ORDER = ("title", "description", "document-link", "reference", "baseline", "period")
BASELINE_ORDER = ("location", "dimension", "document-link", "comment")
PERIOD_ORDER = ("period-start", "period-end", "target", "actual")
VALUE_ORDER = ("location", "dimension", "comment", "document-link")  # target and actual
RESULT_TYPES = {"1", "2", "3", "9"}
MEASURES = {"1", "2", "3", "4", "5"}
ORGANISATION_ROLES = {"1", "2", "3", "4"}
BOOLEANS = {"true", "false", "1", "0"}


def _order(node, order, where) -> list[str]:
    problems, last = [], -1
    for child in node:
        if not isinstance(child.tag, str) or child.tag.startswith("{"):
            continue  # comments; elements of another namespace (extensions) may go anywhere
        if child.tag not in order:
            problems.append(f"{where}: <{child.tag}> is not allowed here")
            continue
        position = order.index(child.tag)
        if position < last:
            problems.append(f"{where}: <{child.tag}> comes after <{order[last]}>, against the schema's order")
        last = max(last, position)
    return problems


def _count(node, tag, low, high, where) -> list[str]:
    n = len(node.findall(tag))
    if n < low or (high is not None and n > high):
        span = f"{low}..{'n' if high is None else high}"
        return [f"{where}: <{tag}> occurs {n} times ({span} allowed)"]
    return []


def _attr(node, name, where, check=None, label="") -> list[str]:
    value = node.get(name)
    if value is None:
        return [f"{where}: <{node.tag}> needs @{name}"]
    if check is not None and not check(value):
        return [f"{where}: <{node.tag}> @{name}={value!r} is not {label}"]
    return []


def _iso_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
        return bool(DATE.match(value))
    except ValueError:
        return False


def _decimal(value: str) -> bool:
    return bool(re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", (value or "").strip()))


def _narratives(node, where, required=True) -> list[str]:
    found = node.findall("narrative")
    if required and not found:
        return [f"{where}: <{node.tag}> needs a <narrative>"]
    return [f"{where}: an empty <narrative> in <{node.tag}>" for n in found if not (n.text or "").strip()]


def _value(node, where, currency_default) -> list[str]:
    problems = _attr(node, "value-date", where, _iso_date, "a date")
    if not _decimal(node.text or ""):
        problems.append(f"{where}: <value> {node.text!r} is not a decimal number")
    currency = node.get("currency") or currency_default
    if currency is None:
        problems.append(f"{where}: <value> has no @currency and the activity no @default-currency")
    elif currency not in CURRENCIES:
        problems.append(f"{where}: currency {currency!r} is not ISO 4217")
    return problems


def _check_result(result, where) -> list[str]:
    problems = _attr(result, "type", where, RESULT_TYPES.__contains__, "a ResultType code (1, 2, 3, 9)")
    problems += _order(result, RESULT_ORDER, where)
    problems += _count(result, "title", 1, 1, where) + _count(result, "description", 0, 1, where)
    problems += _count(result, "indicator", 1, None, where)
    for title in result.findall("title"):
        problems += _narratives(title, where)
    for i, indicator in enumerate(result.findall("indicator"), start=1):
        here = f"{where}/indicator[{i}]"
        problems += _attr(indicator, "measure", here, MEASURES.__contains__, "an IndicatorMeasure code (1–5)")
        if indicator.get("ascending") is not None and indicator.get("ascending") not in BOOLEANS:
            problems.append(f"{here}: @ascending is a boolean")
        qualitative = indicator.get("measure") == "5"
        problems += _order(indicator, INDICATOR_ORDER, here)
        problems += _count(indicator, "title", 1, 1, here) + _count(indicator, "description", 0, 1, here)
        for part in indicator.findall("title") + indicator.findall("description"):
            problems += _narratives(part, here)
        for ref in indicator.findall("reference"):
            problems += _attr(ref, "vocabulary", here) + _attr(ref, "code", here)
        for baseline in indicator.findall("baseline"):
            problems += _attr(baseline, "year", here, lambda v: v.isdigit() and int(v) > 0, "a year")
            if baseline.get("iso-date") is not None and not _iso_date(baseline.get("iso-date")):
                problems.append(f"{here}: baseline @iso-date is not a date")
            if not qualitative:
                problems += _attr(baseline, "value", here, _decimal, "a number")
            problems += _order(baseline, BASELINE_ORDER, f"{here}/baseline")
        for k, period in enumerate(indicator.findall("period"), start=1):
            at = f"{here}/period[{k}]"
            problems += _order(period, PERIOD_ORDER, at)
            for tag in ("period-start", "period-end"):
                problems += _count(period, tag, 1, 1, at)
                for d in period.findall(tag):
                    problems += _attr(d, "iso-date", at, _iso_date, "a date")
            for tag in ("target", "actual"):
                for v in period.findall(tag):
                    if not qualitative:
                        problems += _attr(v, "value", at, _decimal, "a number")
                    problems += _order(v, VALUE_ORDER, f"{at}/{tag}")
                    for dim in v.findall("dimension"):
                        problems += _attr(dim, "name", at) + _attr(dim, "value", at)
    return problems


def check_iati(xml_bytes: bytes, forbidden=()) -> ET.Element:
    """An ``iati-activities`` document of version 2.03."""
    text = xml_bytes.decode("utf-8")
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as exc:
        raise AssertionError([f"not well-formed XML: {exc}"]) from None
    problems = []
    if root.tag != "iati-activities":
        problems.append(f"the root is <{root.tag}>, not <iati-activities>")
    if root.get("version") != "2.03":
        problems.append(f"@version is {root.get('version')!r}, not '2.03'")
    if root.get("generated-datetime") is not None and not is_datetime(root.get("generated-datetime")):
        problems.append("@generated-datetime is not a date-time with its zone")
    activities = root.findall("iati-activity")
    if not activities:
        problems.append("no <iati-activity> (at least one required)")
    identifiers = [a.findtext("iati-identifier") for a in activities]
    if len(identifiers) != len(set(identifiers)):
        problems.append("two activities share an iati-identifier")
    for i, activity in enumerate(activities, start=1):
        where = f"activity {identifiers[i - 1] or i}"
        problems += _order(activity, ACTIVITY_ORDER, where)
        for tag, (low, high) in ACTIVITY_OCCURS.items():
            problems += _count(activity, tag, low, high, where)
        currency = activity.get("default-currency")
        if currency is not None and currency not in CURRENCIES:
            problems.append(f"{where}: @default-currency {currency!r} is not ISO 4217")
        if activity.get("last-updated-datetime") is not None and not is_datetime(activity.get("last-updated-datetime")):
            problems.append(f"{where}: @last-updated-datetime is not a date-time with its zone")
        has_lang = activity.get(XML_LANG) is not None
        if not has_lang and any(n.get(XML_LANG) is None for n in activity.iter("narrative")):
            problems.append(f"{where}: no @xml:lang on the activity, so every narrative needs one")
        identifier = (activity.findtext("iati-identifier") or "").strip()
        if not identifier:
            problems.append(f"{where}: an empty iati-identifier")
        for org in activity.findall("reporting-org"):
            problems += _attr(org, "ref", where) + _attr(org, "type", where) + _narratives(org, where)
            if identifier and org.get("ref") and not identifier.startswith(org.get("ref") + "-"):
                problems.append(f"{where}: the iati-identifier does not start with reporting-org/@ref and a hyphen")
        for tag in ("title", "description"):
            for node in activity.findall(tag):
                problems += _narratives(node, where)
        for org in activity.findall("participating-org"):
            problems += _attr(org, "role", where, ORGANISATION_ROLES.__contains__, "an OrganisationRole code (1–4)")
            if not org.get("ref") and not any((n.text or "").strip() for n in org.findall("narrative")):
                problems.append(f"{where}: a participating-org with neither @ref nor a name")
        for status in activity.findall("activity-status"):
            problems += _attr(status, "code", where)
        for date in activity.findall("activity-date"):
            problems += _attr(date, "type", where, {"1", "2", "3", "4"}.__contains__, "an ActivityDateType code")
            problems += _attr(date, "iso-date", where, _iso_date, "a date")
        for country in activity.findall("recipient-country"):
            problems += _attr(country, "code", where, lambda v: bool(re.fullmatch(r"[A-Z]{2}", v)), "ISO 3166-1")
        for budget in activity.findall("budget"):
            problems += _order(budget, BUDGET_ORDER, f"{where}/budget")
            for tag in BUDGET_ORDER:
                problems += _count(budget, tag, 1, 1, f"{where}/budget")
            for d in budget.findall("period-start") + budget.findall("period-end"):
                problems += _attr(d, "iso-date", where, _iso_date, "a date")
            for v in budget.findall("value"):
                problems += _value(v, f"{where}/budget", currency)
        for k, transaction in enumerate(activity.findall("transaction"), start=1):
            at = f"{where}/transaction[{k}]"
            problems += _order(transaction, TRANSACTION_ORDER, at)
            for tag in ("transaction-type", "transaction-date", "value"):
                problems += _count(transaction, tag, 1, 1, at)
            for t in transaction.findall("transaction-type"):
                problems += _attr(t, "code", at)
            for d in transaction.findall("transaction-date"):
                problems += _attr(d, "iso-date", at, _iso_date, "a date")
            for v in transaction.findall("value"):
                problems += _value(v, at, currency)
        for k, result in enumerate(activity.findall("result"), start=1):
            problems += _check_result(result, f"{where}/result[{k}]")
    problems += _forbidden_in(text, forbidden, "IATI XML")
    if problems:
        raise AssertionError(problems)
    return root


def personal_strings(dbsession) -> list[str]:
    """Every string that would be personal data in an export: each user's e-mail and
    name, each organisation's contact e-mail and phone."""
    from sqlalchemy import select

    from grants.accounts.models import Organisation, User

    found = []
    for email, name in dbsession.execute(select(User.email, User.name)):
        found += [email, name]
    for email, phone in dbsession.execute(select(Organisation.contact_email, Organisation.contact_phone)):
        found += [s for s in (email, phone) if s]
    return [s for s in dict.fromkeys(found) if s and len(s.strip()) > 2]
