"""Ingest of one entity: find its new or re-delivered extract files, check them, land them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib import warehouse
from orchestration.lib.contracts import Entity
from orchestration.lib.validation import ValidationResult, check_extract


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
            sha256 = extract.sha256
            if warehouse.landed_sha256(con, extract) == sha256:
                report.files_unchanged += 1
                continue
            result = check_extract(extract.path, entity)
            warehouse.land_extract(con, entity, extract, sha256, result.accepted, result.rejected, result.rows_read)
            _add_to_report(report, extract.relative_path, result, sample_size)
            log(
                f"{extract.relative_path}: {result.rows_read} rows read, {len(result.accepted)} landed, "
                f"{result.rows_read - len(result.accepted)} quarantined"
            )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("ROLLBACK" if report.rolled_back else "COMMIT")
    return report


def _add_to_report(report: IngestReport, relative_path: str, result: ValidationResult, sample_size: int) -> None:
    accepted = len(result.accepted)
    report.files.append(FileCounts(relative_path, result.rows_read, accepted, result.rows_read - accepted))
    for problem in result.rejected.head(max(0, sample_size - len(report.quarantine_sample))).itertuples():
        report.quarantine_sample.append((relative_path, int(problem.row_number), problem.column_name, problem.reason))
