"""Reading what a run published, for tests: rows of the serving database, fingerprints of its files."""

import hashlib

import duckdb

from orchestration import settings


def published_rows(paths, sql: str) -> list[tuple]:
    con = duckdb.connect(str(paths.serving_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def published_tables(paths) -> dict[str, list[tuple]]:
    """Every published table's rows, sorted, to compare two publications value by value."""
    return {table: sorted(published_rows(paths, f"SELECT * FROM cx.{table}"), key=repr) for table in settings.PUBLISHED_TABLES}


def fingerprint(paths) -> dict[str, str]:
    """sha256 of the serving database and of every published Parquet file, read through the fixed paths."""
    files = [paths.serving_db, *sorted(paths.parquet_dir.glob("*.parquet"))]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
