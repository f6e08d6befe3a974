"""The raw layer of the warehouse: landing checked extract rows with their lineage.

Every entity lands in `raw_<source>.<entity>` with its contract columns typed, any unknown columns
kept as JSON in `_extra_columns`, and the lineage of each row (`_source_file`, `_extract_date`,
`_row_number`). Rows that broke the contract go to `ingest.quarantined_rows` instead, and
`ingest.extract_files` remembers which delivery of each file was landed, so a re-run lands nothing
twice and a re-delivered file replaces its earlier delivery in one transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration import settings
from orchestration.lib.contracts import DUCKDB_TYPES, ENTITIES, Column, Entity

EXTRACT_NAME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})\.(?P<ext>csv|csv\.gz|jsonl|parquet)$")
LINEAGE_COLUMNS = {
    "_extra_columns": "JSON",
    "_source_file": "VARCHAR NOT NULL",
    "_extract_date": "DATE NOT NULL",
    "_row_number": "BIGINT NOT NULL",
    "_loaded_at": "TIMESTAMP NOT NULL",
}


class ExtractNameError(Exception):
    """A file in an entity folder whose name is not `<YYYY-MM-DD>.<csv|csv.gz|jsonl|parquet>`, or whose date is
    in the future."""


@dataclass(frozen=True)
class ExtractFile:
    path: Path
    relative_path: str
    extract_date: date

    @property
    def stat_signature(self) -> tuple[int, int]:
        """(size in bytes, modification time in ns): a file with the same as when it landed is not read again."""
        stat = self.path.stat()
        return stat.st_size, stat.st_mtime_ns

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def connect(
    db_path: Path | None = None, read_only: bool = False, checkpoint_on_close: bool = True
) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse. One that writes a row or two can leave its writes in the
    write-ahead log when it closes (`checkpoint_on_close=False`), for the next connection to
    replay: checkpointing them rewrote the large warehouse's metadata, 0.15 to 0.3 s a close at a
    million accounts (docs/performance.md)."""
    db_path = db_path or settings.paths().warehouse_db
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{settings.duckdb_memory_limit()}'")
    if not checkpoint_on_close:
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Creates the raw and ingest tables if they are missing (idempotent)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ingest")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS ingest.extract_files (
            entity VARCHAR NOT NULL,
            source_file VARCHAR PRIMARY KEY,
            extract_date DATE NOT NULL,
            sha256 VARCHAR NOT NULL,
            rows_read BIGINT NOT NULL,
            rows_landed BIGINT NOT NULL,
            rows_quarantined BIGINT NOT NULL,
            loaded_at TIMESTAMP NOT NULL
        )
        """
    )
    # Added later than the table: warehouses created before have it without them.
    con.execute("ALTER TABLE ingest.extract_files ADD COLUMN IF NOT EXISTS size_bytes BIGINT")
    con.execute("ALTER TABLE ingest.extract_files ADD COLUMN IF NOT EXISTS modified_ns BIGINT")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS ingest.quarantined_rows (
            entity VARCHAR NOT NULL,
            source_file VARCHAR NOT NULL,
            extract_date DATE NOT NULL,
            row_number BIGINT NOT NULL,
            column_name VARCHAR,
            reason VARCHAR NOT NULL,
            value VARCHAR,
            quarantined_at TIMESTAMP NOT NULL
        )
        """
    )
    for entity in ENTITIES:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {entity.raw_schema}")
        columns = [f"{c.name} {DUCKDB_TYPES[c.type]}" for c in entity.columns]
        columns += [f"{name} {type_}" for name, type_ in LINEAGE_COLUMNS.items()]
        con.execute(f"CREATE TABLE IF NOT EXISTS {entity.raw_schema}.{entity.name} ({', '.join(columns)})")


def discover_extracts(entity: Entity, extracts_dir: Path | None = None) -> list[ExtractFile]:
    """The entity's extract files, oldest extract date first."""
    extracts_dir = extracts_dir or settings.paths().extracts_dir
    folder = extracts_dir / entity.source / entity.name
    if not folder.is_dir():
        return []
    today = datetime.now(timezone.utc).date()
    # A source in a time zone ahead of UTC may already date its extracts tomorrow, UTC time.
    latest_allowed = today + timedelta(days=1)
    files = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        match = EXTRACT_NAME.match(path.name)
        if not match:
            raise ExtractNameError(
                f"{path}: file name must be <YYYY-MM-DD>.<csv|csv.gz|jsonl|parquet> (extracts.md)"
            )
        try:
            extract_date = date.fromisoformat(match["date"])
        except ValueError as error:
            raise ExtractNameError(f"{path}: {match['date']} is not a calendar date ({error})") from None
        if extract_date > latest_allowed:
            # The newest extract date is the as-of date of the run: a future one would date every metric wrongly.
            raise ExtractNameError(
                f"{path}: extract date {extract_date} is in the future (today is {today} UTC); "
                "the as-of date of a run cannot be later than today"
            )
        files.append(ExtractFile(path, path.relative_to(extracts_dir).as_posix(), extract_date))
    dates = [f.extract_date for f in files]
    if len(set(dates)) < len(dates):
        twice = sorted({d.isoformat() for d in dates if dates.count(d) > 1})
        # Two formats of one date would tie on (extract date, row position): which version wins?
        raise ExtractNameError(f"{folder}: more than one file for extract date(s) {', '.join(twice)}")
    return sorted(files, key=lambda f: f.extract_date)


def latest_complete_extract_date(extracts_dir: Path, quiet: timedelta = timedelta(minutes=30)) -> date | None:
    """The newest extract date whose delivery is complete: every entity that delivered on the
    previous extract date has a file for it too, or nothing has arrived for `quiet` (an entity with
    no changes that day may send no file). Misnamed files are left to the run to report."""
    dates_by_entity = []
    newest_arrival = 0.0
    for entity in ENTITIES:
        folder = extracts_dir / entity.source / entity.name
        files = [p for p in folder.iterdir() if EXTRACT_NAME.match(p.name)] if folder.is_dir() else []
        dates_by_entity.append({EXTRACT_NAME.match(p.name)["date"] for p in files})
        newest_arrival = max([newest_arrival, *(p.stat().st_mtime for p in files)])
    all_dates = sorted(set().union(*dates_by_entity))
    if not all_dates:
        return None
    newest, previous = all_dates[-1], (all_dates[-2] if len(all_dates) > 1 else None)
    expected = [dates for dates in dates_by_entity if (previous in dates if previous else dates)]
    settled = datetime.now(timezone.utc).timestamp() - newest_arrival >= quiet.total_seconds()
    if settled or all(newest in dates for dates in expected):
        return date.fromisoformat(newest)
    return date.fromisoformat(previous) if previous else None


def is_landed(con: duckdb.DuckDBPyConnection, extract: ExtractFile) -> bool:
    """Whether this delivery of the file has landed: same size and modification time as the landed
    one (no need to read it), or else the same content, whose new signature is then remembered."""
    landed = con.execute(
        "SELECT sha256, size_bytes, modified_ns FROM ingest.extract_files WHERE source_file = ?",
        [extract.relative_path],
    ).fetchone()
    if landed is None:
        return False
    signature = extract.stat_signature
    if landed[1:] == signature:
        return True
    if landed[0] != extract.sha256:
        return False
    con.execute(
        "UPDATE ingest.extract_files SET size_bytes = ?, modified_ns = ? WHERE source_file = ?",
        [*signature, extract.relative_path],
    )
    return True


def _cast(column: Column) -> str:
    name = sql_identifier(column.name)
    if column.type == "timestamp":
        # Offsets are converted to UTC; a naive timestamp is UTC already (session TimeZone). A value
        # ending in Z needs no time zone arithmetic, and the plain cast is a third of the cost of the
        # TIMESTAMPTZ one (docs/performance.md); the plain cast would ignore any other offset.
        return (
            f"CASE WHEN {name}[-1] = 'Z' THEN CAST({name} AS TIMESTAMP) "
            f"ELSE timezone('UTC', CAST({name} AS TIMESTAMPTZ)) END"
        )
    if column.type == "boolean":
        return f"CAST(lower({name}) AS BOOLEAN)"
    return f"CAST({name} AS {DUCKDB_TYPES[column.type]})"


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _extra_columns_json(extra: list[str]) -> str:
    if not extra:
        return "NULL"
    return "json_object(" + ", ".join(f"{sql_string(c)}, {sql_identifier(c)}" for c in extra) + ")"


def clear_delivery(con: duckdb.DuckDBPyConnection, extract: ExtractFile, entity: Entity) -> None:
    """Removes whatever an earlier delivery of this file landed; the caller owns the transaction.

    A file's rows, quarantined rows and ledger row land in one transaction, so a file without a
    ledger row has none: its raw table is not scanned for them (0.1 s a file at a million accounts,
    where a nightly run's files are all new)."""
    landed_before = con.execute(
        "SELECT 1 FROM ingest.extract_files WHERE source_file = ?", [extract.relative_path]
    ).fetchone()
    if landed_before is None:
        return
    con.execute(f"DELETE FROM {entity.raw_schema}.{entity.name} WHERE _source_file = ?", [extract.relative_path])
    con.execute("DELETE FROM ingest.quarantined_rows WHERE source_file = ?", [extract.relative_path])
    con.execute("DELETE FROM ingest.extract_files WHERE source_file = ?", [extract.relative_path])


def land_chunk(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extract: ExtractFile,
    checked_rows: pa.Table,
    rejected_rows: pd.DataFrame,
) -> int:
    """Appends the rows of one checked chunk of the file, typed, but those with a problem, which go to
    the quarantine with their problems; returns the number of rows landed.

    The SQL reads `checked_rows` and `rejected_rows` by name from this function's variables (DuckDB's
    replacement scan): a table registered on the connection stays alive until the ingest transaction
    ends, so registering each chunk held a whole 88-million-row file in memory (12.3 GiB peak).
    """
    extra = [c for c in checked_rows.column_names if c not in entity.column_names and c != "_row_number"]
    select_list = ", ".join(
        [_cast(c) for c in entity.columns]
        + [_extra_columns_json(extra), "?", "CAST(? AS DATE)", "_row_number", "now()::TIMESTAMP"]
    )
    # The chunk is in row order, and DuckDB keeps it (preserve_insertion_order).
    landed = con.execute(
        f"INSERT INTO {entity.raw_schema}.{entity.name} SELECT {select_list} FROM checked_rows "
        "WHERE _row_number NOT IN (SELECT row_number FROM rejected_rows)",
        [extract.relative_path, extract.extract_date.isoformat()],
    ).fetchone()[0]
    con.execute(
        """
        INSERT INTO ingest.quarantined_rows
        SELECT ?, ?, CAST(? AS DATE), row_number, column_name, reason, value, now()::TIMESTAMP
        FROM rejected_rows
        """,
        [entity.path, extract.relative_path, extract.extract_date.isoformat()],
    )
    return landed


def record_delivery(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extract: ExtractFile,
    signature: tuple[int, int],
    sha256: str,
    rows_read: int,
    rows_landed: int,
) -> None:
    con.execute(
        """
        INSERT INTO ingest.extract_files (entity, source_file, extract_date, sha256, rows_read, rows_landed,
            rows_quarantined, loaded_at, size_bytes, modified_ns)
        VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?)
        """,
        [entity.path, extract.relative_path, extract.extract_date, sha256, rows_read, rows_landed,
         rows_read - rows_landed, *signature],
    )


def as_of_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The newest extract date over all landed files (extracts.md)."""
    return con.execute("SELECT max(extract_date) FROM ingest.extract_files").fetchone()[0]


def failing_test_rows(con: duckdb.DuckDBPyConnection, test_sql: str, limit: int = 5) -> list[dict]:
    """The first rows a failed dbt test's compiled query returns, to say what exactly failed. The
    tests store no failing rows (docs/decisions.md), so the query runs again, on the warehouse the
    build left; a query that errors gives no rows."""
    query = test_sql.strip().rstrip(";")
    if not query:
        return []
    try:
        # On lines of its own: the test's SQL may end with a comment.
        frame = con.execute(f"SELECT * FROM (\n{query}\n) AS failing_rows LIMIT {int(limit)}").df()
    except duckdb.Error:
        return []
    return frame.astype(str).to_dict("records")
