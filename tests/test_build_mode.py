"""How the orchestrator picks the build mode from the record of earlier builds (docs/decisions.md,
Incremental builds)."""

import json
from datetime import date, datetime, timedelta

import duckdb
import pytest

from orchestration.lib import build_mode

SETTINGS = {"reporting_currency": "USD"}
FINGERPRINT = "sql-v1"


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA ingest")
    con.execute("CREATE TABLE ingest.extract_files (source_file VARCHAR, extract_date DATE, loaded_at TIMESTAMP)")
    con.execute("CREATE SCHEMA raw_billing")
    con.execute(
        "CREATE TABLE raw_billing.invoices (invoice_id VARCHAR, issued_at TIMESTAMP, service_period_start DATE, _loaded_at TIMESTAMP)"
    )
    con.execute("CREATE SCHEMA intermediate")
    con.execute("CREATE TABLE intermediate.int_reporting_months AS SELECT DATE '2025-01-01' AS month")
    yield con
    con.close()


def _land(con, extract_date: date) -> None:
    loaded_at = datetime.combine(extract_date + timedelta(days=1), datetime.min.time())
    con.execute("INSERT INTO ingest.extract_files VALUES (?, ?, ?)", [f"crm/accounts/{extract_date}.csv", extract_date, loaded_at])


def _build(con, run_id: str, succeeds: bool = True) -> build_mode.BuildPlan:
    plan = build_mode.plan_build(con, SETTINGS, FINGERPRINT)
    build_mode.record_attempt(con, plan, run_id)
    if succeeds:
        build_mode.record_success(con, run_id)
    return plan


def _land_invoice(con, invoice_id: str, issued_at: str, landed_at: str, service_period_start: str | None = None) -> None:
    con.execute(
        "INSERT INTO raw_billing.invoices VALUES (?, ?::TIMESTAMP, ?::DATE, ?::TIMESTAMP)",
        [invoice_id, issued_at, service_period_start or issued_at[:10], landed_at],
    )


def test_nightly_builds_are_incremental_until_the_weekly_full_refresh(warehouse):
    first_day = date(2026, 3, 1)
    _land(warehouse, first_day)
    assert _build(warehouse, "night-0").mode == build_mode.FULL_REFRESH
    modes = []
    for night in range(1, 9):
        _land(warehouse, first_day + timedelta(days=night))
        modes.append(_build(warehouse, f"night-{night}"))
    assert [plan.mode for plan in modes] == [build_mode.INCREMENTAL] * 6 + [build_mode.FULL_REFRESH, build_mode.INCREMENTAL]
    assert "as of 2026-03-01" in modes[6].reason and "weekly full refresh" in modes[6].reason
    assert modes[7].loaded_since == modes[6].loaded_until


def test_changed_settings_force_a_full_refresh(warehouse):
    _land(warehouse, date(2026, 3, 1))
    _build(warehouse, "night-0")
    _land(warehouse, date(2026, 3, 2))
    plan = build_mode.plan_build(warehouse, {"reporting_currency": "EUR"}, FINGERPRINT)
    assert plan.mode == build_mode.FULL_REFRESH
    assert "dbt vars changed" in plan.reason


def test_a_missing_incremental_table_forces_a_full_refresh(warehouse):
    _land(warehouse, date(2026, 3, 1))
    _build(warehouse, "night-0")
    _land(warehouse, date(2026, 3, 2))
    warehouse.execute("CREATE SCHEMA staging")
    warehouse.execute("CREATE TABLE staging.stg_billing__invoices (invoice_id VARCHAR)")
    tables = ["intermediate.int_invoices_converted", "staging.stg_billing__invoices"]
    plan = build_mode.plan_build(warehouse, SETTINGS, FINGERPRINT, tables)
    assert plan.mode == build_mode.FULL_REFRESH
    assert plan.reason == "incremental tables are missing from the warehouse (dropped?): intermediate.int_invoices_converted"
    warehouse.execute("CREATE TABLE intermediate.int_invoices_converted (invoice_id VARCHAR)")
    assert build_mode.plan_build(warehouse, SETTINGS, FINGERPRINT, tables).mode == build_mode.INCREMENTAL


def test_incremental_tables_are_the_incremental_models_of_the_manifest():
    def node(resource_type, schema, alias, materialized):
        return {"resource_type": resource_type, "schema": schema, "alias": alias, "config": {"materialized": materialized}}

    manifest = {
        "nodes": {
            "model.p.int_b": node("model", "intermediate", "int_b", "incremental"),
            "model.p.stg_a": node("model", "staging", "stg_a", "incremental"),
            "model.p.cx_c": node("model", "marts", "cx_c", "table"),
            "seed.p.d": node("seed", "seeds", "d", "seed"),
        }
    }
    assert build_mode.incremental_tables(manifest) == ["intermediate.int_b", "staging.stg_a"]


def test_an_incremental_build_passes_the_last_builds_watermark_and_as_of_date(warehouse):
    _land(warehouse, date(2026, 3, 31))
    first = _build(warehouse, "night-0")
    _land(warehouse, date(2026, 4, 1))
    plan = build_mode.plan_build(warehouse, SETTINGS, FINGERPRINT)
    assert plan.dbt_env() == {
        "CX_BUILD_AS_OF_DATE": "2026-04-01",
        "CX_BUILD_LOADED_SINCE": first.loaded_until.isoformat(sep=" "),
        "CX_BUILD_PREVIOUS_AS_OF_DATE": "2026-03-31",
    }
    # The vars are the settings alone, the same every night: dbt then re-parses only what changed.
    assert plan.dbt_args() == [
        "--vars", json.dumps(SETTINGS), "--threads", "2", "--exclude", "test_type:unit tag:history_wide"
    ]


def test_a_full_refresh_passes_no_watermark(warehouse):
    _land(warehouse, date(2026, 3, 31))
    plan = build_mode.plan_build(warehouse, {}, FINGERPRINT)
    assert plan.mode == build_mode.FULL_REFRESH
    assert plan.dbt_env() == {
        "CX_BUILD_AS_OF_DATE": "2026-03-31",
        "CX_BUILD_LOADED_SINCE": None,
        "CX_BUILD_PREVIOUS_AS_OF_DATE": None,
    }
    assert plan.dbt_args() == ["--full-refresh", "--exclude", "test_type:unit"]


def test_a_build_after_one_that_did_not_finish_is_a_full_refresh(warehouse):
    _land(warehouse, date(2026, 3, 1))
    _build(warehouse, "night-0")
    _land(warehouse, date(2026, 3, 2))
    assert _build(warehouse, "night-1", succeeds=False).mode == build_mode.INCREMENTAL
    _land(warehouse, date(2026, 3, 3))
    retry = _build(warehouse, "night-2")
    assert retry.mode == build_mode.FULL_REFRESH
    assert "night-1" in retry.reason and "failed" in retry.reason
    _land(warehouse, date(2026, 3, 4))
    assert _build(warehouse, "night-3").mode == build_mode.INCREMENTAL


def test_a_change_to_an_invoice_of_the_first_reporting_month_is_a_full_refresh(warehouse):
    _land_invoice(warehouse, "first", "2025-01-10", "2026-03-02 00:00")
    _land_invoice(warehouse, "later", "2025-06-10", "2026-03-02 00:00")
    _land(warehouse, date(2026, 3, 1))
    _build(warehouse, "night-0")
    _land(warehouse, date(2026, 3, 2))
    _land_invoice(warehouse, "later", "2025-07-10", "2026-03-03 00:00")
    assert _build(warehouse, "night-1").mode == build_mode.INCREMENTAL
    _land(warehouse, date(2026, 3, 3))
    # A new version of the first month's invoice, moved to a later month: the months may start later.
    _land_invoice(warehouse, "first", "2025-02-10", "2026-03-04 00:00")
    plan = _build(warehouse, "night-2")
    assert plan.mode == build_mode.FULL_REFRESH
    assert "first reporting month 2025-01" in plan.reason


def test_an_invoice_whose_service_starts_in_the_first_reporting_month_is_a_full_refresh(warehouse):
    _land_invoice(warehouse, "first", "2025-01-10", "2026-03-02 00:00")
    _land(warehouse, date(2026, 3, 1))
    _build(warehouse, "night-0")
    # Issued in May for a service period that started in January: its month is January.
    _land_invoice(warehouse, "back-billed", "2025-05-10", "2026-03-03 00:00", service_period_start="2025-01-20")
    _land(warehouse, date(2026, 3, 2))
    plan = _build(warehouse, "night-1")
    assert plan.mode == build_mode.FULL_REFRESH
    assert "first reporting month 2025-01" in plan.reason
    _land_invoice(warehouse, "back-billed", "2025-05-10", "2026-03-04 00:00", service_period_start="2025-02-01")
    _land(warehouse, date(2026, 3, 3))
    # Its new version starts in February, but the version it replaces started in January.
    assert _build(warehouse, "night-2").mode == build_mode.FULL_REFRESH
    _land_invoice(warehouse, "later", "2025-05-10", "2026-03-05 00:00", service_period_start="2025-02-01")
    _land(warehouse, date(2026, 3, 4))
    assert _build(warehouse, "night-3").mode == build_mode.INCREMENTAL
