"""An incremental nightly run publishes exactly what a full rebuild over the same files publishes,
and a re-delivered older file makes the run fall back to a full refresh (docs/decisions.md,
Incremental builds)."""

import contextlib
import csv
import gzip
import io
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration import cli, settings
from published import published_tables

# The last change day opens a new month: the incremental run adds that month and restates the last
# one, the riskiest step of the monthly incremental models.
AS_OF = date(2026, 2, 1)
# The last change day and the day after it stay in their month: the running month's instant moves by
# a day, and only the subscriptions with a period starting or ending in that day, and the accounts
# with a ticket or answer entering or leaving its 90-day window, are restated for it (the test ends
# one such period: in the generated data, every period that starts or ends on a day comes with a
# new version of its subscription or invoice that day).
WITHIN_A_MONTH_AS_OF = date(2026, 1, 30)
# A change day before the last one: re-delivering it is not something an incremental build can follow.
REDELIVERED = Path("helpdesk/tickets/2026-01-30.csv")
# Ledgers, whose rows add up per group: an incremental build appends a moved account's facts as
# rows under its new and its previous attributes (docs/decisions.md, Incremental builds). Compared
# by their sums per group (the key columns), leaving out the groups whose sums are all 0.
LEDGERS = {
    "intermediate.int_attribute_sums_monthly": ("month", "segment", "region", "acquisition_channel", "lifecycle_stage"),
}
# The data tests tagged history_wide, which incremental builds leave out.
HISTORY_WIDE_TESTS = (
    "assert_customer_and_mrr_bridges_agree_every_month",
    "assert_published_revenue_reconciles_with_raw_invoices",
    "assert_published_tickets_reconcile_with_raw_tickets",
)


def _run(data: Path) -> str:
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(io.StringIO()) as output:
        env.setenv("CX_DATA_DIR", str(data))
        env.setenv("DAGSTER_HOME", str(data / "dagster"))
        env.setenv("CX_WAREHOUSE_PATH", "")
        # These runs are minutes apart: the default lookback would recompute every key the previous
        # run landed, and the keys an incremental build leaves alone would go untested.
        exit_code = cli.main(["run", "--set", "incremental_lookback_hours=0"])
    assert exit_code == 0, output.getvalue()
    return output.getvalue()


def _last_build(data: Path) -> tuple[str, str]:
    con = duckdb.connect(str(settings.Paths(data).warehouse_db), read_only=True)
    try:
        return con.execute(
            "SELECT build_mode, reason FROM transform.dbt_builds ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()


def _fresh_full_run(tmp_path: Path, name: str, extracts: Path) -> Path:
    data = tmp_path / name
    shutil.copytree(extracts, data / "extracts")
    _run(data)
    assert _last_build(data)[0] == "full_refresh"
    return data


def _generate(tmp_path_factory, as_of: date) -> Path:
    """A sample: a full load and seven daily change extracts up to as_of."""
    data = tmp_path_factory.mktemp("sample")
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(io.StringIO()):
        env.setenv("CX_DATA_DIR", str(data))
        assert cli.main(["generate", "--as-of", as_of.isoformat()]) == 0
    return data / "extracts"


def _built_then_built_incrementally(
    extracts: Path, as_of: date, tmp_path_factory, events_of_unknown_tickets: int
) -> Path:
    """A data folder built the night before as_of's extracts arrived, then incrementally with them."""
    data = tmp_path_factory.mktemp("nightly")
    last_day = f"{as_of.isoformat()}."
    shutil.copytree(extracts, data / "extracts", ignore=lambda _, names: [n for n in names if n.startswith(last_day)])
    _run(data)
    assert _last_build(data)[0] == "full_refresh"
    held_back = list(extracts.rglob(f"{last_day}*"))
    assert len(held_back) == 9
    for path in held_back:
        shutil.copy2(path, data / "extracts" / path.relative_to(extracts))
    summary = _run(data)
    # The summary names the checks the incremental build left to the full refreshes.
    not_run = re.findall(r"NOT RUN \S+ :: (\w+)", summary)
    assert sorted(not_run) == sorted(HISTORY_WIDE_TESTS), summary
    assert re.search(rf"Checks: .* failed, {len(HISTORY_WIDE_TESTS)} not run", summary), summary
    # The warning test looks for the night's events' tickets among those within the range of their
    # ids: it must find every ticket that an anti-join with all staged tickets finds.
    outcome = f"WARN {events_of_unknown_tickets}" if events_of_unknown_tickets else "PASS"
    assert re.search(rf"{outcome} assert_ticket_events_belong_to_known_tickets", summary), summary
    return data


def _assert_publishes_what_a_full_rebuild_publishes(nightly: Path, extracts: Path, tmp_path: Path) -> None:
    mode, reason = _last_build(nightly)
    assert mode == "incremental", reason
    rebuilt = _fresh_full_run(tmp_path, "rebuilt", extracts)

    incremental, full = published_tables(settings.Paths(nightly)), published_tables(settings.Paths(rebuilt))
    assert {table: len(rows) for table, rows in incremental.items()} == {table: len(rows) for table, rows in full.items()}
    for table in settings.PUBLISHED_TABLES:
        assert incremental[table] == full[table], table


@pytest.fixture(scope="module")
def sample_extracts(tmp_path_factory, dbt_manifest) -> Path:
    return _generate(tmp_path_factory, AS_OF)


@pytest.fixture(scope="module")
def nightly(sample_extracts, tmp_path_factory) -> Path:
    # Two of the night's ticket events are of tickets never delivered: TCK-000024369 and TCK-000024408.
    return _built_then_built_incrementally(sample_extracts, AS_OF, tmp_path_factory, events_of_unknown_tickets=2)


def test_an_incremental_run_publishes_what_a_full_rebuild_publishes(nightly, sample_extracts, tmp_path):
    _assert_publishes_what_a_full_rebuild_publishes(nightly, sample_extracts, tmp_path)


def _end_a_period_on(extracts: Path, as_of: date) -> str:
    """Ends the period of one paid subscription invoice, delivered before as_of and the last of its
    subscription to cover the month end, on as_of: the running month's instant (the day after the
    as-of date) passes that end on the night of as_of, when nothing of the subscription lands.
    Returns the invoice's id."""
    folder = extracts / "billing" / "invoices"
    rows = {path: _read_csv(path) for path in sorted(folder.glob("*.csv*"))}
    every_version = [row for path_rows in rows.values() for row in path_rows[1]]
    last_day = f"{as_of.isoformat()}."
    landed_last = {
        row["subscription_id"]
        for entity in ("invoices", "subscriptions")
        for path in (extracts / "billing" / entity).glob(f"{last_day}*")
        for row in _read_csv(path)[1]
    }
    versions = {}
    latest_end = {}
    for row in every_version:
        versions[row["invoice_id"]] = versions.get(row["invoice_id"], 0) + 1
        latest_end[row["subscription_id"]] = max(latest_end.get(row["subscription_id"], ""), row["service_period_end"])
    for path, (fields, path_rows) in rows.items():
        if path.name.startswith(last_day) or path.suffix != ".csv":
            continue
        for row in path_rows:
            if (
                row["invoice_type"] == "subscription" and row["status"] == "paid" and versions[row["invoice_id"]] == 1
                and row["subscription_id"] not in landed_last
                and row["service_period_start"] < as_of.isoformat() < row["service_period_end"]
                and row["service_period_end"] == latest_end[row["subscription_id"]]
            ):
                row["service_period_end"] = as_of.isoformat()
                _write_csv(path, fields, path_rows)
                return row["invoice_id"]
    raise AssertionError("no invoice period to end")


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with (gzip.open(path, "rt", newline="", encoding="utf-8") if path.suffix == ".gz" else path.open(newline="", encoding="utf-8")) as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def _write_csv(path: Path, fields: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _incremental_tables(data: Path) -> dict[str, list[tuple] | dict[tuple, tuple]]:
    """Every incremental table's rows but their build marker, sorted; a ledger's sums by group."""
    con = duckdb.connect(str(settings.Paths(data).warehouse_db), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_columns() WHERE column_name = '_built_at' "
            "AND schema_name <> 'test_failures' ORDER BY ALL"
        ).fetchall()
        return {
            f"{schema}.{table}": _ledger_sums(con, f"{schema}.{table}") if f"{schema}.{table}" in LEDGERS
            else sorted(con.execute(f"SELECT * EXCLUDE (_built_at) FROM {schema}.{table}").fetchall(), key=repr)
            for schema, table in tables
        }
    finally:
        con.close()


def _ledger_sums(con: duckdb.DuckDBPyConnection, table: str) -> dict[tuple, tuple]:
    keys = LEDGERS[table]
    schema, name = table.split(".")
    columns = [
        column for (column,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, name],
        ).fetchall()
        if column not in keys and column != "_built_at"
    ]
    # A group whose facts all moved away sums to 0, up to the noise of its doubles.
    rows = con.execute(
        f"SELECT {', '.join(keys)}, {', '.join(f'sum({column})' for column in columns)} FROM {table} GROUP BY ALL "
        f"HAVING {' OR '.join(f'abs(sum({column})) > 1e-6' for column in columns)}"
    ).fetchall()
    return {row[:len(keys)]: row[len(keys):] for row in rows}


def _moved_account_rows(data: Path) -> int:
    """The rows that take an account's facts back from its previous attributes (negative counts)."""
    con = duckdb.connect(str(settings.Paths(data).warehouse_db), read_only=True)
    try:
        return con.execute(
            "SELECT count(*) FROM intermediate.int_attribute_sums_monthly "
            "WHERE movement_rows < 0 OR response_rows < 0 OR tickets_created < 0"
        ).fetchone()[0]
    finally:
        con.close()


def test_an_incremental_run_within_a_month_writes_what_a_full_rebuild_writes(tmp_path_factory, dbt_manifest, tmp_path):
    """Compares the incremental tables, not the marts: the running month's experience is published
    only once the month completes, and the marts rebuilt from equal tables differ only by the order
    in which DuckDB's threads sum doubles (docs/decisions.md, Incremental builds)."""
    extracts = _generate(tmp_path_factory, WITHIN_A_MONTH_AS_OF)
    _end_a_period_on(extracts, WITHIN_A_MONTH_AS_OF)
    nightly = _built_then_built_incrementally(extracts, WITHIN_A_MONTH_AS_OF, tmp_path_factory, events_of_unknown_tickets=0)
    assert _last_build(nightly)[0] == "incremental"
    assert _moved_account_rows(nightly) > 0
    incremental, full = _incremental_tables(nightly), _incremental_tables(_fresh_full_run(tmp_path, "rebuilt", extracts))
    assert "intermediate.int_account_cx_experience" in full
    assert incremental.keys() == full.keys()
    for table, rows in full.items():
        if table in LEDGERS:
            # Its doubles were added in another order than a rebuild adds them.
            assert incremental[table].keys() == rows.keys(), table
            for group, sums in rows.items():
                assert incremental[table][group] == pytest.approx(sums, rel=1e-12, abs=1e-9), (table, group)
        else:
            assert incremental[table] == rows, table


def _redeliver_without_a_ticket(extracts: Path) -> str:
    """Re-delivers REDELIVERED without one counted ticket and with another one closed, both tickets
    with no version in any other file; returns the removed ticket's id."""
    versions: dict[str, int] = {}
    for path in (extracts / "helpdesk" / "tickets").glob("*.csv"):
        for row in _read_csv(path)[1]:
            versions[row["ticket_id"]] = versions.get(row["ticket_id"], 0) + 1
    target = extracts / REDELIVERED
    fields, rows = _read_csv(target)
    counted = [
        row for row in rows
        if versions[row["ticket_id"]] == 1 and row["is_deleted"] != "true" and not row["merged_into_ticket_id"]
    ]
    removed = counted[0]["ticket_id"]
    changed = next(row for row in counted[1:] if row["status"] != "closed")
    changed["status"] = "closed"
    _write_csv(target, fields, [row for row in rows if row["ticket_id"] != removed])
    return removed


def test_a_redelivered_older_file_falls_back_to_a_full_refresh_and_matches_a_full_rebuild(nightly, tmp_path):
    data = tmp_path / "redelivered"
    shutil.copytree(nightly, data, symlinks=True)
    removed = _redeliver_without_a_ticket(data / "extracts")

    _run(data)

    mode, reason = _last_build(data)
    assert mode == "full_refresh"
    assert REDELIVERED.as_posix() in reason and "re-delivered" in reason
    rebuilt = _fresh_full_run(tmp_path, "rebuilt", data / "extracts")
    after, full = published_tables(settings.Paths(data)), published_tables(settings.Paths(rebuilt))
    for table in settings.PUBLISHED_TABLES:
        assert after[table] == full[table], table
    con = duckdb.connect(str(settings.Paths(data).warehouse_db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM intermediate.int_ticket_facts WHERE ticket_id = ?", [removed]).fetchone() == (0,)
    finally:
        con.close()
