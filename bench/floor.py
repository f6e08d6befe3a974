"""Runs bench/floor.sql: the published tables computed straight from the extract files, as fast as DuckDB can.

The script is one DuckDB SQL file split into steps by `-- @step <name>` lines; each step is timed.
It reads extracts through placeholders `{read <source>/<entity>: col, col, ...}`, which this runner
replaces by a relation over the entity's files: the named columns as text (NULL where a file lacks
one), `_extract_date` and `_row` (row position, increasing within a file). DuckDB fails on a glob or
list that matches no file, and an entity may mix formats across dates, so the relation names exactly
the files present, one reader per format. `{extracts_dir}` is replaced by the folder.

Usage: python -m bench.floor <extracts_dir> <database> [--memory-limit 8GB] [--threads N]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).with_name("floor.sql")
EXTRACT_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}\.(csv|csv\.gz|jsonl|parquet)$")
READ = re.compile(r"\{read ([a-z_]+/[a-z_]+):\s*([a-z_,\s]+)\}")
STEP = re.compile(r"^-- @step (\S+)\s*$", re.MULTILINE)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_list(paths: list[Path]) -> str:
    return "[" + ", ".join(_sql_string(str(p)) for p in paths) + "]"


def _columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _entity_relation(con: duckdb.DuckDBPyConnection, extracts_dir: Path, entity: str, columns: list[str]) -> str:
    folder = extracts_dir / entity
    files = sorted(p for p in folder.iterdir() if EXTRACT_NAME.match(p.name)) if folder.is_dir() else []
    by_format: dict[str, list[Path]] = {"csv": [], "jsonl": [], "parquet": []}
    for path in files:
        by_format["csv" if path.name.endswith((".csv", ".csv.gz")) else path.suffix[1:]].append(path)
    extract_date = "CAST(parse_filename(filename)[1:10] AS DATE) AS _extract_date"
    parts = []
    if by_format["csv"]:
        reader = f"read_csv({_file_list(by_format['csv'])}, all_varchar = true, union_by_name = true, filename = true)"
        present = _columns_of(con, reader)
        # WITH ORDINALITY numbers rows across the list in file order: increasing within each file.
        parts.append(_select(columns, present, f"{extract_date}, ordinality AS _row", f"{reader} WITH ORDINALITY"))
    if by_format["jsonl"]:
        # Every value as text, as the CSV would hold it: numbers as written, booleans true/false.
        spec = "{" + ", ".join(f"{_sql_string(c)}: 'VARCHAR'" for c in columns) + "}"
        reader = (
            f"read_json({_file_list(by_format['jsonl'])}, format = 'newline_delimited', columns = {spec}, "
            "filename = true)"
        )
        parts.append(_select(columns, set(columns), f"{extract_date}, ordinality AS _row", f"{reader} WITH ORDINALITY"))
    if by_format["parquet"]:
        reader = (
            f"read_parquet({_file_list(by_format['parquet'])}, union_by_name = true, filename = true, "
            "file_row_number = true)"
        )
        present = _columns_of(con, reader)
        parts.append(_select(columns, present, f"{extract_date}, file_row_number AS _row", reader))
    if not parts:
        nulls = ", ".join(f"NULL::VARCHAR AS {c}" for c in columns)
        return f"(SELECT {nulls}, NULL::DATE AS _extract_date, NULL::BIGINT AS _row WHERE false)"
    return "(" + "\nUNION ALL\n".join(parts) + ")"


def _select(columns: list[str], present: set[str], lineage: str, reader: str) -> str:
    # The contract's "empty field = null" holds for every format; the CSV reader applies it itself.
    def column(name: str) -> str:
        if name not in present:
            return f"NULL::VARCHAR AS {name}"
        if reader.startswith("read_csv"):
            return name
        return f"nullif(CAST({name} AS VARCHAR), '') AS {name}"

    return f"SELECT {', '.join(column(c) for c in columns)}, {lineage} FROM {reader}"


def render(con: duckdb.DuckDBPyConnection, extracts_dir: Path, script: str) -> str:
    def replace(match: re.Match) -> str:
        columns = [c.strip() for c in match[2].split(",") if c.strip()]
        return _entity_relation(con, extracts_dir, match[1], columns)

    return READ.sub(replace, script).replace("{extracts_dir}", str(extracts_dir))


def steps(script: str) -> list[tuple[str, str]]:
    """(name, SQL) of each step, in order."""
    pieces = STEP.split(script)
    return [(pieces[i], pieces[i + 1]) for i in range(1, len(pieces), 2)]


def run_floor(
    extracts_dir: Path, database: Path, memory_limit: str = "8GB", threads: int | None = None
) -> dict[str, float]:
    """Executes floor.sql on `database` (schema `floor`); seconds per step, published tables by name."""
    extracts_dir = Path(extracts_dir).resolve()
    con = duckdb.connect(str(database))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = {_sql_string(memory_limit)}")
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        timings: dict[str, float] = {}
        started = time.perf_counter()
        script = render(con, extracts_dir, SCRIPT.read_text())
        timings["sources"] = time.perf_counter() - started
        for name, sql in steps(script):
            started = time.perf_counter()
            con.execute(sql)
            timings[name] = time.perf_counter() - started
        return timings
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extracts_dir", type=Path)
    parser.add_argument("database", type=Path)
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    timings = run_floor(args.extracts_dir, args.database, args.memory_limit, args.threads)
    for name, seconds in timings.items():
        print(f"{name:24s} {seconds:8.2f} s")
    print(f"{'total':24s} {sum(timings.values()):8.2f} s")


if __name__ == "__main__":
    main()
