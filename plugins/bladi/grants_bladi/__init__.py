"""BLADI, a Tunisian programme for local associations, as a grants plugin: its call and
forms, the second-stage proposal, its rubric, the capacity areas of its incubation,
quarterly reporting and its demo.  Enable it with ``grants.plugins = bladi``; a programme
that lists ``bladi`` among its plugins gets what it adds."""


def includeme(config):
    pass
