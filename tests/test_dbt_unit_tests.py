"""Runs the dbt unit tests (`unit_tests:` in the model YAML), whose expectations were worked out by hand."""

import json
import subprocess
import sys
from pathlib import Path

from orchestration import settings
from orchestration.lib import warehouse


def _dbt(*args: str) -> subprocess.CompletedProcess:
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [str(dbt), *args, "--profiles-dir", str(settings.DBT_PROJECT_DIR), "--vars", "{as_of_date: 2024-03-15}"],
        cwd=settings.DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
    )


def test_every_dbt_unit_test_passes(data_dir):
    con = warehouse.connect(data_dir.warehouse_db)
    warehouse.ensure_schema(con)
    con.close()
    # Unit tests read the column types of their inputs from the warehouse: build them empty first.
    seeded = _dbt("seed")
    assert seeded.returncode == 0, seeded.stdout
    built = _dbt("run", "--empty")
    assert built.returncode == 0, built.stdout

    tested = _dbt("test", "--select", "test_type:unit")

    results = json.loads((settings.DBT_PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in results}
    assert tested.returncode == 0, tested.stdout
    assert statuses and set(statuses.values()) == {"pass"}, statuses
    assert {
        "subscription_mrr_from_covering_invoices",
        "account_movements_with_fx_restatement",
        "mrr_bridge_sums_account_movements_and_rates",
        "churn_counts_accounts_by_movement",
    } <= set(statuses)
