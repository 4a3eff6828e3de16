"""The Shared Endeavour Fund (London) as a grants plugin.  Enable it with
``grants.plugins = shared_endeavour``; a programme that lists ``shared_endeavour`` among
its plugins gets what it adds."""


def includeme(config):
    pass
