"""Independent evaluation: evaluators assigned to a round assess each grantee (scores
and files the grantee can read but not change) and write the round's findings."""


def includeme(config):
    config.include(".views")
