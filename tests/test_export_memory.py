"""Exports at scale: ``grants export`` writes one grant at a time from awards read in
batches, so the memory it needs does not grow with the number of awards.  Measured in
process with tracemalloc (every Python allocation, at its peak) while exporting 100 and
then 3,000 awards; bench/export_memory.py measures the whole process at 10,000."""
from __future__ import annotations

import gc
import io
import tracemalloc

import pytest
from sqlalchemy import func, select

from grants.awards.models import Award
from grants.reporting import exports
from grants.testing import copy_awards
from standards_checks import check_360giving_package, check_iati
from test_exports import NOW, build


class Sink(io.RawIOBase):
    """A binary file that keeps only its size and the first bytes written: the export's
    own memory is measured, not the output's."""

    def __init__(self, keep: int = 0):
        self.size, self.keep, self.head = 0, keep, bytearray()

    def writable(self):
        return True

    def write(self, data):
        self.size += len(data)
        if len(self.head) < self.keep:
            self.head += data[:self.keep - len(self.head)]
        return len(data)


WRITERS = {
    "360giving": lambda db, registry, out: exports.write_threesixty_giving(db, registry, out, now=NOW, release=True),
    "360giving-csv": lambda db, registry, out: exports.write_threesixty_giving(db, registry, out, "csv", now=NOW,
                                                                               release=True),
    "iati": lambda db, registry, out: exports.write_iati_activities(db, registry, out, now=NOW, release=True),
}


def peak(registry, write) -> tuple[int, int]:
    """(grants written, peak bytes allocated) for one export in a session of its own, as
    the command runs it."""
    gc.collect()
    with registry.database.transaction() as (_tm, db):
        tracemalloc.start()
        try:
            count = write(db, registry, Sink())
            _current, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return count, top


@pytest.mark.parametrize("standard", ["360giving", "iati"])  # the CSV shares the JSON's reading
def test_exports_need_the_same_memory_for_3000_awards_as_for_100(registry, standard):
    with registry.database.transaction() as (_tm, db):
        world = build(db, registry)
        copy_awards(db, world["active"], 97)
    write = WRITERS[standard]
    with registry.database.transaction() as (_tm, db):
        write(db, registry, Sink())  # once untraced: imports and statement caches are not the export's
    small = peak(registry, write)
    with registry.database.transaction() as (_tm, db):
        copy_awards(db, world["active"], 2900)
        assert db.scalar(select(func.count()).select_from(Award)) == 3000
    large = peak(registry, write)
    assert (small[0], large[0]) == (100, 3000)
    print(f"{standard}: peak {small[1] / 2**20:.2f} MiB at 100 awards, {large[1] / 2**20:.2f} MiB at 3,000")
    assert large[1] <= 1.2 * small[1] + 512 * 1024, (small, large)


def test_the_streamed_files_are_whole_and_valid(registry):
    """Written in pieces, the files still parse and pass the standards' checks, with every
    award in them (more than one batch)."""
    with registry.database.transaction() as (_tm, db):
        world = build(db, registry)
        copy_awards(db, world["active"], exports.BATCH + 7)
    total = exports.BATCH + 10
    for standard, check in (("360giving", None), ("iati", check_iati)):
        out = io.BytesIO()
        with registry.database.transaction() as (_tm, db):
            assert WRITERS[standard](db, registry, out) == total
        if check is None:
            import json
            from decimal import Decimal

            package = check_360giving_package(json.loads(out.getvalue(), parse_float=Decimal),
                                              forbidden=world["personal"])
            assert len(package["grants"]) == total
            assert len({g["id"] for g in package["grants"]}) == total
        else:
            root = check(out.getvalue(), forbidden=world["personal"])
            assert len(root.findall("iati-activity")) == total
