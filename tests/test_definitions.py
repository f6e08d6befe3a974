"""The code location the Dagster UI shows: assets by layer, their checks, the nightly job and schedule."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date

import pytest
import requests
import dagster as dg
from dagster import AssetKey, DefaultScheduleStatus

from orchestration.lib.contracts import ENTITIES
from orchestration.lib.warehouse import latest_complete_extract_date


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from orchestration.definitions import defs

    return defs


def test_ingest_asset_keys_are_the_dbt_source_names(defs):
    keys = defs.resolve_all_asset_keys()
    assert {AssetKey([e.source, e.name]) for e in ENTITIES} <= set(keys)
    assert AssetKey(["marts", "cx_mrr_monthly"]) in keys
    assert AssetKey(["serving", "cx_metrics"]) in keys


def test_assets_are_grouped_by_layer(defs):
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["crm/accounts"] == "raw"
    assert groups["staging/stg_billing__invoices"] == "staging"
    assert groups["intermediate/int_account_mrr_movements"] == "intermediate"
    assert groups["marts/cx_churn_monthly"] == "marts"
    assert groups["serving/cx_metrics"] == "serving"


def test_dbt_tests_and_the_quarantine_threshold_are_asset_checks(defs):
    checks = {(key.asset_key.to_user_string(), key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert ("crm/accounts", "quarantine_within_threshold") in checks
    assert ("marts/cx_churn_monthly", "assert_mrr_bridge_chains_months") in checks
    assert any(asset == "marts/cx_mrr_monthly" and name.startswith("rules_hold_cx_mrr_monthly") for asset, name in checks)


def test_published_tables_carry_descriptions_column_schemas_and_a_daily_freshness_policy(defs):
    graph = defs.resolve_asset_graph()
    mart = graph.get(AssetKey(["marts", "cx_mrr_monthly"]))
    columns = {c.name: c.description for c in mart.metadata["dagster/column_schema"].columns}
    assert columns["mrr_end"] == "MRR at the end of the month (for the running month, at the as-of date)."
    assert mart.description.startswith("The MRR bridge")
    assert {"dbt", "duckdb"} <= set(mart.kinds) and mart.owners == ["team:data-engineering"]
    for key in (AssetKey(["marts", "cx_mrr_monthly"]), AssetKey(["serving", "cx_metrics"])):
        policy = graph.get(key).freshness_policy
        assert (policy.deadline_cron, policy.lower_bound_delta.total_seconds()) == ("0 7 * * *", 24 * 3600)
    assert graph.get(AssetKey(["staging", "stg_billing__invoices"])).freshness_policy is None


def _deliver(extracts_dir, day: str, entities) -> None:
    for entity in entities:
        folder = extracts_dir / entity.source / entity.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{day}.csv").write_text("header\n")


def test_the_sensor_starts_one_run_per_complete_day_of_extracts(defs, data_dir):
    sensor = defs.resolve_sensor_def("complete_extract_day")
    _deliver(data_dir.extracts_dir, "2024-03-10", ENTITIES)
    _deliver(data_dir.extracts_dir, "2024-03-11", ENTITIES[:-1])  # the last entity has not arrived yet

    first = sensor(dg.build_sensor_context(cursor=None))
    again = sensor(dg.build_sensor_context(cursor=first.cursor))
    _deliver(data_dir.extracts_dir, "2024-03-11", ENTITIES[-1:])
    completed = sensor(dg.build_sensor_context(cursor=first.cursor))

    assert ([r.run_key for r in first.run_requests], first.cursor) == (["extracts-2024-03-10"], "2024-03-10")
    assert isinstance(again, dg.SkipReason) and "2024-03-10 already triggered" in again.skip_message
    assert ([r.run_key for r in completed.run_requests], completed.cursor) == (["extracts-2024-03-11"], "2024-03-11")
    assert sensor.job_name == "nightly" and sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_day_is_complete_without_the_entities_that_send_no_file_on_quiet_days(data_dir):
    extracts = data_dir.extracts_dir
    products = [e for e in ENTITIES if e.path == "billing/products"]
    others = [e for e in ENTITIES if e.path != "billing/products"]
    _deliver(extracts, "2024-03-10", ENTITIES)
    _deliver(extracts, "2024-03-11", others)  # no product changed: the day before had every entity
    assert latest_complete_extract_date(extracts) == date(2024, 3, 10)

    _deliver(extracts, "2024-03-12", others[:-1])
    assert latest_complete_extract_date(extracts) == date(2024, 3, 11)  # products did not send 03-11
    _deliver(extracts, "2024-03-12", others[-1:])
    assert latest_complete_extract_date(extracts) == date(2024, 3, 12)

    _deliver(extracts, "2024-03-13", products)
    assert latest_complete_extract_date(extracts) == date(2024, 3, 12)
    # Nothing more arrives: after half an hour of quiet the day counts as complete as delivered.
    an_hour_ago = time.time() - 3600
    for path in extracts.rglob("*.csv"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert latest_complete_extract_date(extracts) == date(2024, 3, 13)


def test_nightly_schedule_runs_at_two_and_is_on_by_default(defs):
    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == "nightly"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


QUERY = """
{
  assetNodes { assetKey { path } hasAssetChecks }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        schedules { name scheduleState { status } }
        sensors { name sensorState { status } }
      }
    }
  }
}
"""


def test_the_ui_serves_assets_checks_the_running_schedule_and_sensor(data_dir, dbt_manifest, tmp_path):
    port = _free_port()
    log = (tmp_path / "webserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "ui", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                response = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=5)
                if response.ok and response.json().get("data"):
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # not serving yet, or still loading the code location
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "webserver.log").read_text()[-3000:]
            time.sleep(1)
        data = response.json()["data"]
    finally:
        # Nothing the UI started may outlive the test: dagster dev stops its servers on SIGTERM, and
        # whatever is left of its process group after a minute (a loaded machine) is killed.
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()

    nodes = {"/".join(n["assetKey"]["path"]): n["hasAssetChecks"] for n in data["assetNodes"]}
    assert nodes["crm/accounts"] is True
    assert nodes["marts/cx_mrr_monthly"] is True
    assert "serving/cx_metrics" in nodes
    [repository] = data["repositoriesOrError"]["nodes"]
    schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    assert schedules == {"nightly_schedule": "RUNNING"}
    sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    assert sensors == {"complete_extract_day": "RUNNING"}
    assert "serving/cx_report" in nodes


def test_only_the_newest_dbt_invocation_folders_are_kept(tmp_path):
    from orchestration.lib.dbt import KEPT_INVOCATION_TARGETS, prune_invocation_targets

    for days_old in range(KEPT_INVOCATION_TARGETS + 3):
        folder = tmp_path / f"cx_dbt_models-run{days_old}"
        folder.mkdir()
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (time.time() - days_old * 86400,) * 2)
    (tmp_path / "other_op-run9").mkdir()
    (tmp_path / "manifest.json").write_text("{}")

    prune_invocation_targets(tmp_path, "cx_dbt_models")

    kept_invocations = [f"cx_dbt_models-run{days_old}" for days_old in range(KEPT_INVOCATION_TARGETS)]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [*kept_invocations, "other_op-run9", "manifest.json"]
    )
