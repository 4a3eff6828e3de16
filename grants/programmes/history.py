"""The "History of changes" pages of a programme and of a round: every change of their
configuration (``grants.audit``), who made it, when, and the value before and after, as
people read them — money in the programme's currency, moments in the round's time zone,
rubrics, funders and workflows by name.

The kinds of change recorded by ``grants.programmes.services``, ``people`` and
``grants.reporting.public`` are named here (``grants.audit.changes.change_kind``).
"""
from __future__ import annotations

from pyramid.view import view_config

from grants.audit.changes import as_money, change_kind, changes_page, show_value
from grants.i18n import _, translate, zone_of
from grants.money import format_money
from grants.security import Permission

from .models import Programme, Round

TEMPLATE = "grants.templates:audit/changes.pt"

FUNDER_ROLE_TITLES = {"lead": _("Lead funder"), "co_funder": _("Co-funder"), "implementer": _("Implementer")}
INVITATION_STATUS = {"waiting": _("waiting for an answer"), "withdrawn": _("withdrawn"), "declined": _("declined")}


def _money(request, value) -> str:
    money = as_money(value)
    return format_money(money, request.locale_name) if money is not None else show_value(request, value)


def _tiers(request, value, obj, zone) -> str:
    parts = []
    for tier in value:
        text = f"{show_value(request, tier.get('name') or '')} ({_money(request, tier.get('minimum'))} – {_money(request, tier.get('maximum'))})"
        if tier.get("match_funding_percent") is not None:
            text += " " + translate(request, _("with ${percent}% match funding",
                                               mapping={"percent": tier["match_funding_percent"]}))
        parts.append(text)
    return "; ".join(parts)


def _rules(request, value, obj, zone) -> str:
    from .views import describe_rules

    rnd = obj if isinstance(obj, Round) else None
    if rnd is None:
        return show_value(request, value, zone)
    return "; ".join(describe_rules(request, rnd, value))


def _workflow(request, value, obj, zone) -> str:
    from grants.lifecycle.services import workflows_of

    workflow_id = value.get("workflow")
    if not workflow_id:
        return translate(request, _("The programme's default"))
    found = next((d for d in workflows_of(request.registry).variants(value.get("family", ""))
                  if d.id == workflow_id), None)
    title = translate(request, _(found.title)) if found is not None else workflow_id
    if value.get("version"):  # a version the round pinned
        title = translate(request, _("${title}, version ${version}",
                                     mapping={"title": title, "version": value["version"]}))
    return f"{title} ({workflow_id})" if found is not None else title


def _funder(request, value, obj, zone) -> str:
    parts = [value.get("funder", ""), translate(request, FUNDER_ROLE_TITLES.get(value.get("role"), value.get("role")))]
    if value.get("amount"):
        parts.append(_money(request, value["amount"]))
    if value.get("round"):
        parts.append(translate(request, _("for ${round}", mapping={"round": value["round"]})))
    if value.get("matches"):
        parts.append(translate(request, _("matching ${funder}", mapping={"funder": value["matches"]})))
    return " — ".join(p for p in parts if p)


def _role(request, value, obj, zone) -> str:
    from .people import role_title

    text = f"{translate(request, role_title(request.registry, obj, value.get('role', '')))}: {value.get('email', '')}"
    status = value.get("status")
    if status in INVITATION_STATUS:
        text += f" ({translate(request, INVITATION_STATUS[status])})"
    return text


def _published(request, value, obj, zone) -> str:
    return translate(request, _("Published") if value else _("Not published"))


def _words(request, value, obj, zone) -> str:
    return ", ".join(value) if isinstance(value, list) else show_value(request, value, zone)


for _what, _title, _show in (
    ("created", _("Created"), None),
    ("title", _("Title"), None),
    ("description", _("Description"), None),
    ("currency", _("Currency"), None),
    ("plugins", _("Plugins this programme uses"), _words),
    ("results_levels", _("Levels of results"), _words),
    ("opens_at", _("Opens"), None),
    ("closes_at", _("Closes"), None),
    ("timezone", _("Time zone"), None),
    ("budget", _("Budget"), None),
    ("tiers", _("Grant-size tiers"), _tiers),
    ("eligibility_rules", _("Eligibility rules"), _rules),
    ("application_form_version", _("Application form version"), None),
    ("proposal_form_version", _("Proposal form version"), None),
    ("rubric_id", _("Rubric"), None),
    ("blind_review", _("Blind review"), None),
    ("workflow", _("Workflow for applications"), _workflow),
    ("funder", _("Funder and contribution"), _funder),
    ("small_cell_threshold", _("Smallest count shown"), None),
    ("hidden_funders", _("Funders not named on public pages"), None),
    ("public_report", _("Public report"), _published),
    ("role", _("Role"), _role),
    ("role_invitation", _("Invitation to a role"), _role),
):
    change_kind(_what, _title, _show)


def programme_zone(programme: Programme) -> str:
    """A programme has no time zone of its own: its newest round's, else UTC."""
    return zone_of(programme)


@view_config(context=Programme, name="changes", renderer=TEMPLATE, permission=Permission.ProgrammesProgrammeManage)
def programme_changes(context, request):
    return changes_page(request, context, zone=programme_zone(context))


@view_config(context=Round, name="changes", renderer=TEMPLATE, permission=Permission.ProgrammesRoundManage)
def round_changes(context, request):
    return changes_page(request, context, zone=context.timezone or "UTC")
