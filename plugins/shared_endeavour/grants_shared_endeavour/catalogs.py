"""The plugin's catalogs (domain ``grants``, merged with grants' own at run time): its
messages (forms, rules, report sections, instruments and workflow labels), refreshed with grants' own tool::

    python -m grants.locale.extract --package grants_shared_endeavour            # refresh locale/grants.pot
    python -m grants.locale.extract --package grants_shared_endeavour --update   # ... merge into fr and ar, compile
"""
from grants.locale.extract import extract_package


def extract():
    """The plugin's messages, as its committed template should hold them."""
    return extract_package("grants_shared_endeavour")
