"""Publishing the checked marts to the serving database and Parquet files BI tools read.

Publishing never touches the live files in place: the new serving database and Parquet files are
written beside them and swapped in with renames. A BI client that holds the old database open keeps
reading the old tables; a run that fails before the swap leaves the published tables exactly as they
were.
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
    work_dir = paths.serving_dir / f".publishing-{uuid.uuid4().hex}"
    work_dir.mkdir()
    try:
        new_db = work_dir / paths.serving_db.name
        new_parquet_dir = work_dir / "parquet"
        new_parquet_dir.mkdir()
        published_at = datetime.now(timezone.utc).replace(tzinfo=None)
        row_counts = _write_serving_files(paths.warehouse_db, new_db, new_parquet_dir, tables)
        _write_publication_log(new_db, row_counts, as_of_date, published_at, run_id)
        _swap_in(new_db, new_parquet_dir, paths)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return Publication(row_counts, as_of_date, published_at)


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
    # The database swap is one atomic rename; readers holding the old file keep their snapshot.
    os.replace(new_db, paths.serving_db)
    retired = paths.serving_dir / f".retired-{uuid.uuid4().hex}"
    if paths.parquet_dir.exists():
        paths.parquet_dir.rename(retired)
    new_parquet_dir.rename(paths.parquet_dir)
    shutil.rmtree(retired, ignore_errors=True)
