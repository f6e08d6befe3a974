"""The headline metrics of the latest complete month, as published: one query that the run's
Dagster metadata (plotted across runs in the UI) and the HTML report both read."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.settings import SERVING_SCHEMA

# (column, label) in the order they are shown.
HEADLINE_METRICS = (
    ("mrr_end", "MRR end"),
    ("customers_end", "Paying customers"),
    ("logo_churn_rate", "Logo churn"),
    ("net_revenue_retention", "Net revenue retention"),
    ("fcr_rate", "First contact resolution"),
    ("first_response_minutes_p50", "First response, median"),
    ("nps", "NPS"),
    ("csat_score", "CSAT score"),
    ("crc", "Customer retention cost"),
    ("clv", "Customer lifetime value"),
)


@dataclass(frozen=True)
class Headline:
    month: date | None  # the latest complete month; None before the first one
    values: dict[str, float | None]  # by column of HEADLINE_METRICS; None where undefined


def latest_complete_month(con: duckdb.DuckDBPyConnection, schema: str = SERVING_SCHEMA) -> Headline:
    row = con.execute(
        f"""
        SELECT m.month, {", ".join(column for column, _ in HEADLINE_METRICS)}
        FROM {schema}.cx_mrr_monthly AS m
        LEFT JOIN {schema}.cx_churn_monthly AS ch USING (month)
        LEFT JOIN {schema}.cx_tickets_monthly AS t USING (month)
        LEFT JOIN {schema}.cx_surveys_monthly AS s USING (month)
        LEFT JOIN {schema}.cx_costs_monthly AS co USING (month)
        LEFT JOIN (SELECT month, clv FROM {schema}.cx_clv_monthly WHERE segment = 'all') AS clv USING (month)
        WHERE m.is_complete_month
        ORDER BY m.month DESC
        LIMIT 1
        """
    ).fetchone()
    if row is None:
        return Headline(None, dict.fromkeys(column for column, _ in HEADLINE_METRICS))
    values = {
        column: None if value is None or not math.isfinite(float(value)) else float(value)
        for (column, _), value in zip(HEADLINE_METRICS, row[1:])
    }
    return Headline(row[0], values)
