"""Effects on the report workflow."""
from __future__ import annotations


def stamp_report_submitted(ctx) -> None:
    ctx.obj.submitted_at = ctx.now


def notify_grantee(ctx) -> None:
    """Tell the grantee's members that their report was accepted or returned (with the
    officer's comments), each in their language, after commit."""
    from grants.mel.services import notify_report_state

    notify_report_state(ctx)
