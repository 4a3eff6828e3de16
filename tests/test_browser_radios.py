"""Radio buttons where people choose one answer — a reviewer's score per criterion, an
officer's confirm-or-override per eligibility rule — laid out in a real Chromium: every
option inside its card, in reading order, and the question (the legend) above the first
option, never over it; in English and in Arabic (right to left)."""
from __future__ import annotations

import os

import pytest

import factories as f
from grants.review import services as review

pytestmark = pytest.mark.browser

CRITERIA = ("relevance", "feasibility", "value_for_money", "capacity", "sustainability")
#: Set to a folder to keep the screenshots (to look at them).
SCREENSHOTS = os.environ.get("GRANTS_SCREENSHOTS")


def sign_in(page, live_server, email) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(f.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").last.click()


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None
    return found


def inside(inner: dict, outer: dict) -> bool:
    return (inner["x"] >= outer["x"] - 0.5 and inner["y"] >= outer["y"] - 0.5
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


def overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def check_radio_groups(page, card_selector: str, group_selector: str, expected: int) -> None:
    """Each card holds its group of radios; the group's legend sits above its options, and
    the options line up one under the other, each label beside its input."""
    cards = page.locator(card_selector)
    assert cards.count() == expected
    for i in range(cards.count()):
        card = cards.nth(i)
        card_box = box(card)
        group = card.locator(group_selector)
        legend = group.locator(":scope > legend")
        options = group.locator(".form-check")
        assert options.count() >= 2
        legend_box = box(legend)
        assert inside(legend_box, card_box)
        previous = None
        for j in range(options.count()):
            option = options.nth(j)
            radio, label = box(option.locator("input[type=radio]")), box(option.locator("label"))
            assert inside(radio, card_box) and inside(label, card_box), (i, j, radio, label, card_box)
            assert not overlaps(legend_box, radio) and not overlaps(legend_box, label), (i, j, legend_box, label)
            assert radio["y"] >= legend_box["y"] + legend_box["height"] - 0.5
            assert not overlaps(radio, label)
            if previous is not None:  # one under the other, not squeezed into a column beside the legend
                assert radio["y"] >= previous["y"] + previous["height"] - 0.5
            previous = radio
        # The options use the card's width, not a narrow column.
        assert box(options.first)["width"] > card_box["width"] / 2


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_reviewer_s_score_radios_sit_inside_each_criterion_s_card(live_server, page, registry, lang):
    with registry.database.transaction() as (tm, db):
        officer = f.user(db, email="leila@example.org")
        sami = f.user(db, email="sami@example.org", locale=lang)
        rnd = f.round_(db, registry, f.programme(db), title="Nabda b houmti 2019")
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        application = f.application(db, registry, rnd, f.organisation(db, f.user(db), name="Radio Sfax"),
                                    title="Community radio", state="eligible")
        review.respond(db, review.invite_reviewer(db, registry, rnd, sami, officer, transaction_manager=tm),
                       sami, accept=True)
        review.declare(db, review.assign(db, application, sami, officer), sami, conflict=False)
        url = f"{live_server}/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{application.id}/@@score"
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "sami@example.org")
    page.context.add_cookies([{"name": "grants_lang", "value": lang, "url": live_server}])
    page.goto(url)
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"score-{lang}.png"), full_page=True)
    check_radio_groups(page, "form fieldset.border", "fieldset[id$='-score']", len(CRITERIA))


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_officer_s_screening_radios_sit_inside_each_rule_s_card(live_server, page, registry, lang):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", locale=lang)
        rnd = f.round_(db, registry, f.programme(db), title="Nabda b houmti 2019")
        rnd.eligibility_rules = [{"kind": "registered_organisation"}, {"kind": "required_attachments",
                                                                      "attachments": ["budget"]}]
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        application = f.application(db, registry, rnd, f.registered_organisation(db, f.user(db)), state="submitted",
                                    title="Theatre clubs in Kebili")
        url = f"{live_server}/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{application.id}/@@screen"
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "leila@example.org")
    page.context.add_cookies([{"name": "grants_lang", "value": lang, "url": live_server}])
    page.goto(url)
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"screen-{lang}.png"), full_page=True)
    check_radio_groups(page, "form fieldset.border", "fieldset:has(input[type=radio])", 2)
