"""`cx-pipeline`: generate sample extracts, run the nightly job, open the Dagster UI."""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import NoReturn

from orchestration import settings

LOG_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
# The profiles of `sample_data.SCALES`, named here so that the other commands need not import numpy.
SCALE_NAMES = ("small", "medium", "large")
# Tags of a run started by `cx-pipeline run`, to find it again if its process is killed.
LAUNCHER_TAG = "cx/launched_by"
PID_TAG = "cx/pid"


def _setting(text: str) -> tuple[str, object]:
    """`name=value` of a metric setting; the value is read as YAML (80 is a number, EUR a string)."""
    import yaml

    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), yaml.safe_load(value)


def generate(args: argparse.Namespace) -> int:
    from orchestration.lib.sample_data import SCALES
    from orchestration.lib.sample_data import generate as generate_extracts

    overrides = {name: getattr(args, name) for name in ("accounts", "months", "change_days")}
    profile = dataclasses.replace(SCALES[args.scale], **{k: v for k, v in overrides.items() if v is not None})
    target = settings.paths().extracts_dir
    print(
        f"Generating sample extracts into {target} ({args.scale} scale: seed {args.seed}, {profile.accounts:,} accounts, "
        f"{profile.months} months, {profile.change_days} change days"
        f"{', Parquet full loads' if profile.parquet_full_load else ''})",
        flush=True,
    )
    started = time.monotonic()
    rows = generate_extracts(
        target,
        seed=args.seed,
        as_of=args.as_of,
        progress=lambda line: print(f"  {line}", flush=True),
        **dataclasses.asdict(profile),
    )
    print(f"Done: {sum(rows.values()):,} rows in {len(rows)} entities in {time.monotonic() - started:,.0f} s.")
    return 0


def run(args: argparse.Namespace) -> int:
    settings.prepare_dagster_home()
    lock_path = settings.paths().data_dir / ".nightly.lock"
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Another run holds {lock_path}; not starting a second one on the same data folder.")
            return 1
        # Started before this process imports anything heavy (both modules need only the standard
        # library): dbt imports and parses on the other core, and the disk fills the page cache with
        # the warehouse, while this process imports the job and lands the day's files.
        from orchestration.lib import page_cache, warm_dbt

        settings.export_dbt_env()
        worker = warm_dbt.start(settings.DBT_PROJECT_DIR, settings.DBT_TARGET_DIR, dict(args.set))
        page_cache.read_ahead(settings.paths().warehouse_db)
        try:
            from orchestration.lib.dbt import ensure_manifest

            # Before the worker is named: the `dbt parse` of a changed project runs dbt itself, and
            # the one command the worker waits for stays the build's.
            ensure_manifest()
            os.environ[warm_dbt.SOCKET_ENV] = str(worker.socket_path)
            return _run_nightly_job(args)
        finally:
            os.environ.pop(warm_dbt.SOCKET_ENV, None)
            worker.stop()


def _run_nightly_job(args: argparse.Namespace) -> int:
    from dagster import DagsterInstance

    from orchestration.definitions import defs
    from orchestration.lib.run_summary import summarize

    print(f"Running the nightly job on {settings.paths().data_dir}", flush=True)
    job = defs.resolve_job_def("nightly")
    with DagsterInstance.get() as instance:
        _fail_runs_of_dead_processes(instance)
        run_config = {**LOG_CONFIG, "ops": {"cx_dbt_models": {"config": {"dbt_vars": dict(args.set)}}}}
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=run_config,
            tags={LAUNCHER_TAG: "cx-pipeline run", PID_TAG: str(os.getpid())},
        )
        print(summarize(result, instance))
    return 0 if result.success else 1


def _fail_runs_of_dead_processes(instance) -> None:
    """A run whose process was killed stays "started" in Dagster for ever (and would hold the
    instance's only run slot). Called under the data folder's lock, so no other `cx-pipeline run` is
    alive: every earlier one still marked unfinished was killed, and is marked failed."""
    from dagster import DagsterRunStatus, RunsFilter

    unfinished = instance.get_runs(
        RunsFilter(
            statuses=[DagsterRunStatus.STARTING, DagsterRunStatus.STARTED],
            tags={LAUNCHER_TAG: "cx-pipeline run"},
        )
    )
    for dead_run in unfinished:
        instance.report_run_failed(
            dead_run,
            message=f"The process that ran it (pid {dead_run.tags.get(PID_TAG)}) ended without finishing "
            "the run (killed?); the published tables are those of the last complete run.",
        )
        print(f"Marked run {dead_run.run_id} as failed: its process ended without finishing it.")


def report(args: argparse.Namespace) -> int:
    settings.prepare_dagster_home()
    from dagster import DagsterInstance

    from orchestration.lib.report import NothingPublishedError, published_run, run_quality, write_report

    paths = settings.paths()
    try:
        with DagsterInstance.get() as instance:
            quality = run_quality(instance, published_run(paths).run_id)
        output = write_report(paths, args.output or paths.report_html, quality)
    except NothingPublishedError as error:
        print(error)
        return 1
    print(f"Report written to {output}" + (f" (data quality: {quality.summary()})" if quality else ""))
    return 0


def docs(args: argparse.Namespace) -> int:
    from orchestration.lib import warehouse
    from orchestration.lib.dbt import dbt_resource
    from orchestration.lib.warm_dbt import DBT_EXECUTABLE

    paths = settings.paths()
    settings.export_dbt_env()
    if not paths.warehouse_db.exists():
        print(f"No warehouse yet at {paths.warehouse_db}: run `cx-pipeline run` first (the docs describe its tables).")
        return 1
    con = warehouse.connect(paths.warehouse_db, read_only=True)
    try:
        as_of = warehouse.as_of_date(con) or date.today()
    finally:
        con.close()
    print(f"Building the dbt docs site in {paths.dbt_docs_dir}", flush=True)
    generated = dbt_resource().cli(
        ["docs", "generate", "--vars", json.dumps({"as_of_date": as_of.isoformat()})], target_path=paths.dbt_docs_dir
    )
    if not generated.is_successful():
        print("dbt docs generate failed (is a nightly run holding the warehouse?)")
        return 1
    if args.no_serve:
        print(f"Docs site: {paths.dbt_docs_dir / 'index.html'}")
        return 0
    print(f"dbt docs on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    dbt = str(DBT_EXECUTABLE)
    command = [
        dbt, "docs", "serve", "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir",
        str(settings.DBT_PROJECT_DIR), "--target-path", str(paths.dbt_docs_dir),
        "--host", args.host, "--port", str(args.port), "--no-browser",
    ]
    os.execve(dbt, command, os.environ)


def ui(args: argparse.Namespace) -> int:
    settings.prepare_dagster_home()
    from orchestration.lib.dbt import ensure_manifest

    ensure_manifest()
    command = [
        sys.executable, "-m", "dagster", "dev",
        "-m", "orchestration.definitions",
        "-h", args.host, "-p", str(args.port),
    ]
    # `dagster dev` prepares the dbt project with the `dbt` on PATH: make it this environment's.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    # Replaced by `dagster dev`, so that a stop signal reaches it and it shuts its servers down.
    os.execve(sys.executable, command, env)


def console_main() -> NoReturn:
    """The `cx-pipeline` command: `main`, then the process ends without tearing down the modules
    a run imported (1.4 to 1.7 s after its summary)."""
    from orchestration.lib.process_exit import exit_without_teardown

    exit_without_teardown(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cx-pipeline",
        description="Customer-experience metrics pipeline. CX_DATA_DIR selects the data folder "
        f"(now {settings.paths().data_dir}).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="write deterministic sample extracts to $CX_DATA_DIR/extracts")
    gen.add_argument(
        "--scale", choices=SCALE_NAMES, default="small",
        help="size profile: small (2,000 accounts), medium (100,000) or large (1,000,000, Parquet full loads); "
        "--accounts, --months and --change-days override its values",
    )
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--accounts", type=int, default=None, help="number of accounts (default: the scale's)")
    gen.add_argument("--months", type=int, default=None, help="months of history in the full load (default: the scale's)")
    gen.add_argument(
        "--change-days", type=int, default=None, help="daily change extracts after the full load (default: the scale's)"
    )
    gen.add_argument("--as-of", type=date.fromisoformat, default=None, help="date of the newest extract (default: yesterday)")
    gen.set_defaults(handler=generate)

    run_parser = commands.add_parser("run", help="run the nightly job in this process and print a summary")
    run_parser.add_argument(
        "--set", type=_setting, action="append", default=[], metavar="NAME=VALUE",
        help="override a metric setting for this run (dbt var), e.g. --set gross_margin_pct=80",
    )
    run_parser.set_defaults(handler=run)

    report_parser = commands.add_parser("report", help="write the HTML report of the published tables")
    report_parser.add_argument(
        "--output", type=Path, default=None, help="where to write it (default: $CX_DATA_DIR/serving/report.html)"
    )
    report_parser.set_defaults(handler=report)

    docs_parser = commands.add_parser("docs", help="build the dbt docs site (models, columns, lineage) and serve it")
    docs_parser.add_argument("--host", default="127.0.0.1")
    docs_parser.add_argument("--port", type=int, default=8080)
    docs_parser.add_argument("--no-serve", action="store_true", help="only build the site")
    docs_parser.set_defaults(handler=docs)

    ui_parser = commands.add_parser("ui", help="start the Dagster UI (and its scheduler) on localhost")
    ui_parser.add_argument("--host", default="127.0.0.1")
    ui_parser.add_argument("--port", type=int, default=3000)
    ui_parser.set_defaults(handler=ui)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
