"""Organisation services: register an organisation, edit it, manage its members, and
hand its details to anything that would otherwise ask for them again.

Plain functions over a SQLAlchemy session, shared by the web views, the CLI and tests;
they never commit.  Whoever registers an organisation becomes its first owner.  Owners
edit it and manage members; every member applies on its behalf.  An organisation always
keeps at least one owner.

Nobody is made a member without saying yes.  Owners invite an address
(``invite_member``); the person at that address accepts or declines through the mailed
link (``accept_invitation``, ``decline_invitation``), registering first if they have no
account.  Until they accept they are not a member and nothing about their roles changes
— so an applicant cannot, say, add a reviewer to their organisation to keep that reviewer
off their application.  What the owner is told is the same whether or not the address has
an account.  ``add_member_without_invitation`` skips the question, for the demo, the
command line and tests only.

    org = register_organisation(dbsession, user, {
        "legal_name": "جمعية أفق — AFEK", "registration_number": "2011-0457",
        "legal_form": "association", "country": "TN", "regions": ["TN-73", "TN-81"]})
    organisation_summary(org, "fr")   # the details an application form reuses (ask once)

Every rule is checked here, not only on the form: ``check_organisation(data)`` gives
the same messages the form shows, keyed by field.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Iterable, Mapping

from sqlalchemy import func, select, update

from grants import regions as catalogue
from grants.i18n import _, ngettext

from . import invitations
from .invitations import INVITATION_LIFETIME, InvalidInvitation  # noqa: F401 - part of this module's API
from .models import Membership, Organisation, OrganisationInvitation, User
from .services import normalise_email

OWNER = "owner"
MEMBER = "member"
MEMBERSHIP_KINDS = (OWNER, MEMBER)

# Legal forms, in the order offered.  Keys are stored; labels are shown.
LEGAL_FORMS = {
    "association": _("Association"),
    "foundation": _("Foundation"),
    "cooperative": _("Cooperative"),
    "registered_charity": _("Registered charity"),
    "cio": _("Charitable incorporated organisation (CIO)"),
    "company_limited_by_guarantee": _("Company limited by guarantee"),
    "community_interest_company": _("Community interest company (CIC)"),
    "constituted_group": _("Community group with a written constitution"),
    "other": _("Other"),
}

MAX_NAME_LENGTH = 300
MAX_REGISTRATION_NUMBER_LENGTH = 100
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 40

FIELDS = ("legal_name", "alternative_name", "registration_number", "legal_form", "country", "regions",
          "contact_email", "contact_phone")


# --- errors ---------------------------------------------------------------------------


class OrganisationError(Exception):
    """Something a person asked for that cannot be done; ``message`` says why, in words
    they can act on (a translation string)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(OrganisationError):
    """The user may not do this to this organisation (not an owner, not a member)."""


class InvalidOrganisation(OrganisationError):
    """The details break a rule.  ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(next(iter(errors.values())), next(iter(errors)))
        self.errors = errors


class AlreadyMember(OrganisationError):
    pass


class InvitationForSomeoneElse(OrganisationError):
    """The signed-in account's address is not the one invited."""


class LastOwner(OrganisationError):
    """The change would leave the organisation without an owner."""


# --- normalising what people type -----------------------------------------------------

# Embeddings, overrides and isolates: invisible, and able to make a name display as
# something else.  Removed everywhere; the page isolates names itself with <bdi>.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# Direction marks, kept inside a name but not at its ends (a common leftover of pasting).
_EDGE_MARKS = "\u200e\u200f\u061c"
# Arabic-Indic and Eastern Arabic-Indic digits, read as the Western digits they are.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SPACES = re.compile(r"\s+")


def normalise_text(value: str | None) -> str:
    """Unicode NFC, no bidi controls, single spaces, nothing at either end."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).translate(_BIDI_CONTROLS)
    text = _SPACES.sub(" ", text)
    return text.strip().strip(_EDGE_MARKS).strip()


def normalise_name(value: str | None) -> str:
    """A legal name as typed, tidied: "  جمعية   أفق " → "جمعية أفق"."""
    return normalise_text(value)


def normalise_registration_number(value: str | None) -> str:
    """Western digits for every digit family (٢٠١١ → 2011), single spaces."""
    return normalise_text(value).translate(_DIGITS)


def normalise_phone(value: str | None) -> str:
    return normalise_text(value).translate(_DIGITS)


_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-/]*$")


# --- the rules --------------------------------------------------------------------------


def legal_form_label(key: str | None):
    return LEGAL_FORMS.get(key or "", key or "")


def region_noun(country: str, plural: bool = False):
    """What a region is called in ``country``, for messages."""
    if country in ("TN", "JO", "LB"):
        return _("governorates") if plural else _("governorate")
    if country == "KE":
        return _("counties") if plural else _("county")
    # The United Kingdom's list mixes nations, regions of England and London boroughs: "regions" covers them.
    return _("regions") if plural else _("region")


def region_problem(country: str | None, codes: Iterable[str], locale: str | None = "en"):
    """Why these regions do not fit an organisation registered in ``country`` (a message
    naming regions in ``locale``), or None.  Where the catalogue has regions for the country, at least one of them is
    needed; regions of another country never fit."""
    codes = list(dict.fromkeys(codes or ()))
    unknown = [code for code in codes if not catalogue.is_region(code)]
    if unknown:
        return _("Choose regions from the lists offered: ${codes} is not one of them",
                 mapping={"codes": ", ".join(unknown)})
    if not country or not catalogue.is_country(country):
        return None  # the country's own message says what to do
    foreign = [code for code in codes if catalogue.region(code).country != country]
    if foreign:
        return _("Choose only ${noun} in the country your organisation is registered in; untick ${names}",
                 mapping={"noun": region_noun(country, plural=True),
                          "names": "، ".join(catalogue.label(code, locale) for code in foreign)
                          if _is_arabic(locale) else ", ".join(catalogue.label(code, locale) for code in foreign)})
    if not codes and catalogue.has_regions(country):
        if country in ("TN", "JO", "LB"):
            return _("Choose at least one governorate where your organisation works")
        if country == "KE":
            return _("Choose at least one county where your organisation works")
        if country == "GB":
            return _("Choose where your organisation works: its nation, its region of England or, in London, "
                     "its boroughs")
        return _("Choose at least one region where your organisation works")
    return None


def _is_arabic(locale: str | None) -> bool:
    return (locale or "").split("_")[0].split("-")[0] == "ar"


def check_organisation(data: Mapping[str, Any], locale: str | None = "en") -> tuple[dict[str, Any], dict[str, Any]]:
    """(clean data, errors by field).  The clean data is normalised; ``errors`` is empty
    when every rule holds.  Messages that name regions name them in ``locale``."""
    clean = {
        "legal_name": normalise_name(data.get("legal_name")),
        "alternative_name": normalise_name(data.get("alternative_name")) or None,
        "registration_number": normalise_registration_number(data.get("registration_number")),
        "legal_form": normalise_text(data.get("legal_form")),
        "country": normalise_text(data.get("country")).upper(),
        "regions": sorted(dict.fromkeys(normalise_text(code).upper() for code in (data.get("regions") or ()))),
        "contact_email": normalise_email(data.get("contact_email") or "") or None,
        "contact_phone": normalise_phone(data.get("contact_phone")) or None,
    }
    errors: dict[str, Any] = {}
    if not clean["legal_name"]:
        errors["legal_name"] = _("Enter your organisation's legal name, as on its registration")
    elif len(clean["legal_name"]) > MAX_NAME_LENGTH:
        errors["legal_name"] = ngettext("Enter a legal name of ${count} character or fewer",
                                          "Enter a legal name of ${count} characters or fewer", MAX_NAME_LENGTH)
    if clean["alternative_name"] and len(clean["alternative_name"]) > MAX_NAME_LENGTH:
        errors["alternative_name"] = ngettext("Enter a name of ${count} character or fewer",
                                                "Enter a name of ${count} characters or fewer", MAX_NAME_LENGTH)
    if not clean["registration_number"]:
        errors["registration_number"] = _("Enter your organisation's registration number, as on its registration "
                                          "certificate")
    elif len(clean["registration_number"]) > MAX_REGISTRATION_NUMBER_LENGTH:
        errors["registration_number"] = ngettext(
            "Enter a registration number of ${count} character or fewer",
            "Enter a registration number of ${count} characters or fewer", MAX_REGISTRATION_NUMBER_LENGTH)
    if clean["legal_form"] not in LEGAL_FORMS:
        errors["legal_form"] = _("Choose your organisation's legal form; if none fits, choose “Other”")
    if not catalogue.is_country(clean["country"]):
        errors["country"] = _("Choose the country where your organisation is registered")
    problem = region_problem(clean["country"], clean["regions"], locale)
    if problem is not None:
        errors["regions"] = problem
    email = clean["contact_email"]
    if email and (len(email) > MAX_EMAIL_LENGTH or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        errors["contact_email"] = _("Enter an e-mail address in the right format, like name@example.org")
    phone = clean["contact_phone"]
    if phone and (len(phone) > MAX_PHONE_LENGTH or not _PHONE.match(phone)
                  or sum(c.isdigit() for c in phone) < 6):
        errors["contact_phone"] = _("Enter a phone number with its country code, like +216 71 123 456")
    return clean, errors


def _checked(data: Mapping[str, Any]) -> dict[str, Any]:
    clean, errors = check_organisation(data)
    if errors:
        raise InvalidOrganisation(errors)
    return clean


def _apply(org: Organisation, clean: dict[str, Any]) -> None:
    for name in FIELDS:
        if name != "regions":
            setattr(org, name, clean[name])
    wanted = set(clean["regions"])
    org.region_links = [link for link in org.region_links if link.region_code in wanted]
    for code in sorted(wanted - {link.region_code for link in org.region_links}):
        org.regions.append(code)


# --- who may do what ------------------------------------------------------------------


def membership_of(dbsession, user: User | None, org: Organisation) -> Membership | None:
    if user is None or org.id is None:
        return None
    return dbsession.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == org.id)
    ).one_or_none()


def is_owner(dbsession, user: User | None, org: Organisation) -> bool:
    membership = membership_of(dbsession, user, org)
    return membership is not None and membership.kind == OWNER


def can_view(dbsession, user: User | None, org: Organisation) -> bool:
    return user is not None and (user.is_admin or membership_of(dbsession, user, org) is not None)


def can_manage(dbsession, user: User | None, org: Organisation) -> bool:
    """Edit the details and manage members: owners, and site admins."""
    return user is not None and (user.is_admin or is_owner(dbsession, user, org))


def _require_manager(dbsession, user: User, org: Organisation) -> None:
    if not can_manage(dbsession, user, org):
        raise NotAllowed(_("Only the organisation's owners can do this"))


# --- services -------------------------------------------------------------------------


def register_organisation(dbsession, user: User, data: Mapping[str, Any], *,
                          now: dt.datetime | None = None) -> Organisation:
    """A new organisation with ``user`` as its owner; ``InvalidOrganisation`` if the
    details break a rule."""
    clean = _checked(data)
    org = Organisation(created_by=user, created_at=now or dt.datetime.now(dt.timezone.utc))
    _apply(org, clean)
    dbsession.add(org)
    dbsession.flush()
    dbsession.add(Membership(user_id=user.id, organisation_id=org.id, kind=OWNER))
    dbsession.flush()
    dbsession.expire(org, ["memberships"])
    return org


def update_organisation(dbsession, user: User, org: Organisation, data: Mapping[str, Any]) -> Organisation:
    """Change the details (owners only: ``NotAllowed``).  ``data`` holds every field, as
    the form sends them."""
    _require_manager(dbsession, user, org)
    _apply(org, _checked(data))
    dbsession.flush()
    return org


def organisations_of(dbsession, user: User) -> list[Organisation]:
    """The organisations ``user`` is a member of, by name."""
    rows = dbsession.scalars(
        select(Organisation).join(Membership).where(Membership.user_id == user.id)
    ).all()
    return sorted(rows, key=lambda org: (catalogue.sort_key(org.legal_name), org.id))


def members_of(dbsession, org: Organisation) -> list[Membership]:
    """Owners first, then by name."""
    rows = dbsession.scalars(select(Membership).where(Membership.organisation_id == org.id)).all()
    return sorted(rows, key=lambda m: (m.kind != OWNER, catalogue.sort_key(m.user.name), m.user_id))


def _owner_count(dbsession, org: Organisation) -> int:
    return dbsession.scalar(
        select(func.count()).select_from(Membership)
        .where(Membership.organisation_id == org.id, Membership.kind == OWNER)
    )


def add_member_without_invitation(dbsession, org: Organisation, person: User, kind: str = MEMBER) -> Membership:
    """Make ``person`` a member at once, without asking them.  For the demo, the command
    line and tests; people use invitations (``invite_member``)."""
    if kind not in MEMBERSHIP_KINDS:
        raise OrganisationError(_("Choose whether they will be an owner or a member"), "kind")
    membership = Membership(user_id=person.id, organisation_id=org.id, kind=kind)
    dbsession.add(membership)
    dbsession.flush()
    dbsession.expire(org, ["memberships"])
    return membership


# --- invitations ------------------------------------------------------------------------

def invite_member(dbsession, user: User, org: Organisation, email: str, kind: str = MEMBER, *,
                  locale: str = "en", now: dt.datetime | None = None) -> tuple[OrganisationInvitation, str]:
    """Invite the person at ``email`` (owners only).  Returns the invitation and the raw
    token to mail (only its hash is stored).  An earlier invitation of the same address
    still waiting is withdrawn, so only the newest link works.  ``locale`` is the mail's
    language if the address has no account; an account's own language wins."""
    _require_manager(dbsession, user, org)
    if kind not in MEMBERSHIP_KINDS:
        raise OrganisationError(_("Choose whether they will be an owner or a member"), "kind")
    now = now or dt.datetime.now(dt.timezone.utc)
    email = normalise_email(email)
    # The owner sees every member's address on the organisation's page: saying so here
    # tells them nothing new.
    already = dbsession.scalar(
        select(func.count()).select_from(Membership).join(Membership.user)
        .where(Membership.organisation_id == org.id, User.email == email))
    if already:
        raise AlreadyMember(_("${email} is already a member of this organisation", mapping={"email": email}),
                            "email")
    dbsession.execute(
        update(OrganisationInvitation)
        .where(OrganisationInvitation.organisation_id == org.id, OrganisationInvitation.email == email,
               *invitations.waiting(OrganisationInvitation))
        .values(cancelled_at=now)
        .execution_options(synchronize_session="fetch"))
    token, token_hash = invitations.new_token()
    invitation = OrganisationInvitation(
        organisation=org, email=email, kind=kind, locale=locale, token_hash=token_hash, invited_by=user,
        created_at=now, expires_at=now + INVITATION_LIFETIME)
    dbsession.add(invitation)
    dbsession.flush()
    return invitation, token


def invitation_for(dbsession, token: str, *, now: dt.datetime | None = None) -> OrganisationInvitation:
    """The invitation behind a mailed link, if it can still be answered; raises
    ``InvalidInvitation`` otherwise."""
    return invitations.find(dbsession, OrganisationInvitation, token, now=now)


def accept_invitation(dbsession, token: str, user: User, *, now: dt.datetime | None = None) -> Membership:
    """``user`` accepts: they become a member (or owner, as invited).  Only the account
    with the invited address may accept (``InvitationForSomeoneElse``)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    invitation = invitation_for(dbsession, token, now=now)
    if normalise_email(user.email) != invitation.email:
        raise InvitationForSomeoneElse(_("This invitation was sent to ${email}. Sign in with that address to "
                                         "accept it.", mapping={"email": invitation.email}))
    invitations.close(dbsession, invitation, "accepted_at", now)
    org = invitation.organisation
    membership = membership_of(dbsession, user, org)
    if membership is None:
        membership = add_member_without_invitation(dbsession, org, user, invitation.kind)
    elif invitation.kind == OWNER and membership.kind != OWNER:
        membership.kind = OWNER
        dbsession.flush()
    return membership


def decline_invitation(dbsession, token: str, *, now: dt.datetime | None = None) -> OrganisationInvitation:
    """The person at the address says no; the mailed link is proof enough, so no account
    is needed to decline."""
    now = now or dt.datetime.now(dt.timezone.utc)
    invitation = invitation_for(dbsession, token, now=now)
    invitations.close(dbsession, invitation, "declined_at", now)
    return invitation


def cancel_invitation(dbsession, user: User, org: Organisation, invitation_id: int, *,
                      now: dt.datetime | None = None) -> OrganisationInvitation:
    """An owner withdraws an invitation still waiting for an answer."""
    _require_manager(dbsession, user, org)
    now = now or dt.datetime.now(dt.timezone.utc)
    invitation = dbsession.get(OrganisationInvitation, invitation_id)
    if invitation is None or invitation.organisation_id != org.id:
        raise InvalidInvitation("unknown")
    invitations.close(dbsession, invitation, "cancelled_at", now)
    return invitation


def waiting_invitations(dbsession, org: Organisation, *, now: dt.datetime | None = None
                        ) -> list[OrganisationInvitation]:
    """Invitations of ``org`` nobody has answered yet and that still work, oldest first."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return list(dbsession.scalars(
        select(OrganisationInvitation)
        .where(OrganisationInvitation.organisation_id == org.id, OrganisationInvitation.expires_at > now,
               *invitations.waiting(OrganisationInvitation))
        .order_by(OrganisationInvitation.created_at, OrganisationInvitation.id)))


def remove_member(dbsession, user: User, org: Organisation, member: User) -> None:
    """Owners remove anyone; members may leave.  The last owner stays (``LastOwner``)."""
    if member.id != user.id:
        _require_manager(dbsession, user, org)
    membership = membership_of(dbsession, member, org)
    if membership is None:
        raise OrganisationError(_("${name} is not a member of this organisation", mapping={"name": member.name}))
    if membership.kind == OWNER and _owner_count(dbsession, org) <= 1:
        raise LastOwner(_("${name} is the organisation's only owner. Make someone else an owner first.",
                          mapping={"name": member.name}))
    dbsession.delete(membership)
    dbsession.flush()
    dbsession.expire(org, ["memberships"])


def set_member_kind(dbsession, user: User, org: Organisation, member: User, kind: str) -> Membership:
    """Make a member an owner, or an owner a member (never the last owner).  Owners only."""
    _require_manager(dbsession, user, org)
    if kind not in MEMBERSHIP_KINDS:
        raise OrganisationError(_("Choose whether they will be an owner or a member"), "kind")
    membership = membership_of(dbsession, member, org)
    if membership is None:
        raise OrganisationError(_("${name} is not a member of this organisation", mapping={"name": member.name}))
    if membership.kind == OWNER and kind != OWNER and _owner_count(dbsession, org) <= 1:
        raise LastOwner(_("${name} is the organisation's only owner. Make someone else an owner first.",
                          mapping={"name": member.name}))
    membership.kind = kind
    dbsession.flush()
    return membership


def mail_invitation(registry, tm, dbsession, invitation: OrganisationInvitation, link: str) -> None:
    """Mail the invitation after ``tm`` commits, in the language of the account with that
    address if there is one, else in the language the owner chose for it."""
    from types import SimpleNamespace

    from grants.mail import notify

    person = dbsession.scalars(select(User).where(User.email == invitation.email)).one_or_none()
    recipient = SimpleNamespace(email=invitation.email,
                                locale=person.locale if person is not None else invitation.locale)
    mapping = {"inviter": invitation.invited_by.name if invitation.invited_by else "",
               "organisation": invitation.organisation.legal_name, "link": link,
               "lifetime": ngettext("${count} day", "${count} days", INVITATION_LIFETIME.days)}
    if invitation.kind == OWNER:
        body = _("Hello,\n\n"
                 "${inviter} invites you to become an owner of ${organisation} on grants. Owners apply for grants "
                 "and report on the organisation's behalf, change its details and manage its members.\n\n"
                 "To accept or decline, open this link:\n\n${link}\n\n"
                 "The link works for ${lifetime}. If you have no account yet, you can create one from that page.\n\n"
                 "If you do not know ${inviter} or this organisation, ignore this message: nothing will happen.",
                 mapping=mapping)
    else:
        body = _("Hello,\n\n"
                 "${inviter} invites you to become a member of ${organisation} on grants. Members apply for grants "
                 "and report on the organisation's behalf.\n\n"
                 "To accept or decline, open this link:\n\n${link}\n\n"
                 "The link works for ${lifetime}. If you have no account yet, you can create one from that page.\n\n"
                 "If you do not know ${inviter} or this organisation, ignore this message: nothing will happen.",
                 mapping=mapping)
    subject = _("Invitation to join ${organisation}", mapping={"organisation": invitation.organisation.legal_name})
    notify(registry, recipient, subject, body, transaction_manager=tm, dbsession=dbsession)


# --- ask once ---------------------------------------------------------------------------


def organisation_summary(org: Organisation, locale: str | None = "en") -> dict[str, Any]:
    """The organisation's details as plain data, for forms and pages that would otherwise
    ask for them again (an application's "about your organisation").  Names of the
    country, the regions and the legal form are in ``locale``; codes are kept beside them.
    ``legal_form_label`` is a translation string (``request.localizer.translate`` it)."""
    regions = catalogue_order(org.regions, locale)
    return {
        "id": org.id,
        "legal_name": org.legal_name,
        "alternative_name": org.alternative_name,
        "registration_number": org.registration_number,
        "legal_form": org.legal_form,
        "legal_form_label": legal_form_label(org.legal_form),  # a translation string
        "country": org.country,
        "country_name": catalogue.country_name(org.country, locale),
        "regions": regions,  # sorted by name in ``locale``
        "region_names": [catalogue.label(code, locale) for code in regions],
        "contact_email": org.contact_email,
        "contact_phone": org.contact_phone,
    }


def catalogue_order(codes: Iterable[str], locale: str | None = "en") -> list[str]:
    """Region codes sorted by their names in ``locale``."""
    return sorted(codes, key=lambda code: (catalogue.sort_key(catalogue.label(code, locale)), code))


def form_data(org: Organisation) -> dict[str, Any]:
    """The organisation as the edit form's initial values."""
    return {
        "legal_name": org.legal_name,
        "alternative_name": org.alternative_name or "",
        "registration_number": org.registration_number or "",
        "legal_form": org.legal_form or "",
        "country": org.country or "",
        "regions": set(org.regions),
        "contact_email": org.contact_email or "",
        "contact_phone": org.contact_phone or "",
    }
