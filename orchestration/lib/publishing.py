"""Publishing the checked marts to the serving database and Parquet files BI tools read.

Publishing never touches the live files in place: the new serving database and Parquet files are
written beside them and swapped in with atomic renames. `parquet` is a symbolic link to a versioned
folder, so a reader lists either the old set of Parquet files or the new one, never a mix. A BI
client that holds the old database open keeps reading the old tables; a run that fails before the
swap leaves the published tables exactly as they were.
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


@dataclass(frozen=True)
class Publication:
    tables: dict[str, int]  # table -> rows published
    as_of_date: date
    published_at: datetime


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def publish_marts(paths: Paths, tables: tuple[str, ...], as_of_date: date, run_id: str) -> Publication:
    paths.serving_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(paths)
    version = uuid.uuid4().hex
    new_db = paths.serving_dir / f".publishing-{version}.duckdb"
    new_parquet_dir = paths.serving_dir / f"parquet-{version}"
    new_parquet_dir.mkdir()
    try:
        published_at = datetime.now(timezone.utc).replace(tzinfo=None)
        row_counts = _write_serving_files(paths.warehouse_db, new_db, new_parquet_dir, tables)
        _write_publication_log(new_db, row_counts, as_of_date, published_at, run_id)
        _swap_in(new_db, new_parquet_dir, paths)
    except BaseException:
        new_db.unlink(missing_ok=True)
        if paths.parquet_dir.resolve() != new_parquet_dir.resolve():
            shutil.rmtree(new_parquet_dir, ignore_errors=True)
        raise
    return Publication(row_counts, as_of_date, published_at)


def remove_leftovers(paths: Paths) -> None:
    """Removes what an interrupted publication left beside the live files (one run at a time, so
    nothing else is writing there): unfinished databases and Parquet folders no link points to."""
    live_parquet_dir = paths.parquet_dir.resolve() if paths.parquet_dir.is_symlink() else None
    for leftover in paths.serving_dir.glob(".publishing-*.duckdb*"):
        leftover.unlink(missing_ok=True)
    for leftover in paths.serving_dir.glob(".parquet-link-*"):
        leftover.unlink(missing_ok=True)
    for folder in paths.serving_dir.glob("parquet-*"):
        if folder.is_dir() and folder.resolve() != live_parquet_dir:
            shutil.rmtree(folder, ignore_errors=True)


def _write_serving_files(warehouse_db: Path, new_db: Path, parquet_dir: Path, tables: tuple[str, ...]) -> dict[str, int]:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_quote_path(warehouse_db)} AS warehouse (READ_ONLY)")
        con.execute(f"ATTACH {_quote_path(new_db)} AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
        con.execute(f"CREATE SCHEMA serving.{SERVING_SCHEMA}")
        row_counts = {}
        for table in tables:
            con.execute(f"CREATE TABLE serving.{SERVING_SCHEMA}.{table} AS SELECT * FROM warehouse.{MARTS_SCHEMA}.{table}")
            con.execute(
                f"COPY serving.{SERVING_SCHEMA}.{table} TO {_quote_path(parquet_dir / f'{table}.parquet')} (FORMAT parquet)"
            )
            row_counts[table] = con.execute(f"SELECT count(*) FROM serving.{SERVING_SCHEMA}.{table}").fetchone()[0]
        return row_counts
    finally:
        con.close()


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


def _swap_in(new_db: Path, new_parquet_dir: Path, paths: Paths) -> None:
    previous_parquet_dir = paths.parquet_dir.resolve() if paths.parquet_dir.is_symlink() else None
    if paths.parquet_dir.is_dir() and previous_parquet_dir is None:
        # A plain folder (written by hand or by an older layout) is moved aside once, to become a link.
        previous_parquet_dir = paths.parquet_dir.rename(paths.serving_dir / f"parquet-{uuid.uuid4().hex}")
    link = paths.serving_dir / f".parquet-link-{new_parquet_dir.name}"
    link.symlink_to(new_parquet_dir.name)
    os.replace(link, paths.parquet_dir)
    # Readers holding the old database file keep their snapshot of it.
    os.replace(new_db, paths.serving_db)
    if previous_parquet_dir is not None and previous_parquet_dir != new_parquet_dir:
        shutil.rmtree(previous_parquet_dir, ignore_errors=True)
