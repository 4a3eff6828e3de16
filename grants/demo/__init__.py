"""Demonstration data: ``grants demo development.ini``.

The command loads grants' own small demo (a funder-neutral programme where every role finds
something: :mod:`grants.demo.core`), then the demo of each enabled plugin that registered
one, in the order the deployment enables the plugins, then marks past-due reports overdue
(as ``grants tick`` does) and prints a sign-in for every demo person.

A plugin registers its demo in ``includeme``::

    def includeme(config):
        config.add_demo(load_demo, title="My Fund: two calls and their awards")

    def load_demo(registry, out, now):
        ...                      # grants.demo.tools has the helpers
        return SIGN_INS          # [tools.DemoPerson(...), ...]

A loader is called with the Pyramid ``registry``, the stream to write a line or two of
what it made (``out``) and the moment the demo is loaded (``now``, aware).  It opens its own
transactions (``registry.database.transaction()``), checks whether it ran before (and then
loads nothing), and returns the people to sign in as (:class:`grants.demo.tools.DemoPerson`),
whether or not it loaded anything.  It uses only the services and
:mod:`grants.demo.tools`, so what it makes is what people could have made on the pages.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from typing import Callable

from .tools import DEMO_PASSWORD, DemoPerson  # noqa: F401 - the demo's public names

SITE = "http://localhost:6543"


@dataclass(frozen=True)
class Demo:
    """A registered demo: ``origin`` is the plugin that brought it ("" for grants)."""

    loader: Callable
    title: str
    origin: str = ""


def add_demo(config, loader: Callable, title: str) -> None:
    """Register the plugin's demonstration data, loaded by ``grants demo`` after grants'
    own demo and the demos of the plugins enabled before this one.

    ``loader(registry, out, now)`` makes the data through the services, in transactions
    of its own; it must load nothing when it finds its data already there, and returns the
    people to sign in as (a list of :class:`grants.demo.tools.DemoPerson`) either way.
    ``title`` says in a few words what it loads (printed before it runs).  A plugin
    registers one demo; a second registration by the same plugin conflicts at start-up."""
    from grants.plugins import current_plugin, register_change

    demo = Demo(loader=loader, title=str(title), origin=current_plugin(config))
    register_change(config, ("grants:demo", demo.origin), f"add a demo ({demo.title})",
                    lambda: demos(config.registry).append(demo))


def demos(registry) -> list[Demo]:
    """The demos plugins registered, in the order their plugins are enabled."""
    return registry.setdefault("grants.demos", [])


def load_demo(registry, out=sys.stdout, now: dt.datetime | None = None) -> list[DemoPerson]:
    """Load grants' demo, then every enabled plugin's; mark past-due reports overdue; print
    the sign-ins.  Running it again loads nothing new and prints the sign-ins again.
    Returns everyone printed."""
    from grants.lifecycle.services import tick

    from . import core

    now = now or dt.datetime.now(dt.timezone.utc)
    people: list[DemoPerson] = []
    for demo in [Demo(core.load, core.TITLE)] + _in_enabled_order(registry):
        print(f"{demo.title}:", file=out)
        for person in demo.loader(registry, out, now) or ():
            if person.email not in {p.email for p in people}:
                people.append(person)
    # Reports whose due date has passed become overdue, as the nightly `grants tick` does.
    tick(registry.database, registry.workflows, now=now, settings=registry.settings)
    print_sign_ins(people, out, registry.settings.get("grants.base_url") or SITE)
    return people


def _in_enabled_order(registry) -> list[Demo]:
    from grants.plugins import enabled_plugins

    order = {name: n for n, name in enumerate(enabled_plugins(registry.settings))}
    return sorted(demos(registry), key=lambda d: order.get(d.origin, len(order)))


def print_sign_ins(people, out=sys.stdout, base_url: str = SITE) -> None:
    print(f"sign in at {base_url.rstrip('/')}/login with password {DEMO_PASSWORD!r} as:", file=out)
    width = max((len(p.email) for p in people), default=0) + 2
    for person in people:
        print(f"  {person.email:<{width}}{person.description}", file=out)


def includeme(config):
    config.add_directive("add_demo", add_demo)
