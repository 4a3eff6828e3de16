"""The Shared Endeavour Fund (London) as a grants plugin.  Enable it with
``grants.plugins = shared_endeavour``; a programme that lists ``shared_endeavour`` among
its plugins gets what it adds, and no other programme does:

* its application form (:mod:`.form`), the default for its programmes: the four priority
  themes (at least one), and grant-size tiers read from the round, the largest needing
  match funding of half the amount (refused when saved, and again on submission);
* the eligibility rule kind ``legal_form_in`` (:mod:`.rules`);
* the workflow variant ``shared_endeavour_application`` with due diligence before every
  grant (:mod:`.workflow`; a programme chooses it);
* its standard survey in two designs, before-and-after and looking back (``instruments/``);
* two sections of its public round reports (:mod:`.report`);
* the criteria its evaluator scores grantees on (:data:`CRITERIA`);
* its demonstration data (:mod:`.demo`): four calls, 95 awards.
"""
from translationstring import TranslationStringFactory

_ = TranslationStringFactory("grants")

#: What the fund's evaluator scores each grantee on, 1 to 5: (id, title, the question).
CRITERIA = (
    ("reach", _("Reach"), _("Did the project reach the people and places it planned to, in the numbers it planned?")),
    ("delivery", _("Delivery"), _("Were the activities delivered as planned, and were changes explained?")),
    ("attitudes", _("Change in attitudes"),
     _("Does the survey show participants readier to reject hate and to question what they see online?")),
    ("safeguarding", _("Safeguarding"),
     _("Were participants, staff and volunteers kept safe, and were concerns handled well?")),
    ("partnership", _("Local partnership"),
     _("Did the project work with schools, faith groups, the council or others in its boroughs?")),
    ("learning", _("Evidence and learning"),
     _("Were the data collected and used well, and lessons shared with the fund?")),
)

INSTRUMENTS = ("shared_endeavour_prepost.toml", "shared_endeavour_retrospective.toml")


def includeme(config):
    from .demo import load_demo
    from .form import FORM
    from .report import include_report
    from .rules import LEGAL_FORM_IN, LEGAL_FORM_QUESTION, describe_legal_form_rule, legal_form_in, read_legal_form_rule
    from .workflow import include_workflow

    config.add_translations("grants_shared_endeavour:locale")
    config.add_application_form(FORM, default=True)
    config.add_eligibility_rule_kind(LEGAL_FORM_IN, legal_form_in, title=_("Legal form"),
                                     normalise=read_legal_form_rule, describe=describe_legal_form_rule,
                                     form=LEGAL_FORM_QUESTION)
    include_workflow(config)
    for name in INSTRUMENTS:
        config.add_survey_instrument(f"grants_shared_endeavour:instruments/{name}")
    include_report(config)
    config.add_evaluation_criteria(CRITERIA)
    config.add_demo(load_demo, title="Shared Endeavour Fund: four calls, their awards and public reports")
