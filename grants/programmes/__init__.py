"""Programmes and their rounds (calls for applications).

Pages (``views``): the programmes list, a programme with its funders and totals, a new
programme (admins), a new round and a round's edit and tiers pages (its officers), and
the round page (state, dates in its zone, budget, tiers, rules and the funnel), and a
round's set-up checklist (``setup``: what must be set before the call opens); ``people``:
who holds which role, and invitations to roles; ``history``: the "History of changes"
pages of a programme and a round.  The Python API is ``grants.programmes.services``.
"""


def includeme(config):
    from .setup import add_setup_task

    config.add_directive("add_setup_task", add_setup_task)
    # Mailed links to answer an invitation to a role (people.answer_invitation).
    config.add_route("role_invitation", "/role-invitations/{token}")
    config.add_route("role_invitation_register", "/role-invitations/{token}/register")
    config.scan(".views")
    config.scan(".people")
    config.scan(".setup")
    config.scan(".history")
