"""Guards on the report workflow."""
from __future__ import annotations


def report_complete(ctx):
    """A narrative and a value for every indicator (``grants.mel.services.report_problems``)."""
    from grants.mel.services import report_problems

    problems = report_problems(ctx.obj)
    return problems[0] if problems else None
