"""The pandas baseline of the benchmark: the metrics as an analyst would compute them in a notebook.

Every extract file is read whole with pandas, concatenated, reduced to the latest version of each
record with sort + drop_duplicates, then merged and grouped into the published tables
(shared/spec/metrics.md) with the default settings. Deliberately plain: no chunking, no spilling,
everything in memory, so that it is what the pipeline is measured against.

    python -m bench.pandas_baseline <extracts_dir> [--output DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPORTING_CURRENCY = "USD"
RENEWAL_GRACE_DAYS = 30
DISCOUNT_POLICY_CSV = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "discount_policy.csv"

INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}
EXTENSIONS = ("csv", "csv.gz", "jsonl", "parquet")


# --- Reading ---------------------------------------------------------------------------------------


def extract_files(folder: Path) -> list[tuple[pd.Timestamp, Path]]:
    """(extract date, path) of the folder's extract files, oldest first."""
    files = []
    for path in folder.glob("*"):
        extract_date, _, extension = path.name.partition(".")
        if extension in EXTENSIONS:
            files.append((pd.Timestamp(extract_date), path))
    return sorted(files)


def read_file(path: Path) -> pd.DataFrame:
    if path.name.endswith(".jsonl"):
        # precise_float: the default parser may be off by an ulp from the decimal text.
        frame = pd.read_json(path, lines=True, dtype=False, precise_float=True)
        frame = frame.replace("", np.nan)
    elif path.name.endswith(".parquet"):
        frame = pd.read_parquet(path).replace("", np.nan)
    else:
        # Everything as text, only the empty field as null ("NA" is Namibia, not a missing value).
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def read_entity(extracts_dir: Path, entity: str) -> pd.DataFrame:
    """All rows of all files of the entity, with the extract date and the row position of each."""
    frames = []
    for extract_date, path in extract_files(extracts_dir / entity):
        frame = read_file(path)
        frame["_extract_date"] = extract_date
        frame["_row"] = np.arange(len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def as_of_date(extracts_dir: Path) -> pd.Timestamp:
    """The newest extract date over all files of all entities."""
    return max(extract_date for folder in extracts_dir.glob("*/*") for extract_date, _ in extract_files(folder))


def to_utc(values: pd.Series) -> pd.Series:
    # Offsets are converted to UTC; a naive timestamp is UTC already.
    return pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_localize(None)


def to_bool(values: pd.Series) -> pd.Series:
    # JSON delivers real booleans, CSV and Parquet the text true/false.
    return values.astype(str).str.lower().eq("true")


def latest(frame: pd.DataFrame, key: list[str], version_column: str | None = "updated_at") -> pd.DataFrame:
    order = [*key, *([version_column] if version_column else []), "_extract_date", "_row"]
    current = frame.sort_values(order).drop_duplicates(key, keep="last")
    if "is_deleted" in current.columns:
        current = current[~to_bool(current["is_deleted"])]
    return current.reset_index(drop=True)


def month_of(values: pd.Series) -> pd.Series:
    return values.dt.to_period("M").dt.to_timestamp()


def load(extracts_dir: Path, entity: str, timestamps=(), dates=(), numbers=()) -> pd.DataFrame:
    frame = read_entity(extracts_dir, entity)
    for column in timestamps:
        frame[column] = to_utc(frame[column])
    for column in dates:
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d")
    for column in numbers:
        frame[column] = frame[column].astype("float64")
    return frame


# --- Shared pieces ---------------------------------------------------------------------------------


def reporting_months(invoices: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """From the first month with a subscription invoice (issued or in service) through the as-of month."""
    subscription = invoices[invoices["invoice_type"] == "subscription"]
    first = min(month_of(subscription["issued_at"]).min(), month_of(subscription["service_period_start"]).min())
    months = pd.DataFrame({"month": pd.date_range(first, as_of.to_period("M").to_timestamp(), freq="MS")})
    next_month = months["month"] + pd.DateOffset(months=1)
    months["month_last_day"] = next_month - pd.Timedelta(days=1)
    # Month-end figures are measured just before this instant.
    months["measured_before"] = next_month.clip(upper=as_of + pd.Timedelta(days=1))
    months["is_complete_month"] = next_month <= as_of + pd.Timedelta(days=1)
    return months


def fx_monthly(fx_rates: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    """(month, currency) -> rate: the latest rate on or before the month's last day."""
    rates = latest(fx_rates, ["rate_date", "currency"], version_column=None)
    rates = rates[rates["currency"] != REPORTING_CURRENCY].sort_values("rate_date")
    grid = months[["month", "month_last_day"]].merge(pd.DataFrame({"currency": rates["currency"].unique()}), how="cross")
    grid = pd.merge_asof(
        grid.sort_values("month_last_day"),
        rates[["rate_date", "currency", "rate"]],
        left_on="month_last_day",
        right_on="rate_date",
        by="currency",
    )
    own = months[["month"]].assign(currency=REPORTING_CURRENCY, rate=1.0)
    return pd.concat([grid[["month", "currency", "rate"]], own], ignore_index=True).dropna(subset=["rate"])


def with_rate(frame: pd.DataFrame, fx: pd.DataFrame, month_column: str = "month") -> pd.DataFrame:
    """The frame with the rate of its month and currency; a missing rate stops the run, as the pipeline's gate does."""
    converted = frame.merge(
        fx.rename(columns={"month": month_column}), on=[month_column, "currency"], how="left"
    )
    missing = converted.loc[converted["rate"].isna(), "currency"].unique()
    if len(missing):
        raise ValueError(f"no FX rate for currency {', '.join(sorted(missing))}")
    return converted


def safe_divide(numerator, denominator):
    return numerator / denominator.where(denominator != 0)


def round_half_away(values, decimals: int):
    # DuckDB's round() rounds halves away from zero; pandas' round() to even would differ in the last digit.
    scaled = values * 10.0**decimals
    whole = np.trunc(scaled)
    return (whole + np.sign(scaled) * (np.abs(scaled - whole) >= 0.5)) / 10.0**decimals


def round_money(values):
    return round_half_away(values, 6)


def round_rate(values):
    return round_half_away(values, 10)


def on_reporting_months(monthly: pd.DataFrame, months: pd.DataFrame, counts: list[str]) -> pd.DataFrame:
    """Every reporting month, 0 for counts of months without rows; rows of other months dropped."""
    filled = months[["month", "is_complete_month"]].merge(monthly, on="month", how="left")
    filled[counts] = filled[counts].fillna(0).astype("int64")
    return filled


def published(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame[columns].sort_values("month").reset_index(drop=True)
    frame["month"] = frame["month"].dt.date
    return frame


# --- Support ---------------------------------------------------------------------------------------


def ticket_facts(extracts_dir: Path) -> pd.DataFrame:
    tickets = latest(load(extracts_dir, "helpdesk/tickets", timestamps=["created_at", "updated_at"]), ["ticket_id"])
    tickets = tickets[tickets["merged_into_ticket_id"].isna()][["ticket_id", "category", "status", "created_at"]]

    events = latest(load(extracts_dir, "helpdesk/ticket_events", timestamps=["created_at"]), ["event_id"], None)
    events["is_public"] = to_bool(events["is_public"])
    events = events.rename(columns={"created_at": "event_at"}).merge(
        tickets[["ticket_id", "created_at"]], on="ticket_id"
    )
    events = events.sort_values(["ticket_id", "event_at", "event_id"])

    messages = events[(events["event_type"] == "message") & events["is_public"]].copy()
    messages["message_number"] = messages.groupby("ticket_id").cumcount() + 1
    # The agent's opening message of an agent-opened ticket is not a reply.
    replies = messages[
        (messages["actor_type"] == "agent")
        & (messages["event_at"] >= messages["created_at"])
        & (messages["message_number"] > 1)
    ]
    replies = replies.groupby("ticket_id").agg(
        agent_replies=("event_id", "size"), first_agent_reply_at=("event_at", "min")
    )

    changes = events[events["event_type"] == "status_change"].copy()
    changes["resolves"] = changes["new_status"].isin(["solved", "closed"])
    changes["was_resolved_before"] = changes.groupby("ticket_id")["resolves"].cumsum() - changes["resolves"] > 0
    changes["reopens"] = changes["new_status"].isin(["new", "open", "pending", "on_hold"]) & changes["was_resolved_before"]
    history = changes.groupby("ticket_id").agg(is_reopened=("reopens", "any"))
    history["first_solved_at"] = changes[changes["new_status"] == "solved"].groupby("ticket_id")["event_at"].min()
    history["first_closed_at"] = changes[changes["new_status"] == "closed"].groupby("ticket_id")["event_at"].min()

    facts = tickets.merge(replies, on="ticket_id", how="left").merge(history, on="ticket_id", how="left")
    facts["month"] = month_of(facts["created_at"])
    facts["agent_replies"] = facts["agent_replies"].fillna(0)
    facts["is_reopened"] = facts["is_reopened"].fillna(False).astype(bool)
    facts["is_resolved"] = facts["status"].isin(["solved", "closed"])
    facts["is_first_contact_resolved"] = facts["is_resolved"] & (facts["agent_replies"] == 1) & ~facts["is_reopened"]
    facts["first_response_minutes"] = (facts["first_agent_reply_at"] - facts["created_at"]).dt.total_seconds() / 60
    resolved_at = facts["first_solved_at"].fillna(facts["first_closed_at"])
    facts["resolution_minutes"] = (resolved_at - facts["created_at"]).dt.total_seconds() / 60
    return facts


def tickets_monthly(facts: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    by_month = facts.groupby("month")
    monthly = pd.DataFrame(
        {
            "tickets_created": by_month.size(),
            "tickets_resolved": by_month["is_resolved"].sum(),
            "tickets_first_contact_resolved": by_month["is_first_contact_resolved"].sum(),
            "tickets_reopened": by_month["is_reopened"].sum(),
            "first_response_minutes_avg": by_month["first_response_minutes"].mean(),
            "first_response_minutes_p50": by_month["first_response_minutes"].quantile(0.5),
            "first_response_minutes_p90": by_month["first_response_minutes"].quantile(0.9),
            "resolution_minutes_p50": by_month["resolution_minutes"].quantile(0.5),
            "complaints": by_month["category"].apply(lambda c: (c == "complaint").sum()),
        }
    ).reset_index()
    counts = ["tickets_created", "tickets_resolved", "tickets_first_contact_resolved", "tickets_reopened", "complaints"]
    t = on_reporting_months(monthly, months, counts)
    t["fcr_rate"] = round_rate(safe_divide(t["tickets_first_contact_resolved"], t["tickets_created"]))
    t["reopen_rate"] = round_rate(safe_divide(t["tickets_reopened"], t["tickets_resolved"]))
    for column in ["first_response_minutes_avg", "first_response_minutes_p50", "first_response_minutes_p90", "resolution_minutes_p50"]:
        t[column] = round_money(t[column])
    return published(
        t,
        [
            "month", "is_complete_month", "tickets_created", "tickets_resolved", "tickets_first_contact_resolved",
            "fcr_rate", "tickets_reopened", "reopen_rate", "first_response_minutes_avg",
            "first_response_minutes_p50", "first_response_minutes_p90", "resolution_minutes_p50", "complaints",
        ],
    )


# --- Billing ---------------------------------------------------------------------------------------


def load_invoices(extracts_dir: Path) -> pd.DataFrame:
    invoices = load(
        extracts_dir,
        "billing/invoices",
        timestamps=["issued_at", "paid_at", "updated_at"],
        dates=["service_period_start", "service_period_end"],
        numbers=["subtotal", "discount_amount", "tax_amount", "total"],
    )
    invoices = latest(invoices, ["invoice_id"])
    invoices["discount_amount"] = invoices["discount_amount"].fillna(0)
    invoices["revenue"] = invoices["subtotal"] - invoices["discount_amount"]
    return invoices


def subscription_mrr(invoices: pd.DataFrame, subscriptions: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    """(subscription, month) -> MRR in the invoice currency, from the covering invoice at the month end."""
    covering = invoices[(invoices["invoice_type"] == "subscription") & invoices["status"].isin(["paid", "open"])]
    # One candidate row per month from the start month to the end month, then the exact test.
    start, end = covering["service_period_start"], covering["service_period_end"]
    span = (end.dt.year - start.dt.year) * 12 + end.dt.month - start.dt.month + 1
    covering = covering.loc[covering.index.repeat(span)]
    covering["month"] = (
        covering["service_period_start"].dt.to_period("M") + covering.groupby(level=0).cumcount().to_numpy()
    ).dt.to_timestamp()
    covering = covering.merge(months[["month", "measured_before"]], on="month")
    covering = covering[
        (covering["service_period_start"] < covering["measured_before"])
        & (covering["service_period_end"] >= covering["measured_before"])
    ]
    covering = covering.sort_values(["subscription_id", "month", "service_period_start", "issued_at", "invoice_id"])
    covering = covering.drop_duplicates(["subscription_id", "month"], keep="last")

    paying = subscriptions[subscriptions["status"] != "trialing"][["subscription_id", "account_id", "billing_interval"]]
    mrr = covering[["subscription_id", "month", "invoice_id", "currency", "revenue"]].merge(paying, on="subscription_id")
    mrr["mrr_native"] = mrr["revenue"] / mrr["billing_interval"].map(INTERVAL_MONTHS)
    return mrr[mrr["mrr_native"] > 0]


def account_movements(sub_mrr: pd.DataFrame, fx: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    """(account, month) with MRR at the start or the end of the month, and its movement."""
    own = with_rate(sub_mrr, fx)
    own["mrr"] = own["mrr_native"] * own["rate"]
    month_end = own.groupby(["account_id", "month"], as_index=False)["mrr"].sum()

    # The previous month end's MRR valued at this month's rates: restated for the bridge.
    previous = sub_mrr.assign(month=sub_mrr["month"] + pd.DateOffset(months=1))
    previous = previous.merge(months[["month"]], on="month")
    previous = with_rate(previous, fx)
    previous["mrr_start_restated"] = previous["mrr_native"] * previous["rate"]
    previous = previous.groupby(["account_id", "month"], as_index=False)["mrr_start_restated"].sum()
    previous = previous.merge(
        month_end.assign(month=month_end["month"] + pd.DateOffset(months=1)).rename(columns={"mrr": "mrr_start"}),
        on=["account_id", "month"],
    )

    moves = month_end.rename(columns={"mrr": "mrr_end"}).merge(previous, on=["account_id", "month"], how="outer")
    moves = moves.merge(months[["month"]], on="month")
    moves[["mrr_start", "mrr_start_restated", "mrr_end"]] = moves[["mrr_start", "mrr_start_restated", "mrr_end"]].fillna(0)
    moves = moves.sort_values(["account_id", "month"])
    paying = (moves["mrr_end"] > 0).astype(int)
    moves["was_paying_before"] = (moves.assign(p=paying).groupby("account_id")["p"].cumsum() - paying) > 0
    moves["fx_adjustment"] = moves["mrr_start_restated"] - moves["mrr_start"]

    start, end = moves["mrr_start_restated"], moves["mrr_end"]
    # Compared at 6 decimals: sums of converted amounts carry float noise.
    start6, end6 = round_money(start), round_money(end)
    moves["movement"] = np.select(
        [
            (start == 0) & (end > 0) & moves["was_paying_before"],
            (start == 0) & (end > 0),
            (start > 0) & (end == 0),
            end6 > start6,
            end6 < start6,
        ],
        ["reactivation", "new", "churned", "expansion", "contraction"],
        default="unchanged",
    )
    moves["movement_amount"] = np.select(
        [
            moves["movement"].isin(["new", "reactivation"]),
            moves["movement"] == "churned",
            moves["movement"] == "expansion",
            moves["movement"] == "contraction",
        ],
        [end, start, end - start, start - end],
        default=0.0,
    )
    return moves


def mrr_monthly(moves: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    by_month = moves.groupby("month")
    monthly = pd.DataFrame(
        {
            "mrr_start": by_month["mrr_start"].sum(),
            "fx_adjustment": by_month["fx_adjustment"].sum(),
            "mrr_end": by_month["mrr_end"].sum(),
            "customers_end": by_month["mrr_end"].apply(lambda m: (m > 0).sum()),
        }
    )
    amounts = moves.pivot_table(index="month", columns="movement", values="movement_amount", aggfunc="sum")
    for movement in ["new", "expansion", "reactivation", "contraction", "churned"]:
        monthly[f"mrr_{movement}"] = amounts[movement] if movement in amounts else np.nan
    m = on_reporting_months(monthly.reset_index(), months, ["customers_end"])
    money = ["mrr_start", "fx_adjustment", "mrr_new", "mrr_expansion", "mrr_reactivation", "mrr_contraction", "mrr_churned", "mrr_end"]
    m[money] = m[money].fillna(0)
    start_at_month_rates = m["mrr_start"] + m["fx_adjustment"]
    gross = safe_divide(m["mrr_churned"] + m["mrr_contraction"], start_at_month_rates)
    net = safe_divide(m["mrr_churned"] + m["mrr_contraction"] - m["mrr_expansion"], start_at_month_rates)
    m["gross_mrr_churn_rate"] = round_rate(gross)
    m["net_mrr_churn_rate"] = round_rate(net)
    m["net_revenue_retention"] = round_rate(1 - net)
    m["gross_revenue_retention"] = round_rate(1 - gross)
    m["arpa"] = round_money(safe_divide(m["mrr_end"], m["customers_end"]))
    m[money] = round_money(m[money])
    return published(
        m,
        [
            "month", "is_complete_month", "mrr_start", "fx_adjustment", "mrr_new", "mrr_expansion",
            "mrr_reactivation", "mrr_contraction", "mrr_churned", "mrr_end", "gross_mrr_churn_rate",
            "net_mrr_churn_rate", "net_revenue_retention", "gross_revenue_retention", "arpa",
        ],
    )


def churn_monthly(moves: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    by_month = moves.groupby("month")
    monthly = pd.DataFrame(
        {
            "customers_start": by_month["mrr_start"].apply(lambda m: (m > 0).sum()),
            "customers_new": by_month["movement"].apply(lambda m: (m == "new").sum()),
            "customers_reactivated": by_month["movement"].apply(lambda m: (m == "reactivation").sum()),
            "customers_churned": by_month["movement"].apply(lambda m: (m == "churned").sum()),
            "customers_end": by_month["mrr_end"].apply(lambda m: (m > 0).sum()),
        }
    ).reset_index()
    counts = ["customers_start", "customers_new", "customers_reactivated", "customers_churned", "customers_end"]
    c = on_reporting_months(monthly, months, counts)
    c["logo_churn_rate"] = round_rate(safe_divide(c["customers_churned"], c["customers_start"]))
    return published(c, ["month", "is_complete_month", *counts, "logo_churn_rate"])


def revenue_monthly(
    invoices: pd.DataFrame,
    subscriptions: pd.DataFrame,
    sub_mrr: pd.DataFrame,
    fx: pd.DataFrame,
    months: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    # Invoices count in their issue month, at that month's rate; earlier months are not reported.
    issued = invoices.assign(month=month_of(invoices["issued_at"])).merge(months[["month"]], on="month")
    transactions = issued[
        issued["invoice_type"].isin(["subscription", "one_time"]) & (issued["status"] == "paid") & (issued["revenue"] > 0)
    ]
    transactions = with_rate(transactions, fx)
    transactions["revenue"] = transactions["revenue"] * transactions["rate"]
    credit_notes = issued[(issued["invoice_type"] == "credit_note") & ~issued["status"].isin(["void", "draft"])]
    credit_notes = with_rate(credit_notes, fx)
    credit_notes["revenue"] = credit_notes["revenue"] * credit_notes["rate"]

    orders = issued[issued["invoice_type"].isin(["subscription", "one_time"]) & ~issued["status"].isin(["void", "draft"])]
    orders = with_rate(orders, fx)
    orders["subtotal"] = orders["subtotal"] * orders["rate"]
    orders["discount_amount"] = orders["discount_amount"] * orders["rate"]
    orders = orders[orders["subtotal"] > 0].copy()
    # Percent compared at 10 decimals and the tier looked up at 6, as published amounts are rounded.
    orders["discount_pct"] = round_rate(orders["discount_amount"] / orders["subtotal"] * 100)
    orders["converted_subtotal"] = round_money(orders["subtotal"])
    policy = pd.read_csv(DISCOUNT_POLICY_CSV).astype("float64").sort_values("min_subtotal")
    orders = pd.merge_asof(
        orders.sort_values("converted_subtotal"), policy, left_on="converted_subtotal", right_on="min_subtotal"
    )
    # Below every tier: no limit.
    orders["is_out_of_policy"] = (orders["discount_pct"] > orders["max_discount_pct"]).fillna(False)

    active = with_rate(sub_mrr, fx)
    active["contract_value"] = active["mrr_native"] * active["rate"] * 12

    renewals = renewals_due(invoices, subscriptions, as_of).merge(months[["month"]], on="month")

    monthly = pd.DataFrame(
        {
            "invoices_paid": transactions.groupby("month").size(),
            "revenue_paid": transactions.groupby("month")["revenue"].sum(),
            "credit_notes_amount": credit_notes.groupby("month")["revenue"].sum(),
            "orders": orders.groupby("month").size(),
            "out_of_policy_orders": orders.groupby("month")["is_out_of_policy"].sum(),
            "active_subscriptions": active.groupby("month").size(),
            "avg_contract_value": active.groupby("month")["contract_value"].mean(),
            "renewals_due": renewals[~renewals["is_pending"]].groupby("month").size(),
            "renewals_renewed": renewals[renewals["is_renewed"]].groupby("month").size(),
        }
    )
    monthly.index.name = "month"
    counts = ["invoices_paid", "orders", "out_of_policy_orders", "active_subscriptions", "renewals_due", "renewals_renewed"]
    r = on_reporting_months(monthly.reset_index(), months, counts)
    r["revenue_paid"] = round_money(r["revenue_paid"].fillna(0))
    r["credit_notes_amount"] = round_money(r["credit_notes_amount"].fillna(0))
    # From the rounded parts, so the identity holds exactly as published.
    r["net_revenue"] = round_money(r["revenue_paid"] + r["credit_notes_amount"])
    r["avg_transaction_size"] = round_money(safe_divide(r["revenue_paid"], r["invoices_paid"]))
    r["avg_contract_value"] = round_money(r["avg_contract_value"])
    r["renewal_rate"] = round_rate(safe_divide(r["renewals_renewed"], r["renewals_due"]))
    r["out_of_policy_rate"] = round_rate(safe_divide(r["out_of_policy_orders"], r["orders"]))
    return published(
        r,
        [
            "month", "is_complete_month", "invoices_paid", "revenue_paid", "credit_notes_amount", "net_revenue",
            "avg_transaction_size", "active_subscriptions", "avg_contract_value", "renewals_due",
            "renewals_renewed", "renewal_rate", "orders", "out_of_policy_orders", "out_of_policy_rate",
        ],
    )


def renewals_due(invoices: pd.DataFrame, subscriptions: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per due renewal, in the month its service period ends: renewed, pending or neither."""
    billed = invoices[(invoices["invoice_type"] == "subscription") & invoices["status"].isin(["paid", "open"])]
    billed = billed[["invoice_id", "subscription_id", "service_period_start", "service_period_end"]]
    long_terms = subscriptions[subscriptions["billing_interval"].isin(["quarter", "year"])][["subscription_id"]]
    due = billed.merge(long_terms, on="subscription_id")
    due["month"] = month_of(due["service_period_end"])
    due["grace_ends"] = due["service_period_end"] + pd.Timedelta(days=RENEWAL_GRACE_DAYS)
    candidates = due.merge(
        billed[["subscription_id", "service_period_start"]].rename(columns={"service_period_start": "renewal_start"}),
        on="subscription_id",
    )
    renewed = candidates[
        (candidates["renewal_start"] >= candidates["service_period_end"]) & (candidates["renewal_start"] < candidates["grace_ends"])
    ]["invoice_id"].unique()
    due["is_renewed"] = due["invoice_id"].isin(renewed)
    due["is_pending"] = ~due["is_renewed"] & (as_of < due["grace_ends"])
    return due


# --- Surveys ---------------------------------------------------------------------------------------


def surveys_monthly(extracts_dir: Path, months: pd.DataFrame) -> pd.DataFrame:
    responses = load(extracts_dir, "crm/survey_responses", timestamps=["submitted_at", "updated_at"])
    for column in ["score", "scale_min", "scale_max"]:
        responses[column] = pd.to_numeric(responses[column])
    # Versions whose score or scale break the contract are quarantined at ingest: they never count.
    kind, score, low, high = responses["survey_type"], responses["score"], responses["scale_min"], responses["scale_max"]
    valid = (low <= score) & (score <= high) & (low < high) & (
        ((kind == "nps") & (low == 0) & (high == 10))
        | ((kind == "csat") & high.isin([5, 10]))
        | ((kind == "ces") & high.isin([5, 7]))
    )
    responses = latest(responses[valid], ["response_id"])
    responses["month"] = month_of(responses["submitted_at"])
    # Multiply before dividing so that exact results stay exact (6 * 3 / 6 = 3).
    responses["score_normalized"] = 100.0 * (responses["score"] - responses["scale_min"]) / (responses["scale_max"] - responses["scale_min"])
    responses["ces_score"] = 1 + 6.0 * (responses["score"] - responses["scale_min"]) / (responses["scale_max"] - responses["scale_min"])

    nps = responses[responses["survey_type"] == "nps"]
    csat = responses[responses["survey_type"] == "csat"]
    ces = responses[responses["survey_type"] == "ces"]
    monthly = pd.DataFrame(
        {
            "nps_responses": nps.groupby("month").size(),
            "nps_promoters": nps[nps["score"] >= 9].groupby("month").size(),
            "nps_passives": nps[nps["score"].between(7, 8)].groupby("month").size(),
            "nps_detractors": nps[nps["score"] <= 6].groupby("month").size(),
            "csat_responses": csat.groupby("month").size(),
            "csat_positive": csat[csat["score"] >= csat["scale_max"] - 1].groupby("month").size(),
            "csat_mean_normalized": csat.groupby("month")["score_normalized"].mean(),
            "ces_responses": ces.groupby("month").size(),
            "ces_mean": ces.groupby("month")["ces_score"].mean(),
        }
    )
    monthly.index.name = "month"
    counts = ["nps_responses", "nps_promoters", "nps_passives", "nps_detractors", "csat_responses", "csat_positive", "ces_responses"]
    s = on_reporting_months(monthly.reset_index(), months, counts)
    s["nps"] = round_money(safe_divide(100.0 * (s["nps_promoters"] - s["nps_detractors"]), s["nps_responses"]))
    s["csat_score"] = round_money(safe_divide(100.0 * s["csat_positive"], s["csat_responses"]))
    s["csat_mean_normalized"] = round_money(s["csat_mean_normalized"])
    s["ces_mean"] = round_money(s["ces_mean"])
    return published(
        s,
        [
            "month", "is_complete_month", "nps_responses", "nps_promoters", "nps_passives", "nps_detractors", "nps",
            "csat_responses", "csat_positive", "csat_score", "csat_mean_normalized", "ces_responses", "ces_mean",
        ],
    )


# --- Costs -----------------------------------------------------------------------------------------


def costs_monthly(
    extracts_dir: Path,
    fx: pd.DataFrame,
    months: pd.DataFrame,
    churn: pd.DataFrame,
    tickets: pd.DataFrame,
    mrr: pd.DataFrame,
) -> pd.DataFrame:
    costs = latest(
        load(extracts_dir, "finance/costs", timestamps=["updated_at"], dates=["cost_month"], numbers=["amount"]),
        ["cost_id"],
    )
    # Costs of months outside the reporting months are not reported.
    costs = with_rate(costs.rename(columns={"cost_month": "month"}).merge(months[["month"]], on="month"), fx)
    costs["amount"] = costs["amount"] * costs["rate"]
    monthly = pd.DataFrame(
        {
            "acquisition_cost": costs[costs["cost_type"] == "acquisition"].groupby("month")["amount"].sum(),
            "retention_cost": costs[costs["cost_type"].isin(["retention", "success"])].groupby("month")["amount"].sum(),
            "support_cost": costs[costs["cost_type"] == "support"].groupby("month")["amount"].sum(),
        }
    )
    monthly.index.name = "month"
    c = months[["month", "is_complete_month"]].merge(monthly.reset_index(), on="month", how="left")
    c[["acquisition_cost", "retention_cost", "support_cost"]] = c[["acquisition_cost", "retention_cost", "support_cost"]].fillna(0)
    for other, columns in ((churn, ["customers_new", "customers_end"]), (tickets, ["tickets_created"]), (mrr, ["arpa"])):
        c = c.merge(other[["month", *columns]].assign(month=pd.to_datetime(other["month"])), on="month", how="left")
    crc = safe_divide(c["retention_cost"], c["customers_end"])
    c["cac"] = round_money(safe_divide(c["acquisition_cost"], c["customers_new"]))
    c["crc"] = round_money(crc)
    c["support_cost_per_ticket"] = round_money(safe_divide(c["support_cost"], c["tickets_created"]))
    c["support_cost_per_customer"] = round_money(safe_divide(c["support_cost"], c["customers_end"]))
    # Unrounded crc against the published arpa, as the mart compares them.
    c["crc_exceeds_arpa"] = (crc > c["arpa"]).where(crc.notna() & c["arpa"].notna())
    for column in ["acquisition_cost", "retention_cost", "support_cost"]:
        c[column] = round_money(c[column])
    return published(
        c,
        [
            "month", "is_complete_month", "acquisition_cost", "retention_cost", "support_cost", "cac", "crc",
            "support_cost_per_ticket", "support_cost_per_customer", "arpa", "crc_exceeds_arpa",
        ],
    )


# --- Entry points ----------------------------------------------------------------------------------


def compute(extracts_dir: Path, timings: dict[str, float] | None = None) -> dict[str, pd.DataFrame]:
    """Published table name -> frame with its published columns. `timings` gets seconds per step."""
    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    extracts_dir = Path(extracts_dir)
    as_of = as_of_date(extracts_dir)
    invoices = load_invoices(extracts_dir)
    months = reporting_months(invoices, as_of)
    fx = fx_monthly(load(extracts_dir, "billing/fx_rates", dates=["rate_date"], numbers=["rate"]), months)
    subscriptions = latest(
        load(extracts_dir, "billing/subscriptions", timestamps=["started_at", "updated_at"]), ["subscription_id"]
    )
    lap("billing inputs")

    tables = {}
    tables["cx_tickets_monthly"] = tickets_monthly(ticket_facts(extracts_dir), months)
    lap("cx_tickets_monthly")
    sub_mrr = subscription_mrr(invoices, subscriptions, months)
    tables["cx_revenue_monthly"] = revenue_monthly(invoices, subscriptions, sub_mrr, fx, months, as_of)
    lap("cx_revenue_monthly")
    moves = account_movements(sub_mrr, fx, months)
    tables["cx_mrr_monthly"] = mrr_monthly(moves, months)
    lap("cx_mrr_monthly")
    tables["cx_churn_monthly"] = churn_monthly(moves, months)
    lap("cx_churn_monthly")
    tables["cx_surveys_monthly"] = surveys_monthly(extracts_dir, months)
    lap("cx_surveys_monthly")
    tables["cx_costs_monthly"] = costs_monthly(
        extracts_dir, fx, months, tables["cx_churn_monthly"], tables["cx_tickets_monthly"], tables["cx_mrr_monthly"]
    )
    lap("cx_costs_monthly")
    return tables


def main() -> int:
    parser = argparse.ArgumentParser(description="The metrics in plain pandas, from the extract files.")
    parser.add_argument("extracts_dir", type=Path)
    parser.add_argument("--output", type=Path, help="folder to write each table to as <table>.parquet")
    args = parser.parse_args()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    tables = compute(args.extracts_dir, timings)
    for name, seconds in timings.items():
        print(f"{name}: {seconds:.2f} s")
    print(f"total: {time.perf_counter() - started:.2f} s, {sum(len(t) for t in tables.values())} rows in {len(tables)} tables")
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            table.to_parquet(args.output / f"{name}.parquet", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
