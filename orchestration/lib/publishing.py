"""Publishing the checked marts to the serving database and Parquet files BI tools read.

Every publication is a complete folder, `serving/publication-<id>/` with `cx_metrics.duckdb` and
`parquet/<table>.parquet`, and one symbolic link, `serving/current`, names the live one. BI tools
open the fixed paths `serving/cx_metrics.duckdb` and `serving/parquet/`, links through `current`.
Switching `current` by an atomic rename is the only commit point: a reader sees the old set of files
or the new one, never a mix; a client holding the old database open keeps reading the old tables;
and a run that fails or is killed before the switch leaves the published files exactly as they were
(its unfinished folder is removed by the next publication). The publication before the live one is
kept (link `serving/previous`) until the next one, so a reader that listed the Parquet files just
before a switch can still read them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from orchestration.settings import SERVING_SCHEMA, SERVING_STORAGE_VERSION, Paths

MARTS_SCHEMA = "marts"
BUILD_MARKER_COLUMN = "_built_at"


@dataclass(frozen=True)
class Publication:
    tables: dict[str, int]  # table -> rows published
    as_of_date: date
    published_at: datetime


def _sql_literal(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def publish_marts(paths: Paths, tables: tuple[str, ...], as_of_date: date, run_id: str) -> Publication:
    paths.serving_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_publications(paths)
    previous = _target(paths.current_publication)
    publication_dir = paths.serving_dir / f"publication-{uuid.uuid4().hex}"
    (publication_dir / "parquet").mkdir(parents=True)
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        row_counts = _write_serving_files(paths.warehouse_db, publication_dir, tables)
        _write_publication_log(publication_dir / paths.serving_db.name, row_counts, as_of_date, published_at, run_id)
    except BaseException:
        shutil.rmtree(publication_dir, ignore_errors=True)
        raise
    _replace_with_link(paths.current_publication, publication_dir.name)
    _link_fixed_paths(paths)
    if previous is not None:
        # Kept until the next publication: a reader that listed the Parquet files just before the
        # switch can still read them.
        _replace_with_link(paths.previous_publication, previous.name)
    remove_stale_publications(paths)
    return Publication(row_counts, as_of_date, published_at)


def _target(link: Path) -> Path | None:
    return link.resolve() if link.is_symlink() else None


def remove_stale_publications(paths: Paths) -> None:
    """Removes every publication folder but the current and the previous one: those of older runs,
    and those that never became current (one run at a time, so nothing else is writing there), and
    the temporary links of an interrupted switch."""
    kept = {_target(paths.current_publication), _target(paths.previous_publication)}
    for folder in paths.serving_dir.glob("publication-*"):
        if folder.resolve() not in kept:
            shutil.rmtree(folder, ignore_errors=True)
    for link in paths.serving_dir.glob(".link-*"):
        link.unlink(missing_ok=True)
    # What the layout before `current` (a database renamed in, a link to `parquet-<id>`) leaves.
    for folder in paths.serving_dir.glob("parquet-*"):
        shutil.rmtree(folder, ignore_errors=True)
    for leftover in [*paths.serving_dir.glob(".publishing-*"), *paths.serving_dir.glob(".parquet-link-*")]:
        leftover.unlink(missing_ok=True)


def _write_serving_files(warehouse_db: Path, publication_dir: Path, tables: tuple[str, ...]) -> dict[str, int]:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_sql_literal(warehouse_db)} AS warehouse (READ_ONLY)")
        serving_db = publication_dir / "cx_metrics.duckdb"
        con.execute(f"ATTACH {_sql_literal(serving_db)} AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
        con.execute(f"CREATE SCHEMA serving.{SERVING_SCHEMA}")
        row_counts = {}
        for table in tables:
            con.execute(
                f"CREATE TABLE serving.{SERVING_SCHEMA}.{table} AS "
                f"SELECT {_published_columns(con, table)} FROM warehouse.{MARTS_SCHEMA}.{table}"
            )
            parquet_file = publication_dir / "parquet" / f"{table}.parquet"
            con.execute(f"COPY serving.{SERVING_SCHEMA}.{table} TO {_sql_literal(parquet_file)} (FORMAT parquet)")
            row_counts[table] = con.execute(f"SELECT count(*) FROM serving.{SERVING_SCHEMA}.{table}").fetchone()[0]
        _copy_comments(con, tables)
        return row_counts
    finally:
        con.close()


def _published_columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Every column but the build marker that an incremental mart's rows carry for its data tests
    (dbt macro build_marker), which is no metric."""
    has_marker = con.execute(
        f"SELECT count(*) FROM duckdb_columns() WHERE database_name = 'warehouse' AND schema_name = '{MARTS_SCHEMA}' "
        f"AND table_name = ? AND column_name = '{BUILD_MARKER_COLUMN}'",
        [table],
    ).fetchone()[0]
    return f"* EXCLUDE ({BUILD_MARKER_COLUMN})" if has_marker else "*"


def _copy_comments(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    """The dbt descriptions (comments on the marts, persist_docs) follow the tables to BI tools."""
    comments = con.execute(
        f"""
        SELECT table_name, NULL AS column_name, comment FROM duckdb_tables()
        WHERE database_name = 'warehouse' AND schema_name = '{MARTS_SCHEMA}' AND comment IS NOT NULL
        UNION ALL
        SELECT table_name, column_name, comment FROM duckdb_columns()
        WHERE database_name = 'warehouse' AND schema_name = '{MARTS_SCHEMA}' AND comment IS NOT NULL
        """
    ).fetchall()
    for table, column, comment in comments:
        if table not in tables:
            continue
        target = f"TABLE serving.{SERVING_SCHEMA}.{table}" if column is None else f'COLUMN serving.{SERVING_SCHEMA}.{table}."{column}"'
        con.execute(f"COMMENT ON {target} IS {_sql_literal(comment.strip())}")


def _write_publication_log(
    new_db: Path, row_counts: dict[str, int], as_of_date: date, published_at: datetime, run_id: str
) -> None:
    con = duckdb.connect(str(new_db))
    try:
        con.execute(
            f"""
            CREATE TABLE {SERVING_SCHEMA}._publication AS
            SELECT
                unnest(?::VARCHAR[]) AS table_name,
                unnest(?::BIGINT[]) AS row_count,
                ?::DATE AS as_of_date,
                ?::TIMESTAMP AS published_at,
                ?::VARCHAR AS run_id
            """,
            [list(row_counts), list(row_counts.values()), as_of_date, published_at, run_id],
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _replace_with_link(path: Path, target: str) -> None:
    """Makes `path` a symbolic link to `target` in one atomic rename."""
    link = path.parent / f".link-{uuid.uuid4().hex}"
    link.symlink_to(target)
    os.replace(link, path)


def _link_fixed_paths(paths: Paths) -> None:
    """The paths BI tools open lead through `current`; set once, they never change again."""
    for fixed in (paths.serving_db, paths.parquet_dir):
        target = f"{paths.current_publication.name}/{fixed.name}"
        if fixed.is_symlink() and os.readlink(fixed) == target:
            continue
        if fixed.is_dir() and not fixed.is_symlink():
            shutil.rmtree(fixed)  # a folder from an older layout: a link cannot replace a folder
        _replace_with_link(fixed, target)
