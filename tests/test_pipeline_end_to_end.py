"""The whole nightly job, in process: on hand-built extracts whose published values were worked out by
hand, and on generated sample extracts checked against an independent pandas computation."""

import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, FloatMetadataValue

from orchestration import cli
from orchestration.lib.event_log import CachedEngineSqliteEventLogStorage
from published import fingerprint, published_rows

MRR_COLUMNS = (
    "month, is_complete_month, mrr_start, fx_adjustment, mrr_new, mrr_expansion, mrr_reactivation, "
    "mrr_contraction, mrr_churned, mrr_end, gross_mrr_churn_rate, net_mrr_churn_rate, "
    "net_revenue_retention, gross_revenue_retention, arpa"
)
# Worked out by hand in tests/fixtures/handbuilt/expected.md.
EXPECTED_MRR = [
    (date(2024, 1, 1), True, 0, 0, 275, 0, 0, 0, 0, 275, None, None, None, None, 91.666667),
    (date(2024, 2, 1), True, 275, 25, 100, 50, 0, 0, 50, 400, 0.1666666667, 0, 1, 0.8333333333, 133.333333),
    (date(2024, 3, 1), False, 400, 25, 0, 0, 60, 0, 0, 485, 0, 0, 1, 1, 121.25),
]
TICKETS_COLUMNS = (
    "month, is_complete_month, tickets_created, tickets_resolved, tickets_first_contact_resolved, fcr_rate, "
    "tickets_reopened, reopen_rate, first_response_minutes_avg, first_response_minutes_p50, "
    "first_response_minutes_p90, resolution_minutes_p50, complaints"
)
EXPECTED_TICKETS = [
    (date(2024, 1, 1), True, 0, 0, 0, None, 0, None, None, None, None, None, 0),
    (date(2024, 2, 1), True, 4, 3, 2, 0.5, 1, 0.3333333333, 100, 90, 114, 180, 1),
    (date(2024, 3, 1), False, 2, 2, 1, 0.5, 0, 0, 45, 45, 57, 120, 1),
]
COSTS_COLUMNS = (
    "month, is_complete_month, acquisition_cost, retention_cost, support_cost, cac, crc, "
    "support_cost_per_ticket, support_cost_per_customer, arpa, crc_exceeds_arpa"
)
EXPECTED_COSTS = [
    (date(2024, 1, 1), True, 1000, 400, 0, 333.333333, 133.333333, None, 0, 91.666667, True),
    (date(2024, 2, 1), True, 300, 350, 600, 300, 116.666667, 150, 200, 133.333333, False),
    (date(2024, 3, 1), False, 350, 0, 90, None, 0, 45, 22.5, 121.25, False),
]
CLV_COLUMNS = (
    "month, segment, customers_end, arpa, avg_logo_churn_rate_6m, expected_lifetime_months, clv, cac, "
    "clv_net, clv_to_cac"
)
EXPECTED_CLV = [
    (date(2024, 1, 1), "all", 3, 91.666667, None, None, None, 333.333333, None, None),
    (date(2024, 1, 1), "enterprise", 0, None, None, None, None, None, None, None),
    (date(2024, 1, 1), "mid_market", 1, 125, None, None, None, 333.333333, None, None),
    (date(2024, 1, 1), "smb", 2, 75, None, None, None, 333.333333, None, None),
    (date(2024, 2, 1), "all", 3, 133.333333, 0.3333333333, 3, 400, 300, 100, 1.3333333333),
    (date(2024, 2, 1), "enterprise", 1, 100, None, None, None, 0, None, None),
    (date(2024, 2, 1), "mid_market", 1, 150, 0, None, None, None, None, None),
    (date(2024, 2, 1), "smb", 1, 150, 0.5, 2, 300, None, None, None),
    (date(2024, 3, 1), "all", 4, 121.25, 0.1666666667, 6, 727.5, None, None, None),
    (date(2024, 3, 1), "enterprise", 1, 100, 0, None, None, None, None, None),
    (date(2024, 3, 1), "mid_market", 1, 175, 0, None, None, None, None, None),
    (date(2024, 3, 1), "smb", 2, 105, 0.25, 4, 420, None, None, None),
]
REVENUE_COLUMNS = (
    "month, is_complete_month, invoices_paid, revenue_paid, credit_notes_amount, net_revenue, avg_transaction_size, "
    "active_subscriptions, avg_contract_value, renewals_due, renewals_renewed, renewal_rate, orders, "
    "out_of_policy_orders, out_of_policy_rate"
)
EXPECTED_REVENUE = [
    (date(2024, 1, 1), True, 4, 1025, 0, 1025, 256.25, 3, 1100, 0, 0, None, 4, 0, 0),
    (date(2024, 2, 1), True, 2, 1350, -20, 1330, 675, 3, 1600, 0, 0, None, 2, 1, 0.5),
    (date(2024, 3, 1), False, 2, 210, 0, 210, 105, 4, 1455, 0, 0, None, 2, 0, 0),
]
SURVEYS_COLUMNS = (
    "month, is_complete_month, nps_responses, nps_promoters, nps_passives, nps_detractors, nps, csat_responses, "
    "csat_positive, csat_score, csat_mean_normalized, ces_responses, ces_mean"
)
EXPECTED_SURVEYS = [
    (date(2024, 1, 1), True, 0, 0, 0, 0, None, 0, 0, None, None, 0, None),
    (date(2024, 2, 1), True, 1, 1, 0, 0, 100, 1, 1, 100, 75, 0, None),
    (date(2024, 3, 1), False, 1, 0, 0, 1, -100, 1, 0, 0, 25, 1, 6),
]
EXPECTED_FEEDBACK = [
    ("R1", "A", "smb", "nps", 9, "promoter", None, "Great support, thanks"),
    ("R2", "B", "mid_market", "csat", 4, "positive", "question", "Hỗ trợ rất nhanh"),
    ("R3", "D", "smb", "nps", 6, "detractor", None, "Slow first response, considering alternatives"),
]
EXPECTED_COHORTS = [
    (date(2024, 1, 1), 0, 3, 3, 1, 1),
    (date(2024, 1, 1), 1, 3, 2, 0.6666666667, 1.0909090909),
    (date(2024, 1, 1), 2, 3, 3, 1, 1.4),
    (date(2024, 2, 1), 0, 1, 1, 1, 1),
    (date(2024, 2, 1), 1, 1, 1, 1, 1),
]
CUSTOMER_360_COLUMNS = (
    "account_id, segment, lifecycle_stage, is_paying, first_paid_month, current_mrr, realized_revenue, "
    "avg_contract_value, avg_transaction_size, tickets_90d, first_response_minutes_avg_90d, fcr_rate_90d, "
    "complaints_12m, complaints_per_1k_revenue_12m, support_cost_12m, client_profitability_12m, products_used, "
    "out_of_policy_orders_12m, nps_last, csat_score_90d, health_score, health_band, expected_lifetime_months, "
    "predicted_clv"
)
# tests/fixtures/handbuilt/expected.md works each figure out (90 days: 2023-12-13 to the as-of date).
EXPECTED_CUSTOMER_360 = [
    ("A", "smb", "onboarding", True, date(2024, 1, 1), 150, 880, 1800, 225, 2, 90, 0.5, 1, 1 / 0.88, 400, 280, 1, 1,
     9, None, 82, "green", 4, 1480),
    ("B", "mid_market", "onboarding", True, date(2024, 1, 1), 175, 375, 2100, 375, 1, 90, 1, 0, 0, 0, 175, 1, 0,
     None, 100, 66.25 / 0.75, "green", None, None),
    ("C", "enterprise", "onboarding", True, date(2024, 2, 1), 100, 1200, 1200, 1200, 2, 45, 0.5, 1, 1 / 1.2, 90,
     1200 - 90 - 650 / 3, 1, 0, None, 0, (0.35 * 325 / 6 + 30) / 0.75, "yellow", None, None),
    ("D", "smb", "onboarding", True, date(2024, 1, 1), 60, 110, 720, 55, 1, 120, 0, 0, 0, 200, 110 - 200 - 400 / 3, 1,
     0, 6, None, 41 / 0.75, "yellow", 4, 350),
]
SEGMENT_COLUMNS = (
    "dimension, dimension_value, customers_start, customers_new, customers_churned, customers_end, mrr_end, nps, "
    "csat_score, fcr_rate"
)
# February: A (GB/EMEA, organic, smb) NPS 100 and FCR 1 of 2; B (APAC, partner) CSAT 100 and FCR 1 of 1;
# C (SEA after its change, outbound) new; D (AMER, paid) churned, its ticket T4 not FCR.
EXPECTED_SEGMENTS_FEBRUARY = [
    ("acquisition_channel", "organic", 1, 0, 0, 1, 150, 100, None, 0.5),
    ("acquisition_channel", "outbound", 0, 1, 0, 1, 100, None, None, None),
    ("acquisition_channel", "paid", 1, 0, 1, 0, 0, None, None, 0),
    ("acquisition_channel", "partner", 1, 0, 0, 1, 150, None, 100, 1),
    # Every account signed up less than 3 months earlier; the other stages have rows of zeros.
    ("lifecycle_stage", "adopting", 0, 0, 0, 0, 0, None, None, None),
    ("lifecycle_stage", "established", 0, 0, 0, 0, 0, None, None, None),
    ("lifecycle_stage", "loyal", 0, 0, 0, 0, 0, None, None, None),
    ("lifecycle_stage", "onboarding", 3, 1, 1, 3, 400, 100, 100, 0.5),
    ("region", "AMER", 1, 0, 1, 0, 0, None, None, 0),
    ("region", "APAC", 1, 0, 0, 1, 150, None, 100, 1),
    ("region", "EMEA", 1, 0, 0, 1, 150, 100, None, 0.5),
    ("region", "SEA", 0, 1, 0, 1, 100, None, None, None),
    ("segment", "enterprise", 0, 1, 0, 1, 100, None, None, None),
    ("segment", "mid_market", 1, 0, 0, 1, 150, None, 100, 1),
    ("segment", "smb", 2, 0, 1, 1, 150, 100, None, 1 / 3),
]
# Only January can be followed into a complete month: A, B and D, of whom D churned; none had a
# ticket or an NPS response in the 90 days before February.
EXPECTED_ROI_DRIVERS = [
    ("all", "all", 3, 1, 1 / 3, 1),
    ("first_response_band", "1h_to_4h", 0, 0, None, None),
    ("first_response_band", "4h_to_8h", 0, 0, None, None),
    ("first_response_band", "8h_to_24h", 0, 0, None, None),
    ("first_response_band", "no_reply_data", 3, 1, 1 / 3, 1),
    ("first_response_band", "over_24h", 0, 0, None, None),
    ("first_response_band", "under_1h", 0, 0, None, None),
    ("last_nps_category", "detractor", 0, 0, None, None),
    ("last_nps_category", "no_response", 3, 1, 1 / 3, 1),
    ("last_nps_category", "passive", 0, 0, None, None),
    ("last_nps_category", "promoter", 0, 0, None, None),
    ("not_first_contact_resolved", "no", 0, 0, None, None),
    ("not_first_contact_resolved", "no_tickets", 3, 1, 1 / 3, 1),
    ("not_first_contact_resolved", "yes", 0, 0, None, None),
]
EXPECTED_CHURN = [
    (date(2024, 1, 1), True, 0, 3, 0, 0, 3, None),
    (date(2024, 2, 1), True, 3, 1, 0, 1, 3, 0.3333333333),
    (date(2024, 3, 1), False, 3, 0, 1, 0, 4, 0),
]


def _assert_rows(actual, expected, tolerance=1e-9, key_columns=2):
    """Equal to 1e-9 by default: money is published rounded to 6 decimals and rates to 10, as worked
    out by hand; figures derived from rounded parts get a looser tolerance."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got[:key_columns] == want[:key_columns]
        for g, w in zip(got[key_columns:], want[key_columns:]):
            if isinstance(w, (str, bool, date)) or w is None:
                assert g == w, (got, want)
            else:
                assert g == pytest.approx(w, abs=tolerance), (got, want)


def test_handbuilt_extracts_publish_hand_computed_mrr_and_churn(handbuilt_run):
    paths, output = handbuilt_run

    _assert_rows(published_rows(paths, f"SELECT {MRR_COLUMNS} FROM cx.cx_mrr_monthly ORDER BY month"), EXPECTED_MRR)
    _assert_rows(
        published_rows(
            paths,
            "SELECT month, is_complete_month, customers_start, customers_new, customers_reactivated, "
            "customers_churned, customers_end, logo_churn_rate FROM cx.cx_churn_monthly ORDER BY month",
        ),
        EXPECTED_CHURN,
    )
    _assert_rows(published_rows(paths, f"SELECT {TICKETS_COLUMNS} FROM cx.cx_tickets_monthly ORDER BY month"), EXPECTED_TICKETS)
    _assert_rows(published_rows(paths, f"SELECT {COSTS_COLUMNS} FROM cx.cx_costs_monthly ORDER BY month"), EXPECTED_COSTS)
    _assert_rows(published_rows(paths, f"SELECT {CLV_COLUMNS} FROM cx.cx_clv_monthly ORDER BY month, segment"), EXPECTED_CLV)
    _assert_rows(published_rows(paths, f"SELECT {REVENUE_COLUMNS} FROM cx.cx_revenue_monthly ORDER BY month"), EXPECTED_REVENUE)
    _assert_rows(published_rows(paths, f"SELECT {SURVEYS_COLUMNS} FROM cx.cx_surveys_monthly ORDER BY month"), EXPECTED_SURVEYS)
    assert published_rows(
        paths,
        "SELECT response_id, account_id, segment, survey_type, score, score_category, ticket_category, comment "
        "FROM cx.cx_feedback ORDER BY response_id",
    ) == EXPECTED_FEEDBACK
    _assert_rows(
        published_rows(
            paths,
            "SELECT cohort_month, months_since_start, customers_in_cohort, customers_active, logo_retention_rate, "
            "mrr_retention_rate FROM cx.cx_cohort_retention ORDER BY cohort_month, months_since_start",
        ),
        EXPECTED_COHORTS,
    )
    _assert_rows(
        published_rows(paths, f"SELECT {CUSTOMER_360_COLUMNS} FROM cx.cx_customer_360 ORDER BY account_id"),
        EXPECTED_CUSTOMER_360,
        tolerance=1e-6,
    )
    _assert_rows(
        published_rows(
            paths,
            f"SELECT {SEGMENT_COLUMNS} FROM cx.cx_segment_monthly "
            "WHERE month = '2024-02-01' ORDER BY dimension, dimension_value",
        ),
        EXPECTED_SEGMENTS_FEBRUARY,
    )
    _assert_rows(
        published_rows(
            paths,
            "SELECT driver, driver_value, customer_months, churned_next_month, churn_rate_next_month, lift "
            "FROM cx.cx_roi_drivers ORDER BY driver, driver_value",
        ),
        EXPECTED_ROI_DRIVERS,
    )
    assert "As-of date:       2024-03-10" in output
    assert "cx.cx_mrr_monthly (3 rows)" in output and "cx.cx_clv_monthly (12 rows)" in output
    parquet = duckdb.sql(f"SELECT sum(mrr_end) FROM '{paths.parquet_dir / 'cx_mrr_monthly.parquet'}'").fetchone()[0]
    assert parquet == pytest.approx(275 + 400 + 485)


def test_run_history_is_kept_where_dagsters_default_storage_keeps_it(handbuilt_run):
    paths, _ = handbuilt_run
    with DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, CachedEngineSqliteEventLogStorage)
        [run] = instance.get_runs()
        planned = instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
    assert AssetKey(["serving", "cx_metrics"]) in {record.event_log_entry.dagster_event.asset_key for record in planned}
    assert (paths.dagster_home / "history" / "runs" / f"{run.run_id}.db").exists()


def test_the_publication_carries_the_headline_metrics_as_numbers_the_ui_plots(handbuilt_run):
    paths, _ = handbuilt_run
    with DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(AssetKey(["serving", "cx_metrics"]))
    metadata = event.asset_materialization.metadata

    # February, the latest complete month of tests/fixtures/handbuilt/expected.md.
    assert metadata["headline_month"].value == "2024-02-01"
    numbers = {name: value.value for name, value in metadata.items() if isinstance(value, FloatMetadataValue)}
    assert numbers == pytest.approx(
        {
            "mrr_end": 400, "customers_end": 3, "logo_churn_rate": 1 / 3, "net_revenue_retention": 1,
            "fcr_rate": 0.5, "first_response_minutes_p50": 90, "nps": 100, "csat_score": 100,
            "crc": 116.666667, "clv": 400,
        },
        abs=1e-6,
    )


def test_a_setting_overridden_for_one_run_changes_only_what_depends_on_it(handbuilt_run, capsys):
    paths, _ = handbuilt_run

    assert cli.main(["run", "--set", "gross_margin_pct=80"]) == 0

    clv = published_rows(paths, "SELECT month, clv FROM cx.cx_clv_monthly WHERE segment = 'all' ORDER BY month")
    # 80% of the hand-worked CLV of 400 (February) and 727.5 (March).
    assert clv == [(date(2024, 1, 1), None), (date(2024, 2, 1), pytest.approx(320)), (date(2024, 3, 1), pytest.approx(582))]
    assert published_rows(paths, "SELECT sum(mrr_end) FROM cx.cx_mrr_monthly") == [(pytest.approx(1160),)]


def test_rerun_on_the_same_extracts_lands_nothing_and_publishes_the_same_values(handbuilt_run, capsys):
    paths, _ = handbuilt_run
    before = published_rows(paths, "SELECT * FROM cx.cx_mrr_monthly ORDER BY month")

    assert cli.main(["run"]) == 0
    output = capsys.readouterr().out

    assert "Files in:         0 new or re-delivered" in output
    assert published_rows(paths, "SELECT * FROM cx.cx_mrr_monthly ORDER BY month") == before
    # Where the time went, stage by stage, as the benchmark reads it too.
    stages = re.search(r"Stage times: +ingest ([\d.,]+) s, dbt build ([\d.,]+) s, publish ([\d.,]+) s, report ([\d.,]+) s", output)
    assert stages and float(stages[2].replace(",", "")) > 0


def test_corrupted_extract_fails_the_run_naming_the_file_and_keeps_published_tables(handbuilt_run, capsys):
    paths, _ = handbuilt_run
    published_before = fingerprint(paths)
    bad = paths.extracts_dir / "billing" / "invoices" / "2024-03-11.csv"
    bad.write_text("invoice_id,account_id,invoice_type,status,currency,subtotal,issued_at,updated_at\n"
                   "ix,A,one_time,paid,USD,10.00,2024-03-11T00:00:00Z,2024-03-11T00:00:00Z\n")

    assert cli.main(["run"]) == 1
    output = capsys.readouterr().out

    assert "billing/invoices/2024-03-11.csv" in output
    assert "total" in output
    assert "Published:        nothing" in output
    assert fingerprint(paths) == published_before


def test_too_many_bad_rows_fail_the_run_naming_file_row_and_column(handbuilt_run, capsys):
    paths, _ = handbuilt_run
    published_before = fingerprint(paths)
    accounts = paths.extracts_dir / "crm" / "accounts"
    header = (accounts / "2024-03-01.csv").read_text().splitlines()[0]
    (accounts / "2024-03-11.csv").write_text(
        f"{header}\nE,Echo,,,US,AMER,startup,software,organic,2024-03-11T00:00:00Z,2024-03-11T00:00:00Z,false\n"
        "F,Foxtrot,,,US,AMER,smb,software,organic,2024-03-11T00:00:00Z,2024-03-11T00:00:00Z,false\n"
    )

    assert cli.main(["run"]) == 1
    output = capsys.readouterr().out

    assert "FAILED crm/accounts :: quarantine_within_threshold" in output
    assert "crm/accounts/2024-03-11.csv row 1, column segment: 'startup' is not one of smb, mid_market, enterprise" in output
    assert fingerprint(paths) == published_before
    # Every row of the file is accounted for: read = landed + quarantined + held back (rolled back).
    assert "Rows in:          2 read = 0 landed + 1 quarantined + 1 held back (entity rolled back)" in output
    assert re.search(r"crm/accounts/2024-03-11\.csv +2 read +0 landed +1 quarantined +1 held back", output)
    with DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(AssetKey(["crm", "accounts"]))
    [record] = event.asset_materialization.metadata["files"].records
    assert record.data == {
        "file": "crm/accounts/2024-03-11.csv", "rows_read": 2, "rows_landed": 0, "rows_quarantined": 1, "rows_held_back": 1,
    }


def test_failed_quality_gate_names_the_problem_and_publishes_nothing(handbuilt_run, capsys):
    paths, _ = handbuilt_run
    published_before = fingerprint(paths)
    # A currency with no FX rate: the money cannot be converted, so the gate must stop the run.
    (paths.extracts_dir / "billing" / "invoices" / "2024-03-11.csv").write_text(
        "invoice_id,account_id,subscription_id,invoice_type,status,currency,subtotal,discount_amount,tax_amount,"
        "total,issued_at,paid_at,service_period_start,service_period_end,updated_at\n"
        "ig1,A,,one_time,paid,GBP,80.00,0,0,80.00,2024-03-11T00:00:00Z,,,,2024-03-11T00:00:00Z\n"
    )

    assert cli.main(["run"]) == 1
    output = capsys.readouterr().out

    # The failed check names the test and shows the rows it stored (also in its Dagster metadata).
    assert (
        "FAILED intermediate/int_fx_rates_monthly :: rules_hold_int_fx_rates_monthly\n"
        "         {'month': '2024-03-01', 'currency': 'GBP', 'rate': nan"
    ) in output
    assert fingerprint(paths) == published_before


def test_a_ticket_event_for_an_unknown_ticket_warns_and_publishes(handbuilt_run, capsys):
    paths, _ = handbuilt_run
    tickets_before = published_rows(paths, "SELECT * FROM cx.cx_tickets_monthly ORDER BY month")
    (paths.extracts_dir / "helpdesk" / "ticket_events" / "2024-03-11.csv").write_text(
        "event_id,ticket_id,created_at,actor_type,event_type,is_public,new_status\n"
        "E99,T99,2024-03-11T08:00:00Z,agent,message,true,\n"
    )

    assert cli.main(["run"]) == 0
    output = capsys.readouterr().out

    assert "WARN   intermediate/int_ticket_facts :: assert_ticket_events_belong_to_known_tickets" in output
    assert "As-of date:       2024-03-11" in output
    # The event cannot be attributed to any ticket, so no published figure moves.
    assert published_rows(paths, "SELECT * FROM cx.cx_tickets_monthly ORDER BY month") == tickets_before


def _read_entity(paths, entity: str) -> pd.DataFrame:
    """All versions of an entity's records across its extract files, in version order."""
    frames = []
    for path in sorted((paths.extracts_dir / entity).iterdir()):
        if path.name.endswith(".jsonl"):
            frame = pd.read_json(path, lines=True, dtype=False).astype(str)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        frame["_extract_date"] = path.name[:10]
        frame["_row"] = range(len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _latest(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    frame = frame.assign(_version=pd.to_datetime(frame["updated_at"], utc=True, format="ISO8601"))
    return frame.sort_values(["_version", "_extract_date", "_row"]).groupby(key).tail(1)


def _mrr_at_month_end(paths, month: date) -> tuple[float, int]:
    """MRR and paying customers at the end of a complete month, computed from the extracts with pandas."""
    instant = (pd.Timestamp(month) + pd.offsets.MonthBegin(1)).date().isoformat()
    last_day = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date().isoformat()
    subscriptions = _latest(_read_entity(paths, "billing/subscriptions"), "subscription_id")
    subscriptions = subscriptions[subscriptions["status"] != "trialing"]
    invoices = _latest(_read_entity(paths, "billing/invoices"), "invoice_id")
    covering = invoices[
        (invoices["invoice_type"] == "subscription")
        & invoices["status"].isin(["paid", "open"])
        & (invoices["service_period_start"] < instant)
        & (invoices["service_period_end"] >= instant)
    ].assign(issued=lambda f: pd.to_datetime(f["issued_at"], utc=True, format="ISO8601"))
    covering = covering.sort_values(["service_period_start", "issued", "invoice_id"]).groupby("subscription_id").tail(1)
    covering = covering.merge(
        subscriptions[["subscription_id", "account_id", "billing_interval"]], on="subscription_id", suffixes=("_invoice", "")
    )
    rates = _read_entity(paths, "billing/fx_rates")
    rates = rates[rates["rate_date"] <= last_day].sort_values("rate_date").groupby("currency")["rate"].last().astype(float)
    revenue = covering["subtotal"].astype(float) - covering["discount_amount"].fillna("0").astype(float)
    months = covering["billing_interval"].map({"month": 1, "quarter": 3, "year": 12})
    rate = covering["currency"].map(lambda currency: 1.0 if currency == "USD" else rates[currency])
    by_account = (revenue / months * rate).groupby(covering["account_id"]).sum()
    return float(by_account.sum()), int((by_account > 0).sum())


def test_generated_sample_publishes_bridges_that_hold_and_match_an_independent_computation(data_dir, dbt_manifest, capsys):
    assert cli.main(["generate", "--accounts", "600", "--months", "12", "--change-days", "3", "--as-of", "2024-06-20"]) == 0
    assert cli.main(["run"]) == 0, capsys.readouterr().out

    mrr = pd.DataFrame(
        published_rows(data_dir, "SELECT * FROM cx.cx_mrr_monthly ORDER BY month"),
        columns=[c.strip() for c in MRR_COLUMNS.split(",")],
    )
    churn = published_rows(data_dir, "SELECT month, customers_start, customers_new, customers_reactivated, "
                                 "customers_churned, customers_end FROM cx.cx_churn_monthly ORDER BY month")

    assert mrr["month"].iloc[-1] == date(2024, 6, 1) and not mrr["is_complete_month"].iloc[-1]
    assert list(mrr["month"]) == [d.date() for d in pd.date_range(mrr["month"].iloc[0], "2024-06-01", freq="MS")]
    bridge = (mrr["mrr_start"] + mrr["fx_adjustment"] + mrr["mrr_new"] + mrr["mrr_expansion"]
              + mrr["mrr_reactivation"] - mrr["mrr_contraction"] - mrr["mrr_churned"])
    assert (bridge - mrr["mrr_end"]).abs().max() < 0.01
    assert (mrr["mrr_start"].shift(-1) - mrr["mrr_end"]).iloc[:-1].abs().max() < 0.01
    for month, start, new, reactivated, churned, end in churn:
        assert end == start + new + reactivated - churned, month
    assert mrr["mrr_churned"].sum() > 0 and mrr["mrr_expansion"].sum() > 0 and mrr["fx_adjustment"].abs().sum() > 0

    # The generator makes slow first replies raise churn: the drivers table must show it.
    churn_by_band = dict(
        published_rows(
            data_dir,
            "SELECT driver_value IN ('8h_to_24h', 'over_24h'), sum(churned_next_month) / sum(customer_months) "
            "FROM cx.cx_roi_drivers WHERE driver = 'first_response_band' "
            "AND driver_value IN ('under_1h', '1h_to_4h', '8h_to_24h', 'over_24h') GROUP BY 1",
        )
    )
    assert churn_by_band[True] > 1.5 * churn_by_band[False], churn_by_band

    last_complete = mrr[mrr["is_complete_month"]].iloc[-1]
    expected_mrr, expected_customers = _mrr_at_month_end(data_dir, last_complete["month"])
    assert last_complete["mrr_end"] == pytest.approx(expected_mrr, abs=0.01)
    assert [row[5] for row in churn if row[0] == last_complete["month"]] == [expected_customers]
