"""Organisations: registering one (legal name in Arabic or Latin letters, registration
number, legal form, country, one or more regions), editing it, its members — through the
services and through the pages, against the real app and database."""
from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import func, select

import factories as f
from grants.accounts import organisations as orgs
from grants.accounts.models import Membership, Organisation, OrganisationRegion, User

AFEK = "جمعية أفق — AFEK"


def main_text(res) -> str:
    return " ".join(res.html.find("main").get_text().split())


def summary_links(res) -> dict[str, str]:
    summary = res.html.find(class_="error-summary")
    assert summary is not None, "no error summary"
    return {a["href"]: " ".join(a.get_text().split()) for a in summary.find_all("a")}


def tick(form, *codes: str) -> None:
    """Tick exactly these region checkboxes."""
    boxes = form.fields["checkbox"]
    for box in boxes:
        box.checked = box._value in codes
    assert {box._value for box in boxes if box.checked} == set(codes), codes


def fill(form, **values) -> None:
    data = f.organisation_data(**values)
    for name in ("legal_name", "alternative_name", "registration_number", "legal_form", "country",
                 "contact_email", "contact_phone"):
        form[name] = data[name]
    tick(form, *data["regions"])


def count_of_organisations(testapp) -> int:
    return count(testapp.app.registry.database, Organisation)


def count(database, model) -> int:
    with database.transaction() as (_tm, session):
        return session.scalar(select(func.count()).select_from(model))


# --- services -----------------------------------------------------------------------------


def test_registering_makes_the_user_its_owner(db):
    amel = f.user(db, name="Amel Ben Salah")
    org = orgs.register_organisation(db, amel, f.organisation_data(regions=["TN-81", "TN-73"]))
    assert org.id is not None and org.created_by is amel
    assert org.legal_name == AFEK
    assert sorted(org.regions) == ["TN-73", "TN-81"]
    membership = db.scalars(select(Membership).where(Membership.organisation_id == org.id)).one()
    assert (membership.user_id, membership.kind) == (amel.id, "owner")
    assert orgs.organisations_of(db, amel) == [org]
    assert orgs.is_owner(db, amel, org)


def test_what_people_type_is_tidied(db):
    amel = f.user(db)
    decomposed = unicodedata.normalize("NFD", "Association Éducation")  # E + combining acute
    org = orgs.register_organisation(db, amel, f.organisation_data(
        legal_name=f"  {decomposed}\u00a0  à   Kébili \u202e",
        registration_number=" ٢٠١١-٠٤٥٧ ", contact_phone="+216 ٧١ 123 456",
        contact_email=" Contact@AFEK.tn ", regions=["tn-73"]))
    assert org.legal_name == "Association Éducation à Kébili"
    assert org.legal_name == unicodedata.normalize("NFC", org.legal_name)
    assert org.registration_number == "2011-0457"
    assert org.contact_phone == "+216 71 123 456"
    assert org.contact_email == "contact@afek.tn"
    assert org.regions == ["TN-73"]


@pytest.mark.parametrize("changes, field, words", [
    ({"regions": []}, "regions", "Choose at least one governorate"),
    ({"regions": ["GB-CMD"]}, "regions", "Choose only governorates in the country your organisation is registered "
                                         "in; untick Camden"),
    ({"regions": ["TN-73", "MA-01"]}, "regions", "untick Tanger-Tetouan-Al Hoceima"),
    ({"regions": ["TN-99"]}, "regions", "TN-99 is not one of them"),
    ({"country": "GB", "regions": []}, "regions", "Choose where your organisation works: its nation, its region of "
                                                  "England or, in London, its boroughs"),
    ({"country": "KE", "regions": []}, "regions", "Choose at least one county where your organisation works"),
    ({"country": "XY"}, "country", "Choose the country where your organisation is registered"),
    ({"legal_name": "   "}, "legal_name", "Enter your organisation's legal name"),
    ({"legal_name": "x" * 301}, "legal_name", "300 characters or fewer"),
    ({"registration_number": ""}, "registration_number", "Enter your organisation's registration number"),
    ({"legal_form": "sect"}, "legal_form", "Choose your organisation's legal form"),
    ({"contact_email": "afek-at-example"}, "contact_email", "like name@example.org"),
    ({"contact_phone": "call me"}, "contact_phone", "like +216 71 123 456"),
])
def test_details_that_break_a_rule_are_refused_with_a_clear_message(db, changes, field, words):
    amel = f.user(db)
    with pytest.raises(orgs.InvalidOrganisation) as refused:
        orgs.register_organisation(db, amel, f.organisation_data(**changes))
    assert field in refused.value.errors
    assert words in refused.value.errors[field].interpolate()
    assert db.scalar(select(func.count()).select_from(Organisation)) == 0


def test_a_country_without_regions_in_the_catalogue_needs_none(db):
    amel = f.user(db)
    org = orgs.register_organisation(db, amel, f.organisation_data(country="FR", regions=[]))
    assert org.country == "FR" and org.regions == []


def test_an_organisation_may_work_in_several_regions_and_change_them(db):
    amel = f.user(db)
    org = f.registered_organisation(db, amel, regions=["TN-81", "TN-82"])  # Horizon d'Enfance, Gabès/Medenine
    orgs.update_organisation(db, amel, org, f.organisation_data(regions=["TN-82", "TN-83"]))
    db.flush()
    db.expire_all()
    assert sorted(org.regions) == ["TN-82", "TN-83"]
    rows = db.scalars(select(OrganisationRegion.region_code).where(OrganisationRegion.organisation_id == org.id))
    assert sorted(rows) == ["TN-82", "TN-83"]


def test_only_owners_change_the_details(db):
    amel, karim = f.user(db), f.user(db)
    org = f.registered_organisation(db, amel)
    orgs.add_member_without_invitation(db, org, karim)
    with pytest.raises(orgs.NotAllowed):
        orgs.update_organisation(db, karim, org, f.organisation_data(legal_name="Taken over"))
    assert org.legal_name == AFEK
    admin = f.user(db, admin=True)
    orgs.update_organisation(db, admin, org, f.organisation_data(legal_name="AFEK"))
    assert org.legal_name == "AFEK"


def test_members_join_by_accepting_an_invitation(db):
    amel, karim = f.user(db), f.user(db, email="karim@example.org", name="Karim")
    org = f.registered_organisation(db, amel)

    with pytest.raises(orgs.NotAllowed):
        orgs.invite_member(db, karim, org, karim.email)  # not a member yet, let alone an owner
    invitation, token = orgs.invite_member(db, amel, org, "  KARIM@example.org ")
    assert invitation.email == "karim@example.org" and token not in invitation.token_hash
    assert [m.user_id for m in orgs.members_of(db, org)] == [amel.id]  # not until he says yes
    assert orgs.organisations_of(db, karim) == []
    assert orgs.waiting_invitations(db, org) == [invitation]

    with pytest.raises(orgs.InvitationForSomeoneElse):
        orgs.accept_invitation(db, token, amel)  # only the account with the invited address
    membership = orgs.accept_invitation(db, token, karim)
    assert (membership.user_id, membership.kind) == (karim.id, "member")
    assert orgs.organisations_of(db, karim) == [org] and orgs.waiting_invitations(db, org) == []
    with pytest.raises(orgs.InvalidInvitation) as used:
        orgs.accept_invitation(db, token, karim)
    assert used.value.reason == "answered"
    with pytest.raises(orgs.AlreadyMember):
        orgs.invite_member(db, amel, org, karim.email)
    with pytest.raises(orgs.NotAllowed):  # members do not manage members
        orgs.invite_member(db, karim, org, "someone@example.org")


def test_an_invitation_can_be_declined_withdrawn_replaced_or_left_to_expire(db):
    amel = f.user(db)
    org = f.registered_organisation(db, amel)
    sami = f.user(db, email="sami@example.org")

    _invitation, declined = orgs.invite_member(db, amel, org, "sami@example.org")
    orgs.decline_invitation(db, declined)  # no account needed to say no
    with pytest.raises(orgs.InvalidInvitation):
        orgs.accept_invitation(db, declined, sami)

    first, first_token = orgs.invite_member(db, amel, org, "sami@example.org")
    _second, second_token = orgs.invite_member(db, amel, org, "sami@example.org")
    with pytest.raises(orgs.InvalidInvitation):  # only the newest link works
        orgs.accept_invitation(db, first_token, sami)

    withdrawn = orgs.waiting_invitations(db, org)[0]
    orgs.cancel_invitation(db, amel, org, withdrawn.id)
    with pytest.raises(orgs.InvalidInvitation):
        orgs.accept_invitation(db, second_token, sami)

    _late, late_token = orgs.invite_member(db, amel, org, "sami@example.org", now=f.now() - orgs.INVITATION_LIFETIME)
    with pytest.raises(orgs.InvalidInvitation) as expired:
        orgs.accept_invitation(db, late_token, sami)
    assert expired.value.reason == "expired"
    assert [m.user_id for m in orgs.members_of(db, org)] == [amel.id]


def test_two_answers_at_once_count_once(database):
    """A second tab that read the invitation before the first one answered it."""
    with database.transaction() as (_tm, db):
        amel, sami = f.user(db), f.user(db, email="sami@example.org")
        _invitation, token = orgs.invite_member(db, amel, f.registered_organisation(db, amel), "sami@example.org")
        sami_id = sami.id
    second_tab = database.transaction()
    _tm, slow = second_tab.__enter__()
    try:
        orgs.invitation_for(slow, token)
        with database.transaction() as (_tm, fast):
            orgs.accept_invitation(fast, token, fast.get(User, sami_id))
        with pytest.raises(orgs.InvalidInvitation) as late:
            orgs.decline_invitation(slow, token)
        assert late.value.reason == "answered"
    finally:
        second_tab.__exit__(None, None, None)
    with database.transaction() as (_tm, db):
        assert db.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == sami_id)) == 1


def test_an_invitation_changes_no_roles_until_it_is_accepted(db, registry):
    """An applicant invites a reviewer to keep them off the application (members of the
    organisation may not review it): nothing changes unless the reviewer joins."""
    from grants.review import services as review
    from grants.security import local_roles

    applicant, reviewer = f.user(db, email="amel@example.org"), f.user(db, email="sami@example.org")
    org = f.registered_organisation(db, applicant)
    rnd = f.round_(db, registry)
    application = f.application(db, registry, rnd, org, state="eligible")
    review.respond(db, review.invite_reviewer(db, registry, rnd, reviewer, None), reviewer, accept=True)

    orgs.invite_member(db, applicant, org, "sami@example.org")
    db.flush()
    assert reviewer.id not in review.unassignable_ids(db, application, "application")
    assert "applicant" not in local_roles(application, reviewer)
    assignment = review.assign(db, application, reviewer, None)  # still theirs to review
    review.declare(db, assignment, reviewer, conflict=False)
    assert "reviewer" in local_roles(application, reviewer)


def test_the_last_owner_cannot_be_removed(db):
    amel, karim, leila = f.user(db), f.user(db), f.user(db)
    org = f.registered_organisation(db, amel)
    orgs.add_member_without_invitation(db, org, karim)

    with pytest.raises(orgs.LastOwner):
        orgs.remove_member(db, amel, org, amel)  # nor leave
    with pytest.raises(orgs.NotAllowed):
        orgs.remove_member(db, karim, org, amel)
    with pytest.raises(orgs.LastOwner):
        orgs.set_member_kind(db, amel, org, amel, "member")

    orgs.add_member_without_invitation(db, org, leila, kind="owner")
    orgs.remove_member(db, leila, org, amel)  # two owners: one may remove the other
    assert not orgs.is_owner(db, amel, org)
    orgs.remove_member(db, karim, org, karim)  # a member may leave
    assert [(m.user_id, m.kind) for m in orgs.members_of(db, org)] == [(leila.id, "owner")]
    with pytest.raises(orgs.OrganisationError):
        orgs.remove_member(db, leila, org, karim)  # no longer a member


def test_summary_for_an_application_form_to_reuse(db):
    amel = f.user(db)
    org = f.registered_organisation(db, amel, regions=["TN-81", "TN-73"], contact_phone="+216 75 000 000")
    summary = orgs.organisation_summary(org, "ar")
    assert summary["legal_name"] == AFEK
    assert summary["registration_number"] == "2011-0457"
    assert summary["country"] == "TN" and summary["country_name"] == "تونس"
    assert summary["legal_form"] == "association" and summary["legal_form_label"] == "Association"
    assert summary["regions"] == ["TN-81", "TN-73"]  # قابس before قبلي
    assert summary["region_names"] == ["قابس", "قبلي"]
    assert orgs.organisation_summary(org, "en")["region_names"] == ["Gabès", "Kebili"]
    assert summary["contact_phone"] == "+216 75 000 000"


# --- pages --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(testapp):
    for path in ("/organisations", "/organisations/new"):
        res = testapp.get(path, status=302)
        assert "/login" in res.location
    testapp.post("/organisations/new", {"legal_name": "x"}, status=403)
    assert count_of_organisations(testapp) == 0


def test_registering_afek_in_kebili_and_gabes(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org", name="Amel Ben Salah")
    f.sign_in(testapp, "amel@example.org")

    listing = testapp.get("/organisations")
    assert "not a member of any organisation yet" in main_text(listing)
    page = listing.click(href="/organisations/new")
    form = page.forms["organisation"]
    legal_name = page.html.find("input", {"name": "legal_name"})
    assert legal_name["dir"] == "auto"
    registration = page.html.find("input", {"name": "registration_number"})
    assert registration["dir"] == "ltr" and "ltr-value" in registration["class"]
    assert page.html.find("input", {"name": "contact_phone"})["dir"] == "ltr"
    # every region of every country in the catalogue (grants/data/regions)
    assert len(form.fields["checkbox"]) == 24 + 12 + 12 + 9 + 8 + 47 + 44

    # A first try without a region: refused, and everything typed is still there.
    fill(form, regions=[], contact_email="contact@afek.tn")
    failed = form.submit("submit", status=400)
    assert failed.html.title.get_text().strip().startswith("Error:")
    links = summary_links(failed)
    assert links == {"#organisation-regions": "Choose at least one governorate where your organisation works"}
    assert failed.html.find(id="error-organisation-regions").get_text().strip() == links["#organisation-regions"]
    assert "error-organisation-regions" in failed.html.find(id="organisation-regions")["aria-describedby"]
    assert failed.html.find("input", {"name": "legal_name"})["value"] == AFEK
    assert failed.html.find("input", {"name": "registration_number"})["value"] == "2011-0457"
    assert failed.html.find("input", {"name": "contact_email"})["value"] == "contact@afek.tn"
    assert failed.html.find("select", {"name": "country"}).find("option", selected=True)["value"] == "TN"
    assert failed.html.find("select", {"name": "legal_form"}).find("option", selected=True)["value"] == "association"
    # Tunisia's list is open, since Tunisia is the country chosen
    assert failed.html.find(id="organisation-regions-group-TN").has_attr("open")
    assert not failed.html.find(id="organisation-regions-group-GB").has_attr("open")
    assert count(database, Organisation) == 0

    form = failed.forms["organisation"]
    tick(form, "TN-73", "TN-81")
    done = form.submit("submit", status=302).follow()
    assert "Your organisation is registered" in main_text(done)
    assert done.html.find("h1").find("bdi").get_text() == AFEK
    assert [li.get_text() for li in done.html.select("ul.regions li")] == ["Gabès", "Kebili"]
    number = done.html.find(string="2011-0457").parent
    assert number["dir"] == "ltr" and "ltr-value" in number["class"]
    assert "Amel Ben Salah" in done.html.find("table", class_="members").get_text()

    listing = testapp.get("/organisations")
    names = [bdi.get_text() for bdi in listing.html.select("ul.organisations a bdi")]
    assert names == [AFEK]
    assert "Kebili" in main_text(listing) and "Owner" in main_text(listing)

    with database.transaction() as (_tm, db):
        org = db.scalars(select(Organisation)).one()
        assert sorted(org.regions) == ["TN-73", "TN-81"]
        assert org.created_by.email == "amel@example.org"


def test_all_problems_are_reported_at_once(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org")
    f.sign_in(testapp, "amel@example.org")
    form = testapp.get("/organisations/new").forms["organisation"]
    form["legal_name"] = "  "
    form["contact_phone"] = "phone"
    res = form.submit("submit", status=400)
    assert list(summary_links(res)) == ["#organisation-legal_name", "#organisation-registration_number",
                                        "#organisation-legal_form", "#organisation-country",
                                        "#organisation-contact_phone"]


def test_a_region_from_another_country_is_refused(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org")
    f.sign_in(testapp, "amel@example.org")
    form = testapp.get("/organisations/new").forms["organisation"]
    fill(form, regions=["TN-73", "GB-CMD"])
    res = form.submit("submit", status=400)
    message = summary_links(res)["#organisation-regions"]
    assert "Choose only governorates in the country your organisation is registered in" in message
    assert "Camden" in message
    # both boxes stay ticked, and both lists stay open
    ticked = {box["value"] for box in res.html.select("#organisation-regions input[checked]")}
    assert ticked == {"TN-73", "GB-CMD"}
    assert res.html.find(id="organisation-regions-group-GB").has_attr("open")
    assert count(database, Organisation) == 0


def test_a_london_charity_picks_its_boroughs(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="sam@example.org")
    f.sign_in(testapp, "sam@example.org")
    form = testapp.get("/organisations/new").forms["organisation"]
    fill(form, legal_name="Tower Hamlets Youth Voice", alternative_name="", registration_number="1187654",
         legal_form="cio", country="GB", regions=["GB-TWH", "GB-HCK", "GB-LND"])
    page = form.submit("submit", status=302).follow()
    assert [li.get_text() for li in page.html.select("ul.regions li")] == ["City of London", "Hackney",
                                                                           "Tower Hamlets"]
    assert "Charitable incorporated organisation (CIO)" in main_text(page)


def test_pages_in_arabic_name_the_governorates_in_arabic(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", locale="ar")
        org = f.registered_organisation(db, amel, regions=["TN-73", "TN-81"])
        org_id = org.id
    f.sign_in(testapp, "amel@example.org")
    testapp.set_cookie("grants_lang", "ar")

    form_page = testapp.get("/organisations/new")
    assert form_page.html.find("html")["dir"] == "rtl"
    labels = {label["for"]: label.get_text().strip() for label in form_page.html.select("#organisation-regions label")}
    assert labels["organisation-regions-TN-73"] == "قبلي"
    assert labels["organisation-regions-TN-61"] == "صفاقس"
    tunisia = [label.get_text().strip()
               for label in form_page.html.select("#organisation-regions-group-TN label")]
    assert tunisia[0] == "أريانة" and len(tunisia) == 24  # sorted by the Arabic names
    country_options = {o["value"]: o.get_text() for o in form_page.html.select("select[name=country] option")}
    assert country_options["TN"] == "تونس"

    page = testapp.get(f"/organisations/{org_id}")
    assert [li.get_text() for li in page.html.select("ul.regions li")] == ["قابس", "قبلي"]
    assert "تونس" in main_text(page)
    listing = testapp.get("/organisations")
    assert "قابس، قبلي" in main_text(listing)


def mail_to(registry, address):
    return [m for m in registry.mailer.sent() if m["To"] == address][-1]


def invitation_path(message) -> str:
    return re.search(r"http://localhost(/invitations/\S+)", message.get_content()).group(1)


def answer_form(page, answer: str):
    """The invitation page's form whose button answers ``answer``, or None."""
    return next((fm for fm in page.forms.values()
                 if "answer" in fm.fields and fm.fields["answer"][0]._value == answer), None)


def invite(page, email, **fields):
    form = page.forms["add_member"]
    form["email"] = email
    for name, value in fields.items():
        form[name] = value
    return form.submit("submit")


def test_inviting_says_the_same_whether_or_not_the_address_has_an_account(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel Ben Salah")
        f.user(db, email="sami@example.org", name="Sami Trabelsi", locale="ar")  # a reviewer
        org_id = f.registered_organisation(db, amel).id
    f.sign_in(testapp, "amel@example.org")
    add_page = testapp.get(f"/organisations/{org_id}/members")

    replies = []
    for email in ("sami@example.org", "nobody@example.org"):
        res = invite(add_page, email, locale="fr", kind="member")
        assert res.status_int == 302
        reply = res.follow().html.select_one("main .alert-success")
        replies.append((res.location, " ".join(reply.get_text().split()).replace(email, "X")))
    assert replies[0] == replies[1]
    assert "We have sent an invitation to X" in replies[0][1]
    page = testapp.get(f"/organisations/{org_id}")
    assert "Sami" not in page.text and "Trabelsi" not in page.text
    invited = [" ".join(tr.find("td").get_text().split()) for tr in page.html.select("table.invitations tbody tr")]
    assert invited == ["sami@example.org", "nobody@example.org"]
    assert count(database, Membership) == 1  # neither is a member

    # each mail in the invitee's language: the account's own, else the one the owner chose
    assert mail_to(registry, "sami@example.org")["Subject"] == f"دعوة للانضمام إلى {AFEK}"
    assert mail_to(registry, "nobody@example.org")["Subject"] == f"Invitation à rejoindre {AFEK}"


def test_members_through_the_pages(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel Ben Salah")
        f.user(db, email="karim@example.org", name="كريم")
        org = f.registered_organisation(db, amel)
        org_id = org.id
    f.sign_in(testapp, "amel@example.org")

    page = testapp.get(f"/organisations/{org_id}")
    assert not page.html.select("table.members form")  # the only owner cannot be removed, nor leave
    add = page.click(href=f"/organisations/{org_id}/members")
    form = add.forms["add_member"]
    form["email"] = "karim-at-example"
    refused = form.submit("submit", status=400)
    assert "right format" in summary_links(refused)["#add_member-email"]
    assert refused.html.find("input", {"name": "email"})["value"] == "karim-at-example"
    page = invite(refused, "karim@example.org").follow()
    assert "We have sent an invitation to karim@example.org" in main_text(page)
    assert {" ".join(tr.find("td").get_text().split()) for tr in page.html.select("table.members tbody tr")} == {
        "Amel Ben Salah"}

    # karim accepts from the mail, signing in on the way
    other = type(testapp)(testapp.app, extra_environ={"HTTP_HOST": "localhost"})
    link = invitation_path(mail_to(registry, "karim@example.org"))
    invitation = other.get(link)
    assert invitation.headers["Referrer-Policy"] == "no-referrer"
    assert "Amel Ben Salah" in main_text(invitation) and "جمعية أفق" in main_text(invitation)
    to_login = invitation.click(description="Sign in to accept")
    form = to_login.forms["login"]
    form["email"], form["password"] = "karim@example.org", f.PASSWORD
    back = form.submit("submit", status=302).follow()
    page = answer_form(back, "accept").submit("answer", value="accept", status=302).follow()
    assert "You are now a member of" in main_text(page)
    other.get(link, status=400)  # used

    page = testapp.get(f"/organisations/{org_id}")
    rows = {" ".join(tr.find("td").get_text().split()): tr for tr in page.html.select("table.members tbody tr")}
    assert set(rows) == {"Amel Ben Salah", "كريم"}
    assert rows["كريم"].find("bdi") is not None
    assert not page.html.select("table.invitations")

    # the owner still cannot go: there is no button, and a forged request is refused with a reason
    csrf = page.html.find("input", {"name": "csrf_token"})["value"]
    with registry.database.transaction() as (_tm, db):
        karim_id = db.scalars(select(Membership.user_id).join(Membership.user)
                              .where(Membership.organisation_id == org_id, Membership.kind == "member")).one()
        amel_id = db.scalars(select(Membership.user_id).where(Membership.organisation_id == org_id,
                                                              Membership.kind == "owner")).one()
    res = testapp.post(f"/organisations/{org_id}/members/{amel_id}/remove", {"csrf_token": csrf}, status=302)
    assert "only owner" in main_text(res.follow())

    # karim, a member, sees the organisation but cannot change it or its members
    assert "جمعية أفق" in main_text(other.get(f"/organisations/{org_id}"))
    other.get(f"/organisations/{org_id}/edit", status=403)
    other.get(f"/organisations/{org_id}/members", status=403)
    other_csrf = other.get("/organisations").html.find("input", {"name": "csrf_token"})["value"]
    other.post(f"/organisations/{org_id}/members/{amel_id}/remove", {"csrf_token": other_csrf}, status=403)

    # the owner removes karim
    page = testapp.get(f"/organisations/{org_id}")
    remove = next(fm for fm in page.forms.values() if fm.action.endswith(f"/members/{karim_id}/remove"))
    page = remove.submit(status=302).follow()
    assert "is no longer a member" in main_text(page)
    other.get(f"/organisations/{org_id}", status=403)
    assert count(database, Membership) == 1


def test_someone_without_an_account_registers_from_the_invitation_and_lands_as_member(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel Ben Salah")
        org_id = f.registered_organisation(db, amel).id
    f.sign_in(testapp, "amel@example.org")
    invite(testapp.get(f"/organisations/{org_id}/members"), "leila@example.org", kind="owner", locale="ar")
    message = mail_to(registry, "leila@example.org")
    assert "مالك" in message.get_content() or "مالكة" in message.get_content()

    newcomer = type(testapp)(testapp.app, extra_environ={"HTTP_HOST": "localhost"})
    newcomer.set_cookie("grants_lang", "ar")
    page = newcomer.get(invitation_path(message))
    assert page.html.find("html")["dir"] == "rtl"
    form = page.click(href=r"/invitations/.*/register$").forms["register"]
    assert "email" not in form.fields  # the invited address, nobody else's
    form["name"] = "ليلى بن علي"
    form["password"] = "a long enough passphrase"
    landed = form.submit("submit", status=302).follow()
    assert landed.request.path == f"/organisations/{org_id}"
    assert "ليلى بن علي" in landed.html.find("header").get_text()  # signed in
    with registry.database.transaction() as (_tm, db):
        member = db.scalars(select(Membership).join(Membership.user).where(
            Membership.organisation_id == org_id, Membership.kind == "owner",
            Membership.user_id != amel.id)).one()
        assert (member.user.email, member.user.email_verified, member.user.locale) == (
            "leila@example.org", True, "ar")


def test_an_invitation_withdrawn_while_the_invitee_registers_keeps_no_account(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel Ben Salah")
        org_id = f.registered_organisation(db, amel).id
    f.sign_in(testapp, "amel@example.org")
    invite(testapp.get(f"/organisations/{org_id}/members"), "leila@example.org")
    newcomer = type(testapp)(testapp.app, extra_environ={"HTTP_HOST": "localhost"})
    page = newcomer.get(invitation_path(mail_to(registry, "leila@example.org")))
    form = page.click(href=r"/invitations/.*/register$").forms["register"]
    with registry.database.transaction() as (_tm, db):  # the owner takes it back meanwhile
        org = db.get(Organisation, org_id)
        (waiting,) = orgs.waiting_invitations(db, org)
        orgs.cancel_invitation(db, db.get(User, amel.id), org, waiting.id)
    form["name"] = "Leila Ben Ali"
    form["password"] = "a long enough passphrase"
    refused = form.submit("submit", status=400)
    assert "Leila Ben Ali" not in refused.html.find("header").get_text()  # not signed in
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count()).select_from(User).where(User.email == "leila@example.org")) == 0


def test_an_invitation_is_declined_without_an_account_and_not_accepted_by_someone_else(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel Ben Salah")
        f.user(db, email="stranger@example.org", name="Stranger")
        org_id = f.registered_organisation(db, amel).id
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(f"/organisations/{org_id}/members")
    invite(page, "karim@example.org")
    first = invitation_path(mail_to(registry, "karim@example.org"))

    stranger = type(testapp)(testapp.app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(stranger, "stranger@example.org")
    page = stranger.get(first)
    assert "but you are signed in as stranger@example.org" in main_text(page)
    assert answer_form(page, "accept") is None
    token = page.html.find("input", {"name": "csrf_token"})["value"]
    refused = stranger.post(first, {"csrf_token": token, "answer": "accept"}, status=403)
    assert "but you are signed in as" in main_text(refused)
    stranger.post(first, {"csrf_token": token, "answer": "maybe"}, status=400)

    anonymous = type(testapp)(testapp.app, extra_environ={"HTTP_HOST": "localhost"})
    page = anonymous.get(first)
    decline = answer_form(page, "decline")
    assert "You have declined" in main_text(decline.submit("answer", value="decline", status=302).follow())
    assert "This invitation cannot be used" in main_text(anonymous.get(first, status=400))
    assert count(database, Membership) == 1

    # withdrawn by the owner: the link stops working
    invite(testapp.get(f"/organisations/{org_id}/members"), "sami@example.org")
    link = invitation_path(mail_to(registry, "sami@example.org"))
    page = testapp.get(f"/organisations/{org_id}")
    withdraw = next(fm for fm in page.forms.values() if fm.action.endswith("/cancel"))
    assert "is withdrawn" in main_text(withdraw.submit(status=302).follow())
    anonymous.get(link, status=400)


def test_strangers_cannot_see_an_organisation(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db)
        f.user(db, email="stranger@example.org")
        org_id = f.registered_organisation(db, amel).id
    f.sign_in(testapp, "stranger@example.org")
    testapp.get(f"/organisations/{org_id}", status=403)
    testapp.get(f"/organisations/{org_id}/edit", status=403)
    testapp.get("/organisations/999999", status=404)
    assert "جمعية أفق" not in testapp.get("/organisations").text


def test_owners_edit_the_details(testapp, registry, database):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        org_id = f.registered_organisation(db, amel, regions=["TN-81"]).id
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(f"/organisations/{org_id}/edit")
    form = page.forms["organisation"]
    assert form["legal_name"].value == AFEK
    assert {box._value for box in form.fields["checkbox"] if box.checked} == {"TN-81"}
    form["legal_name"] = "AFEK — Association Afek"
    tick(form, "TN-81", "TN-82")
    page = form.submit("submit", status=302).follow()
    assert "Your changes are saved" in main_text(page)
    with database.transaction() as (_tm, db):
        org = db.get(Organisation, org_id)
        assert org.legal_name == "AFEK — Association Afek"
        assert sorted(org.regions) == ["TN-81", "TN-82"]

    form = testapp.get(f"/organisations/{org_id}/edit").forms["organisation"]
    form["country"] = "MA"  # the governorates no longer fit
    res = form.submit("submit", status=400)
    assert "untick" in summary_links(res)["#organisation-regions"]
    with database.transaction() as (_tm, db):
        assert db.get(Organisation, org_id).country == "TN"


@pytest.mark.browser
def test_registering_in_arabic_in_a_browser(live_server, page, registry):
    """The folded lists of regions open with a click, in a right-to-left page."""
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org", name="أمل بن صالح", locale="ar")
    page.goto(live_server + "/login")
    page.locator("#login-email").fill("amel@example.org")
    page.locator("#login-password").fill(f.PASSWORD)
    page.locator("#loginsubmit").click()
    page.wait_for_load_state()
    page.goto(live_server + "/organisations/new")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.locator("#organisation-legal_name").fill(AFEK)
    page.locator("#organisation-registration_number").fill("٢٠١١-٠٤٥٧")
    page.locator("#organisation-legal_form").select_option("association")
    page.locator("#organisation-country").select_option("TN")
    kebili = page.get_by_label("قبلي", exact=True)
    assert not kebili.is_visible()  # folded until its list is opened
    page.locator("#organisation-regions-group-TN summary").click()
    kebili.check()
    page.get_by_label("قابس", exact=True).check()
    page.locator("#organisationsubmit").click()
    page.wait_for_load_state()
    assert page.locator("h1 bdi").inner_text() == AFEK
    assert page.locator("ul.regions li").all_inner_texts() == ["قابس", "قبلي"]
    assert page.locator(".organisation-details .ltr-value").first.inner_text() == "2011-0457"
