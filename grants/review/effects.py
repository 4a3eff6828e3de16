"""Effects of decision transitions on the application workflow."""
from __future__ import annotations

from grants.lifecycle.services import _user_id

from .models import APPLICATION_STAGE, PROPOSAL_STAGE, Decision

def record_decision(ctx) -> None:
    """Keep the decision beside the history: the step, the reason (the comment) and the
    funder's reference (the transition form's ``funder_reference``)."""
    data = ctx.data or {}
    # Once a full proposal exists, decisions are about it (the second stage).
    stage = PROPOSAL_STAGE if ctx.obj.proposal_submitted_at is not None else APPLICATION_STAGE
    ctx.env.dbsession.add(Decision(
        application_id=ctx.obj.id,
        stage=stage,
        outcome=ctx.transition.trigger,
        to_state=ctx.obj.state,
        reason=ctx.comment or "",
        funder_reference=(data.get("funder_reference") or "").strip(),
        decided_by_id=_user_id(ctx.actor.id),
        decided_at=ctx.now,
    ))
