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

A large incremental mart named with its key (`keys`) is not written whole each time: the new
database starts as a copy of the live one, and the mart's rows that its builds rewrote since (by
their build marker, `_built_at`) replace the old ones by key. Every other table is written anew.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
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


def publish_marts(
    paths: Paths, tables: tuple[str, ...], as_of_date: date, run_id: str, keys: Mapping[str, str] | None = None
) -> Publication:
    paths.serving_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_publications(paths)
    previous = _target(paths.current_publication)
    publication_dir = paths.serving_dir / f"publication-{uuid.uuid4().hex}"
    (publication_dir / "parquet").mkdir(parents=True)
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        built_until = _write_serving_files(paths.warehouse_db, publication_dir, tables, keys or {}, previous)
        row_counts = _write_publication_log(
            publication_dir / paths.serving_db.name, built_until, as_of_date, published_at, run_id
        )
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


def _write_serving_files(
    warehouse_db: Path,
    publication_dir: Path,
    tables: tuple[str, ...],
    keys: Mapping[str, str],
    previous: Path | None,
) -> dict[str, datetime | None]:
    """Writes the serving database and the Parquet files; returns each table's newest build marker."""
    serving_db = publication_dir / "cx_metrics.duckdb"
    previous_built_until = _built_until(previous / serving_db.name) if previous is not None and keys else {}
    if previous_built_until:
        shutil.copyfile(previous / serving_db.name, serving_db)
    # Row order is no part of a published table (docs/decisions.md): unordered, both cores write a
    # Parquet file (a third faster for the million customers at scale).
    con = duckdb.connect(config={"preserve_insertion_order": False})
    try:
        con.execute(f"ATTACH {_sql_literal(warehouse_db)} AS warehouse (READ_ONLY)")
        con.execute(f"ATTACH {_sql_literal(serving_db)} AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS serving.{SERVING_SCHEMA}")
        for (table,) in con.execute(
            "SELECT table_name FROM duckdb_tables() "
            f"WHERE database_name = 'serving' AND schema_name = '{SERVING_SCHEMA}'"
        ).fetchall():
            if table not in keys or table not in tables:
                con.execute(f"DROP TABLE serving.{SERVING_SCHEMA}.{table}")
        built_until = {}
        for table in tables:
            columns = _published_columns(con, table)
            built_until[table] = _newest_build_marker(con, table)
            since = previous_built_until.get(table) if table in keys else None
            if since is not None and _same_columns(con, table) and _has_rows_built_by(con, table, since):
                _replace_rows_built_since(con, table, columns, keys[table], since)
            else:
                con.execute(f"DROP TABLE IF EXISTS serving.{SERVING_SCHEMA}.{table}")
                con.execute(
                    f"CREATE TABLE serving.{SERVING_SCHEMA}.{table} AS "
                    f"SELECT {columns} FROM warehouse.{MARTS_SCHEMA}.{table}"
                )
            parquet_file = publication_dir / "parquet" / f"{table}.parquet"
            con.execute(f"COPY serving.{SERVING_SCHEMA}.{table} TO {_sql_literal(parquet_file)} (FORMAT parquet)")
        _copy_comments(con, tables)
        return built_until
    finally:
        con.close()


def _built_until(serving_db: Path) -> dict[str, datetime]:
    """The newest build marker of each table a publication copied from the warehouse, as its log
    recorded it in a database of the current storage version (none from a publication before these
    were recorded, or of another storage version, or when a client holds the database open for
    writing, which BI tools must not: the tables are then written anew)."""
    if not serving_db.exists():
        return {}
    try:
        con = duckdb.connect(str(serving_db), read_only=True)
    except duckdb.IOException:
        return {}
    try:
        log_columns = {
            name
            for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns() "
                f"WHERE schema_name = '{SERVING_SCHEMA}' AND table_name = '_publication'"
            ).fetchall()
        }
        if not {"built_until", "storage_version"} <= log_columns:
            return {}
        return dict(
            con.execute(
                f"SELECT table_name, built_until FROM {SERVING_SCHEMA}._publication "
                "WHERE built_until IS NOT NULL AND storage_version = ?",
                [SERVING_STORAGE_VERSION],
            ).fetchall()
        )
    finally:
        con.close()


def _newest_build_marker(con: duckdb.DuckDBPyConnection, table: str) -> datetime | None:
    if not _has_build_marker(con, table):
        return None
    return con.execute(f"SELECT max({BUILD_MARKER_COLUMN}) FROM warehouse.{MARTS_SCHEMA}.{table}").fetchone()[0]


def _same_columns(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the published table has the mart's columns (names, types, order) but the build marker."""

    def columns(database: str, schema: str) -> list[tuple]:
        return con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = ? AND table_name = ? "
            f"AND column_name <> '{BUILD_MARKER_COLUMN}' "
            "ORDER BY column_index",
            [database, schema, table],
        ).fetchall()

    return columns("serving", SERVING_SCHEMA) == columns("warehouse", MARTS_SCHEMA)


def _has_rows_built_by(con: duckdb.DuckDBPyConnection, table: str, since: datetime) -> bool:
    """False after a full refresh, which rewrote every row: the table is then written anew."""
    return con.execute(
        f"SELECT coalesce(min({BUILD_MARKER_COLUMN}) <= ?, false) FROM warehouse.{MARTS_SCHEMA}.{table}", [since]
    ).fetchone()[0]


def _replace_rows_built_since(
    con: duckdb.DuckDBPyConnection, table: str, columns: str, key: str, since: datetime
) -> None:
    """Keeps the published rows whose key the mart still holds in a row written by then, and adds
    the rows written after: what the mart holds, since a build replaces a row whole and marks it."""
    published = f"serving.{SERVING_SCHEMA}.{table}"
    mart = f"warehouse.{MARTS_SCHEMA}.{table}"
    con.execute("BEGIN")
    con.execute(
        f"DELETE FROM {published} WHERE {key} NOT IN "
        f"(SELECT {key} FROM {mart} WHERE {BUILD_MARKER_COLUMN} <= ? AND {key} IS NOT NULL)",
        [since],
    )
    con.execute(f"INSERT INTO {published} SELECT {columns} FROM {mart} WHERE {BUILD_MARKER_COLUMN} > ?", [since])
    published_rows, mart_rows = con.execute(
        f"SELECT (SELECT count(*) FROM {published}), (SELECT count(*) FROM {mart})"
    ).fetchone()
    if published_rows != mart_rows:
        con.execute("ROLLBACK")
        raise RuntimeError(
            f"publishing {table} by {key}: {published_rows} rows published against {mart_rows} in the mart"
        )
    con.execute("COMMIT")


def _published_columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Every column but the build marker that an incremental mart's rows carry for its data tests
    (dbt macro build_marker), which is no metric."""
    return f"* EXCLUDE ({BUILD_MARKER_COLUMN})" if _has_build_marker(con, table) else "*"


def _has_build_marker(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(
        f"SELECT count(*) FROM duckdb_columns() WHERE database_name = 'warehouse' AND schema_name = '{MARTS_SCHEMA}' "
        f"AND table_name = ? AND column_name = '{BUILD_MARKER_COLUMN}'",
        [table],
    ).fetchone()[0] > 0


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
    new_db: Path, built_until: dict[str, datetime | None], as_of_date: date, published_at: datetime, run_id: str
) -> dict[str, int]:
    """Records the publication in its database and returns the rows of each table."""
    con = duckdb.connect(str(new_db))
    try:
        row_counts = {
            table: con.execute(f"SELECT count(*) FROM {SERVING_SCHEMA}.{table}").fetchone()[0] for table in built_until
        }
        con.execute(
            f"""
            CREATE TABLE {SERVING_SCHEMA}._publication AS
            SELECT
                unnest(?::VARCHAR[]) AS table_name,
                unnest(?::BIGINT[]) AS row_count,
                ?::DATE AS as_of_date,
                ?::TIMESTAMP AS published_at,
                ?::VARCHAR AS run_id,
                unnest(?::TIMESTAMP[]) AS built_until,
                ?::VARCHAR AS storage_version
            """,
            [
                list(row_counts), list(row_counts.values()), as_of_date, published_at, run_id,
                list(built_until.values()), SERVING_STORAGE_VERSION,
            ],
        )
        con.execute("CHECKPOINT")
        return row_counts
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
