"""Review: reviewers invited to a round, conflicts of interest, assignment, scoring
against a rubric, moderation, ranking, selection and decisions."""


def includeme(config):
    from .services import add_rubric

    config.add_directive("add_rubric", add_rubric)
    config.include(".views")
    config.include(".decision_views")
    config.include(".rubrics")
