"""Page templates (installed as the package ``grants.templates``)."""
