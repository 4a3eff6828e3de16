"""Incubation: a selected cohort's months of coaching and training before the second
stage — sessions and attendance, and capacity assessed at entry and at exit."""


def includeme(config):
    from .services import add_capacity_areas

    config.add_directive("add_capacity_areas", add_capacity_areas)
    config.include(".views")
