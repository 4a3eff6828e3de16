"""Awards: the grant made from a selected application, its amendments, its payment
schedule and disbursements, and its budget against actual spend."""


def includeme(config):
    config.include(".views")
