"""An incremental nightly run publishes exactly what a full rebuild over the same files publishes,
and a re-delivered older file makes the run fall back to a full refresh (docs/decisions.md,
Incremental builds)."""

import contextlib
import csv
import io
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
# A change day before the last one: re-delivering it is not something an incremental build can follow.
REDELIVERED = Path("helpdesk/tickets/2026-01-30.csv")


def _run(data: Path) -> None:
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(io.StringIO()) as output:
        env.setenv("CX_DATA_DIR", str(data))
        env.setenv("DAGSTER_HOME", str(data / "dagster"))
        env.setenv("CX_WAREHOUSE_PATH", "")
        # These runs are minutes apart: the default lookback would recompute every key the previous
        # run landed, and the keys an incremental build leaves alone would go untested.
        exit_code = cli.main(["run", "--set", "incremental_lookback_hours=0"])
    assert exit_code == 0, output.getvalue()


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


@pytest.fixture(scope="module")
def sample_extracts(tmp_path_factory, dbt_manifest) -> Path:
    """The default sample: a full load and seven daily change extracts up to AS_OF."""
    data = tmp_path_factory.mktemp("sample")
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(io.StringIO()):
        env.setenv("CX_DATA_DIR", str(data))
        assert cli.main(["generate", "--as-of", AS_OF.isoformat()]) == 0
    return data / "extracts"


@pytest.fixture(scope="module")
def nightly(sample_extracts, tmp_path_factory) -> Path:
    """A data folder built the night before AS_OF's extracts arrived, then incrementally with them."""
    data = tmp_path_factory.mktemp("nightly")
    last_day = f"{AS_OF.isoformat()}."
    shutil.copytree(sample_extracts, data / "extracts", ignore=lambda _, names: [n for n in names if n.startswith(last_day)])
    _run(data)
    assert _last_build(data)[0] == "full_refresh"
    held_back = list(sample_extracts.rglob(f"{last_day}*"))
    assert len(held_back) == 9
    for path in held_back:
        shutil.copy2(path, data / "extracts" / path.relative_to(sample_extracts))
    _run(data)
    return data


def test_an_incremental_run_publishes_what_a_full_rebuild_publishes(nightly, sample_extracts, tmp_path):
    mode, reason = _last_build(nightly)
    assert mode == "incremental", reason
    rebuilt = _fresh_full_run(tmp_path, "rebuilt", sample_extracts)

    incremental, full = published_tables(settings.Paths(nightly)), published_tables(settings.Paths(rebuilt))
    assert {table: len(rows) for table, rows in incremental.items()} == {table: len(rows) for table, rows in full.items()}
    for table in settings.PUBLISHED_TABLES:
        assert incremental[table] == full[table], table


def _redeliver_without_a_ticket(extracts: Path) -> str:
    """Re-delivers REDELIVERED without one counted ticket and with another one closed, both tickets
    with no version in any other file; returns the removed ticket's id."""
    versions: dict[str, int] = {}
    for path in (extracts / "helpdesk" / "tickets").glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                versions[row["ticket_id"]] = versions.get(row["ticket_id"], 0) + 1
    target = extracts / REDELIVERED
    with target.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    counted = [
        row for row in rows
        if versions[row["ticket_id"]] == 1 and row["is_deleted"] != "true" and not row["merged_into_ticket_id"]
    ]
    removed = counted[0]["ticket_id"]
    changed = next(row for row in counted[1:] if row["status"] != "closed")
    changed["status"] = "closed"
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(row for row in rows if row["ticket_id"] != removed)
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
