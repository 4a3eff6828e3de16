"""Review: reviewers invited to a round, conflicts of interest, assignment, scoring
against a rubric, moderation, ranking, selection and decisions."""


def includeme(config):
    config.include(".views")
    config.include(".decision_views")
