"""Full refresh or incremental: decided before dbt runs, from the record of the last successful build.

Incremental dbt models rebuild the keys whose raw rows landed after the last successful build's
newest landing time (`loaded_since`). That is exact only while every raw row a build saw is
still there and its newest versions are newer files; when it cannot be sure, the build is a full
refresh (docs/decisions.md, Incremental builds).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

BUILDS_TABLE = "transform.dbt_builds"
INCREMENTAL = "incremental"
FULL_REFRESH = "full_refresh"
# An incremental build tests only the rows it wrote; a full refresh at least this often (in days of
# extracts) re-tests every row, e.g. a child whose parent was deleted under it.
FULL_REFRESH_EVERY_DAYS = 7
# Data tests that re-derive every month from the raw layer: what they check changes only with the SQL
# (a change of which forces a full refresh) or with a full refresh's data, so incremental builds skip them.
HISTORY_WIDE_TAG = "history_wide"
# Models side by side in an incremental build, whose nodes each write a night's rows: while one runs
# its SQL, dbt does the other's own work (docs/decisions.md). A full refresh keeps the profile's one
# thread: two heavy models side by side ran out of DuckDB's memory at a million accounts.
INCREMENTAL_THREADS = 2
REPORTING_MONTHS_TABLE = "intermediate.int_reporting_months"
RAW_INVOICES_TABLE = "raw_billing.invoices"


@dataclass(frozen=True)
class BuildPlan:
    mode: str  # INCREMENTAL or FULL_REFRESH
    reason: str
    as_of_date: date  # newest extract date landed: what this build covers
    loaded_until: datetime  # newest landing time this build reads: the next build's `loaded_since`
    loaded_since: datetime | None  # the last successful build's loaded_until (incremental only)
    previous_as_of_date: date | None  # the last successful build's as-of date (incremental only)
    settings: dict[str, Any]  # dbt vars of the run besides as_of_date
    sql_fingerprint: str

    def dbt_args(self) -> list[str]:
        """Arguments of `dbt build`: unit tests check the SQL, not the data, so they run in the test
        suite, not every night; history-wide tests run on full refreshes only; an incremental build
        runs two models at a time."""
        args = ["--vars", json.dumps(self.settings)] if self.settings else []
        if self.mode == FULL_REFRESH:
            return [*args, "--full-refresh", "--exclude", "test_type:unit"]
        return [*args, "--threads", str(INCREMENTAL_THREADS), "--exclude", f"test_type:unit tag:{HISTORY_WIDE_TAG}"]

    def dbt_env(self) -> dict[str, str | None]:
        """The values that change every build, as the environment variables the dbt macro
        build_value reads (None: unset). As --vars they made dbt re-parse the whole project in
        every build."""
        incremental = self.mode == INCREMENTAL
        return {
            "CX_BUILD_AS_OF_DATE": self.as_of_date.isoformat(),
            "CX_BUILD_LOADED_SINCE": self.loaded_since.isoformat(sep=" ") if incremental else None,
            "CX_BUILD_PREVIOUS_AS_OF_DATE": self.previous_as_of_date.isoformat() if incremental else None,
        }


def project_sql_fingerprint(manifest: dict, project_file: Path) -> str:
    """sha256 over the SQL of every model, seed and data test of the project, its macros and its
    dbt_project.yml (the default vars): if any changed, what the incremental tables hold may not be
    what the project would build now, and the history-wide tests an incremental build leaves out
    have not checked it."""
    project = manifest["metadata"]["project_name"]
    digest = hashlib.sha256(project_file.read_bytes())
    for uid, node in sorted(manifest["nodes"].items()):
        if node.get("package_name") == project:
            digest.update(f"{uid}\0{node['checksum']['checksum']}\0".encode())
    for uid, macro in sorted(manifest["macros"].items()):
        if macro.get("package_name") == project:
            digest.update(f"{uid}\0{macro['macro_sql']}\0".encode())
    return digest.hexdigest()


def incremental_tables(manifest: dict) -> list[str]:
    """The warehouse tables of the project's incremental models, as `schema.table`."""
    return sorted(
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    )


def plan_build(
    con: duckdb.DuckDBPyConnection,
    settings: dict[str, Any],
    sql_fingerprint: str,
    incremental_model_tables: Sequence[str] = (),
) -> BuildPlan:
    """The build mode for the landed extracts, with the reason for it."""
    as_of, loaded_until = con.execute("SELECT max(extract_date), max(loaded_at) FROM ingest.extract_files").fetchone()
    last = _last_successful_build(con)

    def plan(mode: str, reason: str) -> BuildPlan:
        since, previous_as_of = (last["loaded_until"], last["as_of_date"]) if mode == INCREMENTAL else (None, None)
        return BuildPlan(mode, reason, as_of, loaded_until, since, previous_as_of, settings, sql_fingerprint)

    if last is None:
        return plan(FULL_REFRESH, "the warehouse has no successful build yet")
    unfinished = _unfinished_build_since(con, last["run_id"])
    if unfinished:
        return plan(
            FULL_REFRESH,
            f"the dbt build of run {unfinished} failed, was cut short or built a subset of the models: "
            "the tables it wrote may be partly built and partly tested",
        )
    if last["sql_fingerprint"] != sql_fingerprint:
        return plan(FULL_REFRESH, "the dbt project (a model, seed, data test, macro or dbt_project.yml) changed")
    if last["settings"] != settings:
        return plan(FULL_REFRESH, f"the dbt vars changed from {last['settings']} to {settings}")
    # dbt builds a missing incremental table whole within an incremental build, and its rows then
    # all carry this build's marker, which a model downstream reads as this build's changes
    # (int_invoices_converted appends the staged invoices written by this build).
    missing = _missing_tables(con, incremental_model_tables)
    if missing:
        return plan(FULL_REFRESH, f"incremental tables are missing from the warehouse (dropped?): {', '.join(missing)}")
    if (as_of - last["last_full_refresh_as_of"]).days >= FULL_REFRESH_EVERY_DAYS:
        return plan(
            FULL_REFRESH,
            f"the last full refresh, as of {last['last_full_refresh_as_of']}, is {FULL_REFRESH_EVERY_DAYS} or more "
            "days old: the weekly full refresh re-tests every row",
        )
    # A file dated on or before what was built is a re-delivery (its earlier rows were replaced, so
    # records may have vanished) or a late file: only a full refresh is sure to be right.
    late = con.execute(
        "SELECT source_file, extract_date FROM ingest.extract_files WHERE loaded_at > ? AND extract_date <= ? "
        "ORDER BY source_file",
        [last["loaded_until"], last["as_of_date"]],
    ).fetchall()
    if late:
        files = ", ".join(f"{file} ({extract_date})" for file, extract_date in late)
        return plan(
            FULL_REFRESH,
            f"landed since the last build and dated on or before its as-of date {last['as_of_date']} "
            f"(re-delivered or late): {files}",
        )
    # The reporting months start at the first month of a subscription invoice: a version of a changed
    # invoice dated in that month or earlier, old or new, may move it, which no changed key of a
    # monthly model says. One EXISTS per date column, so that each scan skips by its own column's
    # zone maps the row groups after that month (one scan with both dates read every row: 23
    # million at a million accounts).
    (first_month,) = con.execute(f"SELECT min(month) FROM {REPORTING_MONTHS_TABLE}").fetchone()
    if first_month is not None and con.execute(
        f"""
        WITH changed_invoices AS (SELECT invoice_id FROM {RAW_INVOICES_TABLE} WHERE _loaded_at > $loaded_until)
        SELECT
            EXISTS (
                SELECT 1 FROM {RAW_INVOICES_TABLE}
                WHERE issued_at < $first_month + INTERVAL 1 MONTH
                    AND invoice_id IN (SELECT invoice_id FROM changed_invoices)
            )
            OR EXISTS (
                SELECT 1 FROM {RAW_INVOICES_TABLE}
                WHERE service_period_start < $first_month + INTERVAL 1 MONTH
                    AND invoice_id IN (SELECT invoice_id FROM changed_invoices)
            )
        """,
        {"loaded_until": last["loaded_until"], "first_month": first_month},
    ).fetchone()[0]:
        return plan(
            FULL_REFRESH,
            f"an invoice landed since the last build is dated in or before the first reporting month "
            f"{first_month:%Y-%m}: the reporting months may start elsewhere",
        )
    new_files = con.execute(
        "SELECT count(*) FROM ingest.extract_files WHERE loaded_at > ?", [last["loaded_until"]]
    ).fetchone()[0]
    return plan(
        INCREMENTAL,
        f"{new_files} file(s) landed since the last build (as of {last['as_of_date']}), all dated after it",
    )


def _missing_tables(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> list[str]:
    present = {
        f"{schema}.{table}"
        for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    return [table for table in tables if table not in present]


def record_attempt(con: duckdb.DuckDBPyConnection, plan: BuildPlan, run_id: str) -> None:
    """Remembers a build before dbt starts: until record_success marks it, the next build is a full refresh."""
    _ensure_table(con)
    con.execute(
        f"INSERT INTO {BUILDS_TABLE} VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, false)",
        [
            run_id,
            plan.mode,
            plan.reason,
            plan.as_of_date,
            plan.loaded_until,
            json.dumps(plan.settings, sort_keys=True),
            plan.sql_fingerprint,
        ],
    )


def record_success(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Marks a whole build that succeeded: the next build is planned from it."""
    con.execute(f"UPDATE {BUILDS_TABLE} SET succeeded = true, finished_at = now()::TIMESTAMP WHERE run_id = ?", [run_id])


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS transform")
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {BUILDS_TABLE} (
            run_id VARCHAR NOT NULL,
            finished_at TIMESTAMP NOT NULL,
            build_mode VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            as_of_date DATE NOT NULL,
            loaded_until TIMESTAMP NOT NULL,
            settings JSON NOT NULL,
            sql_fingerprint VARCHAR NOT NULL,
            succeeded BOOLEAN NOT NULL
        )
        """
    )
    # Warehouses built before attempts were recorded hold successful builds only.
    con.execute(f"ALTER TABLE {BUILDS_TABLE} ADD COLUMN IF NOT EXISTS succeeded BOOLEAN DEFAULT true")


def _succeeded(con: duckdb.DuckDBPyConnection) -> str | None:
    """SQL for "the build succeeded" on the builds table, None without one. Planning reads the
    warehouse read-only, so a table from before attempts were recorded (successes only) is read as is."""
    columns = {name for (name,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'transform' AND table_name = 'dbt_builds'"
    ).fetchall()}
    if not columns:
        return None
    return "succeeded" if "succeeded" in columns else "true"


def _unfinished_build_since(con: duckdb.DuckDBPyConnection, last_success_run_id: str) -> str | None:
    """The run of a build attempted after the last successful one and never marked successful."""
    row = con.execute(
        f"""
        SELECT run_id FROM {BUILDS_TABLE}
        WHERE NOT {_succeeded(con)}
            AND finished_at >= (SELECT finished_at FROM {BUILDS_TABLE} WHERE run_id = ?)
        ORDER BY finished_at DESC
        LIMIT 1
        """,
        [last_success_run_id],
    ).fetchone()
    return row[0] if row else None


def _last_successful_build(con: duckdb.DuckDBPyConnection) -> dict | None:
    succeeded = _succeeded(con)
    if succeeded is None:
        return None
    row = con.execute(
        f"SELECT run_id, as_of_date, loaded_until, settings, sql_fingerprint FROM {BUILDS_TABLE} "
        f"WHERE {succeeded} ORDER BY finished_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    run_id, as_of, loaded_until, settings, fingerprint = row
    last_full_refresh_as_of = con.execute(
        f"SELECT max(as_of_date) FROM {BUILDS_TABLE} WHERE build_mode = ? AND {succeeded}", [FULL_REFRESH]
    ).fetchone()[0]
    return {
        "run_id": run_id,
        "as_of_date": as_of,
        "loaded_until": loaded_until,
        "settings": json.loads(settings),
        "sql_fingerprint": fingerprint,
        "last_full_refresh_as_of": last_full_refresh_as_of,
    }
