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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

# Telemetry must be off before Great Expectations is imported: it reads the setting on import.
os.environ["GX_ANALYTICS_ENABLED"] = "false"

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.core.batch_definition import BatchDefinition  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
# Renamed: Column is the contract's column here; Where("x") == "y" reads as the row condition it is.
from great_expectations.expectations.row_conditions import Column as Where  # noqa: E402

from orchestration.lib.contracts import Column, Entity  # noqa: E402

ROW_NUMBER = "_row_number"
REJECTED_COLUMNS = ("row_number", "column_name", "reason", "value")
# Every failing row. They are identified by the dataframe index, which is set to the row number:
# GX looks `unexpected_index_column_names` up row by row, which takes seconds when many rows fail.
RESULT_FORMAT = {"result_format": "COMPLETE"}

# Text as delivered: str values and pd.NA for null. Arrow-backed, so that the checks run in C++.
TEXT = pd.StringDtype("pyarrow")

Row = Mapping[str, str | int | None]  # one row as delivered: text by column, and its _row_number


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
    """Every value as the text a CSV extract would hold for it, an empty one as null, plus `_row_number`."""
    texts = {name: _empty_as_null(_arrow_as_text(table.column(name))) for name in table.column_names}
    frame = pa.table(texts).to_pandas(types_mapper=lambda _: TEXT)
    frame[ROW_NUMBER] = np.arange(1, table.num_rows + 1, dtype="int64")
    return frame


def _empty_as_null(text: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    # The contract's "empty field = null", applied to every format alike.
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


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
