"""The HTML report: rendered in headless Chromium, every chart must have drawn visible marks."""

import html
import json
import re
import shutil
import subprocess

import duckdb
import pytest
from dagster import DagsterInstance

from orchestration import cli
from orchestration.lib.report import CHART_IDS, QualityStatus, published_run, run_quality, write_report

CHROMIUM = "/usr/bin/chromium"

# Appended to a copy of the report: counts, per chart, the marks the browser laid out with a
# non-empty box (a NaN coordinate or a zero-sized bar does not count), collects the text of every
# element with an id, and writes both as JSON.
RENDER_CHECK = """
<script>
const marks = {};
for (const figure of document.querySelectorAll("figure.chart")) {
  marks[figure.dataset.chart] = [...figure.querySelectorAll("svg rect, svg path, svg circle")].filter(mark => {
    const box = mark.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && Number.isFinite(box.x) && Number.isFinite(box.y);
  }).length;
}
const texts = Object.fromEntries([...document.querySelectorAll("[id]")].map(e => [e.id, e.textContent.trim()]));
const result = document.createElement("pre");
result.id = "render-check";
result.textContent = JSON.stringify({marks, texts});
document.body.append(result);
</script>
"""


def render_in_chromium(page, tmp_path) -> str:
    """The DOM of the page after Chromium loaded it and ran its scripts."""
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)"
    instrumented = tmp_path / "report-render-check.html"
    instrumented.write_text(page.read_text(encoding="utf-8").replace("</body>", RENDER_CHECK + "</body>"), encoding="utf-8")
    completed = subprocess.run(
        [
            CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,3000",
            "--dump-dom", instrumented.as_uri(),
        ],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def render_check(dom: str) -> dict:
    match = re.search(r'<pre id="render-check">(.*?)</pre>', dom, re.S)
    assert match, "the render check did not run"
    return json.loads(html.unescape(match.group(1)))


def test_report_of_the_handbuilt_run_draws_every_chart_in_chromium(handbuilt_run, tmp_path):
    paths, run_output = handbuilt_run
    with DagsterInstance.get() as instance:
        quality = run_quality(instance, published_run(paths).run_id)
    assert quality is not None, "the copied data folder lost the run's check evaluations"
    # The report counts the checks as the run's own summary did.
    passed, warned, failed = map(int, re.search(r"Checks:\s+(\d+) passed, (\d+) warned, (\d+) failed", run_output).groups())
    assert (quality.passed, len(quality.warned), len(quality.failed)) == (passed, warned, failed)

    page = write_report(paths, paths.report_html, quality)
    dom = render_in_chromium(page, tmp_path)

    check = render_check(dom)
    marks, texts = check["marks"], check["texts"]
    assert set(marks) == set(CHART_IDS)
    assert all(marks[chart] > 0 for chart in CHART_IDS), marks
    assert 'data-empty="true"' not in dom

    assert texts["as-of-date"] == "2024-03-10"
    assert texts["data-quality"].startswith(f"Data quality: {quality.summary()}")
    assert texts["run-id"] == published_run(paths).run_id

    # Values of tests/fixtures/handbuilt/expected.md; February is the latest complete month.
    assert "Latest complete month: 2024-02" in dom
    assert texts["kpi-mrr_end"] == "400"
    assert texts["kpi-customers_end"] == "3"
    assert texts["kpi-logo_churn_rate"] == "33.3%"
    assert texts["kpi-net_revenue_retention"] == "100.0%"
    assert texts["kpi-fcr_rate"] == "50.0%"
    assert texts["kpi-first_response_minutes_p50"] == "90 min"
    assert texts["kpi-nps"] == "100.0"
    assert texts["kpi-crc"] == "116.67"
    assert texts["kpi-clv"] == "400"
    for tooltip in (
        "2024-02 · MRR end (right axis): 400",
        "2024-01 · New: 275",
        "2024-02 · Churned: -50",
        "2024-02 · FX adjustment: 25",
        "2024-03 · Reactivation: 60",
        "2024-02 · Logo churn rate: 33.3%",
        "2024-02 · First contact resolution: 50.0%",
        "2024-02 · First response, median (right axis): 90 min",
        "2024-03 · NPS: -100.0",
        "2024-03 · CES mean, 1-7 (right axis): 6.0",
        "all · CLV: 400",
        "all · CAC: 300",
        "Cohort 2024-01, month 1: 66.7% (2 of 3)",
        "no reply data · Churn next month: 33.3% (1 of 3 customer-months)",
    ):
        assert tooltip in dom, tooltip


def test_empty_and_null_tables_give_no_data_notes_not_errors(handbuilt_run, tmp_path):
    paths, _ = handbuilt_run
    con = duckdb.connect(str(paths.serving_db))  # this test's own copy of the publication
    for table in ("cx_mrr_monthly", "cx_cohort_retention", "cx_roi_drivers"):
        con.execute(f"DELETE FROM cx.{table}")
    # Months remain, but every value is NULL (zero denominators).
    con.execute("UPDATE cx.cx_tickets_monthly SET fcr_rate = NULL, first_response_minutes_p50 = NULL")
    con.execute("UPDATE cx.cx_surveys_monthly SET nps = NULL, csat_score = NULL, ces_mean = NULL")
    con.close()

    page = write_report(paths, tmp_path / "report.html", QualityStatus(passed=3, warned=("staging/x :: <y>",)))

    text = page.read_text(encoding="utf-8")
    empty = re.findall(r'data-chart="(\w+)" data-empty="true"', text)
    # clv_cac too: without cx_mrr_monthly no month is known to be complete.
    assert sorted(empty) == sorted(CHART_IDS)
    assert text.count('class="no-data"') == len(CHART_IDS)
    assert "No complete month published yet." in text
    assert "3 checks passed, 1 warned" in text and "staging/x :: &lt;y&gt;" in text
    assert "<y>" not in text


def test_segment_names_in_any_script_are_escaped_and_null_values_say_n_a(handbuilt_run, tmp_path):
    paths, _ = handbuilt_run
    con = duckdb.connect(str(paths.serving_db))
    con.execute("UPDATE cx.cx_clv_monthly SET segment = 'Doanh nghiệp <b>&</b> ครอบครัว خانواده' WHERE segment = 'smb'")
    con.execute("UPDATE cx.cx_clv_monthly SET clv = NULL WHERE segment = 'all'")
    con.close()

    text = write_report(paths, tmp_path / "report.html", None).read_text(encoding="utf-8")

    assert "Doanh nghiệp &lt;b&gt;&amp;&lt;/b&gt; ครอบครัว خانواده" in text
    assert "<b>" not in text
    assert 'data-chart="clv_cac" data-empty="false"' in text
    assert ">n/a</text>" in text
    assert "every error-level check passed" in text


def test_quality_summary_names_the_outcome():
    assert QualityStatus(passed=12).summary() == "all 12 checks passed"
    assert QualityStatus(passed=10, warned=("a :: b",), failed=("c :: d",)).summary() == (
        "10 checks passed, 1 warned, 1 failed"
    )
    assert QualityStatus(passed=10, warned=("a :: b",)).level == "warned"


def test_the_report_asset_writes_the_page_with_the_publishing_runs_checks(handbuilt_run):
    import dagster as dg

    from orchestration.defs.report import cx_report

    paths, run_output = handbuilt_run
    with DagsterInstance.get() as instance:
        # Materialized alone, in a run of its own: the checks are still those of the publishing run.
        result = dg.materialize([cx_report], instance=instance)
        quality = run_quality(instance, published_run(paths).run_id)

    assert result.success
    metadata = result.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert metadata["charts"].value == len(CHART_IDS)
    assert metadata["published_by_run"].value == published_run(paths).run_id
    page = (paths.report_html).read_text(encoding="utf-8")
    assert f"Data quality: {quality.summary()}" in page


def test_cx_pipeline_report_writes_the_page_where_asked(handbuilt_run, tmp_path, capsys):
    paths, _ = handbuilt_run
    output = tmp_path / "cx-report.html"

    assert cli.main(["report", "--output", str(output)]) == 0

    assert f"Report written to {output} (data quality: " in capsys.readouterr().out
    assert 'id="as-of-date">2024-03-10<' in output.read_text(encoding="utf-8")
