"""Alembic migrations.  `grants initdb FILE.ini` upgrades to head; write a new one with
`grants db revision FILE.ini -m "what changed"` and review it by hand."""
from pathlib import Path

from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(settings: dict) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", settings["sqlalchemy.url"].replace("%", "%%"))
    cfg.attributes["settings"] = settings
    return cfg
