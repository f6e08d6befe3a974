"""The anomaly check (dbt generic test `within_tolerance_of_trailing_average`) flags real jumps only.

dbt cannot run a generic test on anything but a model, so this calls the test's macro through
`dbt show --inline` on a hand-made table of monthly rates, one scenario per partition, and reads
the failing rows it returns.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import settings

BASELINE = [(f"2024-{month:02d}-01", 0.10) for month in range(1, 7)]

# Scenario -> monthly rates; July 2024 is the latest complete month, January-June its trailing window.
SCENARIOS = {
    "steady": [*BASELINE, ("2024-07-01", 0.14)],  # +40%: inside the default tolerance of 0.5
    "jump": [*BASELINE, ("2024-07-01", 0.16)],  # +60%
    "drop": [*BASELINE, ("2024-07-01", 0.04)],  # -60%
    "running_month_spike": [*BASELINE, ("2024-07-01", 0.10), ("2024-08-01", 0.90)],
    # Counted as 0, the two NULL months would pull the average to 0.067 and flag 0.14.
    "null_months_skipped": [*BASELINE[:4], ("2024-05-01", None), ("2024-06-01", None), ("2024-07-01", 0.14)],
    # December is a seventh month back: outside the six-month window.
    "window_is_six_months": [("2023-12-01", 5.0), *BASELINE, ("2024-07-01", 0.10)],
}


def _rates_table() -> str:
    rows = ", ".join(
        f"('{scenario}', date '{month}', {'null' if rate is None else rate}::double)"
        for scenario, rates in SCENARIOS.items()
        for month, rate in rates
    )
    return f"(select * from (values {rows}) as rates (scenario, month, rate))"


def _failing_rows(as_of_date: str, tmp_path: Path, minimum_change: float = 0) -> list[dict]:
    call = (
        "{{ test_within_tolerance_of_trailing_average("
        f"model={_rates_table()!r}, column_name='rate', partition_by=['scenario'], minimum_change={minimum_change}) }}}}"
    )
    shown = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"), "show", "--inline", call,
            "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
            # Its own target and logs: the project's target/ may be in use by a pipeline run.
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
            "--vars", json.dumps({"as_of_date": as_of_date}),
            "--limit", "-1", "--output", "json", "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    return json.loads(shown.stdout)["show"]


# An as-of date on a month's last day completes that month (metrics.md), so both dates check July.
@pytest.mark.parametrize("as_of_date", ["2024-08-10", "2024-07-31"])
def test_flags_the_latest_complete_month_only_when_it_leaves_the_tolerance(data_dir, tmp_path, as_of_date):
    failing = {row["scenario"]: row for row in _failing_rows(as_of_date, tmp_path)}

    assert set(failing) == {"jump", "drop"}
    assert failing["jump"]["month"] == "2024-07-01"
    assert failing["jump"]["value"] == pytest.approx(0.16)
    assert failing["jump"]["trailing_average"] == pytest.approx(0.10)
    assert failing["jump"]["trailing_months_with_value"] == 6
    assert failing["jump"]["tolerance"] == pytest.approx(0.5)


def test_moves_within_the_minimum_change_are_never_flagged(data_dir, tmp_path):
    # The jump and the drop move 0.06 from their average of 0.10: beyond 50%, within a floor of 0.07.
    assert _failing_rows("2024-08-10", tmp_path, minimum_change=0.07) == []


def test_in_an_incremental_build_the_check_reads_every_month_of_the_mart(data_dir, tmp_path, monkeypatch):
    """An incremental build's data tests read the rows it wrote (macro get_where_subquery), one or two
    months of a monthly mart: the trailing window would be empty and the check could never fail."""
    monkeypatch.setenv("CX_BUILD_LOADED_SINCE", "2024-08-10 06:00:00")
    compiled = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"), "compile", "--select", "cx_mrr_monthly,test_type:data",
            "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
            "--vars", json.dumps({"as_of_date": "2024-08-10"}), "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    tests = {path.name: path.read_text() for path in (tmp_path / "target" / "compiled").rglob("*.sql")}
    anomaly_checks = [sql for name, sql in tests.items() if name.startswith("within_tolerance_of_trailing")]
    assert len(anomaly_checks) == 2
    assert not any("_built_at" in sql for sql in anomaly_checks)
    # The build's other tests of the mart read only the rows it wrote.
    assert "_built_at = " in tests["rules_hold_cx_mrr_monthly.sql"]
