"""The code location the Dagster UI shows: assets by layer, their checks, the nightly job and schedule."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
from dagster import AssetKey, DefaultScheduleStatus

from orchestration.lib.contracts import ENTITIES


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
    assert any(asset == "marts/cx_mrr_monthly" and name.startswith("expression_is_true") for asset, name in checks)


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
  repositoriesOrError { ... on RepositoryConnection { nodes { schedules { name scheduleState { status } } } } }
}
"""


def test_the_ui_serves_assets_checks_and_the_running_schedule(data_dir, dbt_manifest, tmp_path):
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
            except requests.ConnectionError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "webserver.log").read_text()[-3000:]
            time.sleep(1)
        data = response.json()["data"]
    finally:
        server.terminate()
        server.wait(timeout=60)
        # Nothing the UI started may outlive the test (dagster dev stops its servers on SIGTERM).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)

    nodes = {"/".join(n["assetKey"]["path"]): n["hasAssetChecks"] for n in data["assetNodes"]}
    assert nodes["crm/accounts"] is True
    assert nodes["marts/cx_mrr_monthly"] is True
    assert "serving/cx_metrics" in nodes
    [repository] = data["repositoriesOrError"]["nodes"]
    schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    assert schedules == {"nightly_schedule": "RUNNING"}
