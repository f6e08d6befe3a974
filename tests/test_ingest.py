"""Landing checked extracts in the raw layer: lineage, types, quarantine, re-runs and re-deliveries;
the ingest step that lands every entity."""

import itertools
import shutil
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.ingest import ingest
from orchestration.lib import warehouse
from orchestration.lib.contracts import ENTITIES_BY_PATH
from orchestration.lib.ingest import ingest_entity
from orchestration.lib.validation import ExtractFileError, read_extract_chunks

HANDBUILT = Path(__file__).parent / "fixtures" / "handbuilt" / "extracts"
ACCOUNTS = ENTITIES_BY_PATH["crm/accounts"]
INVOICES = ENTITIES_BY_PATH["billing/invoices"]


@pytest.fixture
def con(data_dir):
    shutil.copytree(HANDBUILT, data_dir.extracts_dir)
    connection = warehouse.connect(data_dir.warehouse_db)
    warehouse.ensure_schema(connection)
    yield connection
    connection.close()


def _ingest(con, data_dir, entity, quarantine_threshold=0.5):
    return ingest_entity(con, entity, data_dir.extracts_dir, quarantine_threshold, log=lambda line: None)


def test_rows_land_typed_in_utc_with_lineage(con, data_dir):
    report = _ingest(con, data_dir, ACCOUNTS)

    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == (5, 5, 0)
    assert report.files_landed == ["crm/accounts/2024-03-01.csv", "crm/accounts/2024-03-10.csv"]
    rows = con.execute(
        "SELECT account_id, account_name, created_at, is_deleted, _source_file, _extract_date, _row_number "
        "FROM raw_crm.accounts ORDER BY _extract_date, _row_number"
    ).fetchall()
    # B was created at 02:00 +07:00, which is 19:00 UTC the day before.
    assert rows[1] == ("B", "Công ty TNHH Hưng Thịnh", datetime(2024, 1, 9, 19, 0), False,
                       "crm/accounts/2024-03-01.csv", date(2024, 3, 1), 2)
    assert rows[3][1] == 'Delta "Deli" Co'
    assert rows[4][:1] == ("C",) and rows[4][4:] == ("crm/accounts/2024-03-10.csv", date(2024, 3, 10), 1)


def test_a_file_read_in_several_chunks_lands_every_row_once_numbered_in_file_order(con, data_dir, monkeypatch):
    monkeypatch.setattr("orchestration.lib.validation.CHUNK_ROWS", 2)

    report = _ingest(con, data_dir, INVOICES)

    assert (report.rows_read, report.rows_landed) == (11, 11)
    landed = con.execute(
        "SELECT _source_file, _row_number FROM raw_billing.invoices ORDER BY _source_file, _row_number"
    ).fetchall()
    assert landed == [("billing/invoices/2024-03-01.csv", n) for n in range(1, 10)] + [
        ("billing/invoices/2024-03-10.csv", n) for n in range(1, 3)
    ]


def test_a_file_that_breaks_after_its_first_chunk_fails_the_ingest_and_lands_nothing(con, data_dir, monkeypatch):
    def first_chunk_then_a_broken_file(path, entity):
        yield from itertools.islice(read_extract_chunks(path, entity), 1)
        raise ExtractFileError(f"{path}: truncated after the first chunk")

    monkeypatch.setattr("orchestration.lib.validation.CHUNK_ROWS", 2)
    monkeypatch.setattr("orchestration.lib.ingest.read_extract_chunks", first_chunk_then_a_broken_file)

    with pytest.raises(ExtractFileError, match=r"invoices/2024-03-01\.csv: truncated after the first chunk"):
        _ingest(con, data_dir, INVOICES)

    assert con.execute("SELECT count(*) FROM raw_billing.invoices").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM ingest.extract_files").fetchone()[0] == 0


def test_a_rerun_lands_nothing_twice(con, data_dir):
    _ingest(con, data_dir, INVOICES)

    again = _ingest(con, data_dir, INVOICES)

    assert (again.files_landed, again.files_unchanged, again.rows_read) == ([], 2, 0)
    assert con.execute("SELECT count(*) FROM raw_billing.invoices").fetchone()[0] == 11


def test_a_landed_file_is_not_read_again_unless_its_size_or_time_changed(con, data_dir, monkeypatch):
    _ingest(con, data_dir, INVOICES)
    changes = data_dir.extracts_dir / "billing" / "invoices" / "2024-03-10.csv"
    content = changes.read_bytes()

    def must_not_read(self):
        raise AssertionError(f"{self.relative_path} was read again")

    with monkeypatch.context() as patched:
        patched.setattr(warehouse.ExtractFile, "sha256", property(must_not_read))
        assert _ingest(con, data_dir, INVOICES).files_landed == []
    # Delivered again with the same content: read to compare, not landed, and not read the next time.
    changes.write_bytes(content)
    assert _ingest(con, data_dir, INVOICES).files_landed == []
    monkeypatch.setattr(warehouse.ExtractFile, "sha256", property(must_not_read))
    assert _ingest(con, data_dir, INVOICES).files_landed == []


def test_a_redelivered_file_replaces_its_earlier_delivery(con, data_dir):
    _ingest(con, data_dir, INVOICES)
    changes = data_dir.extracts_dir / "billing" / "invoices" / "2024-03-10.csv"
    header, paid_ia3, _ = changes.read_text().splitlines()
    changes.write_text(f"{header}\n{paid_ia3}\n")

    report = _ingest(con, data_dir, INVOICES)

    assert report.files_landed == ["billing/invoices/2024-03-10.csv"]
    assert con.execute(
        "SELECT count(*), count(*) FILTER (WHERE invoice_id = 'id3') FROM raw_billing.invoices"
    ).fetchone() == (10, 0)


def test_a_bad_row_is_quarantined_with_file_row_column_and_reason(con, data_dir):
    changes = data_dir.extracts_dir / "billing" / "invoices" / "2024-03-10.csv"
    changes.write_text(changes.read_text().replace("id3,D,SD2,subscription,paid", "id3,D,SD2,subscription,settled"))

    report = _ingest(con, data_dir, INVOICES)

    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == (11, 10, 1)
    quarantined = con.execute(
        "SELECT entity, source_file, row_number, column_name, value FROM ingest.quarantined_rows"
    ).fetchall()
    assert quarantined == [("billing/invoices", "billing/invoices/2024-03-10.csv", 2, "status", "settled")]
    logged = con.execute(
        "SELECT rows_read, rows_landed, rows_quarantined FROM ingest.extract_files WHERE source_file LIKE '%03-10%'"
    ).fetchone()
    assert logged == (2, 1, 1)


def test_too_many_quarantined_rows_roll_the_whole_entity_back(con, data_dir):
    changes = data_dir.extracts_dir / "billing" / "invoices" / "2024-03-10.csv"
    changes.write_text(changes.read_text().replace("id3,D,SD2,subscription,paid", "id3,D,SD2,subscription,settled"))

    report = _ingest(con, data_dir, INVOICES, quarantine_threshold=0.05)

    assert report.rolled_back and report.quarantine_rate == pytest.approx(1 / 11)
    assert (report.rows_read, report.rows_landed, report.rows_quarantined, report.rows_held_back) == (11, 0, 1, 10)
    assert con.execute("SELECT count(*) FROM raw_billing.invoices").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM ingest.extract_files").fetchone()[0] == 0
    # Nothing was recorded as landed, so the next run checks the same files again.
    again = _ingest(con, data_dir, INVOICES, quarantine_threshold=0.05)
    assert again.files == report.files and again.files_landed == []


def test_unknown_columns_are_kept_as_json(con, data_dir):
    extract = data_dir.extracts_dir / "billing" / "products" / "2024-03-01.csv"
    lines = extract.read_text().splitlines()
    extract.write_text("\n".join([lines[0] + ",tier"] + [line + ",gold" for line in lines[1:]]) + "\n")

    _ingest(con, data_dir, ENTITIES_BY_PATH["billing/products"])

    assert con.execute("SELECT DISTINCT _extra_columns->>'tier' FROM raw_billing.products").fetchall() == [("gold",)]


def test_a_file_missing_a_required_column_fails_naming_the_file_and_lands_nothing(con, data_dir):
    extract = data_dir.extracts_dir / "billing" / "invoices" / "2024-03-10.csv"
    extract.write_text("invoice_id,account_id\nix,A\n")

    with pytest.raises(ExtractFileError, match=r"billing/invoices/2024-03-10\.csv.*total"):
        _ingest(con, data_dir, INVOICES)

    assert con.execute("SELECT count(*) FROM raw_billing.invoices").fetchone()[0] == 0


def test_a_misnamed_file_is_refused_by_name(con, data_dir):
    (data_dir.extracts_dir / "billing" / "invoices" / "invoices-march.csv").write_text("x\n")

    with pytest.raises(warehouse.ExtractNameError, match="invoices-march.csv"):
        _ingest(con, data_dir, INVOICES)


def _materialize_ingest(selection=None):
    return dg.materialize([ingest], selection=selection, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_the_ingest_step_lands_the_other_entities_then_fails_naming_the_refused_file(data_dir):
    shutil.copytree(HANDBUILT, data_dir.extracts_dir)
    (data_dir.extracts_dir / "billing" / "invoices" / "2024-03-10.csv").write_text("invoice_id,account_id\nix,A\n")

    result = _materialize_ingest()

    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert "billing/invoices/2024-03-10.csv" in failure.step_failure_data.user_failure_data.description
    landed = {
        "/".join(event.asset_key.path): event.step_materialization_data.materialization.metadata["rows_landed"].value
        for event in result.get_asset_materialization_events()
    }
    assert sorted(landed) == sorted(entity.path for entity in ENTITIES_BY_PATH.values() if entity is not INVOICES)
    assert landed["crm/accounts"] == 5
    con = warehouse.connect(data_dir.warehouse_db, read_only=True)
    try:
        counts = con.execute("SELECT (SELECT count(*) FROM raw_billing.invoices), (SELECT count(*) FROM raw_crm.accounts)")
        assert counts.fetchone() == (0, 5)
    finally:
        con.close()


def test_the_ingest_step_lands_only_the_entities_selected(data_dir):
    shutil.copytree(HANDBUILT, data_dir.extracts_dir)

    result = _materialize_ingest(selection=["crm/accounts"])

    assert result.success
    assert [event.asset_key.path for event in result.get_asset_materialization_events()] == [["crm", "accounts"]]
    assert [(check.check_name, check.passed) for check in result.get_asset_check_evaluations()] == [
        ("quarantine_within_threshold", True)
    ]
    con = warehouse.connect(data_dir.warehouse_db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw_billing.invoices").fetchone() == (0,)
    finally:
        con.close()
