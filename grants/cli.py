"""The ``grants`` command.  Every subcommand takes the deployment's .ini first::

    grants initdb development.ini
    grants demo development.ini
    grants tick development.ini
    grants mail send development.ini
    grants bench seed development.ini --applications 10000
    grants workflow check development.ini
    grants workflow graph development.ini WORKFLOW_ID [--version N] [--format svg|mermaid] [-o FILE]
    grants workflow migrate development.ini WORKFLOW_ID --from N --to M [--map OLD=NEW ...] [--round ID]
    grants db revision development.ini [--plugin NAME] -m "what changed"
    grants i18n coverage development.ini

``grants plugin new NAME [--directory DIR]`` takes no .ini: it writes a new plugin to start from.

A user's mistake gets one line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError


class UsageError(Exception):
    """One line for the person at the terminal."""



def _counted(count: int, noun: str) -> str:
    """"1 error", "2 errors": the command line speaks English only (it is for operators),
    so an English plural is enough here; pages and mail use grants.i18n.ngettext."""
    return f"{count} {noun}" + ("" if count == 1 else "s")

def load_settings(ini: str) -> dict:
    from pyramid.paster import get_appsettings, setup_logging

    path = Path(ini)
    if not path.is_file():
        raise UsageError(f"{ini}: no such settings file")
    try:
        setup_logging(str(path))
        return dict(get_appsettings(str(path)))
    except Exception as exc:  # PasteDeploy's errors are many and unhelpful as tracebacks
        raise UsageError(f"{ini}: cannot read settings ({exc})") from None


def configured(settings: dict, *, compile_workflows: bool = True):
    from grants import StartupError, make_config

    try:
        return make_config(settings, compile_workflows=compile_workflows)
    except StartupError as exc:
        raise UsageError(str(exc)) from None


# -- subcommands ---------------------------------------------------------------------------


def enabled_migrations(settings: dict) -> dict:
    from grants import StartupError
    from grants.migrations import enabled_migrations

    try:
        return enabled_migrations(settings)
    except (StartupError, ValueError) as exc:  # ValueError: a setting the configuration needs is wrong
        raise UsageError(str(exc)) from None


def cmd_initdb(args) -> int:
    from grants import migrations

    settings = load_settings(args.ini)
    plugins = enabled_migrations(settings)
    try:
        migrations.upgrade(settings, plugins)
    except migrations.MigrationsError as exc:
        raise UsageError(str(exc)) from None
    with_plugins = f" (with plugins {', '.join(sorted(plugins))})" if plugins else ""
    print(f"database at {settings['sqlalchemy.url']} is up to date{with_plugins}")
    return 0


def cmd_db_revision(args) -> int:
    """grants' own tables, or one enabled plugin's (--plugin): never another's."""
    from grants import migrations
    from grants.plugins import enabled_plugins

    settings = load_settings(args.ini)
    if args.plugin and args.plugin not in enabled_plugins(settings):
        raise UsageError(f"plugin {args.plugin!r} is not enabled in {args.ini}: add it to grants.plugins "
                         f"and run grants initdb first")
    if args.version_path and not Path(args.version_path).is_dir():
        raise UsageError(f"--version-path {args.version_path}: no such folder")
    plugins = enabled_migrations(settings)
    try:
        path, left_alone = migrations.revision(settings, plugins, args.message, plugin=args.plugin,
                                               version_path=args.version_path)
    except migrations.MigrationsError as exc:
        raise UsageError(str(exc)) from None
    if left_alone:
        print(f"left alone (in the database, described by no model of grants or of an enabled plugin): "
              f"{', '.join(left_alone)}")
    print(f"wrote {path}: review it before you commit it")
    return 0


def cmd_plugin_new(args) -> int:
    from grants.plugin_scaffold import ScaffoldError, new_plugin

    try:
        folder = new_plugin(args.name, args.directory)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote the plugin {args.name} into {folder}")
    print(f"next: pip install -e {folder} && cd {folder} && pytest")
    return 0


def cmd_demo(args) -> int:
    from grants.demo import load_demo

    config = configured(load_settings(args.ini))
    load_demo(config.registry, out=sys.stdout)
    return 0


def cmd_bench_seed(args) -> int:
    import time

    from grants.demo.seed import SeedError, seed_applications

    config = configured(load_settings(args.ini))
    start = time.perf_counter()
    try:
        seeded = seed_applications(config.registry, args.applications)
    except SeedError as exc:
        raise UsageError(str(exc)) from None
    seconds = time.perf_counter() - start
    print(f"added {seeded.applications} applications ({seeded.history_rows} history rows) to round "
          f"{seeded.round_id} in {seconds:.1f} s ({seconds * 10_000 / seeded.applications:.1f} s per 10,000)")
    return 0


def cmd_tick(args) -> int:
    """One line per object on stdout; a progress line on stderr every TICK_PROGRESS objects
    (a long tick shows it is alive).  An object that fails is reported and the rest go on;
    the exit status is then 1, so cron mails it."""
    from grants.db import refresh_statistics
    from grants.lifecycle.services import iter_tick
    from grants.mel.services import send_reminders

    config = configured(load_settings(args.ini))
    done = failed = 0
    counts: dict[str, int] = {}
    for o in iter_tick(config.registry.database, config.registry.workflows, settings=config.registry.settings):
        print(f"{o.object_type} {o.object_id}: {o.trigger}: {o.result}", flush=True)
        done += 1
        kind = o.result.partition(":")[0]
        counts[kind] = counts.get(kind, 0) + 1
        failed += kind == "failed"
        if done % TICK_PROGRESS == 0:
            print(f"tick: {_counted(done, 'object')} done ({_tally(counts)})", file=sys.stderr, flush=True)
    if done and done % TICK_PROGRESS:
        print(f"tick: {_counted(done, 'object')} done ({_tally(counts)})", file=sys.stderr, flush=True)
    # Reminders before a report's due date: each report is reminded once (reminded_at).
    reminded = send_reminders(config.registry)
    for report_id in reminded:
        print(f"reports {report_id}: reminder sent")
    purged = purge_accounts(config.registry)
    if purged:
        print(f"sessions and sign-in counts past their time: {purged} deleted")
    refresh_statistics(config.registry.database.engine)  # SQLite's planner statistics
    # Last, so that the mail the steps above wrote into the outbox goes out in this run too.
    mailed = _send_mail(config.registry)
    if not done and not reminded and not purged and not mailed:
        print("nothing is due")
    if failed:
        print(f"grants: {_counted(failed, 'object')} failed (see the lines above and the log)", file=sys.stderr)
        return 1
    return 0


#: How often `grants tick` says how far it has got.
TICK_PROGRESS = 100


def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


def cmd_mail_send(args) -> int:
    """Send what waits in the mail outbox (safe from cron, safe twice, safe in parallel)."""
    config = configured(load_settings(args.ini))
    if not _send_mail(config.registry):
        print("no mail is waiting")
    return 0


def _send_mail(registry) -> bool:
    """One run of the outbox worker, reported; True when it did anything."""
    from grants.mail import send_mail

    report = send_mail(registry)
    if report.sent:
        print(f"mail: {_counted(len(report.sent), 'message')} sent")
    if report.postponed:
        print(f"mail: {_counted(len(report.postponed), 'message')} not sent yet, to be tried again", file=sys.stderr)
    if report.given_up:
        print(f"mail: {_counted(len(report.given_up), 'message')} given up (see mail_outbox.last_error)",
              file=sys.stderr)
    if report.stopped:
        print(f"mail: stopped: {report.stopped}", file=sys.stderr)
    return bool(report.sent or report.postponed or report.given_up)


def purge_accounts(registry) -> int:
    """Delete expired sessions and sign-in counts whose window has ended."""
    from grants.accounts import sessions, throttling

    store = registry.session_store
    now = sessions.utcnow()
    with registry.database.transaction() as (_tm, dbsession):
        idle = int(store.idle_timeout.total_seconds())
        return (sessions.purge_expired(dbsession, now=now, idle_timeout=idle)
                + throttling.purge_expired(dbsession, now=now))


def cmd_library_load(args) -> int:
    """Load (or reload) an indicator library CSV; loading the same file twice changes nothing."""
    from grants.mel.framework import FrameworkRefused, load_library
    from grants.workflow.engine import plain

    config = configured(load_settings(args.ini))
    try:
        with config.registry.database.transaction() as (_tm, dbsession):
            done = load_library(dbsession, args.file, library=args.library)
    except FrameworkRefused as exc:
        raise UsageError("; ".join(plain(r) for r in exc.reasons)) from None
    except FileNotFoundError:
        raise UsageError(f"no such file: {args.file}") from None
    print(f"{len(done.created)} added, {len(done.updated)} changed, {len(done.unchanged)} unchanged")
    return 0


def cmd_export(args) -> int:
    """Open data: 360Giving (JSON package or CSV) or IATI 2.03 activity XML."""
    from sqlalchemy import select

    from grants.awards.models import Award

    config = configured(load_settings(args.ini))
    if args.standard == "iati" and args.format != "json":
        raise UsageError("IATI is written as XML only; leave out --format")
    with config.registry.database.transaction() as (_tm, dbsession):
        if dbsession.scalar(select(Award.id).limit(1)) is None:
            # A 360Giving package needs at least one grant; an empty file would not validate.
            raise UsageError("no awards yet: there is nothing to export")
        if args.output in (None, "-"):
            _export_to(dbsession, config.registry, args, sys.stdout.buffer)
        else:
            # Written beside it and renamed when complete: a failed export never leaves
            # half a file where the last good one was.
            partial = Path(f"{args.output}.part")
            try:
                with open(partial, "wb") as fh:
                    _export_to(dbsession, config.registry, args, fh)
                partial.replace(args.output)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                raise UsageError(f"cannot write {args.output} ({exc.strerror})") from None
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    if args.output not in (None, "-"):
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _export_to(dbsession, registry, args, out) -> None:
    """One grant at a time, from awards read in batches: flat memory for any number."""
    from grants.reporting import exports

    if args.standard == "360giving":
        exports.write_threesixty_giving(dbsession, registry, out, fmt=args.format, release=True)
    else:
        exports.write_iati_activities(dbsession, registry, out, release=True)


def cmd_workflow_check(args) -> int:
    from grants.workflow import WorkflowConfigurationError, lint
    from grants.workflow.registry import lost_meanings

    config = configured(load_settings(args.ini), compile_workflows=False)
    registry = config.registry.workflows
    try:
        definitions = registry.effective_definitions()
    except WorkflowConfigurationError as exc:
        raise UsageError(str(exc)) from None
    by_key = {d.key: d for d in definitions}
    errors = 0
    for d in definitions:
        problems = [(True, p) for p in registry.check_references(d)]
        problems += [(True, p) for p in lost_meanings(d, by_key.get((d.family, d.version)))]
        problems += [(p.is_error, str(p)) for p in lint(d)]
        for is_error, text in problems:
            print(f"{'error' if is_error else 'warning'}: {text}")
            errors += is_error
        status = "ok" if not any(e for e, _ in problems) else "FAILED"
        extra = f", {_counted(len(d.extensions), 'plugin change')}" if d.extensions else ""
        variant = f"a variant of {d.family} from plugin {d.origin}, " if d.id != d.family else ""
        print(f"{d.id} v{d.version} ({variant}{d.source}{extra}): {status}")
    errors += _check_stored_workflows(config.registry, registry, definitions)
    if errors:
        print(_counted(errors, "error"), file=sys.stderr)
        return 1
    return 0


def _check_stored_workflows(app_registry, registry, definitions) -> int:
    """Lint the versions made in the workflow editor as the files are linted; returns the
    number of errors that count.  A draft's problems are listed but do not fail the check:
    nothing runs a draft, and its editor shows the same list on every save."""
    from sqlalchemy import inspect

    from grants.workflow import DefinitionError, lint
    from grants.workflow.registry import lost_meanings
    from grants.workflow_editor.models import RELEASED, WorkflowVersion
    from grants.workflow_editor.services import all_versions, to_definition

    database = app_registry.database
    try:
        if WorkflowVersion.__tablename__ not in inspect(database.engine).get_table_names():
            print("(no versions edited in the browser: the database has no table for them; run `grants initdb`)")
            return 0
    except DBAPIError as exc:
        raise UsageError(f"cannot read the database for the versions edited in the browser ({exc.orig})") from None
    newest_base = {}
    for d in definitions:
        if d.id == d.family and d.version >= newest_base.get(d.family, d).version:
            newest_base[d.family] = d
    errors = 0
    with database.transaction() as (_tm, dbsession):
        for row in all_versions(dbsession):
            released = row.status == RELEASED
            try:
                d = to_definition(row)
            except DefinitionError as exc:
                d, problems = None, [(True, str(exc))]
            else:
                problems = [(True, p) for p in registry.check_references(d)]
                problems += [(True, p) for p in lost_meanings(d, newest_base.get(d.family))]
                problems += [(p.is_error, str(p)) for p in lint(d)]
            for is_error, text in problems:
                level = "error" if is_error else "warning"
                print(f"{level if released else level + ' in a draft'}: {text}")
                errors += is_error and released
            failed = any(e for e, _ in problems)
            status = ("FAILED" if released else "not releasable yet") if failed else "ok"
            kind = "released" if released else "draft"
            print(f"{row.workflow_id} v{row.version} ({kind}, a variant of {row.family} edited in the browser, "
                  f"copied from {row.copied_from}): {status}")
    return errors


def cmd_workflow_graph(args) -> int:
    from grants.workflow.diagram import render

    config = configured(load_settings(args.ini))
    registry = config.registry.workflows
    if not registry.versions(args.workflow_id):
        known = ", ".join(sorted({wf.id for wf in registry}))
        raise UsageError(f"no workflow {args.workflow_id!r} (known: {known})")
    if args.version is not None and args.version not in registry.versions(args.workflow_id):
        raise UsageError(f"workflow {args.workflow_id} has no version {args.version}")
    text = render(registry.get(args.workflow_id, args.version).definition, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_workflow_migrate(args) -> int:
    from grants.lifecycle.services import MigrationError, in_round, migrate_in_batches

    state_map = {}
    for item in args.map or []:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise UsageError(f"--map {item}: write it as OLD=NEW")
        state_map[old] = new
    to_workflow, _sep, to_version = args.to_version.rpartition(":")
    if not to_version.isdigit():
        raise UsageError(f"--to {args.to_version}: write a version (2) or a workflow and version (application:1)")
    if args.batch < 1:
        raise UsageError(f"--batch {args.batch}: give a number of objects, 1 or more")
    config = configured(load_settings(args.ini))

    def progress(moved: int) -> None:
        print(f"moved {_counted(moved, 'object')} so far", file=sys.stderr, flush=True)

    # Batch by batch, each committed: killed half-way, the same command moves the rest.
    try:
        counts = migrate_in_batches(config.registry.database, config.registry.workflows, args.workflow_id,
                                    args.from_version, int(to_version), state_map, to_workflow=to_workflow or None,
                                    batch=args.batch, progress=progress,
                                    where=in_round(args.round) if args.round is not None else None)
    except MigrationError as exc:
        raise UsageError(str(exc)) from None
    total = sum(counts.values())
    target = f"{to_workflow} v{to_version}" if to_workflow else f"v{to_version}"
    print(f"moved {_counted(total, 'object')} from {args.workflow_id} v{args.from_version} to {target}")
    for state, n in sorted(counts.items()):
        print(f"  {state} -> {state_map.get(state, state)}: {n}")
    return 0


def cmd_workflow_fire(args) -> int:
    """One line per object not fired (refused, a conflict, failed); a progress line on
    stderr every TICK_PROGRESS objects; the tally at the end.  Exit status 1 if any failed."""
    from sqlalchemy import func, select

    from grants.accounts.models import User
    from grants.lifecycle.models import workflow_models
    from grants.lifecycle.services import iter_fire_many

    if args.batch < 1:
        raise UsageError(f"--batch {args.batch}: give a number of objects, 1 or more")
    config = configured(load_settings(args.ini))  # imports every model, plugins' too
    registry = config.registry
    models = [m for m in workflow_models() if m.__workflow__ == args.kind]
    if not models:
        kinds = ", ".join(sorted({m.__workflow__ for m in workflow_models()}))
        raise UsageError(f"{args.kind}: not a kind of object with a workflow ({kinds})")
    with registry.database.transaction() as (_tm, db):
        user_id = db.scalar(select(User.id).where(func.lower(User.email) == args.as_email.strip().lower()))
    if user_id is None:
        raise UsageError(f"--as {args.as_email}: no account has this e-mail address")
    done, counts, failed = 0, {}, 0
    for o in iter_fire_many(registry.database, registry.workflows, models[0], args.trigger, user_id,
                            round_id=args.round, states=tuple(args.state or ()), comment=args.comment or "",
                            batch=args.batch, settings=registry.settings):
        done += 1
        kind = o.result.partition(":")[0]
        counts[kind] = counts.get(kind, 0) + 1
        failed += kind == "failed"
        if kind != "fired":
            print(f"{o.object_type} {o.object_id}: {o.trigger}: {o.result}", flush=True)
        if done % TICK_PROGRESS == 0:
            print(f"{args.trigger}: {_counted(done, 'object')} so far ({_tally(counts)})", file=sys.stderr, flush=True)
    print(f"{args.trigger}: {_counted(counts.get('fired', 0), 'object')} moved"
          + (f" ({_tally(counts)})" if done else ""))
    # The mail the steps wrote into the outbox goes out now, not at the next tick.
    _send_mail(registry)
    return 1 if failed else 0


def cmd_i18n_coverage(args) -> int:
    """A report, not a check: a language partly translated is allowed (English shows through)."""
    from grants.locale.coverage import coverage, format_report

    config = configured(load_settings(args.ini), compile_workflows=False)
    sys.stdout.write(format_report(coverage(config.registry)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grants", description="Run and administer a grants deployment.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("ini", help="the deployment's settings file, e.g. development.ini")
        p.set_defaults(func=func)
        return p

    add("initdb", cmd_initdb, "create or upgrade the database (Alembic upgrade to head)")
    add("demo", cmd_demo, "load demonstration data and print the sign-ins")
    add("tick", cmd_tick, "fire every time-based transition that is due (safe from cron, safe twice)")
    mail = sub.add_parser("mail", help="the outgoing mail outbox").add_subparsers(dest="mail_command",
                                                                                 required=True, metavar="ACTION")
    send = mail.add_parser("send", help="send the mail waiting in the outbox, retrying what failed before "
                                        "once its time has come (also done by `grants tick`)")
    send.add_argument("ini")
    send.set_defaults(func=cmd_mail_send)
    bench = sub.add_parser("bench", help="for trying grants at scale").add_subparsers(dest="bench_command",
                                                                                     required=True, metavar="ACTION")
    seed = bench.add_parser("seed", help="add many applications (with organisations, answers, documents and "
                                         "history) to the demo's open round; run `grants demo` first")
    seed.add_argument("ini")
    seed.add_argument("--applications", type=int, default=1000, metavar="N", help="how many (default 1000)")
    seed.set_defaults(func=cmd_bench_seed)
    lib = sub.add_parser("library", help="indicator libraries").add_subparsers(dest="library_command",
                                                                            required=True, metavar="ACTION")
    load = lib.add_parser("load", help="load an indicator library from a CSV file (code, title, level, measure, "
                                       "unit, method, disaggregation, description)")
    load.add_argument("ini")
    load.add_argument("file")
    load.add_argument("--library", default="pve-bank", help="the library's name (default pve-bank)")
    load.set_defaults(func=cmd_library_load)
    export = sub.add_parser("export", help="write open data about awarded grants (360Giving, IATI)",
                            description="write open data about awarded grants (360Giving, IATI)")
    export.add_argument("standard", choices=["360giving", "iati"])
    export.add_argument("ini", help="the deployment's settings file, e.g. development.ini")
    export.add_argument("-o", "--output", help="write to this file instead of standard output")
    export.add_argument("--format", choices=["json", "csv"], default="json",
                        help="360Giving only: the JSON package (default) or the spreadsheet form as CSV")
    export.set_defaults(func=cmd_export)

    db = sub.add_parser("db", help="database migrations for developers").add_subparsers(dest="db_command",
                                                                                        required=True)
    rev = db.add_parser("revision", help="autogenerate a migration to review by hand")
    rev.add_argument("ini")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--plugin", metavar="NAME",
                     help="an enabled plugin's tables, on its own branch and in its migrations folder "
                          "(default: grants' own tables)")
    rev.add_argument("--version-path", metavar="DIR", help="write the file into DIR instead")
    rev.set_defaults(func=cmd_db_revision)

    plugin = sub.add_parser("plugin", help="for plugin authors").add_subparsers(dest="plugin_command",
                                                                              required=True, metavar="ACTION")
    new = plugin.add_parser("new", help="write a new plugin distribution to start from (no .ini needed)",
                            description="write a new plugin distribution to start from: a workflow variant "
                                        "with one inserted step, a guard, a role, translations, a model and "
                                        "its migration, and tests on grants' pytest fixtures")
    new.add_argument("name", help="the plugin's name: lower-case letters, digits and underscores")
    new.add_argument("--directory", metavar="DIR", help="where to write it (default: ./NAME)")
    new.set_defaults(func=cmd_plugin_new)

    wf = sub.add_parser("workflow", help="check, draw and migrate workflow definitions")
    wf_sub = wf.add_subparsers(dest="workflow_command", required=True, metavar="ACTION")
    check = wf_sub.add_parser("check", help="lint every definition with plugins applied")
    check.add_argument("ini")
    check.set_defaults(func=cmd_workflow_check)
    graph = wf_sub.add_parser("graph", help="draw a definition (plugins applied) as SVG or Mermaid")
    graph.add_argument("ini")
    graph.add_argument("workflow_id")
    graph.add_argument("--version", type=int)
    graph.add_argument("--format", choices=["svg", "mermaid"], default="svg")
    graph.add_argument("-o", "--output", help="write to this file instead of standard output")
    graph.set_defaults(func=cmd_workflow_graph)
    mig = wf_sub.add_parser("migrate", help="move in-flight objects to another version of their workflow")
    mig.add_argument("ini")
    mig.add_argument("workflow_id")
    mig.add_argument("--from", dest="from_version", type=int, required=True)
    mig.add_argument("--to", dest="to_version", required=True,
                     help="the version to move to (2), or another workflow of the same family and its version (application:1)")
    mig.add_argument("--map", action="append", metavar="OLD=NEW", help="where objects in state OLD go")
    mig.add_argument("--batch", type=int, default=100, metavar="N",
                     help="objects moved per transaction (default 100); a run stopped half-way is finished "
                          "by running it again")
    mig.add_argument("--round", type=int, metavar="ID",
                     help="only the objects of this round (its applications), as the workflow editor's move page can")
    mig.set_defaults(func=cmd_workflow_migrate)
    fire = wf_sub.add_parser("fire", help="take one step on many objects (as a person, with their permission and "
                                          "every guard), each in its own transaction",
                             description="Fire TRIGGER on every object of KIND that can take it: e.g. release every "
                                         "tranche of a round whose condition holds. Killed half-way, every object "
                                         "has moved with its history or not at all; running it again moves the "
                                         "rest.")
    fire.add_argument("ini")
    fire.add_argument("kind", help="the kind of object: application, award, tranche, report, round, …")
    fire.add_argument("trigger", help="the step's trigger, as in the workflow file (release, withdraw, …)")
    fire.add_argument("--as", dest="as_email", required=True, metavar="EMAIL",
                      help="whose step it is: their roles decide what they may do, and the history names them")
    fire.add_argument("--round", type=int, metavar="ID", help="only the objects of this round")
    fire.add_argument("--state", action="append", metavar="STATE", help="only objects in this state (repeatable)")
    fire.add_argument("--comment", help="the step's comment (some steps require one)")
    fire.add_argument("--batch", type=int, default=500, metavar="N", help="objects looked up per query")
    fire.set_defaults(func=cmd_workflow_fire)

    i18n = sub.add_parser("i18n", help="translation catalogs")
    i18n_sub = i18n.add_subparsers(dest="i18n_command", required=True, metavar="ACTION")
    cov = i18n_sub.add_parser("coverage", help="how much of each catalog (grants', deform's, colander's, each "
                                               "plugin's) is translated, for each language the deployment offers")
    cov.add_argument("ini")
    cov.set_defaults(func=cmd_i18n_coverage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"grants: {exc}", file=sys.stderr)
        return 2
    except DBAPIError as exc:  # unreachable server, wrong credentials, missing tables
        print(f"grants: database error: {str(exc.orig).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
