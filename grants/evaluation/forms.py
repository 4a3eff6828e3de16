"""Forms of the evaluation pages: assigning an evaluator, and the round's findings.  (The
assessment form, with its files, is written out in templates/evaluation/assessment.pt.)"""
from __future__ import annotations

import colander
import deform

from grants.i18n import _

from .services import TEXT_MAX


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EvaluatorSchema(colander.MappingSchema):
    email = colander.SchemaNode(
        colander.String(), title=_("E-mail address of the evaluator"),
        description=_("They need an account: ask them to register first if they have none. Nobody who belongs to an "
                      "organisation funded in this round can evaluate it."),
        preparer=_strip,
        validator=colander.Email(msg=_("Enter an e-mail address like name@example.org.")),
        missing_msg=_("Enter the e-mail address of the evaluator."),
        widget=deform.widget.TextInputWidget(attributes={"dir": "ltr", "autocomplete": "off", "type": "email",
                                                         "spellcheck": "false"}))


def _text(title, description, *, required=False, rows=6):
    return colander.SchemaNode(
        colander.String(), title=title, description=description, preparer=_strip, max_length=TEXT_MAX,
        missing=colander.required if required else "",
        missing_msg=_("Write the evaluation's findings."),
        widget=deform.widget.TextAreaWidget(rows=rows, attributes={"dir": "auto", "spellcheck": "true"}))


class RoundEvaluationSchema(colander.MappingSchema):
    findings = _text(_("Findings"), _("What the grants achieved across the round, and how you know."), required=True,
                     rows=8)
    shortcomings = _text(_("Shortcomings"), _("What did not work or fell short. It is published with the findings: "
                                              "others learn from it as much as from successes."))
    lessons = _text(_("Lessons"), _("What the funder and future grantees should do differently."))
