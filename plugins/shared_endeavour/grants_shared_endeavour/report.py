"""The fund's sections of its programmes' public round reports: its priority themes, and
how many funded projects address each (small counts suppressed like every count of the
report; a project addressing two themes counts in both)."""
from __future__ import annotations

from sqlalchemy import select
from translationstring import TranslationStringFactory

from grants.reporting.public import SectionTable, single

from .form import THEMES

_ = TranslationStringFactory("grants")


def projects_by_theme(dbsession, rnd, report) -> SectionTable:
    from grants.applications.models import Application
    from grants.awards.models import Award

    counts = dict.fromkeys(THEMES, 0)
    funded = dbsession.scalars(select(Application).join(Award, Award.application_id == Application.id)
                               .where(Award.round_id == rnd.id))
    for application in funded:
        for theme in ((application.answers or {}).get("themes") or {}).get("themes") or ():
            if theme in counts:
                counts[theme] += 1
    return SectionTable(
        columns=(_("Priority theme"), _("Funded projects")),
        rows=[(THEMES[theme], single(count, report.threshold)) for theme, count in counts.items()],
        caption=_("Funded projects by the fund's priority themes they address (a project may address several)"))


def priorities(dbsession, rnd, report) -> SectionTable:
    return SectionTable(columns=(_("Priority theme"),), rows=[(title,) for title in THEMES.values()])


def include_report(config) -> None:
    config.add_report_section("priorities", _("The fund's priorities"), rows=priorities,
                              template="grants_shared_endeavour:templates/priorities.pt")
    config.add_report_section("projects-by-theme", _("Funded projects by priority theme"), rows=projects_by_theme)
