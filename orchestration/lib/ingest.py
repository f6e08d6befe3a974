"""Ingest of one entity: find its new or re-delivered extract files, check them, land them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib import warehouse
from orchestration.lib.contracts import Entity
from orchestration.lib.validation import check_extract


@dataclass
class IngestReport:
    entity: str
    files_landed: list[str] = field(default_factory=list)
    files_unchanged: int = 0
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    # (file, row, column, reason) of the first quarantined rows, for logs and metadata.
    quarantine_sample: list[tuple[str, int, str, str]] = field(default_factory=list)

    @property
    def quarantine_rate(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


def ingest_entity(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extracts_dir: Path,
    log: Callable[[str], None] = print,
    sample_size: int = 5,
) -> IngestReport:
    """Lands every file of the entity whose content is not landed yet, oldest first.

    A file that breaks the contract as a whole raises `ExtractFileError` (naming the file) before
    anything of it lands; files landed before it in this call stay landed, as they are valid.
    """
    report = IngestReport(entity.path)
    for extract in warehouse.discover_extracts(entity, extracts_dir):
        sha256 = extract.sha256
        if warehouse.landed_sha256(con, extract) == sha256:
            report.files_unchanged += 1
            continue
        result = check_extract(extract.path, entity)
        warehouse.land_extract(con, entity, extract, sha256, result.accepted, result.rejected, result.rows_read)
        quarantined = result.rows_read - len(result.accepted)
        report.files_landed.append(extract.relative_path)
        report.rows_read += result.rows_read
        report.rows_landed += len(result.accepted)
        report.rows_quarantined += quarantined
        for problem in result.rejected.head(max(0, sample_size - len(report.quarantine_sample))).itertuples():
            report.quarantine_sample.append(
                (extract.relative_path, int(problem.row_number), problem.column_name, problem.reason)
            )
        log(
            f"{extract.relative_path}: {result.rows_read} rows read, {len(result.accepted)} landed, "
            f"{quarantined} quarantined"
        )
    return report
