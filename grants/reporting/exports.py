"""Open data about the grants made: 360Giving (JSON package or CSV) and IATI 2.03 XML.

``grants export 360giving development.ini [--format csv]`` and ``grants export iati …``
call :func:`write_threesixty_giving` and :func:`write_iati_activities`, which write one
grant at a time from awards read in batches, so memory stays flat however many awards
there are (:func:`threesixty_giving` and :func:`iati_activities` return the same bytes).
Every award is exported, whatever its state (active, ended early, closed).

Decisions worth knowing:

* **Money is exact.**  Amounts are written from their ``Decimal`` with the currency's
  decimals ("45000.125" TND, "800000.00" GBP, "1500000" UGX), never through a float: the
  JSON writer here emits a Decimal's text as a JSON number.
* **Identifiers.**  A grant is ``<programme.grant_id_prefix>-<award.reference>``
  ("360G-cityfund-G-00012").  A recipient gets an org-id when org-id.guide has a register for
  its country and legal form and it gave its registration number (GB charities and CIOs:
  ``GB-CHC-…``; GB companies and CICs: ``GB-COH-…``); Tunisian and Moroccan associations
  have no such register on org-id.guide (TN-RNE lists companies), so they get the
  publisher's fallback ``<prefix>-ORG-<id>``.  A funder without an identifier gets
  ``<prefix>-FUNDER-<id>``.
* **Funders.**  ``fundingOrganization`` (360Giving) and ``participating-org role="1"``
  (IATI) list every lead and co-funder of the award's round and of its whole programme
  (implementers are not funders).  A programme without one names its own publisher prefix.
* **Hidden funders.**  A funder in the round's ``hidden_funder_ids`` must not be named in
  public (donor-perception risk), and an export is public: it becomes "Another funder"
  with the identifier ``<prefix>-FUNDER-WITHHELD-R<round>-<n>`` (360Giving) or a
  participating-org with no ``@ref`` (IATI).  The money stays.
* **Match funding.**  A grant from a round (or programme) with a contribution that matches
  another funder's is marked with a classification, vocabulary ``<prefix>-funding`` and
  code ``match-funded``, titled "Match funded: <co-funder> matched <funder>".  Not
  ``regrantType`` FRG030: that codelist describes a grant *to a grantmaker* for onward
  distribution, which these grants to the delivering organisations are not.
* **Personal data never.**  No user, no e-mail or phone, no contact names, no person as a
  recipient; the description is written from the grant's facts, not from what applicants
  typed (an application's free text may name people).
* **IATI.**  Children follow the order of ``iati-activities-schema.xsd`` 2.03; the
  reporting organisation is ``grants.iati.reporting_org_ref``/``_name``/``_type`` from the
  settings when set, else the programme's first named lead funder with an identifier.
  A baseline is written only where one was measured; an indicator with a recorded reason
  instead carries the reason in its description.  Actual values come from accepted reports
  only, a total and one ``actual`` per disaggregated cell (``dimension``).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import spreadsheet
from grants.lifecycle.meanings import means
from grants.money import Money
from grants.reporting.public import withheld_funder_ids

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
SCHEMA_VERSION = "1.4"
ANOTHER_FUNDER = "Another funder"
#: org-id.guide registers by (country, legal form): where a registration number makes an org-id.
ORG_ID_LISTS = {
    ("GB", "registered_charity"): "GB-CHC",
    ("GB", "cio"): "GB-CHC",
    ("GB", "company_limited_by_guarantee"): "GB-COH",
    ("GB", "community_interest_company"): "GB-COH",
}
#: IATI OrganisationType codes for the kinds of funder (grants.programmes.models.FUNDER_KINDS).
IATI_ORG_TYPES = {"government": "10", "multilateral": "40", "foundation": "60", "corporate": "70",
                  "philanthropist": "60", "ngo": "22", "other": "90"}
#: IATI ActivityStatus by award state.
IATI_STATUS = {"active": "2", "ended_early": "4", "closed": "4"}
#: IATI ResultType by the level of the indicator's result.
IATI_RESULT_TYPES = {"outputs": "1", "outcomes": "2", "impact": "3"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")


# -- what both exports need ------------------------------------------------------------------------


@dataclass
class OrgRef:
    id: str
    name: str
    is_org_id: bool  # a registered org-id (not a 360G fallback)
    kind: str = ""
    charity_number: str = ""
    company_number: str = ""
    funder_id: int | None = None  # the funder it names (None: an organisation, or a funder withheld)


def _today(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)


def organisation_identifier(org, prefix: str) -> OrgRef:
    """The recipient's org-id where a register fits, else the publisher's fallback."""
    number = re.sub(r"\s+", "", org.registration_number or "")
    scheme = ORG_ID_LISTS.get((org.country, org.legal_form or ""))
    ref = OrgRef(f"{prefix}-ORG-{org.id}", org.legal_name, False)
    if number and scheme:
        ref = OrgRef(f"{scheme}-{number}", org.legal_name, True)
        if scheme == "GB-CHC":
            ref.charity_number = number
        else:
            ref.company_number = number
    return ref


def _funder_ref(funder, prefix: str) -> OrgRef:
    if funder.identifier:
        return OrgRef(funder.identifier, funder.name, not funder.identifier.startswith("360G-"), funder.kind,
                      funder_id=funder.id)
    return OrgRef(f"{prefix}-FUNDER-{funder.id}", funder.name, False, funder.kind, funder_id=funder.id)


def round_funders(rnd) -> list[OrgRef]:
    """Every lead and co-funder of ``rnd`` and of its whole programme, leads first, the
    hidden ones as "Another funder"."""
    from grants.programmes.models import CO_FUNDER, LEAD

    prefix = rnd.programme.grant_id_prefix
    hidden = withheld_funder_ids(rnd)
    order = {LEAD: 0, CO_FUNDER: 1}
    contributions = sorted((c for c in rnd.programme.contributions
                            if c.role in order and c.round_id in (rnd.id, None)),
                           key=lambda c: (order[c.role], c.id))
    seen: dict[int, OrgRef] = {}
    withheld = 0
    for c in contributions:
        if c.funder_id in seen:
            continue
        if c.funder_id in hidden:
            withheld += 1
            seen[c.funder_id] = OrgRef(f"{prefix}-FUNDER-WITHHELD-R{rnd.id}-{withheld}", ANOTHER_FUNDER, False)
        else:
            seen[c.funder_id] = _funder_ref(c.funder, prefix)
    if not seen:
        return [OrgRef(prefix, rnd.programme.title, False)]
    return list(seen.values())


def match_note(rnd) -> str | None:
    """"Match funded: the foundation matched the city…" when money in the round (or the
    whole programme) matches another funder's; hidden funders stay unnamed."""
    hidden = withheld_funder_ids(rnd)
    pairs = []
    for c in rnd.programme.contributions:
        if c.round_id in (rnd.id, None) and c.matches_funder_id is not None and c.contribution is not None:
            who = ANOTHER_FUNDER if c.funder_id in hidden else c.funder.name
            whom = "another funder" if c.matches_funder_id in hidden else c.matches.name
            pairs.append(f"{who} matched {whom}")
    return ("Match funded: " + "; ".join(pairs)) if pairs else None


def _months(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end`` inclusive, a part month counting as one."""
    after = end + dt.timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    if after.day > start.day:
        months += 1
    return max(months, 1)


#: Awards read and written per batch: the session is emptied after each, so an export of
#: any size holds one batch of awards (with what they load) in memory, never all of them.
BATCH = 100


def _award_batches(dbsession: Session, *, release: bool = False, batch: int = BATCH):
    """Every award, oldest first, in lists of ``batch`` with their payments: pages by id
    (keyset), not OFFSET, so each page costs the same however deep the export is.  With
    ``release`` the session is emptied between batches so the rows read can go: only for
    a session of the export's own (the command's), since it detaches every object in it."""
    from grants.awards.models import Award

    last = 0
    while True:
        awards = list(dbsession.scalars(select(Award).where(Award.id > last).order_by(Award.id).limit(batch)))
        if not awards:
            return
        yield awards, _disbursements(dbsession, [a.id for a in awards])
        last = awards[-1].id
        if release:
            dbsession.expunge_all()


def _awarded_rounds(dbsession: Session) -> list:
    """The rounds that have awards, in the order of their first award: what the whole file
    speaks for (a few rows, however many awards)."""
    from sqlalchemy import func

    from grants.awards.models import Award
    from grants.programmes.models import Round

    first = (select(Award.round_id, func.min(Award.id).label("first")).group_by(Award.round_id)).subquery()
    return list(dbsession.scalars(select(Round).join(first, first.c.round_id == Round.id).order_by(first.c.first)))


def _disbursements(dbsession: Session, award_ids) -> dict[int, list]:
    from grants.awards.models import Disbursement

    found: dict[int, list] = {}
    if award_ids:
        for d in dbsession.scalars(select(Disbursement).where(Disbursement.award_id.in_(award_ids))
                                   .order_by(Disbursement.paid_on, Disbursement.id)):
            found.setdefault(d.award_id, []).append(d)
    return found


def _last_modified(dbsession: Session, award, disbursements) -> dt.datetime:
    """The latest change to the award, its amendments, payments or reports' history."""
    from sqlalchemy import func, or_

    from grants.lifecycle.models import HistoryEntry
    from grants.mel.models import Report

    moments = [award.awarded_at] + [d.recorded_at for d in disbursements if d.recorded_at]
    moments += [a.made_at for a in award.amendments if a.made_at]
    latest = dbsession.scalar(select(func.max(HistoryEntry.at)).where(or_(
        (HistoryEntry.object_type == "awards") & (HistoryEntry.object_id == award.id),
        (HistoryEntry.object_type == "reports")
        & HistoryEntry.object_id.in_(select(Report.id).where(Report.award_id == award.id)))))
    if latest is not None:
        moments.append(latest)
    return max(m.astimezone(dt.timezone.utc) for m in moments).replace(microsecond=0)


def _description(award) -> str:
    rnd = award.round
    return (f"{award.title}: a grant of {award.amount.amount} {award.currency} from {rnd.programme.title} "
            f"({rnd.title}) to {award.organisation.legal_name}, from {award.starts_on.isoformat()} "
            f"to {award.ends_on.isoformat()}.")


def _publisher(registry, rounds) -> dict:
    """``rounds``: those with awards in the file, in the order of their first award."""
    settings = getattr(registry, "settings", None) or {}
    if settings.get("grants.publisher_name"):
        found = {"name": settings["grants.publisher_name"]}
        if settings.get("grants.publisher_identifier"):
            found["identifier"] = settings["grants.publisher_identifier"]
        return found
    # The publisher speaks for the whole file: not a funder that any of its rounds hides.
    hidden = set().union(*(withheld_funder_ids(rnd) for rnd in rounds))
    for rnd in rounds:
        for ref in round_funders(rnd):
            if ref.funder_id is not None and ref.funder_id not in hidden:
                return {"name": ref.name, "identifier": ref.id}
    return {"name": "grants"}


# -- 360Giving --------------------------------------------------------------------------------------


def grant_record(dbsession: Session, award, disbursements) -> dict:
    """One award as a 360Giving grant (amounts are Decimals, written exactly)."""
    from grants import regions

    rnd = award.round
    programme = rnd.programme
    prefix = programme.grant_id_prefix
    org = award.organisation
    recipient = organisation_identifier(org, prefix)
    recipient_org = {"id": recipient.id, "name": recipient.name}
    if recipient.charity_number:
        recipient_org["charityNumber"] = recipient.charity_number
    if recipient.company_number:
        recipient_org["companyNumber"] = recipient.company_number
    if org.country:
        recipient_org["addressCountry"] = regions.country_name(org.country, "en")
    paid = sum((d.amount for d in disbursements), Money.zero(award.currency))
    grant = {
        "id": f"{prefix}-{award.reference}",
        "title": award.title,
        "description": _description(award),
        "currency": award.currency,
        "amountAwarded": award.amount.amount,
        "amountDisbursed": paid.amount,
        "awardDate": award.awarded_at.astimezone(dt.timezone.utc).date().isoformat(),
        "plannedDates": [{"startDate": award.starts_on.isoformat(), "endDate": award.ends_on.isoformat(),
                          "duration": _months(award.starts_on, award.ends_on)}],
        "recipientOrganization": [recipient_org],
        "fundingOrganization": [{"id": f.id, "name": f.name} for f in round_funders(rnd)],
        "grantProgramme": [{"code": f"{prefix}-P{programme.id}-R{rnd.id}", "title": f"{programme.title}: {rnd.title}"}],
    }
    if award.ended_on is not None:
        grant["actualDates"] = [{"startDate": award.starts_on.isoformat(), "endDate": award.ended_on.isoformat(),
                                 "duration": _months(award.starts_on, award.ended_on)}]
    locations = []
    for code in sorted(org.regions or ()):
        if regions.is_region(code):
            found = regions.region(code)
            locations.append({"name": found.name("en"), "countryCode": found.country, "geoCode": code})
    if locations:
        grant["beneficiaryLocation"] = locations
    if disbursements:
        grant["disbursementTransaction"] = [
            {"id": f"{prefix}-{award.reference}-D{d.id}", "transactionDate": d.paid_on.isoformat(),
             "currency": d.currency, "value": d.amount.amount} for d in disbursements]
    note = match_note(rnd)
    if note:
        grant["classifications"] = [{"vocabulary": f"{prefix}-funding", "code": "match-funded", "title": note}]
    grant["dateModified"] = _last_modified(dbsession, award, disbursements).isoformat()
    return grant


def _package_head(dbsession: Session, registry, now: dt.datetime | None) -> dict:
    """The package without its grants."""
    issued = _today(now)
    return {
        "version": SCHEMA_VERSION,
        "title": "Grants awarded",
        "description": "Every grant awarded through grants, whatever its state: active, ended early or closed.",
        "issued": issued.isoformat(),
        "modified": issued.isoformat(),
        "publisher": _publisher(registry, _awarded_rounds(dbsession)),
        "license": (getattr(registry, "settings", None) or {}).get("grants.data_license", LICENSE),
    }


def grant_records(dbsession: Session, *, release: bool = False):
    """Every award as a 360Giving grant, one at a time (see :func:`_award_batches`)."""
    for awards, paid in _award_batches(dbsession, release=release):
        for award in awards:
            yield grant_record(dbsession, award, paid.get(award.id, []))


def threesixty_giving_package(dbsession: Session, registry, *, now: dt.datetime | None = None) -> dict:
    """The whole package as one dict: for tests and small files; the command writes
    :func:`write_threesixty_giving` instead, which never holds every grant."""
    return {**_package_head(dbsession, registry, now), "grants": list(grant_records(dbsession))}


def write_threesixty_giving(dbsession: Session, registry, out, fmt: str = "json", *,
                            now: dt.datetime | None = None, release: bool = False) -> int:
    """Write the 360Giving package as JSON (or its grants as CSV) to the binary file
    ``out``, one grant at a time; returns how many grants were written.  The bytes are
    those of :func:`dumps` on the whole package.  ``release``: see :func:`_award_batches`."""
    if fmt == "csv":
        return _write_csv(dbsession, out, release=release)
    if fmt != "json":
        raise ValueError(f"360Giving is written as json or csv, not {fmt!r}")
    head = dumps(_package_head(dbsession, registry, now))
    # The head's closing "\n}" is reopened to append the grants after its last member.
    out.write((head[:-2] + ',\n  "grants": [').encode("utf-8"))
    count = 0
    for grant in grant_records(dbsession, release=release):
        out.write(((",\n" if count else "\n") + "    " + dumps(grant, 2, 2)).encode("utf-8"))
        count += 1
    out.write(("\n  ]\n}\n" if count else "]\n}\n").encode("utf-8"))
    return count


def threesixty_giving(dbsession: Session, registry, fmt: str = "json", *, now: dt.datetime | None = None) -> bytes:
    """The 360Giving package as JSON, or its grants as the standard's spreadsheet (CSV)."""
    out = io.BytesIO()
    write_threesixty_giving(dbsession, registry, out, fmt, now=now)
    return out.getvalue()


def dumps(value, indent: int = 2, _level: int = 0) -> str:
    """JSON, with a Decimal written as the exact number it is (never through a float)."""
    pad, inner = " " * (indent * _level), " " * (indent * (_level + 1))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a number JSON can hold")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are never written: amounts are Decimals")
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, indent, _level + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + dumps(v, indent, _level + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def threesixty_giving_csv(grants: list[dict]) -> str:
    """The spreadsheet form: one row per grant, the standard's column titles, numbered
    columns ("Funding Org:0:Identifier", "Funding Org:1:…") for repeated objects.  Amounts
    and durations are numbers; a text cell a spreadsheet would take for a formula gets a
    leading apostrophe (``grants.spreadsheet``)."""
    funders = max((len(g["fundingOrganization"]) for g in grants), default=1)
    places = max((len(g.get("beneficiaryLocation", ())) for g in grants), default=0)
    out = io.StringIO()
    _csv_rows(out, grants, funders, places)
    return out.getvalue()


def _write_csv(dbsession: Session, out, *, release: bool = False) -> int:
    """The CSV written grant by grant.  Its header needs the most funders and places of
    any grant before the first row: they are counted from the rounds and organisations
    with awards (a few small queries) rather than from the grants, which are not kept."""
    from grants import regions
    from grants.accounts.models import OrganisationRegion
    from grants.applications.models import Application
    from grants.awards.models import Award

    funders = max((len(round_funders(rnd)) for rnd in _awarded_rounds(dbsession)), default=1)
    counts: dict[int, int] = {}
    for org_id, code in dbsession.execute(
            select(OrganisationRegion.organisation_id, OrganisationRegion.region_code).distinct()
            .where(OrganisationRegion.organisation_id.in_(
                select(Application.organisation_id).join(Award, Award.application_id == Application.id)))):
        if regions.is_region(code):
            counts[org_id] = counts.get(org_id, 0) + 1
    places = max(counts.values(), default=0)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        return _csv_rows(text, grant_records(dbsession, release=release), funders, places)
    finally:
        text.detach()  # the caller's file stays open


def _csv_rows(out, grants, funders: int, places: int) -> int:
    columns = ["Identifier", "Title", "Description", "Currency", "Amount Awarded", "Amount Disbursed", "Award Date",
               "Planned Dates:Start Date", "Planned Dates:End Date", "Planned Dates:Duration (months)",
               "Actual Dates:Start Date", "Actual Dates:End Date",
               "Recipient Org:Identifier", "Recipient Org:Name", "Recipient Org:Charity Number",
               "Recipient Org:Company Number", "Recipient Org:Country"]
    for i in range(places):
        columns += [f"Beneficiary Location:{i}:Name", f"Beneficiary Location:{i}:Country Code",
                    f"Beneficiary Location:{i}:Geographic Code"]
    for i in range(funders):
        columns += [f"Funding Org:{i}:Identifier", f"Funding Org:{i}:Name"]
    columns += ["Grant Programme:Code", "Grant Programme:Title",
                "Classifications:0:Vocabulary", "Classifications:0:Code", "Classifications:0:Title", "Last modified"]
    writer = spreadsheet.writer(out)  # text cells that a spreadsheet would run as formulas are neutralised
    writer.writerow(columns)
    count = 0
    for g in grants:
        planned = g["plannedDates"][0]
        actual = (g.get("actualDates") or [{}])[0]
        recipient = g["recipientOrganization"][0]
        row = {
            "Identifier": g["id"], "Title": g["title"], "Description": g["description"], "Currency": g["currency"],
            "Amount Awarded": g["amountAwarded"], "Amount Disbursed": g.get("amountDisbursed"),
            "Award Date": g["awardDate"], "Planned Dates:Start Date": planned.get("startDate"),
            "Planned Dates:End Date": planned.get("endDate"), "Planned Dates:Duration (months)": planned.get("duration"),
            "Actual Dates:Start Date": actual.get("startDate"), "Actual Dates:End Date": actual.get("endDate"),
            "Recipient Org:Identifier": recipient["id"], "Recipient Org:Name": recipient["name"],
            "Recipient Org:Charity Number": recipient.get("charityNumber"),
            "Recipient Org:Company Number": recipient.get("companyNumber"),
            "Recipient Org:Country": recipient.get("addressCountry"),
            "Grant Programme:Code": g["grantProgramme"][0]["code"],
            "Grant Programme:Title": g["grantProgramme"][0]["title"],
            "Last modified": g.get("dateModified"),
        }
        for i, place in enumerate(g.get("beneficiaryLocation", ())):
            row[f"Beneficiary Location:{i}:Name"] = place.get("name")
            row[f"Beneficiary Location:{i}:Country Code"] = place.get("countryCode")
            row[f"Beneficiary Location:{i}:Geographic Code"] = place.get("geoCode")
        for i, funder in enumerate(g["fundingOrganization"]):
            row[f"Funding Org:{i}:Identifier"] = funder["id"]
            row[f"Funding Org:{i}:Name"] = funder["name"]
        for c in g.get("classifications", ())[:1]:
            row["Classifications:0:Vocabulary"] = c["vocabulary"]
            row["Classifications:0:Code"] = c["code"]
            row["Classifications:0:Title"] = c.get("title")
        writer.writerow([row.get(c) for c in columns])
        count += 1
    return count


# -- IATI 2.03 --------------------------------------------------------------------------------------


def _number(value: Decimal) -> str:
    return format(value, "f")


def _language(text: str) -> str | None:
    """"ar" for text written mostly in Arabic script (a name typed in Arabic), else None:
    the activity's default language applies."""
    arabic = len(_ARABIC.findall(text or ""))
    latin = sum(1 for c in text or "" if c.isalpha()) - arabic
    return "ar" if arabic > latin else None


def _narrative(parent, text: str, *, typed: bool = True):
    """A narrative; ``typed`` text (names and titles people entered) is marked Arabic when
    it is; the sentences written here are in the activity's default language."""
    node = ET.SubElement(parent, "narrative")
    node.text = text
    language = _language(text) if typed else None
    if language:
        node.set(XML_LANG, language)
    return node


def _multilingual(parent, tag: str, obj, field: str, activity_language: str):
    """A funder's text in every language it is written in (grants.multilingual): one
    narrative each, the programme's default first; a narrative in another language than
    the activity's says which."""
    from grants.multilingual import texts

    node = ET.SubElement(parent, tag)
    for code, text in (texts(obj, field) or {activity_language: getattr(obj, field, "") or ""}).items():
        narrative = ET.SubElement(node, "narrative")
        narrative.text = text
        if code != activity_language:
            narrative.set(XML_LANG, code.replace("_", "-"))
    return node


def _texts(parent, tag: str, text: str, *, typed: bool = True, **attrs):
    node = ET.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items()})
    _narrative(node, text, typed=typed)
    return node


def _reporting_org(registry, rnd) -> OrgRef:
    settings = getattr(registry, "settings", None) or {}
    if settings.get("grants.iati.reporting_org_ref"):
        return OrgRef(settings["grants.iati.reporting_org_ref"],
                      settings.get("grants.iati.reporting_org_name") or settings["grants.iati.reporting_org_ref"],
                      True, settings.get("grants.iati.reporting_org_type", "90"))
    from grants.programmes.models import LEAD

    hidden = withheld_funder_ids(rnd)
    for c in rnd.programme.contributions:
        if c.role == LEAD and c.funder.identifier and c.funder_id not in hidden:
            return OrgRef(c.funder.identifier, c.funder.name, True, c.funder.kind)
    return OrgRef(rnd.programme.grant_id_prefix, rnd.programme.title, False, "other")


def _org_type(kind: str) -> str:
    """An IATI OrganisationType code for a funder kind (or a code given as it is)."""
    return IATI_ORG_TYPES.get(kind) or (kind if kind.isdigit() else "90")


def _result_type(level: str) -> str:
    if level in IATI_RESULT_TYPES:
        return IATI_RESULT_TYPES[level]
    if "outcome" in level:
        return "2"
    if "output" in level:
        return "1"
    if "impact" in level:
        return "3"
    return "9"


def _level_title(level: str) -> str:
    return level.replace("_", " ").capitalize()


def _budgets(activity, award, tranches):
    """One budget per award year: the tranches due in it when there is a schedule, the
    whole award otherwise (a grant of a year or less)."""
    from grants.mel.services import add_months

    value_date = award.awarded_at.astimezone(dt.timezone.utc).date().isoformat()
    periods = []
    start = award.starts_on
    while start <= award.ends_on:
        end = min(add_months(start, 12) - dt.timedelta(days=1), award.ends_on)
        periods.append((start, end))
        start = end + dt.timedelta(days=1)
    dated = [t for t in tranches if t.due_on is not None]
    if len(periods) > 1 and tranches and len(dated) == len(tranches):
        amounts = [Money.zero(award.currency) for _ in periods]
        for t in dated:  # a tranche due before the start or after the end counts in the first or last year
            index = next((i for i, (_s, end) in enumerate(periods) if t.due_on <= end), len(periods) - 1)
            amounts[index] = amounts[index] + t.amount
    else:
        periods = [(award.starts_on, award.ends_on)]
        amounts = [award.amount]
    for (start, end), amount in zip(periods, amounts):
        budget = ET.SubElement(activity, "budget", {"type": "1", "status": "2"})
        ET.SubElement(budget, "period-start", {"iso-date": start.isoformat()})
        ET.SubElement(budget, "period-end", {"iso-date": end.isoformat()})
        value = ET.SubElement(budget, "value", {"currency": award.currency, "value-date": value_date})
        value.text = _number(amount.amount)


def _results(dbsession: Session, activity, award):
    from grants.mel.models import DEFAULT_LEVELS, MEASURES, Indicator, IndicatorTarget, IndicatorValue, Report, TocElement

    indicators = list(dbsession.scalars(select(Indicator).where(Indicator.award_id == award.id)
                                        .order_by(Indicator.code)))
    if not indicators:
        return
    reports = list(dbsession.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))
    targets = {(t.indicator_id, t.report_id): t.value for t in dbsession.scalars(
        select(IndicatorTarget).where(IndicatorTarget.indicator_id.in_([i.id for i in indicators])))}
    accepted = {r.id for r in reports if means(r, "accepted")}
    actuals: dict[tuple[int, int], list] = {}
    if accepted:
        for v in dbsession.scalars(select(IndicatorValue).where(IndicatorValue.report_id.in_(accepted),
                                                                IndicatorValue.value.is_not(None))
                                   .order_by(IndicatorValue.cell, IndicatorValue.id)):
            actuals.setdefault((v.indicator_id, v.report_id), []).append(v)
    elements = {e.id: e for e in dbsession.scalars(select(TocElement).where(TocElement.award_id == award.id))}
    groups: dict[tuple, list] = {}
    for indicator in indicators:
        key = (indicator.toc_element_id if indicator.toc_element_id in elements else None, indicator.level)
        groups.setdefault(key, []).append(indicator)
    levels = list(award.round.programme.results_levels or DEFAULT_LEVELS)

    def level_order(key):
        element_id, level = key
        position = elements[element_id].position if element_id else 0
        return (levels.index(level) if level in levels else len(levels), element_id is None, position)

    for (element_id, level) in sorted(groups, key=level_order):
        members = groups[(element_id, level)]
        result = ET.SubElement(activity, "result", {"type": _result_type(level)})
        if element_id:
            _texts(result, "title", elements[element_id].text)
        else:
            _texts(result, "title", _level_title(level), typed=False)
        for indicator in members:
            node = ET.SubElement(result, "indicator", {"measure": MEASURES.get(indicator.measure, "1"),
                                                       "ascending": "1" if indicator.ascending else "0"})
            _multilingual(node, "title", indicator, "title", activity.get(XML_LANG))
            if indicator.baseline_value is None and indicator.baseline_missing_reason:
                _texts(node, "description", f"No baseline: {indicator.baseline_missing_reason}")
            if indicator.library_code:
                ET.SubElement(node, "reference", {"vocabulary": "99", "code": indicator.library_code})
            if indicator.baseline_value is not None:
                when = indicator.baseline_date or award.starts_on
                attrs = {"year": str(when.year)}
                if indicator.baseline_date is not None:
                    attrs["iso-date"] = indicator.baseline_date.isoformat()
                if indicator.measure != "qualitative":
                    attrs["value"] = _number(indicator.baseline_value)
                ET.SubElement(node, "baseline", attrs)
            for report in reports:
                target = targets.get((indicator.id, report.id))
                values = [] if indicator.measure == "qualitative" else actuals.get((indicator.id, report.id), [])
                if target is None and not values:
                    continue
                period = ET.SubElement(node, "period")
                ET.SubElement(period, "period-start", {"iso-date": report.period_start.isoformat()})
                ET.SubElement(period, "period-end", {"iso-date": report.period_end.isoformat()})
                if target is not None:
                    ET.SubElement(period, "target", {"value": _number(target)})
                for v in sorted(values, key=lambda v: (bool(v.dimensions), v.cell)):
                    actual = ET.SubElement(period, "actual", {"value": _number(v.value)})
                    for name, value in sorted((v.dimensions or {}).items()):
                        ET.SubElement(actual, "dimension", {"name": name, "value": str(value)})


def iati_activity(dbsession: Session, registry, award, disbursements, *, now: dt.datetime) -> ET.Element:
    rnd = award.round
    prefix = rnd.programme.grant_id_prefix
    reporter = _reporting_org(registry, rnd)
    settings = getattr(registry, "settings", None) or {}
    activity = ET.Element("iati-activity", {
        "last-updated-datetime": _last_modified(dbsession, award, disbursements).isoformat(),
        XML_LANG: settings.get("grants.iati.default_language", "en"),
        "default-currency": award.currency,
    })
    ET.SubElement(activity, "iati-identifier").text = f"{reporter.id}-{award.reference}"
    reporting = ET.SubElement(activity, "reporting-org", {"ref": reporter.id, "type": _org_type(reporter.kind)})
    _narrative(reporting, reporter.name)
    _texts(activity, "title", award.title)
    _texts(activity, "description", _description(award), typed=False, type="1")
    for funder in round_funders(rnd):
        attrs = {"role": "1"}
        if funder.is_org_id:
            attrs = {"ref": funder.id, "role": "1"}
            if funder.kind in IATI_ORG_TYPES:
                attrs["type"] = IATI_ORG_TYPES[funder.kind]
        _narrative(ET.SubElement(activity, "participating-org", attrs), funder.name)
    grantee = organisation_identifier(award.organisation, prefix)
    attrs = {"ref": grantee.id, "role": "4"} if grantee.is_org_id else {"role": "4"}
    _narrative(ET.SubElement(activity, "participating-org", attrs), grantee.name)
    ET.SubElement(activity, "activity-status", {"code": IATI_STATUS.get(award.state, "2")})
    ET.SubElement(activity, "activity-date", {"iso-date": award.starts_on.isoformat(), "type": "1"})
    if award.starts_on <= now.date():
        ET.SubElement(activity, "activity-date", {"iso-date": award.starts_on.isoformat(), "type": "2"})
    ET.SubElement(activity, "activity-date", {"iso-date": award.ends_on.isoformat(), "type": "3"})
    actual_end = award.ended_on or (award.ends_on if means(award, "closed") else None)
    if actual_end is not None:
        ET.SubElement(activity, "activity-date", {"iso-date": actual_end.isoformat(), "type": "4"})
    if award.organisation.country:
        ET.SubElement(activity, "recipient-country", {"code": award.organisation.country})
    _budgets(activity, award, award.tranches)
    awarded_on = award.awarded_at.astimezone(dt.timezone.utc).date().isoformat()
    commitment = ET.SubElement(activity, "transaction")
    ET.SubElement(commitment, "transaction-type", {"code": "2"})
    ET.SubElement(commitment, "transaction-date", {"iso-date": awarded_on})
    ET.SubElement(commitment, "value", {"value-date": awarded_on}).text = _number(award.amount.amount)
    receiver = ET.SubElement(commitment, "receiver-org", {"ref": grantee.id} if grantee.is_org_id else {})
    _narrative(receiver, grantee.name)
    for d in disbursements:
        paid = ET.SubElement(activity, "transaction")
        ET.SubElement(paid, "transaction-type", {"code": "3"})
        ET.SubElement(paid, "transaction-date", {"iso-date": d.paid_on.isoformat()})
        ET.SubElement(paid, "value", {"value-date": d.paid_on.isoformat()}).text = _number(d.amount.amount)
        receiver = ET.SubElement(paid, "receiver-org", {"ref": grantee.id} if grantee.is_org_id else {})
        _narrative(receiver, grantee.name)
    _results(dbsession, activity, award)
    return activity


def write_iati_activities(dbsession: Session, registry, out, *, now: dt.datetime | None = None,
                          release: bool = False) -> int:
    """Write every award as an IATI 2.03 activity to the binary file ``out``, one activity
    at a time (each built, written and dropped); returns how many.  The bytes are those
    of indenting and writing the whole ``iati-activities`` tree at once.  ``release``:
    see :func:`_award_batches`."""
    from xml.sax.saxutils import quoteattr

    moment = _today(now)
    out.write(b"<?xml version='1.0' encoding='utf-8'?>\n")
    out.write(f'<iati-activities version="2.03" generated-datetime={quoteattr(moment.isoformat())}'.encode("utf-8"))
    count = 0
    for awards, paid in _award_batches(dbsession, release=release):
        for award in awards:
            activity = iati_activity(dbsession, registry, award, paid.get(award.id, []), now=moment)
            ET.indent(activity, level=1)
            out.write(b">\n  " if not count else b"\n  ")
            out.write(ET.tostring(activity, encoding="utf-8", xml_declaration=False))
            count += 1
    out.write(b"\n</iati-activities>\n" if count else b" />\n")
    return count


def iati_activities(dbsession: Session, registry, *, now: dt.datetime | None = None) -> bytes:
    """Every award as an IATI 2.03 activity, in one ``iati-activities`` document."""
    out = io.BytesIO()
    write_iati_activities(dbsession, registry, out, now=now)
    return out.getvalue()
