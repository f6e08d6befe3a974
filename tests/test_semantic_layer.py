"""The semantic layer (dbt_project/models/semantic): each headline metric is defined once, with the
type and inputs shared/spec/metrics.md gives it, and a MetricFlow query by month and segment returns
the published figures."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import settings


@pytest.fixture(scope="module")
def semantic(dbt_manifest):
    """semantic_manifest.json, written next to manifest.json by the `dbt parse` of dbt_manifest."""
    manifest = json.loads((settings.DBT_PROJECT_DIR / "target" / "semantic_manifest.json").read_text())
    metrics = {m["name"]: m for m in manifest["metrics"]}
    models = {s["name"]: s for s in manifest["semantic_models"]}
    measures = {ms["name"]: (s["name"], ms) for s in manifest["semantic_models"] for ms in s["measures"]}
    return manifest, metrics, models, measures


def _simple_measure(metrics, name):
    metric = metrics[name]
    assert metric["type"] == "simple", name
    return metric["type_params"]["measure"]["name"]


def _inputs(metric):
    return {m["name"] for m in metric["type_params"]["metrics"]}


def test_semantic_models_read_the_published_grain(semantic):
    _, _, models, _ = semantic
    expected = {
        "segment_monthly": "sem_segment_monthly",
        "costs_monthly": "cx_costs_monthly",
        "ticket_facts": "int_ticket_facts",
        "clv_monthly": "cx_clv_monthly",
    }
    assert {name: models[name]["node_relation"]["alias"] for name in expected} == expected
    for name in expected:
        model = models[name]
        assert model["defaults"]["agg_time_dimension"] == "reporting_month"
        (month,) = [d for d in model["dimensions"] if d["name"] == "reporting_month"]
        assert month["type"] == "time" and month["expr"] == "month"
        assert month["type_params"]["time_granularity"] == "month"
    # `segment` is the group-by of both per-segment models, and of no monthly-only one.
    for name in ("segment_monthly", "clv_monthly"):
        assert {"name": "segment", "type": "foreign", "expr": "segment"}.items() <= next(
            e for e in models[name]["entities"] if e["name"] == "segment"
        ).items()
    assert not any(e["name"] == "segment" for e in models["costs_monthly"]["entities"])


def test_the_time_spine_is_configured(semantic):
    manifest, _, _, _ = semantic
    (spine,) = manifest["project_configuration"]["time_spines"]
    assert spine["node_relation"]["alias"] == "metricflow_time_spine"
    assert spine["primary_column"] == {"name": "date_day", "time_granularity": "day"}


def test_mrr_and_its_movements_are_sums_of_the_segment_rows(semantic):
    _, metrics, _, measures = semantic
    expected = {
        "mrr": "mrr_end",
        "mrr_start": "mrr_start",
        "mrr_fx_adjustment": "mrr_fx_adjustment",
        "mrr_new": "mrr_new",
        "mrr_expansion": "mrr_expansion",
        "mrr_contraction": "mrr_contraction",
        "mrr_churned": "mrr_churned",
    }
    for metric, measure in expected.items():
        assert _simple_measure(metrics, metric) == measure
        model, definition = measures[measure]
        assert (model, definition["agg"]) == ("segment_monthly", "sum"), metric
    # Stocks take the period's last (end) or first (start) month at grains coarser than a month;
    # flows add up.
    assert measures["mrr_end"][1]["non_additive_dimension"]["window_choice"] == "max"
    assert measures["customers_end"][1]["non_additive_dimension"]["window_choice"] == "max"
    assert measures["mrr_start"][1]["non_additive_dimension"]["window_choice"] == "min"
    assert measures["customers_start"][1]["non_additive_dimension"]["window_choice"] == "min"
    for flow in ("mrr_new", "mrr_expansion", "mrr_churned", "customers_churned", "tickets_created"):
        assert measures[flow][1]["non_additive_dimension"] is None, flow
    assert measures["mrr_fx_adjustment"][1]["expr"] == "fx_adjustment"


def test_revenue_retention_is_derived_from_the_bridge(semantic):
    _, metrics, _, _ = semantic
    nrr = metrics["net_revenue_retention"]
    assert nrr["type"] == "derived"
    assert _inputs(nrr) == {"mrr_churned", "mrr_contraction", "mrr_expansion", "mrr_start", "mrr_fx_adjustment"}
    # S = mrr_start + fx_adjustment (start MRR at the month's rates), NULL when 0.
    assert "".join(nrr["type_params"]["expr"].split()) == (
        "1-(mrr_churned+mrr_contraction-mrr_expansion)/nullif(mrr_start+mrr_fx_adjustment,0)"
    )
    grr = metrics["gross_revenue_retention"]
    assert _inputs(grr) == {"mrr_churned", "mrr_contraction", "mrr_start", "mrr_fx_adjustment"}
    assert "".join(grr["type_params"]["expr"].split()) == (
        "1-(mrr_churned+mrr_contraction)/nullif(mrr_start+mrr_fx_adjustment,0)"
    )


@pytest.mark.parametrize(
    "metric, numerator, denominator",
    [
        ("logo_churn_rate", "customers_churned", "customers_start"),
        # metrics.md: FCR is over all tickets received, not over resolved tickets.
        ("fcr_rate", "tickets_first_contact_resolved", "tickets_created"),
        ("cac", "acquisition_cost", "customers_new"),
        ("crc", "retention_cost", "customers_end"),
    ],
)
def test_rates_are_ratios_of_summed_counts(semantic, metric, numerator, denominator):
    _, metrics, _, measures = semantic
    params = metrics[metric]["type_params"]
    assert metrics[metric]["type"] == "ratio"
    assert (params["numerator"]["name"], params["denominator"]["name"]) == (numerator, denominator)
    for part in (numerator, denominator):
        assert measures[_simple_measure(metrics, part)][1]["agg"] == "sum", part


@pytest.mark.parametrize(
    "metric, inputs, expr",
    [
        ("nps", {"nps_net_promoters", "nps_responses"}, "100.0*nps_net_promoters/nullif(nps_responses,0)"),
        ("csat_score", {"csat_positive", "csat_responses"}, "100.0*csat_positive/nullif(csat_responses,0)"),
    ],
)
def test_scores_are_derived_from_counts(semantic, metric, inputs, expr):
    _, metrics, _, measures = semantic
    assert metrics[metric]["type"] == "derived"
    assert _inputs(metrics[metric]) == inputs
    assert "".join(metrics[metric]["type_params"]["expr"].split()) == expr
    for name in inputs:
        model, measure = measures[_simple_measure(metrics, name)]
        assert (model, measure["agg"]) == ("segment_monthly", "sum"), name


def test_first_response_median_is_computed_from_tickets_not_averaged(semantic):
    _, metrics, _, measures = semantic
    model, measure = measures[_simple_measure(metrics, "first_response_minutes_p50")]
    assert model == "ticket_facts"
    assert measure["agg"] == "percentile" and measure["expr"] == "first_response_minutes"
    assert measure["agg_params"] == {
        "percentile": 0.5,
        "use_discrete_percentile": False,  # continuous, as metrics.md requires
        "use_approximate_percentile": False,
    }


def test_clv_never_sums_the_all_row_with_the_segments(semantic):
    _, metrics, _, measures = semantic
    clv = metrics["clv"]
    assert clv["type"] == "derived"
    assert _inputs(clv) == {"clv_all_segments", "clv_by_segment"}
    assert "".join(clv["type_params"]["expr"].split()) == "coalesce(clv_all_segments,clv_by_segment)"
    company = measures[_simple_measure(metrics, "clv_all_segments")]
    segments = measures[_simple_measure(metrics, "clv_by_segment")]
    assert company[0] == segments[0] == "clv_monthly"
    assert company[1]["agg"] == segments[1]["agg"] == "max"
    assert "segment = 'all'" in company[1]["expr"]
    assert "segment <> 'all'" in segments[1]["expr"]


def test_every_headline_metric_is_defined_once(semantic):
    manifest, metrics, _, _ = semantic
    names = [m["name"] for m in manifest["metrics"]]
    assert len(names) == len(set(names))
    headline = {
        "mrr", "mrr_new", "mrr_expansion", "mrr_churned", "logo_churn_rate", "net_revenue_retention",
        "fcr_rate", "first_response_minutes_p50", "nps", "csat_score", "crc", "cac", "clv",
    }
    assert headline <= set(metrics)
    assert all(metrics[name]["description"] for name in headline)


MF = Path(sys.executable).parent / "mf"


def test_metricflow_mrr_by_month_and_segment_equals_the_published_mart(handbuilt_run, tmp_path):
    data_dir, _ = handbuilt_run
    warehouse = data_dir.warehouse_db
    out = tmp_path / "mrr.csv"
    env = {**os.environ, "CX_WAREHOUSE_PATH": str(warehouse), "DBT_PROFILES_DIR": str(settings.DBT_PROJECT_DIR)}
    result = subprocess.run(
        [str(MF), "query", "--metrics", "mrr,logo_churn_rate", "--group-by", "metric_time__month,segment",
         "--csv", str(out)],
        cwd=settings.DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open() as f:
        got = {
            (row["metric_time__month"][:10], row["segment"]): (
                float(row["mrr"]) if row["mrr"] else None,
                float(row["logo_churn_rate"]) if row["logo_churn_rate"] else None,
            )
            for row in csv.DictReader(f)
        }
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select month, dimension_value, mrr_end, logo_churn_rate from marts.cx_segment_monthly"
            " where dimension = 'segment'"
        ).fetchall()
        totals = dict(con.execute("select month, mrr_end from marts.cx_mrr_monthly").fetchall())
    finally:
        con.close()
    want = {(str(m), s): (float(mrr), None if rate is None else float(rate)) for m, s, mrr, rate in rows}
    assert want and set(got) == set(want)
    for key, (mrr, rate) in want.items():
        assert got[key][0] == pytest.approx(mrr, abs=1e-6), key
        assert (got[key][1] is None) == (rate is None), key
        if rate is not None:
            assert got[key][1] == pytest.approx(rate, abs=1e-9), key
    # The segments add up to the monthly mart: nothing double counted.
    for month, mrr_end in totals.items():
        by_segment = sum(v[0] or 0 for k, v in got.items() if k[0] == str(month))
        assert by_segment == pytest.approx(float(mrr_end), abs=1e-5), month


# Metric -> the published column it must equal month by month (tests/fixtures/handbuilt).
BY_MONTH = {
    "net_revenue_retention": "SELECT month, net_revenue_retention FROM marts.cx_mrr_monthly",
    "fcr_rate": "SELECT month, fcr_rate FROM marts.cx_tickets_monthly",
    "first_response_minutes_p50": "SELECT month, first_response_minutes_p50 FROM marts.cx_tickets_monthly",
    "nps": "SELECT month, nps FROM marts.cx_surveys_monthly",
    "csat_score": "SELECT month, csat_score FROM marts.cx_surveys_monthly",
    "crc": "SELECT month, crc FROM marts.cx_costs_monthly",
    "cac": "SELECT month, cac FROM marts.cx_costs_monthly",
    "clv": "SELECT month, clv FROM marts.cx_clv_monthly WHERE segment = 'all'",
}


def test_metricflow_headline_metrics_by_month_equal_the_published_marts(handbuilt_run, tmp_path):
    data_dir, _ = handbuilt_run
    out = tmp_path / "by_month.csv"
    env = {**os.environ, "CX_WAREHOUSE_PATH": str(data_dir.warehouse_db), "DBT_PROFILES_DIR": str(settings.DBT_PROJECT_DIR)}
    result = subprocess.run(
        [str(MF), "query", "--metrics", ",".join(BY_MONTH), "--group-by", "metric_time__month", "--csv", str(out)],
        cwd=settings.DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open() as f:
        got = {row["metric_time__month"][:10]: row for row in csv.DictReader(f)}
    con = duckdb.connect(str(data_dir.warehouse_db), read_only=True)
    try:
        for metric, sql in BY_MONTH.items():
            published = {str(month): value for month, value in con.execute(sql).fetchall()}
            assert published, metric
            for month, value in published.items():
                # A month MetricFlow has no row for has no data for any of these metrics.
                queried = got.get(month, {}).get(metric) or None
                if value is None:
                    assert queried is None, (metric, month)
                else:
                    assert float(queried) == pytest.approx(float(value), abs=1e-6), (metric, month)
    finally:
        con.close()
