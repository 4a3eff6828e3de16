"""Many applications at once, for trying the pages and the engine at scale
(``grants bench seed INI --applications N``).

The demo's open round gets N more applications from N new organisations, each with one
member (a seed account per run).  The first is made through the services, every section
answered and every document attached, as an applicant would; the others copy its answers
and documents and are written with bulk INSERTs, which is what makes 10,000 a matter of
seconds.  They are spread over the states an open round holds — draft, submitted,
eligible, withdrawn — each with the history rows of the steps that brought it there, in
the order the workflow takes them, so the history and the state agree as if each step had
been fired.  Running it again adds N more.

Not made: reviews, awards and eligibility checks (a submitted application here has not
been screened).
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import insert, select

from grants.accounts.models import Membership, Organisation
from grants.applications.models import NO_REGION, Application, ApplicationAttachment, RegionCount
from grants.db import add_to_counts
from grants.lifecycle.meanings import means
from grants.lifecycle.models import HistoryEntry, ReachedCount
from grants.lifecycle.services import chosen_workflow
from grants.programmes.models import Programme, Round
from grants.workflow.engine import utcnow

from . import core, tools

#: The steps that bring a seeded application to its state, by share of ten: four drafts,
#: three submitted, two eligible, one withdrawn after submitting.
PATHS = [(), (), (), (), ("submit",), ("submit",), ("submit",), ("submit", "confirm_eligible"),
         ("submit", "confirm_eligible"), ("submit", "withdraw")]
CHUNK = 1000  # rows per INSERT statement
# The bulk INSERTs send None as NULL (render_nulls): by default the ORM leaves a None out of
# its row, and rows whose keys differ (a draft's submitted_at, a first step's from_state)
# go in separate statements: on PostgreSQL nearly one statement per history row.


class SeedError(Exception):
    """Why nothing was seeded, in one line for the terminal."""


@dataclass
class Seeded:
    round_id: int
    applications: int
    history_rows: int


def open_demo_round(db) -> Round:
    rounds = db.scalars(select(Round).join(Programme).where(Programme.title == core.TITLE).order_by(Round.id))
    for rnd in rounds:
        if means(rnd, "open"):
            return rnd
    raise SeedError("no open round of the demo programme: run `grants demo INI` first")


def seed_applications(registry, n: int, *, now: dt.datetime | None = None) -> Seeded:
    """Add ``n`` applications to the demo's open round (see the module's docstring)."""
    from grants.accounts.organisations import add_member_without_invitation
    from grants.applications import services as applications

    if n < 1:
        raise SeedError("--applications must be at least 1")
    now = now or utcnow()
    run = uuid.uuid4().hex[:8]
    with registry.database.transaction() as (_tm, db):
        rnd = open_demo_round(db)
        owner = tools.make_user(db, f"seed-{run}@example.org", f"Seed applicant {run}")
        first = Organisation(legal_name=f"Seeded association {run}-0", country="TN", created_by_id=owner.id)
        db.add(first)
        db.flush()
        add_member_without_invitation(db, first, owner)
        template = applications.create_application(db, registry, rnd, first, owner, title=f"Seeded project {run}-0",
                                                   now=now)
        tools.fill_application(db, registry, template, owner)
        db.flush()
        wf = registry.workflows.get(chosen_workflow(template))
        attachments = [(a.stage, a.kind, a.file_id) for a in template.attachments]
        actor = f"user:{owner.id}"

        organisation_ids = [first.id]
        for start in range(1, n, CHUNK):
            rows = [{"legal_name": f"Seeded association {run}-{i}", "country": "TN", "created_by_id": owner.id,
                     "created_at": now} for i in range(start, min(start + CHUNK, n))]
            organisation_ids += db.scalars(
                insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True), rows).all()
        for start in range(1, n, CHUNK):
            db.execute(insert(Membership), [{"user_id": owner.id, "organisation_id": organisation_ids[i],
                                             "kind": "owner"} for i in range(start, min(start + CHUNK, n))])

        history = 0
        for start in range(0, n, CHUNK):
            batch = range(start, min(start + CHUNK, n))
            states, steps_of = {}, {}
            for i in batch:  # where each one ends, by walking the workflow's own transitions
                state, steps = wf.definition.initial, []
                for trigger in PATHS[i % len(PATHS)]:
                    dest = wf.definition.transition(trigger, state).dest
                    steps.append((trigger, state, dest))
                    state = dest
                states[i], steps_of[i] = state, steps
            ids = {0: template.id} if start == 0 else {}
            new = [i for i in batch if i not in ids]
            if new:
                values = [{"round_id": rnd.id, "organisation_id": organisation_ids[i],
                           "title": f"Seeded project {run}-{i}", "created_at": now,
                           "form_version": template.form_version, "answers": template.answers,
                           "sections_done": template.sections_done, "proposal": {},
                           "amount_minor": template.amount_minor, "amount_currency": template.amount_currency,
                           "submitted_at": now if steps_of[i] else None,
                           "workflow_id": wf.id, "workflow_version": wf.version,
                           "workflow_digest": wf.definition.digest, "state": states[i], "row_version": 1}
                          for i in new]
                ids.update(zip(new, db.scalars(insert(Application).execution_options(render_nulls=True)
                                               .returning(Application.id, sort_by_parameter_order=True),
                                               values).all()))
                if attachments:  # the same stored files as the first one's: the documents are alike
                    db.execute(insert(ApplicationAttachment), [
                        {"application_id": ids[i], "stage": stage, "kind": kind, "file_id": file_id, "created_at": now}
                        for i in new for stage, kind, file_id in attachments])
            rows = []
            for i in batch:
                if i > 0:  # the first was made through the services, with its "create" row (and stays a draft)
                    rows.append(_history(wf, ids[i], "create", None, wf.definition.initial, actor, now))
                rows += [_history(wf, ids[i], trigger, source, dest,
                                  "system:bench-seed" if trigger == "confirm_eligible" else actor, now)
                         for trigger, source, dest in steps_of[i]]
            db.execute(insert(HistoryEntry).execution_options(render_nulls=True), rows)
            history += len(rows)
            # Bulk INSERTs pass by what keeps the round page's counts as the services
            # write (the first one's were counted so): add this batch's, in two statements.
            reached = Counter(state for i in batch if i > 0
                              for state in {wf.definition.initial, *(dest for _t, _s, dest in steps_of[i])})
            if reached:
                add_to_counts(db, ReachedCount, [
                    {"object_type": Application.__tablename__, "group_id": rnd.id, "state": state, "n": count}
                    for state, count in sorted(reached.items())])
                # Their organisations are new and name no region.
                add_to_counts(db, RegionCount, [{"round_id": rnd.id, "region_code": NO_REGION, "n": len(new)}])
    return Seeded(rnd.id, n, history)


def _history(wf, application_id: int, trigger: str, source, dest: str, actor: str, now: dt.datetime) -> dict:
    return {"object_type": Application.__tablename__, "object_id": application_id, "workflow_id": wf.id,
            "workflow_version": wf.version, "definition_digest": wf.definition.digest, "trigger": trigger,
            "from_state": source, "to_state": dest, "actor": actor,
            "user_id": int(actor[5:]) if actor.startswith("user:") else None, "comment": "", "data_digest": None,
            "at": now}
