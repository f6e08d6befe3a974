"""Publishing swaps complete sets of files in and cleans up after an interrupted publication."""

from datetime import date

import duckdb

from orchestration.lib.publishing import publish_marts


def _warehouse_with_a_mart(paths, value: int) -> None:
    con = duckdb.connect(str(paths.warehouse_db))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"CREATE OR REPLACE TABLE marts.cx_example AS SELECT {value} AS figure")
    con.close()


def _published_figure(paths) -> int:
    con = duckdb.connect(str(paths.serving_db), read_only=True)
    try:
        return con.execute("SELECT figure FROM cx.cx_example").fetchone()[0]
    finally:
        con.close()


def test_a_reader_of_the_old_database_keeps_it_while_a_new_one_is_published(data_dir):
    _warehouse_with_a_mart(data_dir, 1)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1")
    reader = duckdb.connect(str(data_dir.serving_db), read_only=True)

    _warehouse_with_a_mart(data_dir, 2)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 11), "run-2")

    assert reader.execute("SELECT figure FROM cx.cx_example").fetchone()[0] == 1
    reader.close()
    assert _published_figure(data_dir) == 2
    parquet = data_dir.parquet_dir / "cx_example.parquet"
    assert duckdb.sql(f"SELECT figure FROM '{parquet}'").fetchone()[0] == 2
    assert [p.name for p in data_dir.serving_dir.glob("parquet-*")] == [data_dir.parquet_dir.resolve().name]


def test_leftovers_of_an_interrupted_publication_are_removed_by_the_next_one(data_dir):
    _warehouse_with_a_mart(data_dir, 1)
    publish_marts(data_dir, ("cx_example",), date(2024, 3, 10), "run-1")
    # What a run killed in the middle of publishing leaves behind.
    (data_dir.serving_dir / ".publishing-dead.duckdb").write_bytes(b"half a database")
    (data_dir.serving_dir / "parquet-dead").mkdir()
    (data_dir.serving_dir / "parquet-dead" / "cx_example.parquet").write_bytes(b"half a file")

    publish_marts(data_dir, ("cx_example",), date(2024, 3, 11), "run-2")

    assert sorted(p.name for p in data_dir.serving_dir.iterdir()) == sorted(
        ["cx_metrics.duckdb", "parquet", data_dir.parquet_dir.resolve().name]
    )
    assert _published_figure(data_dir) == 1
