"""The audit of configuration: who changed what on a programme, a round or the people
who hold roles there, when, with the value before and after.  Rows are only ever
added (``models.ConfigurationChange``); ``services.record_change`` writes one and
``services.changes_of`` reads an object's; ``changes`` shows them to people (the
``configuration_changes`` macro, and the "History of changes" pages built on it)."""


def includeme(config):
    pass
