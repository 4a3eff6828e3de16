"""What BLADI's selection committee weighed: its rubric, the default of its programmes'
rounds.  Titles and labels are messages of the ``grants`` domain, translated by the
plugin's catalogs."""
from grants.i18n import _

RUBRIC_TITLE = "BLADI — first-stage review"
CRITERIA = [
    {"id": "relevance", "title": _("Relevance to local needs"), "weight": "3", "labels": {
        "1": _("Does not address a local need"),
        "2": _("Addresses a need only loosely"),
        "3": _("Addresses a real local need"),
        "4": _("Addresses a pressing, well-evidenced local need"),
        "5": _("Addresses a pressing need, evidenced and voiced by the community itself")}},
    {"id": "feasibility", "title": _("Feasibility of the plan"), "weight": "2", "labels": {
        "1": _("The plan cannot be carried out as written"),
        "2": _("Major gaps in the plan, timetable or budget"),
        "3": _("A workable plan with some gaps"),
        "4": _("A clear, realistic plan, timetable and budget"),
        "5": _("A clear, realistic plan with its risks foreseen and managed")}},
    {"id": "capacity", "title": _("Organisational capacity"), "weight": "2", "labels": {
        "1": _("No sign the organisation can deliver it"),
        "2": _("Little experience or means for this work"),
        "3": _("Some relevant experience and means"),
        "4": _("Proven experience and the people to deliver it"),
        "5": _("A strong track record in this very kind of work")}},
    {"id": "participation", "title": _("Community participation"), "weight": "2", "labels": {
        "1": _("The community is not involved"),
        "2": _("The community is informed but not involved"),
        "3": _("The community is consulted"),
        "4": _("The community takes part in running the project"),
        "5": _("The community leads the project and its decisions")}},
    {"id": "value", "title": _("Value for money"), "weight": "1", "labels": {
        "1": _("Costs are unjustified or unclear"),
        "2": _("Costs are high for what is achieved"),
        "3": _("Reasonable costs"),
        "4": _("Good value: costs are justified and modest"),
        "5": _("Excellent value: much achieved for the cost")}},
]

#: BLADI's needs assessment: five areas, scored at the start and the end of incubation.
CAPACITY_AREAS = [
    _("Programme delivery"),
    _("Financial management"),
    _("Human resources management"),
    _("External relations and communication"),
    _("Management and governance"),
]
