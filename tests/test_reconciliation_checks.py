"""The reconciliation tests recompute published figures from the raw layer: they pass on a correct
warehouse and name the month when a mart disagrees with the raw extracts."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from orchestration import settings

RECONCILIATIONS = ("assert_published_revenue_reconciles_with_raw_invoices", "assert_published_tickets_reconcile_with_raw_tickets")


def _run_reconciliations(paths, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"), "test", "--select", *RECONCILIATIONS,
            "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
            # Its own target and logs: the project's target/ holds the pipeline's manifest.
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
            "--vars", json.dumps({"as_of_date": "2024-03-10"}),
        ],
        env={**os.environ, "CX_WAREHOUSE_PATH": str(paths.warehouse_db)},
        capture_output=True, text=True, timeout=600,
    )


def test_reconciliations_pass_on_the_published_marts_and_name_the_month_a_broken_mart_gets_wrong(handbuilt_run, tmp_path):
    paths, _ = handbuilt_run
    passing = _run_reconciliations(paths, tmp_path)
    assert passing.returncode == 0, passing.stdout

    con = duckdb.connect(str(paths.warehouse_db))
    # As if the marts had lost January's one-time invoice io1 (500) and double counted a February ticket.
    con.execute("UPDATE marts.cx_revenue_monthly SET revenue_paid = revenue_paid - 500 WHERE month = DATE '2024-01-01'")
    con.execute("UPDATE marts.cx_tickets_monthly SET tickets_created = tickets_created + 1 WHERE month = DATE '2024-02-01'")
    con.close()
    failing = _run_reconciliations(paths, tmp_path)

    assert failing.returncode == 1
    con = duckdb.connect(str(paths.warehouse_db), read_only=True)
    try:
        revenue = con.execute(f"SELECT * FROM test_failures.{RECONCILIATIONS[0]}").fetchall()
        tickets = con.execute(f"SELECT * FROM test_failures.{RECONCILIATIONS[1]}").fetchall()
    finally:
        con.close()
    # tests/fixtures/handbuilt/expected.md: January's paid revenue is 1,025, February has 4 tickets.
    assert revenue == [(date(2024, 1, 1), 525, 1025, 0)]
    assert tickets == [(date(2024, 2, 1), 5, 4)]
