"""Checks one extract file against the input contract (`shared/spec/extracts.md`) before it lands.

Why: the contract is the user's side of the interface, so a file that breaks it must be refused with
a message that says exactly what is wrong, and a row that breaks it must be set aside (quarantined)
with its row number, column and reason, while the good rows of the same file still land. A row that
passes here is guaranteed to cast cleanly in the raw layer (`warehouse.land_extract`).

Two kinds of problems:
- the file as a whole (unreadable, not UTF-8, truncated gzip, empty, malformed CSV or JSON, a
  required column missing) raises `ExtractFileError`: nothing of it can be trusted;
- a row (missing value, wrong type, value outside an enumeration, broken business rule) goes to `ValidationResult.rejected`, one entry per problem.

Row checks run as two Great Expectations suites: the first on the text as delivered (required
values, formats, enumerations, ISO codes), the second, on the rows that passed it, with numbers and
booleans converted (the cross-field rules of the contract). A record may appear more than once
in a file: the contract orders its versions by row position too, so repeats are not an error here.

At scale: ingest reads a file in chunks of at most `CHUNK_ROWS` records (Parquet by row groups,
a large CSV block by block) and checks each chunk. GX's pandas engine spends seconds per expectation
per million rows, so a chunk larger than `GX_MAX_ROWS` runs the same suites compiled to DuckDB SQL
(`check_chunk`); a test proves both engines reject the same rows for the same reasons.
"""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import io
import json
import os
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orchestration.lib import deferred_imports

# Telemetry must be off before Great Expectations is imported: it reads the setting on import.
os.environ["GX_ANALYTICS_ENABLED"] = "false"
# Imported by Great Expectations for expectations and charts the contract does not use.
deferred_imports.defer("scipy.stats", "altair")

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.core.batch_definition import BatchDefinition  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
# Renamed: Column is the contract's column here; Where("x") == "y" reads as the row condition it is.
from great_expectations.expectations.row_conditions import Column as Where  # noqa: E402

from orchestration.lib.contracts import Column, Entity  # noqa: E402
from orchestration.lib.warehouse import sql_identifier, sql_string  # noqa: E402

ROW_NUMBER = "_row_number"
REJECTED_COLUMNS = ("row_number", "column_name", "reason", "value")
# Every failing row. They are identified by the dataframe index, which is set to the row number:
# GX looks `unexpected_index_column_names` up row by row, which takes seconds when many rows fail.
RESULT_FORMAT = {"result_format": "COMPLETE"}

# Text as delivered: str values and pd.NA for null. Arrow-backed, so that the checks run in C++.
TEXT = pd.StringDtype("pyarrow")

Row = Mapping[str, str | int | None]  # one row as delivered: text by column, and its _row_number

CHUNK_ROWS = 1_000_000  # records checked and landed at a time: bounds memory whatever the file size
STREAMED_CSV_BYTES = 64 << 20  # a larger CSV file is read block by block instead of whole
# A larger chunk is checked by the suites compiled to DuckDB SQL. GX keeps the smaller change files
# (at 100,000 accounts all of a night's but the ticket events, 17,760 rows); at a million accounts
# its pandas engine took 2.8 s for the day's five files of 11,000 to 78,000 rows, where DuckDB took
# 0.45 s (docs/decisions.md).
GX_MAX_ROWS = 10_000
# DuckDB scans an Arrow table one record batch per task: a chunk in batches of its row-group size
# is checked and landed on every core, where one batch of a million rows kept one core busy.
SCAN_BATCH_ROWS = 122_880


class ExtractFileError(Exception):
    """The file as a whole breaks the contract; str(e) names the file and the problem."""


@dataclass(frozen=True)
class ValidationResult:
    accepted: pd.DataFrame  # rows that pass every check: TEXT columns (contract, then extra), _row_number
    rejected: pd.DataFrame  # one row per (row, problem): row_number, column_name, reason, value
    rows_read: int  # == len(accepted) + number of distinct rejected row_numbers


# --- Reading ---------------------------------------------------------------------------------------


def check_extract(path: Path, entity: Entity) -> ValidationResult:
    """Reads one extract file and checks it against the entity's contract: the usual entry point."""
    return validate_extract(read_extract(path, entity), entity, str(path))


def read_extract(path: Path, entity: Entity) -> pd.DataFrame:
    """The file's records as text (str, or pd.NA for null), with every contract column and `_row_number`.

    `_row_number` is the 1-based record number: the first record after the header is 1.
    """
    name = path.name.lower()
    readers = {".csv.gz": _read_gzip_csv, ".csv": _read_csv, ".jsonl": _read_jsonl, ".parquet": _read_parquet}
    suffix = next((s for s in readers if name.endswith(s)), None)
    if suffix is None:
        raise ExtractFileError(f"{path}: unsupported file type (expected .csv, .csv.gz, .jsonl or .parquet)")
    if path.stat().st_size == 0:
        raise ExtractFileError(f"{path}: the file is empty")
    return _conform_columns(readers[suffix](path), entity, str(path))


def read_extract_chunks(path: Path, entity: Entity) -> Iterator[pa.Table]:
    """The file's records as text tables of at most `CHUNK_ROWS` rows, columns as `read_extract` has them.

    Parquet files and CSV files over `STREAMED_CSV_BYTES` are streamed; other files are read whole
    (they are small, and their readers say on which line a malformed file breaks).
    """
    chunk_rows = CHUNK_ROWS
    name = path.name.lower()
    if name.endswith(".parquet") and path.stat().st_size > 0:
        tables = _parquet_tables(path, chunk_rows)
    elif name.endswith((".csv", ".csv.gz")) and path.stat().st_size > STREAMED_CSV_BYTES:
        tables = _streamed_csv_tables(path, chunk_rows)
    else:
        frame = read_extract(path, entity)
        tables = iter([pa.Table.from_pandas(frame, preserve_index=False)])
    for table in tables:
        for first in range(0, max(table.num_rows, 1), chunk_rows):
            yield _conformed_table(table.slice(first, chunk_rows), entity, str(path))


def _parquet_tables(path: Path, chunk_rows: int) -> Iterator[pa.Table]:
    try:
        parquet = pq.ParquetFile(path)
        header = _checked_header(parquet.schema_arrow.names, path)
        if parquet.metadata.num_rows == 0:
            yield _text_table(parquet.schema_arrow.empty_table().rename_columns(header))
        first_row = 1
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            yield _text_table(pa.Table.from_batches([batch]).rename_columns(header), first_row)
            first_row += batch.num_rows
    except (pa.ArrowException, OSError) as error:
        raise ExtractFileError(f"{path}: not a readable Parquet file ({error})") from None


def _streamed_csv_tables(path: Path, chunk_rows: int) -> Iterator[pa.Table]:
    compression = "gzip" if path.name.lower().endswith(".gz") else None
    with pa.input_stream(path, compression=compression) as stream:
        first_line = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="").readline()
    raw_header = next(csv.reader([first_line]), None)
    if not raw_header:
        raise ExtractFileError(f"{path}: the file is empty (no header)")
    header = _checked_header(raw_header, path)
    try:
        reader = pa_csv.open_csv(
            pa.input_stream(path, compression=compression),
            # Arrow is given the names and skips the header line: it would keep a byte-order mark in them.
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1, block_size=16 << 20),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in header}),
        )
        first_row, batches, rows = 1, [], 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows >= chunk_rows:
                yield _text_table(pa.Table.from_batches(batches), first_row)
                first_row, batches, rows = first_row + rows, [], 0
        if batches:
            yield _text_table(pa.Table.from_batches(batches), first_row)
    except (pa.ArrowException, OSError, EOFError, zlib.error) as error:
        # Arrow names no line; a CSV this large is rarely hand-edited, and the message says what broke.
        raise ExtractFileError(f"{path}: malformed CSV, not UTF-8 or truncated ({str(error)[:300]})") from None


def _read_gzip_csv(path: Path) -> pd.DataFrame:
    try:
        content = gzip.decompress(path.read_bytes())
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ExtractFileError(f"{path}: truncated or corrupt gzip ({error})") from None
    return _parse_csv(_utf8_text(content, path, " of the decompressed content"), path)


def _read_csv(path: Path) -> pd.DataFrame:
    return _parse_csv(_utf8_text(path.read_bytes(), path), path)


def _utf8_text(content: bytes, path: Path, where: str = "") -> str:
    """The content as text, without the byte-order mark some tools write at the start."""
    bom = len(codecs.BOM_UTF8) if content.startswith(codecs.BOM_UTF8) else 0
    try:
        return content[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = bom + error.start
        line = content.count(b"\n", 0, offset) + 1
        raise ExtractFileError(f"{path}: not valid UTF-8 at byte {offset}{where} (line {line})") from None


def _parse_csv(text: str, path: Path) -> pd.DataFrame:
    # The header alone is parsed here, to check it and to have Arrow read every column as text.
    raw_header = next((record for record in csv.reader(io.StringIO(text, newline="")) if record), None)
    if raw_header is None:
        raise ExtractFileError(f"{path}: the file is empty (no header)")
    header = _checked_header(raw_header, path)
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in raw_header}),
        )
    except pa.ArrowInvalid as error:
        # Arrow quotes the offending record, which may be the rest of the file after a stray quote.
        raise ExtractFileError(f"{path}: malformed CSV ({str(error)[:300]})") from None
    return _text_frame(table.rename_columns(header))


# Numbers stay as written, so that 0.10 does not become 0.1, nor 0.0000001 become 1e-07.
JSON_AS_WRITTEN = json.JSONDecoder(parse_int=str, parse_float=str, parse_constant=str)


def _read_jsonl(path: Path) -> pd.DataFrame:
    text = _utf8_text(path.read_bytes(), path)
    objects: list[dict] = []
    # Split on "\n" only: str.splitlines would also split on characters JSON strings may hold raw.
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = JSON_AS_WRITTEN.decode(line)
        except json.JSONDecodeError as error:
            raise ExtractFileError(f"{path}: line {line_number} is not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise ExtractFileError(f"{path}: line {line_number} is not a JSON object")
        objects.append(record)
    if not objects:
        raise ExtractFileError(f"{path}: the file is empty (no records)")
    # Keys in order of first appearance; a key absent from a line is null there.
    keys = list(dict.fromkeys(key for record in objects for key in record))
    columns = {
        name: pa.array([_json_value_as_text(record.get(key)) for record in objects], pa.string())
        for key, name in zip(keys, _checked_header(keys, path))
    }
    return _text_frame(pa.table(columns))


def _json_value_as_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value  # str (numbers included, see parse_int) or None


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise ExtractFileError(f"{path}: not a readable Parquet file ({error})") from None
    return _text_frame(table.rename_columns(_checked_header(table.column_names, path)))


def _checked_header(names: list[str], path: Path) -> list[str]:
    header = [name.strip() for name in names]
    if "" in header:
        raise ExtractFileError(f"{path}: column {header.index('') + 1} of the header has no name")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ExtractFileError(f"{path}: repeated column(s) in the header: {', '.join(repeated)}")
    if ROW_NUMBER in header:
        raise ExtractFileError(f"{path}: {ROW_NUMBER} is reserved for the record number")
    return header


def _text_frame(table: pa.Table) -> pd.DataFrame:
    return _as_text_frame(_text_table(table))


def _text_table(table: pa.Table, first_row: int = 1) -> pa.Table:
    """Every value as the text a CSV extract would hold for it, an empty one as null, plus `_row_number`."""
    texts = {name: _empty_as_null(_arrow_as_text(table.column(name))) for name in table.column_names}
    texts[ROW_NUMBER] = pa.array(np.arange(first_row, first_row + table.num_rows, dtype="int64"))
    return pa.table(texts)


def _as_text_frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=lambda kind: TEXT if kind in (pa.string(), pa.large_string()) else None)


def _empty_as_null(text: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    # The contract's "empty field = null", applied to every format alike. A column without an empty
    # value is kept as it is: replacing copies every value, a sixth of a Parquet chunk's ingest
    # time when no value was empty (docs/performance.md).
    empty = pc.equal(text, "")
    if not pc.any(empty).as_py():
        return text
    return pc.if_else(empty, pa.scalar(None, pa.string()), text)


def _arrow_as_text(values: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    kind = values.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            return pc.strftime(values, format="%Y-%m-%dT%H:%M:%S")
        text = pc.strftime(values, format="%Y-%m-%dT%H:%M:%S%z")
        # %z writes +0700; the extended format of ISO 8601 is +07:00.
        return pc.replace_substring_regex(text, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2")
    if pa.types.is_floating(kind):
        # Positional notation: Arrow would write 1e-7, which is no decimal of the contract.
        return pa.array(
            [None if v is None else np.format_float_positional(v, trim="-") for v in values.to_pylist()], pa.string()
        )
    if pa.types.is_nested(kind):
        return pa.array(
            [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in values.to_pylist()],
            pa.string(),
        )
    # Strings stay; integers, decimals, booleans ('true'/'false') and dates (YYYY-MM-DD) cast as expected.
    return pc.cast(values, pa.string())


def _conform_columns(frame: pd.DataFrame, entity: Entity, file_label: str) -> pd.DataFrame:
    """Contract columns first (absent optional ones added as null), then unknown ones, then _row_number."""
    missing = [name for name in entity.required_columns if name not in frame.columns]
    if missing:
        raise ExtractFileError(f"{file_label}: missing required column(s): {', '.join(missing)}")
    extra = [name for name in frame.columns if name not in entity.column_names and name != ROW_NUMBER]
    conformed = frame.reindex(columns=[*entity.column_names, *extra])
    return conformed.astype(TEXT).assign(**{ROW_NUMBER: frame[ROW_NUMBER]})


def _conformed_table(table: pa.Table, entity: Entity, file_label: str) -> pa.Table:
    """`_conform_columns` for a text table."""
    names = table.column_names
    missing = [name for name in entity.required_columns if name not in names]
    if missing:
        raise ExtractFileError(f"{file_label}: missing required column(s): {', '.join(missing)}")
    extra = [name for name in names if name not in entity.column_names and name != ROW_NUMBER]
    order = [*entity.column_names, *extra]
    columns = [table.column(n).cast(pa.string()) if n in names else pa.nulls(table.num_rows, pa.string()) for n in order]
    conformed = pa.table([*columns, table.column(ROW_NUMBER)], names=[*order, ROW_NUMBER])
    return pa.Table.from_batches(conformed.to_batches(max_chunksize=SCAN_BATCH_ROWS), conformed.schema)


# --- Checks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """One expectation, and how to report a row that fails it."""

    expectation: gxe.Expectation
    columns: tuple[str, ...]  # reported as column_name; their delivered text is reported as value
    reason: Callable[[Row], str]  # from the row's delivered text


def _always(reason: str) -> Callable[[Row], str]:
    return lambda row: reason


def _full_match(pattern: str) -> str:
    # GX searches the value (with RE2 through Arrow, or Python's re). \Z is the end of the value in
    # both; Python's $ would also match before a trailing newline.
    return f"^(?:{pattern})\\Z"


# [0-9], not \d: Python's \d also matches non-ASCII digits, which DuckDB does not cast.
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
# 0001-9999: DuckDB casts year 0000 to 1 BC. No lookahead, which would push the match from RE2 to Python.
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
# Divisible by 4 but not by 100 (0004, 1996), or by 400 (0400, 2000).
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
_UTC_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)"

# Formats that guarantee the DuckDB cast of the raw layer succeeds (no 2024-02-30, no 25:00).
TYPE_PATTERNS = {
    "timestamp": _full_match(f"{_DATE}[T ]{_TIME}{_UTC_OFFSET}?"),
    "date": _full_match(_DATE),
    "boolean": _full_match("(?i:true|false)"),
    # At most 18 digits, so that every value fits a BIGINT.
    "integer": _full_match("[+-]?[0-9]{1,18}"),
    "decimal": _full_match(r"[+-]?[0-9]+(?:\.[0-9]+)?"),
}
# Codes the contract names by column; checked in form, not against the ISO lists.
CODE_PATTERNS = {
    "currency": (_full_match("[A-Z]{3}"), "not an ISO 4217 currency code (3 capital letters)"),
    "country_code": (_full_match("[A-Z]{2}"), "not an ISO 3166-1 alpha-2 country code (2 capital letters)"),
}


def _structure_checks(entity: Entity) -> list[_Check]:
    """Checks on the text as delivered, column by column."""
    checks = []
    for column in entity.columns:
        name = column.name
        if column.required:
            checks.append(
                _Check(gxe.ExpectColumnValuesToNotBeNull(column=name), (name,), _always("required value is missing"))
            )
        if column.type in TYPE_PATTERNS:
            checks.append(
                _Check(
                    gxe.ExpectColumnValuesToMatchRegex(column=name, regex=TYPE_PATTERNS[column.type]),
                    (name,),
                    _always(f"not a valid {column.type}"),
                )
            )
        if column.enum:
            in_enum = gxe.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.enum))
            checks.append(_Check(in_enum, (name,), _not_one_of(column)))
        if name in CODE_PATTERNS:
            pattern, reason = CODE_PATTERNS[name]
            checks.append(
                _Check(gxe.ExpectColumnValuesToMatchRegex(column=name, regex=pattern), (name,), _always(reason))
            )
    return checks


def _not_one_of(column: Column) -> Callable[[Row], str]:
    allowed = ", ".join(column.enum)
    return lambda row: f"'{row[column.name]}' is not one of {allowed}"


# Helper columns of the typed frame; they never reach `accepted`.
TOTAL_CENTS = "_total_cents"
EXPECTED_TOTAL_CENTS = "_expected_total_cents"


def _rule_checks(entity: Entity) -> list[_Check]:
    """Checks on rows that passed the structure checks, with numbers and booleans typed."""
    return BUSINESS_RULES.get(entity.path, lambda: [])()


def _survey_rules() -> list[_Check]:
    def outside_scale(row: Row) -> str:
        return f"score {row['score']} is outside the scale {row['scale_min']}-{row['scale_max']}"

    def scale_ends(survey_type: str, ends: tuple[int, ...]) -> _Check:
        return _Check(
            gxe.ExpectColumnValuesToBeInSet(
                column="scale_max", value_set=list(ends), row_condition=Where("survey_type") == survey_type
            ),
            ("scale_max",),
            _always(f"{survey_type} scales end at {' or '.join(map(str, ends))}"),
        )

    return [
        _Check(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="score", column_B="scale_min", or_equal=True),
            ("score",),
            outside_scale,
        ),
        _Check(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="scale_max", column_B="score", or_equal=True),
            ("score",),
            outside_scale,
        ),
        _Check(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="scale_max", column_B="scale_min"),
            ("scale_min",),
            lambda row: f"scale_min {row['scale_min']} is not below scale_max {row['scale_max']}",
        ),
        _Check(
            gxe.ExpectColumnValuesToBeInSet(
                column="scale_min", value_set=[0], row_condition=Where("survey_type") == "nps"
            ),
            ("scale_min",),
            _always("nps scales start at 0"),
        ),
        scale_ends("nps", (10,)),
        scale_ends("csat", (5, 10)),
        scale_ends("ces", (5, 7)),
    ]


def _invoice_rules() -> list[_Check]:
    def required_for_subscriptions(name: str) -> _Check:
        return _Check(
            gxe.ExpectColumnValuesToNotBeNull(column=name, row_condition=Where("invoice_type") == "subscription"),
            (name,),
            _always("required when invoice_type = subscription"),
        )

    def wrong_total(row: Row) -> str:
        expected = Decimal(row["subtotal"]) - Decimal(row["discount_amount"] or 0) + Decimal(row["tax_amount"] or 0)
        return f"total {row['total']} != subtotal - discount_amount + tax_amount = {expected:.2f}"

    return [
        required_for_subscriptions("subscription_id"),
        required_for_subscriptions("service_period_start"),
        required_for_subscriptions("service_period_end"),
        _Check(
            # YYYY-MM-DD text orders like the dates it names.
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="service_period_end", column_B="service_period_start", ignore_row_if="either_value_is_missing"
            ),
            ("service_period_end",),
            lambda row: f"service_period_end {row['service_period_end']} is not after "
            f"service_period_start {row['service_period_start']}",
        ),
        _Check(
            gxe.ExpectColumnValuesToBeBetween(
                column="subtotal", min_value=0, row_condition=Where("invoice_type") != "credit_note"
            ),
            ("subtotal",),
            _always("subtotal is negative but invoice_type is not credit_note"),
        ),
        _not_negative("discount_amount"),
        _not_negative("tax_amount"),
        _Check(
            gxe.ExpectColumnPairValuesToBeEqual(column_A=TOTAL_CENTS, column_B=EXPECTED_TOTAL_CENTS),
            ("total",),
            wrong_total,
        ),
    ]


def _ticket_event_rules() -> list[_Check]:
    return [
        _Check(
            gxe.ExpectColumnValuesToNotBeNull(
                column="new_status", row_condition=Where("event_type") == "status_change"
            ),
            ("new_status",),
            _always("required when event_type = status_change"),
        ),
        _Check(
            gxe.ExpectColumnValuesToBeInSet(
                column="is_public", value_set=[False], row_condition=Where("event_type") == "note"
            ),
            ("is_public",),
            _always("a note is never public"),
        ),
    ]


def _fx_rate_rules() -> list[_Check]:
    return [
        _Check(
            gxe.ExpectColumnValuesToBeBetween(column="rate", min_value=0, strict_min=True),
            ("rate",),
            _always("rate must be greater than 0"),
        )
    ]


def _cost_rules() -> list[_Check]:
    return [
        _not_negative("amount"),
        _Check(
            gxe.ExpectColumnValuesToMatchRegex(column="cost_month", regex=_full_match("[0-9]{4}-[0-9]{2}-01")),
            ("cost_month",),
            _always("cost_month must be the first day of a month"),
        ),
    ]


def _not_negative(name: str) -> _Check:
    return _Check(
        gxe.ExpectColumnValuesToBeBetween(column=name, min_value=0), (name,), _always(f"{name} must not be negative")
    )


BUSINESS_RULES: dict[str, Callable[[], list[_Check]]] = {
    "crm/survey_responses": _survey_rules,
    "billing/invoices": _invoice_rules,
    "helpdesk/ticket_events": _ticket_event_rules,
    "billing/fx_rates": _fx_rate_rules,
    "finance/costs": _cost_rules,
}


def _typed_frame(frame: pd.DataFrame, entity: Entity) -> pd.DataFrame:
    """The rows with numbers and booleans converted, plus the helper columns the rules compare."""
    typed = frame[[*entity.column_names, ROW_NUMBER]].copy()
    for column in entity.columns:
        if column.type in ("integer", "decimal"):
            typed[column.name] = frame[column.name].astype("float64")
        elif column.type == "boolean":
            typed[column.name] = frame[column.name].str.lower() == "true"
    if entity.path == "billing/invoices":
        expected = typed["subtotal"] - typed["discount_amount"].fillna(0) + typed["tax_amount"].fillna(0)
        # Compared to the cent: in whole cents, so that float noise below a cent does not count.
        typed[TOTAL_CENTS] = (typed["total"] * 100).round()
        typed[EXPECTED_TOTAL_CENTS] = (expected * 100).round()
    return typed


# --- Running the checks ----------------------------------------------------------------------------


def validate_extract(df: pd.DataFrame, entity: Entity, file_label: str) -> ValidationResult:
    """Splits the rows of one extract (as `read_extract` returns them) into accepted and rejected."""
    frame = _conform_columns(df, entity, file_label)
    structure_problems = _problems(frame, frame, entity, "structure", file_label)
    well_formed = frame[~frame[ROW_NUMBER].isin(structure_problems["row_number"])]
    rule_problems = _problems(_typed_frame(well_formed, entity), well_formed, entity, "rules", file_label)
    rejected = (
        pd.concat([structure_problems, rule_problems], ignore_index=True)
        # A rule checked in two halves (scale_min <= score, score <= scale_max) may fail twice alike.
        .drop_duplicates()
        .sort_values("row_number", kind="stable")
        .reset_index(drop=True)
    )
    accepted = frame[~frame[ROW_NUMBER].isin(rejected["row_number"])].reset_index(drop=True)
    return ValidationResult(accepted, rejected, rows_read=len(frame))


def _problems(
    checked: pd.DataFrame, delivered: pd.DataFrame, entity: Entity, stage: str, file_label: str
) -> pd.DataFrame:
    """One row per (row, failed check) of the stage's suite run on `checked`, reported from `delivered`."""
    if checked.empty:
        return _rejected_frame([])
    checks, suite = _suite(entity, stage)
    by_row_number = checked.set_axis(checked[ROW_NUMBER].to_numpy())
    results = _whole_frame_batches().get_batch(batch_parameters={"dataframe": by_row_number}).validate(
        suite, result_format=RESULT_FORMAT
    )
    delivered_rows = delivered.set_axis(delivered[ROW_NUMBER].to_numpy())
    problems = []
    for result in results.results:
        if result.success:
            continue
        if "unexpected_index_list" not in result.result:
            # GX reports a check that could not run as failed without rows; it must not pass silently.
            raise RuntimeError(
                f"{file_label}: {result.expectation_config.type} could not run: {result.exception_info}"
            )
        check = checks[result.expectation_config.meta["check"]]
        column_name = ", ".join(check.columns)
        for row in _records(delivered_rows.loc[result.result["unexpected_index_list"]]):
            problems.append((row[ROW_NUMBER], column_name, check.reason(row), _reported_value(row, check.columns)))
    return _rejected_frame(problems)


def _records(frame: pd.DataFrame) -> list[Row]:
    # Through Arrow: many times faster than DataFrame.to_dict on Arrow-backed columns, and nulls are None.
    names = list(frame.columns)
    values = [pa.Array.from_pandas(frame[name]).to_pylist() for name in names]
    return [dict(zip(names, row)) for row in zip(*values)]


def _reported_value(row: Row, columns: tuple[str, ...]) -> str | None:
    if len(columns) == 1:
        return row[columns[0]]
    return ", ".join(str(row[name]) for name in columns)


def _rejected_frame(problems: list[tuple[int, str, str, str | None]]) -> pd.DataFrame:
    rejected = pd.DataFrame(problems, columns=list(REJECTED_COLUMNS), dtype=object)
    return rejected.astype({"row_number": "int64"})


# --- The same suites in DuckDB, for large chunks -------------------------------------------------


def check_chunk(con: duckdb.DuckDBPyConnection, chunk: pa.Table, entity: Entity, file_label: str) -> pd.DataFrame:
    """The problems of one chunk of `read_extract_chunks`, as `ValidationResult.rejected` lists them.

    Up to `GX_MAX_ROWS` rows GX validates the chunk on pandas; a larger one is checked in DuckDB
    with each expectation compiled to the SQL predicate of a failing row. Only the failing rows come
    back to Python, where the reasons are worded by the same code as GX's.

    The SQL reads the Arrow tables by name from the variables of the function that runs it (DuckDB's
    replacement scan), never through `con.register`: a registered table stays alive until the ingest
    transaction ends, which held every chunk of a large file in memory.
    """
    if chunk.num_rows <= GX_MAX_ROWS:
        return validate_extract(_as_text_frame(chunk), entity, file_label).rejected
    failing = {"structure": _failing_in_duckdb(con, chunk, entity, "structure")}
    failing["rules"] = _failing_in_duckdb(con, chunk, entity, "rules", ill_formed=_row_numbers(failing["structure"]))
    delivered = _rows_of(con, chunk, _row_numbers(*failing.values()))
    return _reported_problems(failing, delivered, entity)


def _rows_of(con: duckdb.DuckDBPyConnection, extract_chunk: pa.Table, rejected_rows: pa.Table) -> pd.DataFrame:
    return con.execute(f"select * from extract_chunk semi join rejected_rows using ({ROW_NUMBER})").df()


def _row_numbers(*pairs: np.ndarray) -> pa.Table:
    numbers = np.unique(np.concatenate([p[:, 0] for p in pairs])) if pairs else np.empty(0, np.int64)
    return pa.table({ROW_NUMBER: pa.array(numbers, pa.int64())})


def _failing_in_duckdb(
    con: duckdb.DuckDBPyConnection,
    extract_chunk: pa.Table,
    entity: Entity,
    stage: str,
    ill_formed: pa.Table | None = None,
) -> np.ndarray:
    """(row number, check number) of every failed check of the stage's suite, as an n x 2 array
    ordered like GX reports them: by check, then by row. The rules stage checks the typed values of
    the rows that are not `ill_formed`."""
    checks, _ = _suite(entity, stage)
    if not checks:
        return np.empty((0, 2), dtype=np.int64)
    relation = (
        "extract_chunk"
        if ill_formed is None
        else f"(select {_typed_select(entity)} from extract_chunk anti join ill_formed using ({ROW_NUMBER}))"
    )
    failing = [_failing_sql(c.expectation) for c in checks]
    flags = ", ".join(f"case when {sql} then {n} end" for n, sql in enumerate(failing))
    # The list of failed checks is built only for the rows that fail one: building it for every row
    # was a sixth of a large chunk's check time (docs/performance.md).
    any_failing = " or ".join(f"({sql})" for sql in failing)
    pairs = con.execute(
        f"""
        select {ROW_NUMBER}, check_number
        from (
            select {ROW_NUMBER}, unnest(list_filter([{flags}], n -> n is not null)) as check_number
            from {relation}
            where {any_failing}
        )
        order by check_number, {ROW_NUMBER}
        """
    ).fetchnumpy()
    return np.column_stack([pairs[ROW_NUMBER], pairs["check_number"]]).astype(np.int64).reshape(-1, 2)


def _reported_problems(failing: dict[str, np.ndarray], delivered: pd.DataFrame, entity: Entity) -> pd.DataFrame:
    """The rejected rows as `validate_extract` reports them, worded by the same checks."""
    rows = {row[ROW_NUMBER]: row for row in _records(delivered)}
    problems = []
    for stage, pairs in failing.items():
        checks, _ = _suite(entity, stage)
        for row_number, check_number in pairs.tolist():
            check, row = checks[check_number], rows[row_number]
            problems.append((row_number, ", ".join(check.columns), check.reason(row), _reported_value(row, check.columns)))
    return (
        _rejected_frame(problems).drop_duplicates().sort_values("row_number", kind="stable").reset_index(drop=True)
    )


def _typed_select(entity: Entity) -> str:
    """`_typed_frame` in SQL. try_cast: DuckDB may cast a value before it drops the ill-formed rows."""
    items = []
    for column in entity.columns:
        name = sql_identifier(column.name)
        if column.type in ("integer", "decimal"):
            items.append(f"try_cast({name} as double) as {name}")
        elif column.type == "boolean":
            items.append(f"lower({name}) = 'true' as {name}")
        else:
            items.append(name)
    if entity.path == "billing/invoices":
        # round_even: numpy's rounding, half to even, as `_typed_frame` rounds.
        items.append(f"round_even(try_cast(total as double) * 100, 0) as {TOTAL_CENTS}")
        items.append(
            "round_even((try_cast(subtotal as double) - coalesce(try_cast(discount_amount as double), 0)"
            f" + coalesce(try_cast(tax_amount as double), 0)) * 100, 0) as {EXPECTED_TOTAL_CENTS}"
        )
    return ", ".join([*items, ROW_NUMBER])


def _failing_sql(expectation: gxe.Expectation) -> str:
    """A DuckDB predicate that is true exactly for the rows GX counts as unexpected."""
    config = expectation.configuration.kwargs
    kind = expectation.expectation_type
    column = sql_identifier(config.get("column", ""))
    if kind == "expect_column_values_to_not_be_null":
        failing = f"{column} is null"
    elif kind == "expect_column_values_to_match_regex":
        failing = f"not regexp_full_match({column}, {_sql_literal(_unanchored(config['regex']))})"
    elif kind == "expect_column_values_to_be_in_set":
        failing = f"{column} not in ({', '.join(_sql_literal(v) for v in config['value_set'])})"
    elif kind == "expect_column_values_to_be_between":
        bounds = []
        if config.get("min_value") is not None:
            bounds.append(f"{column} {'<=' if config.get('strict_min') else '<'} {_sql_literal(config['min_value'])}")
        if config.get("max_value") is not None:
            bounds.append(f"{column} {'>=' if config.get('strict_max') else '>'} {_sql_literal(config['max_value'])}")
        failing = " or ".join(bounds)
    elif kind in ("expect_column_pair_values_a_to_be_greater_than_b", "expect_column_pair_values_to_be_equal"):
        a, b = sql_identifier(config["column_A"]), sql_identifier(config["column_B"])
        if kind == "expect_column_pair_values_to_be_equal":
            comparison = f"{a} = {b}"
        else:
            comparison = f"{a} {'>=' if config.get('or_equal') else '>'} {b}"
        ignored = {
            "either_value_is_missing": f"{a} is null or {b} is null",
            "both_values_are_missing": f"{a} is null and {b} is null",
            "neither": "false",
        }[config.get("ignore_row_if") or "both_values_are_missing"]
        failing = f"not ({ignored}) and not coalesce({comparison}, false)"
    else:
        raise NotImplementedError(f"{kind} has no DuckDB translation")
    condition = _row_condition_sql(expectation.row_condition)
    return f"coalesce(({condition}) and ({failing}), false)"


def _row_condition_sql(condition: object) -> str:
    if condition is None:
        return "true"
    operators = {"==": "=", "!=": "<>"}
    if getattr(condition, "operator", None) not in operators:
        raise NotImplementedError(f"row condition {condition!r} has no DuckDB translation")
    return f"{sql_identifier(condition.column.name)} {operators[condition.operator]} {_sql_literal(condition.parameter)}"


def _unanchored(pattern: str) -> str:
    """The pattern inside `_full_match`: DuckDB's regexp_full_match anchors it, and RE2 has no \\Z."""
    prefix, suffix = "^(?:", ")\\Z"
    if not (pattern.startswith(prefix) and pattern.endswith(suffix)):
        raise NotImplementedError(f"pattern {pattern!r} is not a _full_match pattern")
    return pattern[len(prefix) : -len(suffix)]


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return sql_string(str(value))


@functools.cache
def _suite(entity: Entity, stage: str) -> tuple[list[_Check], gx.ExpectationSuite]:
    """The stage's checks and their suite; each expectation's meta says which check it is."""
    checks = _structure_checks(entity) if stage == "structure" else _rule_checks(entity)
    expectations = [check.expectation.copy(update={"meta": {"check": number}}) for number, check in enumerate(checks)]
    return checks, gx.ExpectationSuite(name=f"{entity.path} {stage}", expectations=expectations)


@functools.cache
def _whole_frame_batches() -> BatchDefinition:
    """A batch definition over a whole dataframe, in an ephemeral context built once per process."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("extracts").add_dataframe_asset("extract")
    return asset.add_batch_definition_whole_dataframe("whole extract")
