"""The sample-data generator writes extracts that honour the input contract, deterministically.

A small generation (150 accounts, 6 months, 3 change days) is read back the way a consumer would:
every file as text, nulls only where a field is empty. The same generation with Parquet full loads
(the large profile's format) must hold the same text and pass the pipeline's contract checks. The
row counts the scale profiles aim at are measured, not tested: the large one takes many minutes.
"""

import dataclasses
import inspect
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration import cli
from orchestration.lib import sample_data
from orchestration.lib.contracts import ENTITIES
from orchestration.lib.sample_data import SCALES, generate
from orchestration.lib.validation import check_extract

AS_OF = date(2024, 3, 2)  # the change days cross a leap day and a month end
CHANGE_DAYS = 3
OPTIONS = dict(seed=7, accounts=150, months=6, change_days=CHANGE_DAYS, as_of=AS_OF)
FULL_LOAD_DATE = AS_OF - timedelta(days=CHANGE_DAYS)
CHANGE_DATES = [FULL_LOAD_DATE + timedelta(days=i) for i in range(1, CHANGE_DAYS + 1)]
FULL_LOAD_SUFFIXES = {"helpdesk/ticket_events": "csv.gz", "billing/invoices": "csv.gz", "crm/survey_responses": "jsonl"}
CHANGE_SUFFIXES = {"crm/survey_responses": "jsonl"}
TIMESTAMP_PATTERNS = {
    "crm/accounts": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",  # naive UTC
    "crm/survey_responses": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00",
}
UTC_Z = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if path.name.endswith(".jsonl"):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        frame = pd.DataFrame.from_records(records, columns=columns)
        return frame.astype(object).where(frame.notna(), None).map(lambda v: v if v is None else str(v))
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    target = tmp_path_factory.mktemp("extracts")
    progress = []
    rows = generate(target, progress=progress.append, **OPTIONS)
    return target, rows, progress


@pytest.fixture(scope="module")
def extracts(generated) -> dict[str, pd.DataFrame]:
    """All rows of each entity, in delivery order, with their extract date."""
    target, _, _ = generated
    frames = {}
    for entity in ENTITIES:
        parts = []
        for path in sorted((target / entity.source / entity.name).iterdir()):
            frame = _read(path, entity.column_names)
            frame["_extract_date"] = date.fromisoformat(path.name[:10])
            parts.append(frame)
        frames[entity.path] = pd.concat(parts, ignore_index=True)
    return frames


def _contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _latest(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    ordered = frame.assign(_at=pd.to_datetime(frame["updated_at"], utc=True, format="ISO8601"))
    return ordered.sort_values(["_at", "_extract_date"], kind="stable").drop_duplicates(key, keep="last")


def test_same_arguments_give_identical_files(generated, tmp_path):
    first, _, _ = generated
    generate(tmp_path, **OPTIONS)
    assert _contents(first) == _contents(tmp_path)


def test_full_load_then_one_extract_per_change_day(generated):
    target, _, _ = generated
    for entity in ENTITIES:
        names = sorted(p.name for p in (target / entity.source / entity.name).iterdir())
        expected = [f"{FULL_LOAD_DATE}.{FULL_LOAD_SUFFIXES.get(entity.path, 'csv')}"]
        expected += [f"{d}.{CHANGE_SUFFIXES.get(entity.path, 'csv')}" for d in CHANGE_DATES]
        assert names == sorted(expected), entity.path


def test_reports_rows_and_progress_per_entity_month_and_billing_chunk(generated, extracts):
    _, rows, progress = generated
    assert rows == {path: len(frame) for path, frame in extracts.items()}
    assert all(rows[path] > 0 for path in rows)
    assert sorted(line.partition(":")[0] for line in progress if " rows in " in line) == sorted(rows)
    # A large generation runs for many minutes: it reports each simulated month and invoice chunk.
    months = [line for line in progress if line.startswith("history month ")]
    assert len(months) == OPTIONS["months"] + 1 and months[-1].startswith(f"history month {AS_OF:%Y-%m} ")
    assert sum(line.startswith("billing: subscriptions ") for line in progress) == 1


def test_files_have_exactly_the_contract_columns(generated):
    target, _, _ = generated
    for entity in ENTITIES:
        for path in (target / entity.source / entity.name).iterdir():
            if path.name.endswith(".jsonl"):
                for line in path.read_text(encoding="utf-8").splitlines():
                    assert tuple(json.loads(line)) == entity.column_names, path
            else:
                assert tuple(pd.read_csv(path, nrows=0).columns) == entity.column_names, path


def test_enums_and_required_fields_hold(extracts):
    for entity in ENTITIES:
        frame = extracts[entity.path]
        for column in entity.columns:
            values = frame[column.name]
            if column.required:
                assert values.notna().all(), f"{entity.path}.{column.name} has nulls"
            if column.enum:
                assert set(values.dropna()) <= set(column.enum), f"{entity.path}.{column.name}"


def test_values_are_written_in_the_contract_formats(extracts):
    for entity in ENTITIES:
        frame = extracts[entity.path]
        for column in entity.columns:
            values = frame[column.name].dropna()
            if column.type == "timestamp":
                pattern = TIMESTAMP_PATTERNS.get(entity.path, UTC_Z)
            elif column.type == "date":
                pattern = r"\d{4}-\d{2}-\d{2}"
            elif column.type == "boolean":
                pattern = r"true|false"
            elif column.type == "decimal" and column.name != "rate":
                pattern = r"-?\d+\.\d{2}"
            elif column.type == "integer":
                pattern = r"-?\d+"
            else:
                continue
            bad = values[~values.str.fullmatch(pattern)]
            assert bad.empty, f"{entity.path}.{column.name}: {bad.head(3).tolist()}"


def _money(value) -> Decimal:
    """Null money defaults to 0 (contract)."""
    return Decimal(0) if pd.isna(value) else Decimal(value)


def test_invoice_amounts_add_up_to_the_cent(extracts):
    invoices = extracts["billing/invoices"]
    for row in invoices.itertuples():
        subtotal, discount, tax = _money(row.subtotal), _money(row.discount_amount), _money(row.tax_amount)
        assert Decimal(row.total) == subtotal - discount + tax, row.invoice_id
        assert discount >= 0 and tax >= 0, row.invoice_id
        assert (subtotal < 0) == (row.invoice_type == "credit_note"), row.invoice_id
    assert {"subscription", "one_time", "credit_note"} <= set(invoices["invoice_type"])


def test_subscription_invoices_cover_consecutive_periods_of_the_billing_interval(extracts):
    interval = _latest(extracts["billing/subscriptions"], "subscription_id").set_index("subscription_id")["billing_interval"]
    invoices = _latest(extracts["billing/invoices"], "invoice_id")
    periodic = invoices[invoices["invoice_type"] == "subscription"]
    assert periodic["subscription_id"].isin(interval.index).all()
    assert invoices.loc[invoices["invoice_type"] != "subscription", "service_period_start"].isna().all()
    start = pd.to_datetime(periodic["service_period_start"])
    end = pd.to_datetime(periodic["service_period_end"])
    months = (end.dt.year - start.dt.year) * 12 + end.dt.month - start.dt.month
    assert (end > start).all()
    assert (months == periodic["subscription_id"].map(interval).map(INTERVAL_MONTHS)).all()
    billed = periodic[periodic["status"] != "void"].assign(start=start, end=end)
    for subscription_id, periods in billed.sort_values("start").groupby("subscription_id"):
        assert (periods["start"].iloc[1:].to_numpy() == periods["end"].iloc[:-1].to_numpy()).all(), subscription_id


def test_surveys_use_their_scales(extracts):
    surveys = extracts["crm/survey_responses"]
    score, low, high = (surveys[c].astype(int) for c in ("score", "scale_min", "scale_max"))
    nps = surveys["survey_type"] == "nps"
    assert ((low[nps] == 0) & (high[nps] == 10)).all()
    assert high[surveys["survey_type"] == "csat"].isin([5, 10]).all()
    assert high[surveys["survey_type"] == "ces"].isin([5, 7]).all()
    assert ((low <= score) & (score <= high)).all()
    assert surveys.loc[nps, "ticket_id"].isna().all()
    assert surveys.loc[~nps, "ticket_id"].notna().all()


def test_ticket_events_are_consistent_with_their_tickets(extracts):
    tickets = _latest(extracts["helpdesk/tickets"], "ticket_id")
    events = extracts["helpdesk/ticket_events"]
    assert events["event_id"].is_unique
    assert events["ticket_id"].isin(tickets["ticket_id"]).all()
    status_change = events["event_type"] == "status_change"
    assert (events["new_status"].notna() == status_change).all()
    assert (events.loc[events["event_type"] == "note", "is_public"] == "false").all()

    changes = events[status_change].assign(at=pd.to_datetime(events["created_at"], utc=True, format="ISO8601"))
    last_status = changes.sort_values(["at", "event_id"]).groupby("ticket_id")["new_status"].last()
    expected = tickets["ticket_id"].map(last_status).fillna("new")
    assert (tickets["status"].to_numpy() == expected.to_numpy()).all()
    merged = tickets[tickets["merged_into_ticket_id"].notna()]
    assert (merged["status"] == "closed").all()
    account_of = tickets.set_index("ticket_id")["account_id"]
    assert (merged["merged_into_ticket_id"].map(account_of).to_numpy() == merged["account_id"].to_numpy()).all()


def test_each_new_version_is_newer_than_the_one_before(extracts):
    for entity in ENTITIES:
        if entity.version_column is None:
            continue
        frame = extracts[entity.path].assign(_at=pd.to_datetime(extracts[entity.path]["updated_at"], utc=True, format="ISO8601"))
        for _, versions in frame.groupby(list(entity.key)):
            assert versions["_at"].is_monotonic_increasing and versions["_at"].is_unique, entity.path


def test_change_extracts_carry_the_changes_of_their_day(extracts):
    for path in ("billing/invoices", "helpdesk/tickets", "helpdesk/ticket_events", "billing/subscriptions"):
        changes = extracts[path][extracts[path]["_extract_date"] > FULL_LOAD_DATE]
        assert len(changes) > 0, path
    rates = extracts["billing/fx_rates"]
    for day in CHANGE_DATES:
        assert set(rates.loc[rates["_extract_date"] == day, "rate_date"]) == {day.isoformat()}
    full_load = extracts["helpdesk/ticket_events"]
    full_load = full_load[full_load["_extract_date"] == FULL_LOAD_DATE]
    assert (pd.to_datetime(full_load["created_at"], utc=True, format="ISO8601").dt.date <= FULL_LOAD_DATE).all()


def test_every_foreign_currency_has_a_rate_on_or_before_each_use(extracts):
    rates = extracts["billing/fx_rates"]
    assert "USD" not in set(rates["currency"])
    assert (rates["rate"].astype(float) > 0).all()
    first_rate = rates.groupby("currency")["rate_date"].min()
    invoices = extracts["billing/invoices"]
    foreign = invoices[invoices["currency"] != "USD"]
    assert not foreign.empty
    issued = pd.to_datetime(foreign["issued_at"], utc=True, format="ISO8601").dt.strftime("%Y-%m-%d")
    assert (foreign["currency"].map(first_rate) <= issued).all()
    costs = extracts["finance/costs"]
    foreign_costs = costs[costs["currency"] != "USD"]
    assert (foreign_costs["currency"].map(first_rate) <= foreign_costs["cost_month"]).all()


def test_change_extracts_update_and_soft_delete_existing_accounts(extracts):
    accounts = extracts["crm/accounts"]
    changes = accounts[accounts["_extract_date"] > FULL_LOAD_DATE]
    existing = changes[pd.to_datetime(changes["created_at"]).dt.date <= FULL_LOAD_DATE]
    assert (existing["is_deleted"] == "false").any()
    assert (existing["is_deleted"] == "true").sum() in (1, 2)
    assert existing["account_id"].isin(accounts.loc[accounts["_extract_date"] == FULL_LOAD_DATE, "account_id"]).all()


# --- Scale profiles --------------------------------------------------------------------------------


def test_the_small_scale_is_what_generate_does_by_default():
    defaults = {name: parameter.default for name, parameter in inspect.signature(generate).parameters.items()}
    assert dataclasses.asdict(SCALES["small"]) == {name: defaults[name] for name in dataclasses.asdict(SCALES["small"])}
    assert tuple(SCALES) == cli.SCALE_NAMES


def test_cli_scale_selects_a_profile_that_explicit_options_override(data_dir, monkeypatch):
    calls = []
    monkeypatch.setattr(sample_data, "generate", lambda target, **arguments: calls.append(arguments) or {})
    for options in ([], ["--scale", "small"], ["--scale", "large", "--accounts", "300", "--change-days", "2"]):
        assert cli.main(["generate", "--as-of", "2024-03-02", *options]) == 0
    default, small, large = ({k: v for k, v in call.items() if k != "progress"} for call in calls)
    common = {"seed": 42, "as_of": date(2024, 3, 2)}
    assert default == small == {**common, **dataclasses.asdict(SCALES["small"])}
    assert large == {**common, **dataclasses.asdict(dataclasses.replace(SCALES["large"], accounts=300, change_days=2))}
    assert large["parquet_full_load"]


@pytest.fixture(scope="module")
def parquet_generated(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("parquet")
    generate(target, parquet_full_load=True, **OPTIONS)
    return target


def _full_loads(root: Path, suffix: str | None = None) -> dict[str, Path]:
    return {e.path: next((root / e.source / e.name).glob(f"{FULL_LOAD_DATE}.{suffix or '*'}")) for e in ENTITIES}


def _as_text_rows(frame: pd.DataFrame) -> list[tuple]:
    return list(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))


def test_parquet_full_loads_hold_the_text_of_the_csv_ones(generated, parquet_generated):
    text_root, _, _ = generated
    text_files = _full_loads(text_root)
    for entity in ENTITIES:
        path = _full_loads(parquet_generated, "parquet")[entity.path]
        table = pq.read_table(path)
        assert table.schema == pa.schema([(name, pa.string()) for name in entity.column_names]), entity.path
        expected = _read(text_files[entity.path], entity.column_names)
        assert _as_text_rows(table.to_pandas()) == _as_text_rows(expected), entity.path
    # Appended chunk by chunk (a month of events at a time), not built in memory and written at once.
    assert pq.ParquetFile(_full_loads(parquet_generated)["helpdesk/ticket_events"]).metadata.num_row_groups > 1
    changes = {name: data for name, data in _contents(parquet_generated).items() if FULL_LOAD_DATE.isoformat() not in name}
    assert changes == {name: data for name, data in _contents(text_root).items() if FULL_LOAD_DATE.isoformat() not in name}


def test_parquet_full_loads_pass_the_contract_checks(parquet_generated):
    for entity in ENTITIES:
        path = _full_loads(parquet_generated)[entity.path]
        result = check_extract(path, entity)
        assert result.rejected.empty, (entity.path, result.rejected.head(3).to_dict("records"))
        assert result.rows_read == pq.ParquetFile(path).metadata.num_rows > 0, entity.path


def test_parquet_full_loads_are_byte_identical_from_run_to_run(parquet_generated, tmp_path):
    generate(tmp_path, parquet_full_load=True, **OPTIONS)
    assert _contents(parquet_generated) == _contents(tmp_path)
