"""The corpus of bad extracts (`tests/bad_extracts`): each case lands in a fresh warehouse with its documented outcome.

A row-level problem quarantines the row with its file, row, column and reason while the good rows of the
file land; a file-level problem fails the ingest naming the file, and nothing lands. The outcomes are
listed in `tests/bad_extracts/README.md`.
"""

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from orchestration import settings
from orchestration.lib import validation, warehouse
from orchestration.lib.contracts import ENTITIES_BY_PATH, Entity
from orchestration.lib.ingest import IngestReport, ingest_entity
from orchestration.lib.validation import ExtractFileError

CORPUS = Path(__file__).parent / "bad_extracts"
# Each case has a few rows, so one bad row is far above the default threshold and would roll the case
# back; the cases are ingested with no threshold to show what lands, and the threshold has its own tests.
NO_THRESHOLD = 1.0


@dataclass(frozen=True)
class RowLevelCase:
    name: str
    quarantined: tuple[tuple[int, str, str, str | None], ...]  # (row, column, reason, value) by row, column
    landed_columns: str  # the select list read back from the landed rows, after _row_number
    landed: tuple[tuple, ...]  # (_row_number, *landed_columns) by row number


@dataclass(frozen=True)
class FileLevelCase:
    name: str
    error: type[Exception]
    problem: str  # the message after "<path of the file>: "


ROW_LEVEL_CASES = (
    RowLevelCase(
        "wrong_type",
        quarantined=(
            (2, "score", "not a valid integer", "nine"),
            (3, "submitted_at", "not a valid timestamp", "2024-02-30 09:00:00"),
        ),
        landed_columns="response_id, score, submitted_at",
        landed=((1, "R10", 8, datetime(2024, 3, 10, 10)), (4, "R13", 3, datetime(2024, 3, 10, 13))),
    ),
    RowLevelCase(
        "value_outside_enumeration",
        quarantined=(
            (1, "priority", "'critical' is not one of low, normal, high, urgent", "critical"),
            # Enumerations are case-sensitive.
            (3, "status", "'Open' is not one of new, open, pending, on_hold, solved, closed", "Open"),
        ),
        landed_columns="ticket_id, priority, status",
        landed=((2, "T21", "normal", "solved"),),
    ),
    RowLevelCase(
        "duplicate_key_in_file",
        quarantined=(),
        # Both rows of SE are versions with the same updated_at: the later row (active) wins downstream.
        landed_columns="subscription_id, status, updated_at",
        landed=(
            (1, "SE", "trialing", datetime(2024, 3, 11, 9)),
            (2, "SE", "active", datetime(2024, 3, 11, 9)),
            (3, "SB", "active", datetime(2024, 3, 11, 10)),
        ),
    ),
    RowLevelCase(
        "survey_score_outside_scale",
        quarantined=(
            (1, "score", "score 6 is outside the scale 1-5", "6"),
            (2, "score", "score 0 is outside the scale 1-7", "0"),
        ),
        landed_columns="response_id, score, scale_min, scale_max",
        landed=((3, "R22", 5, 1, 5),),
    ),
    RowLevelCase(
        "nps_not_on_0_to_10",
        quarantined=(
            # One row, two problems: both are reported, and the row counts once.
            (1, "scale_max", "nps scales end at 10", "5"),
            (1, "scale_min", "nps scales start at 0", "1"),
            (2, "scale_max", "nps scales end at 10", "5"),
        ),
        landed_columns="response_id, score, scale_min, scale_max",
        landed=((3, "R32", 10, 0, 10),),
    ),
    RowLevelCase(
        "negative_amount",
        quarantined=(
            (1, "subtotal", "subtotal is negative but invoice_type is not credit_note", "-50.00"),
            (3, "discount_amount", "discount_amount must not be negative", "-10.00"),
        ),
        landed_columns="invoice_id, invoice_type, subtotal, total",
        landed=((2, "ic1", "credit_note", -50.0, -50.0),),
    ),
    RowLevelCase(
        "total_not_subtotal_minus_discount_plus_tax",
        quarantined=((1, "total", "total 100.00 != subtotal - discount_amount + tax_amount = 99.00", "100.00"),),
        landed_columns="invoice_id, subtotal, discount_amount, tax_amount, total",
        # Empty discount and tax count as 0.
        landed=((2, "io4", 100.0, 10.0, 9.0, 99.0), (3, "io5", 80.0, None, None, 80.0)),
    ),
    RowLevelCase(
        "service_period_ends_before_it_starts",
        quarantined=(
            (1, "service_period_end", "service_period_end 2024-03-01 is not after service_period_start 2024-04-01",
             "2024-03-01"),
            # The end is exclusive, so a period ending where it starts is empty and refused too.
            (2, "service_period_end", "service_period_end 2024-04-15 is not after service_period_start 2024-04-15",
             "2024-04-15"),
        ),
        landed_columns="invoice_id, service_period_start, service_period_end",
        landed=((3, "ic4", date(2025, 2, 10), date(2026, 2, 10)),),
    ),
    # The next two are decided in dbt, after landing: see the README.
    RowLevelCase(
        "currency_without_fx_rate",
        quarantined=(),
        landed_columns="invoice_id, currency, total",
        landed=((1, "ig1", "GBP", 80.0),),
    ),
    RowLevelCase(
        "ticket_event_for_unknown_ticket",
        quarantined=(),
        landed_columns="event_id, ticket_id, new_status",
        landed=((1, "E90", "T404", None), (2, "E91", "T404", "solved")),
    ),
    RowLevelCase(
        "byte_order_mark",
        quarantined=(),
        landed_columns="account_id, account_name, created_at",
        landed=((1, "G", "Công ty Cổ phần Sao Mai", datetime(2024, 3, 10, 20)),),
    ),
    RowLevelCase(
        "embedded_newlines_and_quotes",
        quarantined=(),
        landed_columns="ticket_id, subject, status",
        # Row numbers count records, not lines: T31 is record 2 on line 4.
        landed=(
            (1, "T30", 'Export fails,\nsays "CSV error" on line 2', "open"),
            (2, "T31", '"Quoted" subject, with comma', "new"),
        ),
    ),
    RowLevelCase(
        "header_only_file",
        quarantined=(),
        landed_columns="ticket_id",
        landed=(),
    ),
    RowLevelCase(
        "extra_unknown_columns",
        quarantined=(),
        landed_columns="product_id, _extra_columns->>'tier', _extra_columns->>'legacy_sku'",
        landed=((1, "P3", "gold", "HD-AN-01"), (2, "P4", None, "HD-LT-02")),
    ),
    RowLevelCase(
        "mixed_timestamp_offsets",
        quarantined=(),
        landed_columns="event_id, created_at",
        # Z, +07:00, -05:00 and naive (UTC): in UTC they are 15 minutes apart, in file order.
        landed=(
            (1, "E80", datetime(2024, 3, 10, 23, 30)),
            (2, "E81", datetime(2024, 3, 10, 23, 45)),
            (3, "E82", datetime(2024, 3, 11, 0, 0)),
            (4, "E83", datetime(2024, 3, 11, 1, 15)),
        ),
    ),
)

FILE_LEVEL_CASES = (
    FileLevelCase("missing_required_column", ExtractFileError, "missing required column(s): total"),
    FileLevelCase("invalid_utf8", ExtractFileError, "not valid UTF-8 at byte 245 (line 3)"),
    FileLevelCase("empty_file", ExtractFileError, "the file is empty"),
    FileLevelCase(
        "truncated_gzip",
        ExtractFileError,
        "truncated or corrupt gzip (Compressed file ended before the end-of-stream marker was reached)",
    ),
    FileLevelCase(
        "unterminated_quote",
        ExtractFileError,
        "malformed CSV (CSV parse error: Expected 12 columns, got 6: "
        'T32,A,email,high,incident,"Export fails,open,,agent-1,2024-03-11T07:00:00Z,2024-03-11T07:05:00Z, ...)',
    ),
)

SEPARATELY_TESTED_CASES = {"future_extract_date", "quarantine_under_threshold", "quarantine_over_threshold"}


def _copy_case(name: str, data_dir) -> tuple[Entity, str]:
    """Copies the case's extracts into the data dir; its entity and the relative path of its one file."""
    shutil.copytree(CORPUS / name / "extracts", data_dir.extracts_dir)
    (path,) = [p for p in data_dir.extracts_dir.rglob("*") if p.is_file()]
    relative_path = path.relative_to(data_dir.extracts_dir)
    return ENTITIES_BY_PATH["/".join(relative_path.parts[:2])], relative_path.as_posix()


@pytest.fixture
def con(data_dir):
    connection = warehouse.connect(data_dir.warehouse_db)
    warehouse.ensure_schema(connection)
    yield connection
    connection.close()


def _ingest(con, data_dir, entity: Entity, quarantine_threshold: float) -> IngestReport:
    return ingest_entity(con, entity, data_dir.extracts_dir, quarantine_threshold, log=lambda line: None)


def _counts_logged(con, relative_path: str) -> tuple[int, int, int] | None:
    return con.execute(
        "SELECT rows_read, rows_landed, rows_quarantined FROM ingest.extract_files WHERE source_file = ?",
        [relative_path],
    ).fetchone()


def _nothing_landed(con, entity: Entity) -> bool:
    return con.execute(
        f"SELECT (SELECT count(*) FROM {entity.raw_schema}.{entity.name}) + "
        "(SELECT count(*) FROM ingest.quarantined_rows) + (SELECT count(*) FROM ingest.extract_files)"
    ).fetchone() == (0,)


@pytest.fixture(params=["gx", "duckdb"])
def check_engine(request, monkeypatch) -> str:
    """gx: the files as they are, checked by GX. duckdb: what a large file goes through, made to happen
    on the small cases: CSV streamed and every file read two rows at a time, each chunk checked by the
    suites compiled to DuckDB SQL and scanned one row per batch."""
    if request.param == "duckdb":
        monkeypatch.setattr(validation, "GX_MAX_ROWS", 0)
        monkeypatch.setattr(validation, "CHUNK_ROWS", 2)
        monkeypatch.setattr(validation, "SCAN_BATCH_ROWS", 1)
        monkeypatch.setattr(validation, "STREAMED_CSV_BYTES", 0)
    return request.param


@pytest.mark.parametrize("case", ROW_LEVEL_CASES, ids=lambda case: case.name)
def test_row_level_case_lands_good_rows_and_quarantines_bad_ones(case, con, data_dir, check_engine):
    entity, relative_path = _copy_case(case.name, data_dir)

    report = _ingest(con, data_dir, entity, NO_THRESHOLD)

    quarantined = con.execute(
        "SELECT source_file, row_number, column_name, reason, value FROM ingest.quarantined_rows "
        "ORDER BY row_number, column_name"
    ).fetchall()
    assert quarantined == [(relative_path, *problem) for problem in case.quarantined]
    landed = con.execute(
        f"SELECT _row_number, {case.landed_columns} FROM {entity.raw_schema}.{entity.name} "
        "WHERE _source_file = ? ORDER BY _row_number",
        [relative_path],
    ).fetchall()
    assert landed == list(case.landed)
    # Every row read is one of the rows found above, in the report and in ingest.extract_files alike.
    rows_quarantined = len({row for row, *_ in case.quarantined})
    counts = (len(case.landed) + rows_quarantined, len(case.landed), rows_quarantined)
    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == counts
    assert _counts_logged(con, relative_path) == counts


@pytest.mark.parametrize("case", FILE_LEVEL_CASES, ids=lambda case: case.name)
def test_file_level_case_refuses_the_file_by_name_and_lands_nothing(case, con, data_dir):
    entity, relative_path = _copy_case(case.name, data_dir)

    with pytest.raises(case.error) as refused:
        _ingest(con, data_dir, entity, NO_THRESHOLD)

    assert str(refused.value) == f"{data_dir.extracts_dir / relative_path}: {case.problem}"
    assert _nothing_landed(con, entity)


def test_an_extract_dated_in_the_future_is_refused_by_name(con, data_dir):
    entity, relative_path = _copy_case("future_extract_date", data_dir)
    today = datetime.now(timezone.utc).date()

    with pytest.raises(warehouse.ExtractNameError) as refused:
        _ingest(con, data_dir, entity, NO_THRESHOLD)

    assert str(refused.value) == (
        f"{data_dir.extracts_dir / relative_path}: extract date 2099-01-01 is in the future "
        f"(today is {today} UTC); the as-of date of a run cannot be later than today"
    )
    assert _nothing_landed(con, entity)


def test_an_extract_may_be_dated_tomorrow_in_utc_but_no_later(con, data_dir):
    entity, relative_path = _copy_case("future_extract_date", data_dir)
    delivered = data_dir.extracts_dir / relative_path
    today = datetime.now(timezone.utc).date()
    # Where the source is, ahead of UTC, it may already be tomorrow.
    tomorrow = delivered.rename(delivered.with_name(f"{today + timedelta(days=1)}.csv"))

    assert _ingest(con, data_dir, entity, NO_THRESHOLD).rows_landed == 1

    day_after = today + timedelta(days=2)
    day_after_file = shutil.copy(tomorrow, tomorrow.with_name(f"{day_after}.csv"))
    with pytest.raises(warehouse.ExtractNameError) as refused:
        _ingest(con, data_dir, entity, NO_THRESHOLD)
    assert str(refused.value).startswith(f"{day_after_file}: extract date {day_after} is in the future")


@pytest.fixture
def default_threshold(monkeypatch) -> float:
    monkeypatch.delenv("CX_QUARANTINE_THRESHOLD", raising=False)
    assert settings.quarantine_threshold() == 0.01
    return settings.quarantine_threshold()


def test_one_bad_row_in_200_stays_under_the_default_threshold_and_lands(con, data_dir, default_threshold):
    entity, relative_path = _copy_case("quarantine_under_threshold", data_dir)

    report = _ingest(con, data_dir, entity, default_threshold)

    assert not report.rolled_back and report.quarantine_rate == 0.005
    assert con.execute(
        "SELECT source_file, row_number, column_name, reason FROM ingest.quarantined_rows"
    ).fetchall() == [(relative_path, 120, "rate", "rate must be greater than 0")]
    assert con.execute("SELECT count(*) FROM raw_billing.fx_rates").fetchone() == (199,)
    assert _counts_logged(con, relative_path) == (200, 199, 1)


def test_three_bad_rows_in_200_exceed_the_default_threshold_and_roll_back(con, data_dir, default_threshold):
    entity, relative_path = _copy_case("quarantine_over_threshold", data_dir)

    report = _ingest(con, data_dir, entity, default_threshold)

    assert report.rolled_back and report.quarantine_rate == 0.015
    # The 197 good rows are held back with the bad ones: the next run checks the whole file again.
    assert (report.rows_read, report.rows_landed, report.rows_quarantined, report.rows_held_back) == (200, 0, 3, 197)
    # Nothing is kept, so the report is what names the rows that failed the run.
    assert report.quarantine_sample == [
        (relative_path, 50, "rate", "rate must be greater than 0"),
        (relative_path, 120, "rate", "rate must be greater than 0"),
        (relative_path, 180, "rate", "not a valid decimal"),
    ]
    assert _nothing_landed(con, entity)


def test_every_case_of_the_corpus_is_tested_and_documented():
    on_disk = {path.name for path in CORPUS.iterdir() if path.is_dir()}
    tested = {case.name for case in (*ROW_LEVEL_CASES, *FILE_LEVEL_CASES)} | SEPARATELY_TESTED_CASES
    documented = {
        line.split("|")[1].strip(" `")
        for line in (CORPUS / "README.md").read_text().splitlines()
        if line.startswith("| `")
    }

    assert on_disk == tested == documented
