"""``grants bench seed INI --applications N``: many applications added to the demo's open
round with bulk inserts, each consistent with what firing its steps would have left."""
from __future__ import annotations

import io
from collections import Counter

from sqlalchemy import select

import factories as f
from grants.applications.models import Application, ApplicationAttachment
from grants.demo import DEMO_PASSWORD, load_demo
from grants.demo.seed import open_demo_round, seed_applications
from grants.lifecycle.models import HistoryEntry
from test_cli import grants, write_ini
from test_page_counts import assert_kept_right


def _seeded(db, rnd_id):
    return list(db.scalars(select(Application).where(Application.round_id == rnd_id,
                                                     Application.title.like("Seeded project %"))
                           .order_by(Application.id)))


def test_seeding_adds_applications_whose_history_leads_to_their_state(registry, database_url, tmp_path, testapp):
    load_demo(registry, out=io.StringIO())
    ini = write_ini(tmp_path / "seed.ini", database_url)
    assert "added 200 applications" in grants("bench", "seed", str(ini), "--applications", "200").stdout

    with registry.database.transaction() as (_tm, db):
        rnd = open_demo_round(db)
        seeded = _seeded(db, rnd.id)
        assert len(seeded) == 200 and len({a.organisation_id for a in seeded}) == 200
        assert Counter(a.state for a in seeded) == {"draft": 80, "submitted": 60, "eligible": 40, "withdrawn": 20}
        rows = {}
        for entry in db.scalars(select(HistoryEntry).where(
                HistoryEntry.object_type == "applications",
                HistoryEntry.object_id.in_([a.id for a in seeded])).order_by(HistoryEntry.id)):
            rows.setdefault(entry.object_id, []).append(entry)
        for application in seeded:
            history = rows[application.id]
            assert history[0].trigger == "create" and history[0].from_state is None
            for before, after in zip(history, history[1:]):  # each step starts where the last ended
                assert after.from_state == before.to_state
            assert history[-1].to_state == application.state
            assert (application.submitted_at is None) == (application.state == "draft")
            assert application.answers and application.sections_done == seeded[0].sections_done
        kinds = {a.id: set(db.scalars(select(ApplicationAttachment.kind)
                                      .where(ApplicationAttachment.application_id == a.id))) for a in seeded}
        assert kinds[seeded[0].id] and all(k == kinds[seeded[0].id] for k in kinds.values())
        programme_id, round_id = rnd.programme_id, rnd.id
        submitted = next(a for a in seeded if a.state == "submitted")  # officers do not see drafts

    # the pages cope: the officer's round page and a seeded application's page
    f.sign_in(testapp, "officer@example.org", DEMO_PASSWORD)
    testapp.get(f"/programmes/{programme_id}/rounds/{round_id}", status=200)
    page = testapp.get(f"/programmes/{programme_id}/rounds/{round_id}/applications/{submitted.id}", status=200)
    assert submitted.title in page.text

    seed_applications(registry, 5)  # again: five more, from a new run
    with registry.database.transaction() as (_tm, db):
        assert len(_seeded(db, round_id)) == 205
    # The bulk INSERTs added to the round page's counts what the services would have.
    reached, _regions, without = assert_kept_right(registry, round_id)
    assert reached["submitted"] >= 60 + 40 + 20 and without >= 205


def test_seeding_without_the_demo_says_what_to_do(registry, database_url, tmp_path):
    ini = write_ini(tmp_path / "seed.ini", database_url)
    proc = grants("bench", "seed", str(ini), "--applications", "3", check=False)
    assert proc.returncode == 2 and "run `grants demo INI` first" in proc.stderr
