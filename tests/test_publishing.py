"""Publishing switches complete sets of files in with one rename and cleans up after an interrupted one."""

import subprocess
import sys
from datetime import date, datetime

import duckdb
import pytest

from orchestration.lib.publishing import publish_marts


def _warehouse_with_a_mart(paths, value: int) -> None:
    con = duckdb.connect(str(paths.warehouse_db))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"CREATE OR REPLACE TABLE marts.cx_example AS SELECT {value} AS figure")
    con.close()


def _serving_rows(paths, sql: str) -> list[tuple]:
    """The rows of a query on the serving database, opened read-only through its fixed path."""
    con = duckdb.connect(str(paths.serving_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _published_figures(paths) -> tuple[int, int]:
    """The figure in the serving database and in its Parquet file, read through the fixed paths."""
    ((in_database,),) = _serving_rows(paths, "SELECT figure FROM cx.cx_example")
    in_parquet = duckdb.sql(f"SELECT figure FROM '{paths.parquet_dir / 'cx_example.parquet'}'").fetchone()[0]
    return in_database, in_parquet


def test_a_reader_of_the_old_database_keeps_it_while_a_new_one_is_published(data_dir):
    _warehouse_with_a_mart(data_dir, 1)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1")
    reader = duckdb.connect(str(data_dir.serving_db), read_only=True)
    listed_parquet_files = [p.resolve() for p in data_dir.parquet_dir.glob("*.parquet")]

    _warehouse_with_a_mart(data_dir, 2)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 11), "run-2")

    assert reader.execute("SELECT figure FROM cx.cx_example").fetchone()[0] == 1
    reader.close()
    # A Parquet reader that listed the files before the switch can still read them.
    assert duckdb.sql(f"SELECT figure FROM '{listed_parquet_files[0]}'").fetchone()[0] == 1
    assert _published_figures(data_dir) == (2, 2)

    _warehouse_with_a_mart(data_dir, 3)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 12), "run-3")

    assert _published_figures(data_dir) == (3, 3)
    # Only the live publication and the one before it are kept.
    assert sorted(p.name for p in data_dir.serving_dir.iterdir()) == sorted(
        ["current", "previous", "cx_metrics.duckdb", "parquet",
         data_dir.current_publication.resolve().name, data_dir.previous_publication.resolve().name]
    )
    assert not listed_parquet_files[0].exists()


def test_what_an_interrupted_publication_left_is_never_read_and_is_removed_by_the_next_one(data_dir):
    _warehouse_with_a_mart(data_dir, 1)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1")
    # What a run killed while writing its publication leaves: a folder and a link not yet renamed.
    unfinished = data_dir.serving_dir / "publication-killed"
    (unfinished / "parquet").mkdir(parents=True)
    (unfinished / "parquet" / "cx_example.parquet").write_bytes(b"half a file")
    (unfinished / "cx_metrics.duckdb").write_bytes(b"half a database")
    (data_dir.serving_dir / ".link-killed").symlink_to(unfinished.name)

    assert _published_figures(data_dir) == (1, 1)

    _warehouse_with_a_mart(data_dir, 2)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 11), "run-2")

    assert _published_figures(data_dir) == (2, 2)
    assert sorted(p.name for p in data_dir.serving_dir.iterdir()) == sorted(
        ["current", "previous", "cx_metrics.duckdb", "parquet",
         data_dir.current_publication.resolve().name, data_dir.previous_publication.resolve().name]
    )


def test_a_publication_that_fails_leaves_the_published_files_and_no_folder(data_dir):
    _warehouse_with_a_mart(data_dir, 1)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1")
    before = sorted(p.name for p in data_dir.serving_dir.iterdir())

    _warehouse_with_a_mart(data_dir, 2)
    with pytest.raises(duckdb.CatalogException, match="cx_missing"):
        publish_marts(data_dir, ("cx_example", "cx_missing"), date(2024, 3, 11), "run-2")

    assert _published_figures(data_dir) == (1, 1)
    assert sorted(p.name for p in data_dir.serving_dir.iterdir()) == before


def test_table_and_column_comments_of_the_marts_are_published(data_dir):
    _warehouse_with_a_mart(data_dir, 1)
    con = duckdb.connect(str(data_dir.warehouse_db))
    con.execute("COMMENT ON TABLE marts.cx_example IS 'One figure, for the example.'")
    con.execute("COMMENT ON COLUMN marts.cx_example.figure IS 'The figure''s value.'")
    con.close()

    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1")

    assert _serving_rows(data_dir, "SELECT comment FROM duckdb_tables() WHERE table_name = 'cx_example'") == [
        ("One figure, for the example.",)
    ]
    assert _serving_rows(data_dir, "SELECT comment FROM duckdb_columns() WHERE table_name = 'cx_example'") == [
        ("The figure's value.",)
    ]


def test_the_build_marker_of_an_incremental_mart_is_not_published(data_dir):
    con = duckdb.connect(str(data_dir.warehouse_db))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.cx_example AS SELECT 7 AS figure, TIMESTAMP '2024-03-10 02:00:00' AS _built_at")
    con.close()

    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1")

    assert _serving_rows(data_dir, "SELECT * FROM cx.cx_example") == [(7,)]
    assert [row[0] for row in _serving_rows(data_dir, "DESCRIBE cx.cx_example")] == ["figure"]
    assert duckdb.sql(f"SELECT * FROM '{data_dir.parquet_dir / 'cx_example.parquet'}'").fetchall() == [(7,)]


def _warehouse_with_feedback(paths, rows: list[tuple[str, int, str]]) -> None:
    """An incremental mart keyed by response_id: (response_id, score, build marker)."""
    con = duckdb.connect(str(paths.warehouse_db))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute("CREATE OR REPLACE TABLE marts.cx_example (response_id VARCHAR, score INTEGER, _built_at TIMESTAMP)")
    con.executemany("INSERT INTO marts.cx_example VALUES (?, ?, ?)", rows)
    con.close()


def _published_feedback(paths) -> list[tuple]:
    in_database = _serving_rows(paths, "SELECT * FROM cx.cx_example ORDER BY response_id")
    parquet_file = paths.parquet_dir / "cx_example.parquet"
    in_parquet = duckdb.sql(f"SELECT * FROM '{parquet_file}' ORDER BY response_id").fetchall()
    assert in_parquet == in_database
    return in_database


def test_a_mart_published_by_key_copies_the_rows_built_before_the_last_publication_and_replaces_the_rest(data_dir):
    keys = {"cx_example": "response_id"}
    _warehouse_with_feedback(
        data_dir, [("r1", 5, "2024-03-10 02:00"), ("r2", 6, "2024-03-10 02:00"), ("r3", 7, "2024-03-10 02:00")]
    )
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1", keys)
    assert _published_feedback(data_dir) == [("r1", 5), ("r2", 6), ("r3", 7)]
    # Marks the live copy of r1, which the next publication copies rather than reading the mart again.
    con = duckdb.connect(str(data_dir.current_publication / "cx_metrics.duckdb"))
    con.execute("UPDATE cx.cx_example SET score = 50 WHERE response_id = 'r1'")
    con.close()

    # The next build rewrote r2, deleted r3 and added r4; r1 is as the last publication saw it.
    _warehouse_with_feedback(
        data_dir, [("r1", 5, "2024-03-10 02:00"), ("r2", 9, "2024-03-11 02:00"), ("r4", 4, "2024-03-11 02:00")]
    )
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 11), "run-2", keys)

    assert _published_feedback(data_dir) == [("r1", 50), ("r2", 9), ("r4", 4)]
    assert _serving_rows(data_dir, "SELECT table_name, row_count, built_until FROM cx._publication") == [
        ("cx_example", 3, datetime(2024, 3, 11, 2, 0))
    ]

    # A full refresh rewrote every row: the mart is published anew.
    _warehouse_with_feedback(data_dir, [("r1", 5, "2024-03-12 02:00"), ("r2", 9, "2024-03-12 02:00")])
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 12), "run-3", keys)

    assert _published_feedback(data_dir) == [("r1", 5), ("r2", 9)]


def test_a_mart_published_by_key_whose_columns_changed_is_published_anew(data_dir):
    keys = {"cx_example": "response_id"}
    _warehouse_with_feedback(data_dir, [("r1", 5, "2024-03-10 02:00")])
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1", keys)
    con = duckdb.connect(str(data_dir.warehouse_db))
    con.execute("ALTER TABLE marts.cx_example ADD COLUMN comment VARCHAR DEFAULT 'new column'")
    con.execute("INSERT INTO marts.cx_example VALUES ('r2', 6, '2024-03-11 02:00', 'added')")
    con.close()

    publish_marts(data_dir, ("cx_example",), date(2024, 3, 11), "run-2", keys)

    assert _published_feedback(data_dir) == [("r1", 5, "new column"), ("r2", 6, "added")]


def test_a_mart_published_by_key_is_written_anew_while_a_client_holds_the_live_database_for_writing(data_dir):
    keys = {"cx_example": "response_id"}
    _warehouse_with_feedback(data_dir, [("r1", 5, "2024-03-10 02:00")])
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1", keys)
    holds_for_writing = (
        f"import duckdb, time; duckdb.connect({str(data_dir.serving_db.resolve())!r}); "
        "print('open', flush=True); time.sleep(60)"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", holds_for_writing],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline() == "open\n"
        _warehouse_with_feedback(data_dir, [("r1", 5, "2024-03-10 02:00"), ("r2", 6, "2024-03-11 02:00")])
        publish_marts(data_dir, ("cx_example",), date(2024, 3, 11), "run-2", keys)
    finally:
        writer.kill()
        writer.wait()

    assert _published_feedback(data_dir) == [("r1", 5), ("r2", 6)]
