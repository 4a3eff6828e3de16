"""Page templates compiled before the first request, one at a time.

Chameleon compiles a template the first time it renders, and its compiler parses
expressions with :func:`ast.parse`.  CPython 3.11 keeps the AST converter's recursion
counter per interpreter, not per thread, so two threads compiling at once on a cold
server can fail with ``SystemError: AST constructor recursion depth mismatch`` (a garbage
collection running Python code in the middle of a parse is enough to let the other thread
in).  So:

- :func:`serialise_compilation` puts every Chameleon compilation in the process — our
  pages, deform's widgets, a plugin's templates — behind one lock, and keeps what it
  compiled by Chameleon's own key (the template's file, a digest of its text and of the
  installed packages, and the names it is given), as Chameleon's on-disk cache does:
  a template is compiled once per process however many apps (registries) render it;
- :func:`compile_templates` compiles every page template of ours, and every template a
  plugin puts in place of one, through pyramid_chameleon's renderer lookup, so requests
  find them ready.  ``make_app`` runs it before it returns, in the starting thread: it
  takes a few seconds once per process (later apps find them compiled).  It once ran in
  a thread beside the starting server, but the lock only orders Chameleon's compilations,
  not every other ``ast.parse`` of the process (an import that pytest rewrites, say), and
  the two raced into the same SystemError.
"""
from __future__ import annotations

import threading
from pathlib import Path

TEMPLATES_PACKAGE = "grants.templates"

_lock = threading.RLock()
_compiled: dict = {}


def serialise_compilation() -> None:
    """Once per process: Chameleon's compile step under one lock, its result shared."""
    from chameleon.template import BaseTemplate

    if getattr(BaseTemplate._cook, "grants_serialised", False):
        return
    original = BaseTemplate._cook

    def _cook(self, body, name, builtins):
        key = (type(self), name, tuple(builtins))
        with _lock:
            cooked = _compiled.get(key)
            if cooked is None:
                cooked = _compiled[key] = original(self, body, name, builtins)
        return cooked

    _cook.grants_serialised = True
    BaseTemplate._cook = _cook


def template_specs(registry) -> list[str]:
    """The asset spec of every page template of ours, and of every plugin replacement."""
    import grants.templates

    root = Path(grants.templates.__file__).parent
    specs = [f"{TEMPLATES_PACKAGE}:{path.relative_to(root).as_posix()}" for path in sorted(root.rglob("*.pt"))]
    # Plugins that replace a template on their programmes' pages (grants.plugins).
    for replacements in (registry.get("grants.template_overrides") or {}).values():
        specs.extend(sorted(replacements.values()))
    return specs


def compile_templates(registry) -> int:
    """Compile every template :func:`template_specs` names; how many there were."""
    from pyramid.renderers import get_renderer
    from pyramid.threadlocal import manager

    specs = template_specs(registry)
    # Asset overrides (a plugin's template in place of ours everywhere) are looked up in the
    # current registry: make it this app's, as during a request, or the renderer cached
    # here would keep our file.
    manager.push({"registry": registry, "request": None})
    try:
        for spec in specs:
            get_renderer(spec, registry=registry).implementation().cook_check()
    finally:
        manager.pop()
    return len(specs)
