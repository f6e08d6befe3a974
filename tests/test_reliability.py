"""Whole-run guarantees of docs/reliability.md: a run killed at any stage leaves the last good tables,
late changes restate only what they touch, BI readers are never blocked, DuckDB 1.x clients can read
the serving file, and no personal data is published. Runs that must be killed are real processes."""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from orchestration import cli, settings
from published import fingerprint, published_rows, published_tables

REPO_ROOT = Path(__file__).resolve().parent.parent
INVOICES_HEADER = (
    "invoice_id,account_id,subscription_id,invoice_type,status,currency,subtotal,discount_amount,tax_amount,"
    "total,issued_at,paid_at,service_period_start,service_period_end,updated_at\n"
)
# The next day's extract: B buys a one-time service for 200 USD, paid the same day.
NEXT_DAY_INVOICES = INVOICES_HEADER + (
    "io2,B,,one_time,paid,USD,200.00,0,0,200.00,2024-03-11T08:00:00Z,2024-03-11T09:00:00Z,,,2024-03-11T09:00:00Z\n"
)
MONTHLY_TABLES = [t for t in settings.PUBLISHED_TABLES if t.endswith("_monthly")]


def _deliver(paths, relative_path: str, content: str) -> None:
    path = paths.extracts_dir / relative_path
    path.write_text(content, encoding="utf-8")


def _start_run(paths) -> tuple[subprocess.Popen, list[str]]:
    """`cx-pipeline run` as its own process (and process group, so a kill reaches dbt too)."""
    env = {**os.environ, "CX_DATA_DIR": str(paths.data_dir), "DAGSTER_HOME": str(paths.dagster_home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    output: list[str] = []

    def collect():
        for line in process.stdout:
            output.append(line)

    threading.Thread(target=collect, daemon=True).start()
    return process, output


def _kill_when(process: subprocess.Popen, output: list[str], stage_reached, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not stage_reached(output):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the run ended before the stage to kill it in:\n" + "".join(output))
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _unfinished_publications(paths) -> list[Path]:
    kept = {link.resolve() for link in (paths.current_publication, paths.previous_publication) if link.is_symlink()}
    return [folder for folder in paths.serving_dir.glob("publication-*") if folder not in kept]


def _ingesting(paths):
    return lambda output: any("billing/invoices/2024-03-11.csv:" in line for line in output)


def _building_marts(paths):
    return lambda output: any("START sql table model marts." in line for line in output)


def _publishing(paths):
    return lambda output: bool(_unfinished_publications(paths))


@pytest.fixture(scope="module")
def tables_after_next_day(handbuilt_baseline, tmp_path_factory):
    """What an uninterrupted run publishes after the next day's extract: the reference for recovery."""
    baseline, _ = handbuilt_baseline
    paths = settings.Paths(tmp_path_factory.mktemp("uninterrupted") / "data")
    shutil.copytree(baseline, paths.data_dir, symlinks=True)
    _deliver(paths, "billing/invoices/2024-03-11.csv", NEXT_DAY_INVOICES)
    process, output = _start_run(paths)
    assert process.wait() == 0, "".join(output)
    return published_tables(paths)


@pytest.mark.parametrize("stage_reached", [_ingesting, _building_marts, _publishing], ids=["ingest", "dbt", "publish"])
def test_a_run_killed_leaves_the_last_good_tables_and_the_next_run_completes(
    handbuilt_run, tables_after_next_day, stage_reached, capsys
):
    paths, _ = handbuilt_run
    published_before = fingerprint(paths)
    _deliver(paths, "billing/invoices/2024-03-11.csv", NEXT_DAY_INVOICES)

    process, output = _start_run(paths)
    _kill_when(process, output, stage_reached(paths))

    assert process.returncode == -signal.SIGKILL
    assert fingerprint(paths) == published_before, "".join(output)

    # No manual clean-up: the next run finishes the work and publishes what an uninterrupted run would.
    exit_code, next_output = cli.main(["run"]), capsys.readouterr().out
    assert exit_code == 0, next_output
    assert "its process ended without finishing it" in next_output
    assert published_tables(paths) == tables_after_next_day
    assert not _unfinished_publications(paths)
    with DagsterInstance.get() as instance:
        statuses = sorted(run.status.value for run in instance.get_runs())
    assert statuses == [DagsterRunStatus.FAILURE.value] + [DagsterRunStatus.SUCCESS.value] * 2


def test_a_bi_reader_keeps_the_old_tables_during_a_run_and_sees_the_new_ones_after_reconnecting(handbuilt_run):
    paths, _ = handbuilt_run
    revenue = "SELECT revenue_paid FROM cx.cx_revenue_monthly WHERE month = DATE '2024-03-01'"
    reader = duckdb.connect(str(paths.serving_db), read_only=True)
    assert reader.execute(revenue).fetchone() == (pytest.approx(210),)
    _deliver(paths, "billing/invoices/2024-03-11.csv", NEXT_DAY_INVOICES)

    process, output = _start_run(paths)

    assert process.wait() == 0, "".join(output)
    assert reader.execute(revenue).fetchone() == (pytest.approx(210),)
    reader.close()
    assert published_rows(paths, revenue) == [(pytest.approx(410),)]


def test_a_late_change_to_an_old_invoice_restates_only_the_month_it_touches(handbuilt_run, capsys):
    paths, _ = handbuilt_run
    # The day's change extract first arrives empty, then is re-delivered with a January invoice voided.
    _deliver(paths, "billing/invoices/2024-03-11.csv", INVOICES_HEADER)
    assert cli.main(["run"]) == 0, capsys.readouterr().out
    before = {table: published_rows(paths, f"SELECT * FROM cx.{table} ORDER BY ALL") for table in MONTHLY_TABLES}
    _deliver(
        paths,
        "billing/invoices/2024-03-11.csv",
        INVOICES_HEADER
        + "io1,A,,one_time,void,USD,500.00,0,0,500.00,2024-01-05T00:00:00Z,,,,2024-03-11T10:00:00Z\n",
    )

    assert cli.main(["run"]) == 0, capsys.readouterr().out

    after = {table: published_rows(paths, f"SELECT * FROM cx.{table} ORDER BY ALL") for table in MONTHLY_TABLES}
    changed = {
        table: [row for row in after[table] if row not in before[table]] for table in MONTHLY_TABLES
    }
    assert {table: rows for table, rows in changed.items() if rows}.keys() == {"cx_revenue_monthly"}
    [january] = changed["cx_revenue_monthly"]
    assert january[0] == date(2024, 1, 1)
    assert published_rows(
        paths, "SELECT invoices_paid, revenue_paid, orders FROM cx.cx_revenue_monthly WHERE month = DATE '2024-01-01'"
    ) == [(3, pytest.approx(525), 3)]


def test_the_serving_database_opens_in_a_duckdb_1_1_client(handbuilt_run):
    """DuckDB 1.1 reads storage format v1.0.0 only: a newer format would refuse to open."""
    paths, _ = handbuilt_run
    old_client = REPO_ROOT / ".venv" / "duckdb-1.1" / "bin" / "python"
    script = (
        "import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(duckdb.__version__); "
        "print(*(f'{t}={con.execute(f\"SELECT count(*) FROM cx.{t}\").fetchone()[0]}' for t in sys.argv[2:]))"
    )

    output = subprocess.run(
        [str(old_client), "-c", script, str(paths.serving_db), *settings.PUBLISHED_TABLES],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")

    assert output[0].startswith("1.1.")
    counts = dict(item.split("=") for item in output[1].split())
    assert counts == {table: str(n) for table, n in published_rows(
        paths, "SELECT table_name, row_count FROM cx._publication"
    )}


# Broader than the masking in staging, on purpose: anything like an address, or nine digits in a
# row once separators are dropped, in any text.
EMAIL = re.compile(r"@\w[\w-]*\.\w")
PHONE = re.compile(r"\d{9,}")
SEPARATORS = re.compile(r"[ ()./+-]")


def test_no_email_or_phone_number_reaches_a_published_table_or_parquet_file(handbuilt_run, capsys):
    paths, _ = handbuilt_run
    accounts = (paths.extracts_dir / "crm" / "accounts" / "2024-03-01.csv").read_text(encoding="utf-8")
    contact_details = {value for line in accounts.splitlines()[1:] for value in line.split(",")[2:4]}
    assert len(contact_details) == 8  # four accounts' e-mail addresses and phone numbers
    # A customer types contact details into a survey comment.
    _deliver(
        paths,
        "crm/survey_responses/2024-03-11.csv",
        "response_id,account_id,survey_type,score,scale_min,scale_max,ticket_id,channel,submitted_at,comment,updated_at\n"
        "R6,B,nps,3,0,10,,email,2024-03-11T08:00:00Z,"
        "\"Call me on +84 28 3822 0000, 0912 345 678 or write to ke.toan@hungthinh.example\",2024-03-11T08:00:00Z\n",
    )
    assert cli.main(["run"]) == 0, capsys.readouterr().out

    con = duckdb.connect()
    con.execute(f"ATTACH '{paths.serving_db}' AS serving (READ_ONLY)")
    sources = {f"serving.cx.{t}": f"serving.cx.{t}" for t in settings.PUBLISHED_TABLES}
    sources |= {str(f): f"'{f}'" for f in sorted(paths.parquet_dir.glob("*.parquet"))}
    texts = []  # (table or file, column, value, is text): numbers and dates are only searched for "@"
    for name, relation in sources.items():
        columns = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        assert not {"email", "phone"} & {column for column, *_ in columns}, name
        for column, column_type, *_ in columns:
            values = con.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {relation}').fetchall()
            texts += [(name, column, value, column_type == "VARCHAR") for (value,) in values if value]
    con.close()

    assert len({name for name, *_ in texts}) == 2 * len(settings.PUBLISHED_TABLES)
    leaks = [
        (name, column, value)
        for name, column, value, is_text in texts
        if EMAIL.search(value)
        or (is_text and PHONE.search(SEPARATORS.sub("", value)))
        or any(detail in value for detail in contact_details)
    ]
    assert leaks == []
    assert published_rows(paths, "SELECT comment FROM cx.cx_feedback WHERE response_id = 'R6'") == [
        ("Call me on [phone removed], [phone removed] or write to [email removed]",)
    ]
