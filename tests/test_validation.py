"""Checking extract files against the contract: what is read, what is accepted, what is rejected and why."""

import csv
import gzip
import json
import re
from datetime import date, datetime, timezone

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pandas as pd
import pytest

from orchestration.lib import validation
from orchestration.lib.contracts import ENTITIES, ENTITIES_BY_PATH
from orchestration.lib.validation import ExtractFileError, ValidationResult, check_chunk, read_extract_chunks

ACCOUNTS = ENTITIES_BY_PATH["crm/accounts"]
SURVEYS = ENTITIES_BY_PATH["crm/survey_responses"]
TICKET_EVENTS = ENTITIES_BY_PATH["helpdesk/ticket_events"]
INVOICES = ENTITIES_BY_PATH["billing/invoices"]
FX_RATES = ENTITIES_BY_PATH["billing/fx_rates"]
COSTS = ENTITIES_BY_PATH["finance/costs"]

@pytest.fixture(autouse=True, params=["gx", "duckdb"])
def check_engine(request, monkeypatch) -> str:
    """Every test runs twice: through GX on pandas (small files) and through the same suites compiled
    to DuckDB SQL (large chunks), which must reject the same rows for the same reasons."""
    if request.param == "duckdb":
        monkeypatch.setattr(validation, "GX_MAX_ROWS", 0)
    return request.param


def check_extract(path, entity) -> ValidationResult:
    """The file as ingest checks it, chunk by chunk."""
    con = duckdb.connect()
    chunks = list(read_extract_chunks(path, entity))
    rejected = pd.concat([check_chunk(con, chunk, entity, str(path)) for chunk in chunks], ignore_index=True)
    rows = validation._as_text_frame(pa.concat_tables(chunks))
    accepted = rows[~rows["_row_number"].isin(rejected["row_number"])].reset_index(drop=True)
    return ValidationResult(accepted, rejected, len(rows))


# One valid record per entity; columns left out are optional and delivered empty.
GOOD_RECORDS = {
    "crm/accounts": {
        "account_id": "A1",
        "account_name": "Công ty TNHH Hưng Thịnh",
        "email": "ops@hungthinh.vn",
        "country_code": "VN",
        "segment": "smb",
        "acquisition_channel": "paid",
        "created_at": "2024-01-10T02:00:00+07:00",
        "updated_at": "2024-01-10T02:00:00+07:00",
        "is_deleted": "false",
    },
    "crm/survey_responses": {
        "response_id": "R1",
        "account_id": "A1",
        "survey_type": "nps",
        "score": "9",
        "scale_min": "0",
        "scale_max": "10",
        "channel": "email",
        "submitted_at": "2024-02-01 10:00:00",
        "comment": "خیلی خوب بود",
        "updated_at": "2024-02-01T10:00:00Z",
    },
    "helpdesk/tickets": {
        "ticket_id": "T1",
        "account_id": "A1",
        "channel": "email",
        "priority": "high",
        "category": "billing",
        "subject": "ใบแจ้งหนี้ไม่ถูกต้อง",
        "status": "open",
        "created_at": "2024-02-01T08:00:00.250Z",
        "updated_at": "2024-02-01T09:00:00+0100",
        "is_deleted": "FALSE",
    },
    "helpdesk/ticket_events": {
        "event_id": "E1",
        "ticket_id": "T1",
        "created_at": "2024-02-01T09:00:00Z",
        "actor_type": "agent",
        "event_type": "status_change",
        "is_public": "true",
        "new_status": "solved",
    },
    "billing/products": {
        "product_id": "P1",
        "product_name": "Pro plan",
        "product_line": "core",
        "updated_at": "2024-01-01T00:00:00Z",
    },
    "billing/subscriptions": {
        "subscription_id": "S1",
        "account_id": "A1",
        "product_id": "P1",
        "billing_interval": "month",
        "status": "active",
        "started_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    },
    "billing/invoices": {
        "invoice_id": "I1",
        "account_id": "A1",
        "subscription_id": "S1",
        "invoice_type": "subscription",
        "status": "paid",
        "currency": "USD",
        "subtotal": "100.00",
        "discount_amount": "10.00",
        "tax_amount": "5.50",
        "total": "95.50",
        "issued_at": "2024-01-01T00:00:00Z",
        "paid_at": "2024-01-03T00:00:00Z",
        "service_period_start": "2024-01-01",
        "service_period_end": "2024-02-01",
        "updated_at": "2024-01-03T00:00:00Z",
    },
    "billing/fx_rates": {"rate_date": "2024-03-01", "currency": "EUR", "rate": "1.0842"},
    "finance/costs": {
        "cost_id": "C1",
        "cost_month": "2024-03-01",
        "cost_type": "support",
        "category": "payroll",
        "segment": "smb",
        "amount": "1200.50",
        "currency": "USD",
        "updated_at": "2024-03-31T00:00:00Z",
    },
}


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def extract(tmp_path, entity, *changes, name="2024-03-01.csv", columns=None):
    """A CSV extract with one good record per change, each changed as given (None: left empty)."""
    columns = columns or entity.column_names
    records = [{**GOOD_RECORDS[entity.path], **change} for change in changes]
    return write_csv(tmp_path / name, columns, [[record.get(column) or "" for column in columns] for record in records])


def problems(result):
    return [tuple(problem) for problem in result.rejected.itertuples(index=False)]


def accepted_rows(result):
    return result.accepted["_row_number"].tolist()


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda entity: entity.path)
def test_a_good_file_of_every_entity_is_accepted_whole(tmp_path, entity):
    result = check_extract(extract(tmp_path, entity, {}), entity)

    assert (result.rows_read, problems(result)) == (1, [])
    # Columns in contract order; what was left empty is null.
    assert result.accepted.to_dict("records") == [
        {**{name: GOOD_RECORDS[entity.path].get(name) for name in entity.column_names}, "_row_number": 1}
    ]
    assert list(result.accepted.columns) == [*entity.column_names, "_row_number"]
    assert list(result.rejected.columns) == ["row_number", "column_name", "reason", "value"]


def test_a_header_only_file_has_no_rows(tmp_path):
    result = check_extract(extract(tmp_path, INVOICES), INVOICES)

    assert (result.rows_read, len(result.accepted), len(result.rejected)) == (0, 0, 0)
    assert list(result.accepted.columns) == [*INVOICES.column_names, "_row_number"]


def test_a_file_whose_every_row_breaks_the_contract_accepts_nothing(tmp_path):
    result = check_extract(extract(tmp_path, SURVEYS, {"score": "ten"}, {"survey_type": "star"}), SURVEYS)

    assert problems(result) == [
        (1, "score", "not a valid integer", "ten"),
        (2, "survey_type", "'star' is not one of nps, csat, ces", "star"),
    ]
    assert (result.rows_read, len(result.accepted)) == (2, 0)


def test_a_missing_required_column_fails_the_file_naming_file_and_columns(tmp_path):
    header = [name for name in ACCOUNTS.column_names if name not in ("segment", "updated_at")]
    path = extract(tmp_path, ACCOUNTS, {}, columns=header)

    with pytest.raises(ExtractFileError) as error:
        check_extract(path, ACCOUNTS)

    assert str(error.value) == f"{path}: missing required column(s): segment, updated_at"


def test_a_missing_optional_column_is_added_as_null(tmp_path):
    path = extract(tmp_path, ACCOUNTS, {}, columns=[name for name in ACCOUNTS.column_names if name != "phone"])

    result = check_extract(path, ACCOUNTS)

    assert result.accepted["phone"].isna().tolist() == [True]
    assert list(result.accepted.columns) == [*ACCOUNTS.column_names, "_row_number"]


def test_values_of_the_wrong_type_are_rejected_with_row_column_reason_and_value(tmp_path):
    path = extract(
        tmp_path,
        ACCOUNTS,
        {},
        {"created_at": "2024-02-30T10:00:00Z"},  # no such day
        {"is_deleted": "yes"},
        {"updated_at": "10/01/2024"},
        {"country_code": "vn"},
    )

    result = check_extract(path, ACCOUNTS)

    assert problems(result) == [
        (2, "created_at", "not a valid timestamp", "2024-02-30T10:00:00Z"),
        (3, "is_deleted", "not a valid boolean", "yes"),
        (4, "updated_at", "not a valid timestamp", "10/01/2024"),
        (5, "country_code", "not an ISO 3166-1 alpha-2 country code (2 capital letters)", "vn"),
    ]
    assert accepted_rows(result) == [1]


def test_numbers_dates_and_currencies_of_the_wrong_form_are_rejected(tmp_path):
    path = extract(
        tmp_path,
        INVOICES,
        {"subtotal": "1,000.00"},
        {"service_period_start": "2023-02-29"},  # 2023 is no leap year
        {"currency": "usd"},
    )
    survey = extract(tmp_path, SURVEYS, {"score": "9.5"}, name="survey.csv")

    assert problems(check_extract(path, INVOICES)) == [
        (1, "subtotal", "not a valid decimal", "1,000.00"),
        (2, "service_period_start", "not a valid date", "2023-02-29"),
        (3, "currency", "not an ISO 4217 currency code (3 capital letters)", "usd"),
    ]
    assert problems(check_extract(survey, SURVEYS)) == [(1, "score", "not a valid integer", "9.5")]


def test_a_value_outside_its_enumeration_is_rejected_naming_the_allowed_values(tmp_path):
    path = extract(tmp_path, ACCOUNTS, {"segment": "startup"}, {"acquisition_channel": None})

    result = check_extract(path, ACCOUNTS)

    assert problems(result) == [(1, "segment", "'startup' is not one of smb, mid_market, enterprise", "startup")]
    assert accepted_rows(result) == [2]


def test_a_missing_required_value_is_rejected(tmp_path):
    result = check_extract(extract(tmp_path, ACCOUNTS, {}, {"account_name": None}), ACCOUNTS)

    assert problems(result) == [(2, "account_name", "required value is missing", None)]


def test_repeated_records_in_one_file_are_all_accepted_as_versions(tmp_path):
    # extracts.md orders a record's versions by updated_at, extract date, then row position: a
    # record repeated in one file (even with the same updated_at) is not a contract violation.
    path = extract(tmp_path, ACCOUNTS, {}, {"account_name": "Later name"}, {"account_id": "A2"})

    result = check_extract(path, ACCOUNTS)

    assert problems(result) == []
    assert accepted_rows(result) == [1, 2, 3]


def test_survey_scores_and_scales_follow_the_contract(tmp_path):
    path = extract(
        tmp_path,
        SURVEYS,
        {"response_id": "R1", "score": "11"},
        {"response_id": "R2", "score": "4", "scale_min": "1", "scale_max": "5"},  # NPS on a 1-5 scale
        {"response_id": "R3", "survey_type": "csat", "score": "4", "scale_min": "1", "scale_max": "7"},
        {"response_id": "R4", "survey_type": "ces", "score": "5", "scale_min": "1", "scale_max": "7"},
        {"response_id": "R5", "survey_type": "csat", "score": "5", "scale_min": "5", "scale_max": "5"},
        {"response_id": "R6", "score": "-1"},
    )

    result = check_extract(path, SURVEYS)

    assert problems(result) == [
        (1, "score", "score 11 is outside the scale 0-10", "11"),
        (2, "scale_min", "nps scales start at 0", "1"),
        (2, "scale_max", "nps scales end at 10", "5"),
        (3, "scale_max", "csat scales end at 5 or 10", "7"),
        (5, "scale_min", "scale_min 5 is not below scale_max 5", "5"),
        (6, "score", "score -1 is outside the scale 0-10", "-1"),
    ]
    assert accepted_rows(result) == [4]


def test_invoice_amounts_follow_the_contract(tmp_path):
    path = extract(
        tmp_path,
        INVOICES,
        {"invoice_id": "I1", "total": "96.50"},
        {"invoice_id": "I2", "subtotal": "10.00", "discount_amount": "1.00", "tax_amount": "0.50", "total": "10.00"},
        {"invoice_id": "I3", "subtotal": "10.00", "discount_amount": None, "tax_amount": None, "total": "10.00"},
        {"invoice_id": "I4", "discount_amount": "-10.00", "total": "115.50"},
        {"invoice_id": "I5", "invoice_type": "one_time", "subtotal": "-5.00", "discount_amount": "0", "tax_amount": "0",
         "total": "-5.00"},
        {"invoice_id": "I6", "invoice_type": "credit_note", "subtotal": "-5.00", "discount_amount": "0",
         "tax_amount": "0", "total": "-5.00"},
        {"invoice_id": "I7", "subtotal": "0.10", "discount_amount": "0", "tax_amount": "0.20", "total": "0.30"},
    )

    result = check_extract(path, INVOICES)

    assert problems(result) == [
        (1, "total", "total 96.50 != subtotal - discount_amount + tax_amount = 95.50", "96.50"),
        (2, "total", "total 10.00 != subtotal - discount_amount + tax_amount = 9.50", "10.00"),
        (4, "discount_amount", "discount_amount must not be negative", "-10.00"),
        (5, "subtotal", "subtotal is negative but invoice_type is not credit_note", "-5.00"),
    ]
    assert accepted_rows(result) == [3, 6, 7]


def test_subscription_invoices_need_a_subscription_and_a_forward_service_period(tmp_path):
    path = extract(
        tmp_path,
        INVOICES,
        {"invoice_id": "I1", "service_period_start": "2024-02-01", "service_period_end": "2024-01-01"},
        {"invoice_id": "I2", "subscription_id": None, "service_period_end": None},
        {"invoice_id": "I3", "service_period_end": "2024-01-01"},  # empty period: end is exclusive
        {"invoice_id": "I4", "invoice_type": "one_time", "subscription_id": None, "service_period_start": None,
         "service_period_end": None},
    )

    result = check_extract(path, INVOICES)

    assert problems(result) == [
        (1, "service_period_end", "service_period_end 2024-01-01 is not after service_period_start 2024-02-01",
         "2024-01-01"),
        (2, "subscription_id", "required when invoice_type = subscription", None),
        (2, "service_period_end", "required when invoice_type = subscription", None),
        (3, "service_period_end", "service_period_end 2024-01-01 is not after service_period_start 2024-01-01",
         "2024-01-01"),
    ]
    assert accepted_rows(result) == [4]


def test_ticket_events_notes_are_private_and_status_changes_name_the_status(tmp_path):
    path = extract(
        tmp_path,
        TICKET_EVENTS,
        {"event_id": "E1", "event_type": "note", "is_public": "TRUE", "new_status": None},
        {"event_id": "E2", "new_status": None},
        {"event_id": "E3", "event_type": "note", "is_public": "false", "new_status": None},
        {"event_id": "E4", "event_type": "message", "is_public": "true", "new_status": None},
    )

    result = check_extract(path, TICKET_EVENTS)

    assert problems(result) == [
        (1, "is_public", "a note is never public", "TRUE"),
        (2, "new_status", "required when event_type = status_change", None),
    ]
    assert accepted_rows(result) == [3, 4]


def test_fx_rates_are_positive_and_costs_non_negative_on_the_first_of_a_month(tmp_path):
    rates = extract(tmp_path, FX_RATES, {"rate": "0"}, {"currency": "VND", "rate": "0.0000393"}, name="rates.csv")
    costs = extract(
        tmp_path, COSTS, {"cost_id": "C1", "amount": "-5.00"}, {"cost_id": "C2", "cost_month": "2024-03-15"},
        {"cost_id": "C3", "amount": "0"}, name="costs.csv",
    )

    assert problems(check_extract(rates, FX_RATES)) == [(1, "rate", "rate must be greater than 0", "0")]
    assert problems(check_extract(costs, COSTS)) == [
        (1, "amount", "amount must not be negative", "-5.00"),
        (2, "cost_month", "cost_month must be the first day of a month", "2024-03-15"),
    ]


def test_row_numbers_count_records_and_every_read_row_is_accepted_or_rejected(tmp_path):
    path = extract(
        tmp_path,
        ACCOUNTS,
        {"account_id": "A1"},
        {"account_id": "A2", "segment": "SMB"},
        {"account_id": "A3", "account_name": "Line one\nline two"},  # one record over two lines
        {"account_id": "A4", "account_name": None, "created_at": "yesterday"},
        {"account_id": "A5"},
    )

    result = check_extract(path, ACCOUNTS)

    assert [(row, column) for row, column, _, _ in problems(result)] == [
        (2, "segment"),
        (4, "account_name"),
        (4, "created_at"),
    ]
    assert accepted_rows(result) == [1, 3, 5]
    assert result.rows_read == 5 == len(result.accepted) + result.rejected["row_number"].nunique()
    assert result.rejected["row_number"].dtype == "int64"


def test_accepted_rows_cast_cleanly_where_they_land(tmp_path):
    timestamps = [
        "2024-02-29T23:59:59Z", "2024-02-29 23:59:59", "2024-01-01T00:00:00.123456789+05:30",
        "2024-01-01T00:00:00-0800", "2024-01-01T00:00:00+05", "0001-01-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00Z",
        "0000-01-01T00:00:00Z", "2024-01-01T00:00:00+24:00", "٢٠٢٤-01-01T00:00:00Z", "2024-01-01T00:00:00Z\n",
    ]
    path = extract(tmp_path, ACCOUNTS, *({"account_id": f"A{n}", "updated_at": ts} for n, ts in enumerate(timestamps)))

    result = check_extract(path, ACCOUNTS)

    assert result.accepted["updated_at"].tolist() == timestamps[:6]
    assert problems(result)[0] == (7, "updated_at", "not a valid timestamp", "2023-02-29T00:00:00Z")
    assert result.rejected["row_number"].tolist() == list(range(7, 15))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("accepted", result.accepted)
    landed = con.execute(
        "SELECT CAST(updated_at AS TIMESTAMPTZ), CAST(lower(is_deleted) AS BOOLEAN) FROM accepted ORDER BY _row_number"
    ).fetchall()
    utc = timezone.utc
    assert [instant for instant, _ in landed] == [
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=utc),
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=utc),
        datetime(2023, 12, 31, 18, 30, 0, 123456, tzinfo=utc),
        datetime(2024, 1, 1, 8, tzinfo=utc),
        datetime(2023, 12, 31, 19, tzinfo=utc),
        datetime(1, 1, 1, tzinfo=utc),
    ]
    assert {is_deleted for _, is_deleted in landed} == {False}


def test_a_utf8_byte_order_mark_is_tolerated(tmp_path):
    path = extract(tmp_path, ACCOUNTS, {})
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    result = check_extract(path, ACCOUNTS)

    assert result.accepted["account_id"].tolist() == ["A1"]
    assert list(result.accepted.columns) == [*ACCOUNTS.column_names, "_row_number"]


def test_quoted_fields_keep_commas_quotes_and_newlines_intact(tmp_path):
    name = 'Delta "Deli", Co\r\nSecond line'
    path = extract(tmp_path, ACCOUNTS, {"account_name": name}, {"account_id": "A2"})

    result = check_extract(path, ACCOUNTS)

    assert result.accepted["account_name"].tolist() == [name, GOOD_RECORDS["crm/accounts"]["account_name"]]
    assert accepted_rows(result) == [1, 2]


def test_header_names_are_stripped_and_unknown_columns_kept(tmp_path):
    header = [f" {name} " for name in ACCOUNTS.column_names] + ["tier"]
    row = [GOOD_RECORDS["crm/accounts"].get(name, "") for name in ACCOUNTS.column_names] + ["gold"]
    path = write_csv(tmp_path / "2024-03-01.csv", header, [row])

    result = check_extract(path, ACCOUNTS)

    assert list(result.accepted.columns) == [*ACCOUNTS.column_names, "tier", "_row_number"]
    assert result.accepted["tier"].tolist() == ["gold"]


def test_a_gzipped_csv_is_read(tmp_path):
    plain = extract(tmp_path, FX_RATES, {})
    packed = tmp_path / "2024-03-01.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))

    assert check_extract(packed, FX_RATES).accepted["rate"].tolist() == ["1.0842"]


def test_jsonl_values_become_their_text(tmp_path):
    path = tmp_path / "2024-03-01.jsonl"
    lines = [
        {"response_id": "R1", "account_id": "A1", "survey_type": "nps", "score": 9, "scale_min": 0, "scale_max": 10,
         "submitted_at": "2024-02-01T10:00:00Z", "updated_at": "2024-02-01T10:00:00Z", "comment": None,
         "meta": {"tags": ["vip"]}, "verified": True},
        {"response_id": "R2", "account_id": "A1", "survey_type": "csat", "score": 4, "scale_min": 1, "scale_max": 5,
         "submitted_at": "2024-02-01T10:00:00Z", "updated_at": "2024-02-01T10:00:00Z", "comment": "tốt"},
    ]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n", encoding="utf-8")

    result = check_extract(path, SURVEYS)

    assert problems(result) == []
    first, second = result.accepted.to_dict("records")
    assert (first["score"], first["scale_max"], first["verified"]) == ("9", "10", "true")
    assert first["meta"] == '{"tags": ["vip"]}'
    assert (first["comment"], second["verified"], second["comment"], second["_row_number"]) == (None, None, "tốt", 2)


def test_parquet_values_become_their_text(tmp_path):
    path = tmp_path / "2024-03-01.parquet"
    table = pa.table(
        {
            "cost_id": ["C1", "C2"],
            "cost_month": pa.array([date(2024, 3, 1), date(2024, 4, 1)], pa.date32()),
            "cost_type": ["support", "other"],
            "amount": pa.array([1200.5, 0.0000125], pa.float64()),
            "currency": ["USD", "EUR"],
            "updated_at": pa.array(
                [datetime(2024, 3, 31, 9, 30, tzinfo=timezone.utc), datetime(2024, 4, 30, tzinfo=timezone.utc)],
                pa.timestamp("us", tz="UTC"),
            ),
            "headcount": pa.array([3, None], pa.int64()),
        }
    )
    pq.write_table(table, path)

    result = check_extract(path, COSTS)

    assert problems(result) == []
    first, second = result.accepted.to_dict("records")
    assert (first["cost_month"], first["amount"], first["updated_at"], first["headcount"]) == (
        "2024-03-01", "1200.5", "2024-03-31T09:30:00.000000+00:00", "3",
    )
    assert (second["amount"], second["headcount"], second["segment"]) == ("0.0000125", None, None)


def test_an_empty_parquet_string_is_null_and_a_column_without_one_is_kept(tmp_path):
    path = tmp_path / "2024-03-01.parquet"
    pq.write_table(
        pa.table(
            {
                "cost_id": ["C1", "C2"],
                "cost_month": ["2024-03-01", "2024-03-01"],
                "cost_type": ["support", "support"],
                "amount": ["10.00", "20.00"],
                "currency": ["USD", "USD"],
                "segment": ["", "smb"],
                "updated_at": ["2024-03-31T09:30:00Z", "2024-03-31T09:30:00Z"],
            }
        ),
        path,
    )

    (chunk,) = read_extract_chunks(path, COSTS)

    assert chunk.column("segment").to_pylist() == [None, "smb"]
    assert chunk.column("cost_id").to_pylist() == ["C1", "C2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"the file is empty$"),
        (b"\n\n", r"the file is empty \(no header\)"),
        (b"rate_date,currency,rate\n2024-03-01,EUR,1.08\n2024-03-02,\xff\xfeUR,1.09\n",
         r"not valid UTF-8 at byte 55 \(line 3\)"),
        (b"rate_date,currency,rate\n2024-03-01,EUR,1.08,extra\n", r"malformed CSV .*Expected 3 columns, got 4"),
        (b'rate_date,currency,rate\n2024-03-01,"EUR,1.08\n', r"malformed CSV"),
        (b"rate_date,currency,rate,currency\n", r"repeated column\(s\) in the header: currency"),
    ],
    ids=["empty", "blank", "invalid-utf8", "ragged", "unterminated-quote", "repeated-column"],
)
def test_a_broken_csv_fails_the_file_naming_it(tmp_path, content, message):
    path = tmp_path / "2024-03-01.csv"
    path.write_bytes(content)

    with pytest.raises(ExtractFileError, match=rf"^{re.escape(str(path))}: {message}"):
        check_extract(path, FX_RATES)


def test_a_truncated_gzip_fails_the_file(tmp_path):
    packed = gzip.compress(extract(tmp_path, FX_RATES, *({} for _ in range(50))).read_bytes())
    path = tmp_path / "2024-03-01.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])

    with pytest.raises(ExtractFileError, match=rf"^{re.escape(str(path))}: truncated or corrupt gzip"):
        check_extract(path, FX_RATES)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("2024-03-01.jsonl", '{"rate_date": "2024-03-01", "currency": "EUR", "rate": 1.08}\n{"rate_date": \n',
         "line 2 is not valid JSON"),
        ("2024-03-01.jsonl", '["2024-03-01", "EUR", 1.08]\n', "line 1 is not a JSON object"),
        ("2024-03-01.jsonl", "", r"the file is empty$"),
        ("2024-03-01.jsonl", "\n  \n", r"the file is empty \(no records\)"),
        ("2024-03-01.parquet", "not parquet at all", "not a readable Parquet file"),
        ("2024-03-01.xlsx", "rate_date,currency,rate\n", r"unsupported file type"),
    ],
    ids=["bad-json", "json-array", "empty-jsonl", "blank-jsonl", "bad-parquet", "xlsx"],
)
def test_other_broken_files_fail_naming_file_and_problem(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ExtractFileError, match=rf"^{re.escape(str(path))}: {message}"):
        check_extract(path, FX_RATES)
