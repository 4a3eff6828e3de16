"""BLADI, a Tunisian programme for local associations, as a grants plugin.

What it brings to the programmes that list ``bladi`` among their plugins (the deployment
enables it with ``grants.plugins = bladi``):

* its application forms (``bladi-2018`` and ``bladi-2018-v2``, the latter their default:
  grants' general questions plus the association's registration number in the Official
  Journal, its governorate and how far the project is about young people) and its full
  proposal (``bladi-proposal-2019``, their default second-stage form);
* its committee's rubric, the default for their rounds;
* the five capacity areas of its incubation, for their cohorts;
* its demo (``grants demo``): 264 associations applied, 20 incubated for four months, 11
  funded in dinars from a dollar budget, and their year of reporting each quarter.

Its messages are in the ``grants`` domain, in its own catalogs (``locale/``), merged with
grants' own: ``python -m grants.locale.extract --package grants_bladi --update`` refreshes them.
"""

from .demo import load_demo
from .forms import APPLICATION_2018_V2, FORMS, PROPOSAL_2019
from .review import CAPACITY_AREAS, CRITERIA, RUBRIC_TITLE

DEFAULT_FORMS = (APPLICATION_2018_V2, PROPOSAL_2019)


def includeme(config):
    config.add_translations("grants_bladi:locale")
    for form in FORMS:
        config.add_application_form(form, default=form.version in DEFAULT_FORMS)
    config.add_rubric(RUBRIC_TITLE, CRITERIA, default=True)
    config.add_capacity_areas(CAPACITY_AREAS)
    config.add_demo(load_demo, title="BLADI (Tunisia): 264 applications, 20 incubated, 11 funded")
