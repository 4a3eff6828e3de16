"""Awards: the grant made from a selected application, its amendments, its payment
schedule and disbursements, and its budget against actual spend."""


def includeme(config):
    from .services import CORE_CONDITIONS, add_tranche_condition

    config.add_directive("add_tranche_condition", add_tranche_condition)
    for condition in CORE_CONDITIONS:
        config.add_tranche_condition(condition.name, condition.title, condition.check,
                                     needs_report=condition.needs_report)
    config.include(".views")
