"""What BLADI's selection committee weighed: its rubric, the default of its programmes'
rounds.  Titles and labels are messages of the ``grants`` domain, translated by the
plugin's catalogs."""
from grants.i18n import _
from grants.review.services import GENERAL_CRITERIA

#: The criteria BLADI's committee shared with grants' general rubric, by id.
GENERAL = {criterion["id"]: criterion for criterion in GENERAL_CRITERIA}

#: Stored in English, marked for the catalogue: the round's form shows it in the reader's language.
RUBRIC_TITLE = str(_("BLADI — first-stage review"))
CRITERIA = [
    {"id": "relevance", "title": _("Relevance to local needs"), "weight": "3", "labels": {
        "1": _("Does not address a local need"),
        "2": _("Addresses a need only loosely"),
        "3": _("Addresses a real local need"),
        "4": _("Addresses a pressing, well-evidenced local need"),
        "5": _("Addresses a pressing need, evidenced and voiced by the community itself")}},
    GENERAL["feasibility"],
    GENERAL["capacity"],
    {"id": "participation", "title": _("Community participation"), "weight": "2", "labels": {
        "1": _("The community is not involved"),
        "2": _("The community is informed but not involved"),
        "3": _("The community is consulted"),
        "4": _("The community takes part in running the project"),
        "5": _("The community leads the project and its decisions")}},
    # Same scale as grants' general rubric, weighed less: BLADI's grants were small.
    {**GENERAL["value_for_money"], "id": "value", "weight": "1"},
]

#: BLADI's needs assessment: five areas, scored at the start and the end of incubation.
CAPACITY_AREAS = [
    _("Programme delivery"),
    _("Financial management"),
    _("Human resources management"),
    _("External relations and communication"),
    _("Management and governance"),
]
