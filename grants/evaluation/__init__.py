"""Independent evaluation: evaluators assigned to a round assess each grantee (scores
and files the grantee can read but not change) and write the round's findings."""


def includeme(config):
    from .services import add_evaluation_criteria

    config.add_directive("add_evaluation_criteria", add_evaluation_criteria)
    config.include(".views")
    config.include(".criteria_sets")
