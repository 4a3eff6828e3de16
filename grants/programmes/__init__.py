"""Programmes and their rounds (calls for applications).

Pages (``views``): the programmes list, a programme with its funders and totals, a new
programme (admins), a new round and a round's edit and tiers pages (its officers), and
the round page (state, dates in its zone, budget, tiers, rules and the funnel).  The
Python API is ``grants.programmes.services``.
"""


def includeme(config):
    config.scan(".views")
    config.scan(".people")
