"""Workflow definitions shipped with grants (installed as the package ``grants.workflows``)."""
