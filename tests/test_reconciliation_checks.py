"""The reconciliation tests recompute published figures from the raw layer or from the layer below:
they pass on a correct warehouse and name the month (or account month) that disagrees."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.lib import warehouse

RECONCILIATIONS = ("assert_published_revenue_reconciles_with_raw_invoices", "assert_published_tickets_reconcile_with_raw_tickets")
MRR_RECONCILIATIONS = ("assert_month_end_mrr_reconciles_with_subscriptions", "assert_account_month_mrr_reconciles_with_subscriptions")


def _run_reconciliations(paths, tmp_path: Path, *, command: str = "test", select=RECONCILIATIONS, build_values=None):
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"), command, "--select", *select, "--exclude", "test_type:unit",
            "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
            # Its own target and logs: the project's target/ holds the pipeline's manifest.
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
            "--vars", json.dumps({"as_of_date": "2024-03-10", **(build_values or {})}),
        ],
        env={**os.environ, "CX_WAREHOUSE_PATH": str(paths.warehouse_db)},
        capture_output=True, text=True, timeout=600,
    )


def _failing_rows(paths, tmp_path: Path) -> dict[str, list[dict]]:
    """The failing rows of each test the last run failed, found as the pipeline finds them."""
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    con = duckdb.connect(str(paths.warehouse_db), read_only=True)
    try:
        return {
            r["unique_id"].split(".")[2]: warehouse.failing_test_rows(con, r["compiled_code"])
            for r in results if r["status"] == "fail"
        }
    finally:
        con.close()


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
    # tests/fixtures/handbuilt/expected.md: January's paid revenue is 1,025, February has 4 tickets.
    assert _failing_rows(paths, tmp_path) == {
        RECONCILIATIONS[0]: [
            {"month": "2024-01-01", "revenue_paid": "525.0", "expected_revenue_paid": "1025.0", "invoices_without_rate": "0.0"}
        ],
        RECONCILIATIONS[1]: [{"month": "2024-02-01", "tickets_created": "5", "expected_tickets_created": "4"}],
    }


def test_the_mrr_reconciliations_fail_on_a_wrong_published_month_and_on_an_account_month_an_incremental_build_got_wrong(handbuilt_run, tmp_path):
    paths, _ = handbuilt_run
    passing = _run_reconciliations(paths, tmp_path, select=MRR_RECONCILIATIONS)
    assert passing.returncode == 0, passing.stdout

    con = duckdb.connect(str(paths.warehouse_db))
    # As if the MRR mart had lost C's new subscription in February.
    con.execute("UPDATE marts.cx_mrr_monthly SET mrr_end = mrr_end - 100 WHERE month = DATE '2024-02-01'")
    con.close()
    failing_month = _run_reconciliations(paths, tmp_path, select=MRR_RECONCILIATIONS[:1])
    months = _failing_rows(paths, tmp_path)

    con = duckdb.connect(str(paths.warehouse_db))
    # As if the movements kept from an earlier build had A's February MRR at 250 instead of 150.
    con.execute("UPDATE intermediate.int_account_mrr_movements SET mrr_end = mrr_end + 100 WHERE account_id = 'A' AND month = DATE '2024-02-01'")
    con.close()
    # An incremental build of the account months from every landed row (loaded since 2000): it
    # restates A's months from the movements, and checks the account months it wrote.
    failing_account_month = _run_reconciliations(
        paths, tmp_path, command="build",
        select=("int_changed_subscriptions", "int_changed_accounts", "int_account_mrr_monthly", MRR_RECONCILIATIONS[1]),
        build_values={"loaded_since": "2000-01-01 00:00:00", "previous_as_of_date": "2024-03-10"},
    )

    assert (failing_month.returncode, failing_account_month.returncode) == (1, 1), failing_account_month.stdout
    # tests/fixtures/handbuilt/expected.md: February ends at 400 with 3 paying accounts, A at 150.
    assert months == {
        MRR_RECONCILIATIONS[0]: [
            {"month": "2024-02-01", "mrr_end": "300.0", "expected_mrr_end": "400.0", "customers_end": "3", "expected_customers_end": "3"}
        ]
    }
    assert _failing_rows(paths, tmp_path)[MRR_RECONCILIATIONS[1]] == [
        {"account_id": "A", "month": "2024-02-01", "mrr_end": "250.0", "expected_mrr_end": "150.0"}
    ]


def test_a_failed_tests_rows_are_found_again_whatever_its_sql_ends_with():
    con = duckdb.connect()
    con.execute("CREATE TABLE months AS SELECT * FROM (VALUES (DATE '2024-01-01', 525), (DATE '2024-02-01', 1025)) AS t (month, revenue)")
    short_months = "select month, revenue from months where revenue < 1000"
    january = [{"month": "2024-01-01", "revenue": "525"}]

    assert warehouse.failing_test_rows(con, short_months + "\n-- months short of the raw invoices") == january
    assert warehouse.failing_test_rows(con, short_months + ";\n") == january
    assert warehouse.failing_test_rows(con, "select * from months_gone") == []
    assert warehouse.failing_test_rows(con, "") == []
