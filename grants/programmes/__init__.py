"""Programmes and their rounds (calls for applications)."""
from grants.security import Permission


def includeme(config):
    from grants.lifecycle.views import object_page

    from .models import Round

    config.add_view(object_page, context=Round, renderer="grants.templates:object.pt",
                    permission=Permission.ProgrammesRoundView)
