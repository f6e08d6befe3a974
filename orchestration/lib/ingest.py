"""Ingest of one entity: find its new or re-delivered extract files, check them, land them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib import warehouse
from orchestration.lib.contracts import Entity
from orchestration.lib.validation import check_chunk, read_extract_chunks


@dataclass(frozen=True)
class FileCounts:
    """What became of the rows of one file: rows_read == rows_accepted + rows_quarantined."""

    file: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int


@dataclass
class IngestReport:
    entity: str
    threshold: float  # largest quarantined share of the rows read that still lands
    files: list[FileCounts] = field(default_factory=list)  # new or re-delivered files, oldest first
    files_unchanged: int = 0
    # (file, row, column, reason) of the first quarantined rows, for logs and metadata.
    quarantine_sample: list[tuple[str, int, str, str]] = field(default_factory=list)

    @property
    def files_landed(self) -> list[str]:
        return [] if self.rolled_back else [f.file for f in self.files]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_landed(self) -> int:
        return 0 if self.rolled_back else sum(f.rows_accepted for f in self.files)

    @property
    def rows_held_back(self) -> int:
        """Good rows not landed because the entity was rolled back; the next run checks them again."""
        return sum(f.rows_accepted for f in self.files) if self.rolled_back else 0

    @property
    def quarantine_rate(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0

    @property
    def rolled_back(self) -> bool:
        """True when too many rows were quarantined and nothing of this run's files was kept."""
        return self.quarantine_rate > self.threshold


def ingest_entity(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extracts_dir: Path,
    quarantine_threshold: float,
    log: Callable[[str], None] = print,
    sample_size: int = 5,
) -> IngestReport:
    """Lands every file of the entity whose content is not landed yet, oldest first, all or nothing.

    A file that breaks the contract as a whole raises `ExtractFileError` (naming the file); when more
    than `quarantine_threshold` of the rows read are quarantined, the landing is rolled back too. In
    both cases nothing of this run's files is kept, so the next run checks them again.
    """
    report = IngestReport(entity.path, quarantine_threshold)
    con.execute("BEGIN TRANSACTION")
    try:
        for extract in warehouse.discover_extracts(entity, extracts_dir):
            if warehouse.is_landed(con, extract):
                report.files_unchanged += 1
                continue
            counts = _land_file(con, entity, extract, report, sample_size, log)
            report.files.append(counts)
            log(
                f"{extract.relative_path}: {counts.rows_read} rows read, {counts.rows_accepted} landed, "
                f"{counts.rows_quarantined} quarantined"
            )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("ROLLBACK" if report.rolled_back else "COMMIT")
    return report


def _land_file(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extract: warehouse.ExtractFile,
    report: IngestReport,
    sample_size: int,
    log: Callable[[str], None],
) -> FileCounts:
    """Checks and lands the file chunk by chunk, replacing an earlier delivery of it."""
    # Taken before reading, so that a file changed while it is read is read again next time.
    signature, sha256 = extract.stat_signature, extract.sha256
    warehouse.clear_delivery(con, extract, entity)
    rows_read = rows_accepted = 0
    for chunk in read_extract_chunks(extract.path, entity):
        rejected = check_chunk(con, chunk, entity, str(extract.path))
        rows_accepted += warehouse.land_chunk(con, entity, extract, chunk, rejected)
        rows_read += chunk.num_rows
        for problem in rejected.head(max(0, sample_size - len(report.quarantine_sample))).itertuples():
            report.quarantine_sample.append(
                (extract.relative_path, int(problem.row_number), problem.column_name, problem.reason)
            )
        if rows_read > chunk.num_rows:  # a file of several chunks: show it moving
            log(f"{extract.relative_path}: {rows_read:,} rows checked and landed so far")
    warehouse.record_delivery(con, entity, extract, signature, sha256, rows_read, rows_accepted)
    return FileCounts(extract.relative_path, rows_read, rows_accepted, rows_read - rows_accepted)
