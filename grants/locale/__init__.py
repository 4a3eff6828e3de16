"""Translation catalogs; compiled .mo files are committed so a wheel carries them; run `python -m grants.locale.compile` after editing a .po."""
