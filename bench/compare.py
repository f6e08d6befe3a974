"""Row-by-row, column-by-column comparison of a published table with an independent computation.

Integer (as the expected side has them: counts), boolean, date and text columns must be equal.
Floating-point and decimal columns are equal within `rel_tol` relative or `abs_tol` absolute: the
marts round money to 6 decimals and rates to 10 (dbt_project/macros), and a sum of doubles in
another order may round a half the other way, so the last rounded digit may differ, nothing more.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd

REL_TOL = 1e-9
ABS_TOL = 1e-6
MAX_LINES_PER_COLUMN = 10


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _is_inexact(value) -> bool:
    return isinstance(value, (float, Decimal)) and not isinstance(value, bool)


def _normalize(value):
    """One representation per value, whatever the reader produced (numpy scalars, Timestamp, date)."""
    if _is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (pd.Timestamp, Decimal)):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if hasattr(value, "hour") and value.hour == value.minute == value.second == value.microsecond == 0:
        value = value.date()
    return value


def _values_equal(expected, actual, rel_tol: float, abs_tol: float) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    numeric = (int, float, Decimal)
    if (
        isinstance(expected, numeric)
        and isinstance(actual, numeric)
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        if isinstance(expected, int):
            return expected == actual
        if _is_inexact(expected) or _is_inexact(actual):
            e, a = float(expected), float(actual)
            if math.isnan(e) or math.isnan(a):
                return math.isnan(e) and math.isnan(a)
            return math.isclose(e, a, rel_tol=rel_tol, abs_tol=abs_tol)
        return expected == actual
    return expected == actual


def _key_text(key: list[str], values: tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(key, values))


def compare_tables(
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    key: list[str],
    *,
    rel_tol: float = REL_TOL,
    abs_tol: float = ABS_TOL,
) -> list[str]:
    """Differences between `expected` and `actual` as human-readable lines; empty when they agree.

    Rows are matched on `key`; every column of `expected` must be in `actual` (extra columns of
    `actual` are reported too, since both sides should publish the same interface).
    """
    lines: list[str] = []
    missing_columns = [c for c in expected.columns if c not in actual.columns]
    extra_columns = [c for c in actual.columns if c not in expected.columns]
    if missing_columns:
        lines.append(f"columns missing from actual: {missing_columns}")
    if extra_columns:
        lines.append(f"columns only in actual: {extra_columns}")
    for name, frame in (("expected", expected), ("actual", actual)):
        absent = [k for k in key if k not in frame.columns]
        if absent:
            return lines + [f"key columns {absent} missing from {name}"]

    def rows_by_key(frame: pd.DataFrame, name: str) -> dict[tuple, dict]:
        rows: dict[tuple, dict] = {}
        for record in frame.to_dict("records"):
            k = tuple(_normalize(record[c]) for c in key)
            if k in rows:
                lines.append(f"duplicate key in {name}: {_key_text(key, k)}")
            rows[k] = record
        return rows

    expected_rows = rows_by_key(expected, "expected")
    actual_rows = rows_by_key(actual, "actual")

    def sort_key(k: tuple):
        return tuple((v is None, str(v)) for v in k)

    only_expected = sorted(set(expected_rows) - set(actual_rows), key=sort_key)
    only_actual = sorted(set(actual_rows) - set(expected_rows), key=sort_key)
    for k in only_expected:
        lines.append(f"row missing from actual: {_key_text(key, k)}")
    for k in only_actual:
        lines.append(f"row only in actual: {_key_text(key, k)}")

    common = sorted(set(expected_rows) & set(actual_rows), key=sort_key)
    for column in expected.columns:
        if column in key or column not in actual.columns:
            continue
        differing = []
        for k in common:
            e = _normalize(expected_rows[k][column])
            a = _normalize(actual_rows[k][column])
            if not _values_equal(e, a, rel_tol, abs_tol):
                differing.append((k, e, a))
        for k, e, a in differing[:MAX_LINES_PER_COLUMN]:
            lines.append(f"{column} at {_key_text(key, k)}: expected {e!r}, actual {a!r}")
        if len(differing) > MAX_LINES_PER_COLUMN:
            lines.append(f"{column}: {len(differing) - MAX_LINES_PER_COLUMN} more differing rows")
    return lines
