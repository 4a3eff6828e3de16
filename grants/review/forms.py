"""Forms of the review and decision steps."""
from __future__ import annotations

import colander
import deform

from grants.i18n import _


class DecisionSchema(colander.MappingSchema):
    """The extra fields of every decision transition (the reason is the transition's
    comment): the funder's own reference for the decision."""

    funder_reference = colander.SchemaNode(
        colander.String(),
        title=_("Funder's decision reference"),
        description=_("The funder's own reference for this decision, such as a grant committee minute number."),
        missing="",
        validator=colander.Length(max=100),
        widget=deform.widget.TextInputWidget(),
    )
