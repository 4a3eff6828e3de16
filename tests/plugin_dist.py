"""Plugins made up by a test: written into a folder with a .dist-info carrying their entry
point, so that a subprocess with the folder on PYTHONPATH has them installed (and this
process, which never imports them, does not)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def install_plugin(site: Path, name: str, package: str, files: dict[str, str]) -> Path:
    """Write ``files`` (paths relative to ``site``) and a distribution whose ``grants.plugins``
    entry point ``name`` is ``package:includeme``."""
    for relative, text in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    info = site / f"{package}-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package.replace('_', '-')}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[grants.plugins]\n{name} = {package}:includeme\n")
    return site


def environment(*sites: Path, **extra: str) -> dict:
    """This process's environment with ``sites`` first on PYTHONPATH."""
    path = [str(s) for s in sites] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), **extra}


def run(args, *, env=None, cwd=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)


def grants_command() -> Path:
    return Path(sys.executable).with_name("grants")
