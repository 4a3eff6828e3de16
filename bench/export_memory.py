"""The memory and time `grants export` takes at 100 and at 10,000 awards.

It makes a SQLite database in a temporary folder, loads the demonstration (awards with
reports, indicators, tranches and payments), adds copies of one of its awards
(``grants.testing.copy_awards``) up to 100 awards, runs each export in a process of its
own and reads that process's peak resident memory (VmHWM in /proc), then does
the same at 10,000 awards.  It prints, for each export, the peak memory and the time at
both sizes and their ratios: a flat export has a memory ratio near 1, a linear one a
time ratio near 100.  Nothing is asserted; figures vary with the machine.

    python bench/export_memory.py [--large N]
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alembic import command
from sqlalchemy import func, select

from grants import make_config
from grants.migrations import alembic_config

#: Runs one `grants` command and prints its own peak resident memory (KiB) last: VmHWM
#: from /proc (Linux), not getrusage's ru_maxrss, which on Linux keeps the peak of the
#: process that forked it (this one, with the demo loaded) across the exec.
CHILD = ("import re, sys\n"
         "from grants.cli import main\n"
         "code = main(sys.argv[1:])\n"
         "status = open('/proc/self/status').read()\n"
         "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1), file=sys.stderr)\n"
         "sys.exit(code)\n")
EXPORTS = {"360Giving JSON": ["360giving"], "360Giving CSV": ["360giving", "--format", "csv"], "IATI XML": ["iati"]}


def run(ini: Path, args: list[str], out: Path) -> tuple[float, float]:
    """(peak MiB, seconds) of one export written to ``out``."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, "export", args[0], str(ini), *args[1:], "-o", str(out)],
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return int(proc.stderr.strip().splitlines()[-1]) / 1024, seconds


def grow_to(registry, total: int) -> int:
    from grants.awards.models import Award
    from grants.testing import copy_awards

    with registry.database.transaction() as (_tm, db):
        have = db.scalar(select(func.count()).select_from(Award))
        first = db.scalar(select(func.min(Award.id)))
        if total > have:
            copy_awards(db, first, total - have)
    return max(total, have)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()
    from grants.demo import load_demo

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        url = f"sqlite:///{tmp / 'bench.sqlite'}"
        settings = {"sqlalchemy.url": url, "grants.secret": "bench", "mail.backend": "maildir",
                    "mail.maildir": str(tmp / "mail"), "grants.files_dir": str(tmp / "files")}
        ini = tmp / "bench.ini"
        ini.write_text("[app:main]\nuse = egg:grants\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
        command.upgrade(alembic_config(settings), "heads")
        registry = make_config(settings).registry
        load_demo(registry, out=io.StringIO())
        figures = {}
        for size in (args.small, args.large):
            awards = grow_to(registry, size)
            for name, export in EXPORTS.items():
                figures[name, size] = run(ini, export, tmp / "out")
                print(f"{name:15} {awards:6} awards: peak {figures[name, size][0]:6.1f} MiB, "
                      f"{figures[name, size][1]:6.1f} s", flush=True)
        for name in EXPORTS:
            (m1, s1), (m2, s2) = figures[name, args.small], figures[name, args.large]
            print(f"{name:15} {args.large} / {args.small} awards: memory x{m2 / m1:.2f}, time x{s2 / s1:.1f}")


if __name__ == "__main__":
    main()
