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
    yield con
    con.close()


def _land(con, extract_date: date) -> None:
    loaded_at = datetime.combine(extract_date + timedelta(days=1), datetime.min.time())
    con.execute("INSERT INTO ingest.extract_files VALUES (?, ?, ?)", [f"crm/accounts/{extract_date}.csv", extract_date, loaded_at])


def _build(con, run_id: str) -> build_mode.BuildPlan:
    plan = build_mode.plan_build(con, SETTINGS, FINGERPRINT)
    build_mode.record_build(con, plan, run_id)
    return plan


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


def test_an_incremental_build_passes_the_last_builds_watermark_and_as_of_date(warehouse):
    _land(warehouse, date(2026, 3, 31))
    first = _build(warehouse, "night-0")
    _land(warehouse, date(2026, 4, 1))
    plan = build_mode.plan_build(warehouse, SETTINGS, FINGERPRINT)
    dbt_vars = json.loads(plan.dbt_args()[1])
    assert dbt_vars["loaded_since"] == first.loaded_until.isoformat(sep=" ")
    assert dbt_vars["previous_as_of_date"] == "2026-03-31"
    assert dbt_vars["as_of_date"] == "2026-04-01"
    assert plan.dbt_args()[2:] == ["--exclude", "test_type:unit tag:history_wide"]
