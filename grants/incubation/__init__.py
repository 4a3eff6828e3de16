"""Incubation: a selected cohort's months of coaching and training before the second
stage — sessions and attendance, and capacity assessed at entry and at exit."""


def includeme(config):
    config.include(".views")
