"""Applications to a round."""
from grants.security import Permission


def includeme(config):
    from grants.lifecycle.views import object_page

    from .models import Application

    config.add_view(object_page, context=Application, renderer="grants.templates:object.pt",
                    permission=Permission.ApplicationsApplicationView)
    config.include(".eligibility_views")  # screening pages
