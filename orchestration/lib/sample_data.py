"""Deterministic, realistic sample extracts for the CX pipeline.

Why: the metrics of `shared/spec/metrics.md` only mean something on months of history that has the
details real sources have: trials, upgrades and downgrades, late payments, credit notes, several
currencies, reopened and merged tickets, survey comments in Vietnamese, Thai and Persian, mixed
timestamp offsets, and daily change extracts that re-deliver changed records. This module writes
such extracts (the input contract: `shared/spec/extracts.md`, `contracts.ENTITIES`), so that the
pipeline can be run, demonstrated and load-tested without customer data.

How: one simulation runs month by month over all accounts at once (numpy arrays, no loop over
rows). An account's chance to cancel in a month rises with the support experience of its three
months before (slow first replies, tickets not resolved at first contact) and with a detractor NPS
score, so the pipeline's CX-to-churn analysis has a real signal to find. Every record gets a
timeline of versions: the full load holds each record as it was at the end of the full-load date,
and each daily change extract holds the last version of the day of every record that changed that
day. Tickets are written month by month and invoices in fixed-size chunks of subscriptions, so
memory stays bounded when the number of accounts grows to a million.

Scale profiles (`SCALES`) name the argument sets used for demos and load tests; the large one writes
its full loads as Parquet, each appended chunk a row group, because text files of tens of millions
of rows are slow to write and to read.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.lib.contracts import ENTITIES, SEGMENTS, TICKET_STATUSES, Entity

MINUTE, HOUR, DAY = 60, 3_600, 86_400
# Times are int64 seconds since the epoch (UTC). A missing time is the int64 minimum, which numpy
# reads as NaT; an end that has not happened is the int64 maximum.
NAT = np.iinfo(np.int64).min
NEVER = np.iinfo(np.int64).max

# ------------------------------------------------------------------------------------------------
# Reference data
# ------------------------------------------------------------------------------------------------

SEGMENT_SHARES = np.array([0.70, 0.22, 0.08])
SMB, MID_MARKET, ENTERPRISE = range(3)

LANGUAGES = ("en", "vi", "th", "fa")
EN, VI, TH, FA = range(4)

CURRENCIES = ("USD", "EUR", "GBP", "VND", "THB")
USD = 0
USD_PER_UNIT = np.array([1.0, 1.08, 1.27, 0.0000395, 0.028])
# Local list prices are rounded to whole units like real price lists (VND to thousands).
PRICE_ROUNDING_UNITS = np.array([1, 1, 1, 1000, 10])
FX_DAILY_VOLATILITY = np.array([0.0, 0.0022, 0.0025, 0.0008, 0.002])
FX_DECIMALS = (0, 6, 6, 10, 8)

# code, region, language, share of accounts, local currency, share billed locally, VAT %, phone prefix,
# legal suffix of English-style company names
COUNTRIES = (
    ("VN", "APAC", VI, 0.15, "VND", 0.60, 10, "+84", ""),
    ("TH", "APAC", TH, 0.11, "THB", 0.60, 7, "+66", ""),
    ("IR", "EMEA", FA, 0.06, "USD", 0.00, 0, "+98", ""),
    ("US", "AMER", EN, 0.22, "USD", 0.00, 0, "+1", "Inc."),
    ("GB", "EMEA", EN, 0.10, "GBP", 0.85, 20, "+44", "Ltd"),
    ("DE", "EMEA", EN, 0.08, "EUR", 0.90, 19, "+49", "GmbH"),
    ("FR", "EMEA", EN, 0.04, "EUR", 0.90, 20, "+33", "SAS"),
    ("AU", "APAC", EN, 0.06, "USD", 0.00, 10, "+61", "Pty Ltd"),
    ("SG", "APAC", EN, 0.07, "USD", 0.00, 9, "+65", "Pte. Ltd."),
    ("CA", "AMER", EN, 0.05, "USD", 0.00, 0, "+1", "Inc."),
    ("IN", "APAC", EN, 0.06, "USD", 0.00, 18, "+91", "Pvt. Ltd."),
)
COUNTRY_CODE = np.array([c[0] for c in COUNTRIES], dtype=object)
REGIONS = ("APAC", "EMEA", "AMER")
COUNTRY_REGION = np.array([REGIONS.index(c[1]) for c in COUNTRIES])
COUNTRY_LANGUAGE = np.array([c[2] for c in COUNTRIES])
COUNTRY_SHARES = np.array([c[3] for c in COUNTRIES])
COUNTRY_CURRENCY = np.array([CURRENCIES.index(c[4]) for c in COUNTRIES])
COUNTRY_LOCAL_BILLING = np.array([c[5] for c in COUNTRIES])
COUNTRY_VAT_BP = np.array([c[6] * 100 for c in COUNTRIES])
COUNTRY_PHONE = np.array([c[7] for c in COUNTRIES], dtype=object)
COUNTRY_LEGAL_SUFFIX = np.array([c[8] for c in COUNTRIES], dtype=object)

INDUSTRIES = np.array(
    ["software", "retail", "e-commerce", "manufacturing", "logistics", "healthcare", "education",
     "financial services", "hospitality", "media"], dtype=object)
ACQUISITION_CHANNELS = np.array(
    ["organic", "paid", "partner", "outbound", "referral", "event", "other"], dtype=object)
ACQUISITION_SHARES = np.array([  # by segment: enterprise is mostly won by sales
    [0.34, 0.26, 0.12, 0.06, 0.12, 0.04, 0.06],
    [0.22, 0.18, 0.18, 0.20, 0.10, 0.08, 0.04],
    [0.06, 0.04, 0.20, 0.48, 0.08, 0.12, 0.02],
])

# Company names: prefix + core + suffix, in the script of the country. Cores carry an ASCII slug
# for e-mail domains.
VI_PREFIXES = ("Công ty TNHH ", "Công ty Cổ phần ", "Tập đoàn ")
VI_CORES = (("Hưng Thịnh", "hungthinh"), ("Phú Quý", "phuquy"), ("Minh Long", "minhlong"),
            ("An Phát", "anphat"), ("Thành Công", "thanhcong"), ("Việt Tiến", "viettien"),
            ("Hoàng Gia", "hoanggia"), ("Sao Mai", "saomai"), ("Đại Dương", "daiduong"),
            ("Bình Minh", "binhminh"), ("Trường Sơn", "truongson"), ("Ánh Dương", "anhduong"))
VI_SUFFIXES = ("", "", " Việt Nam", " Sài Gòn", " Hà Nội", " Logistics", " Tech")
TH_PREFIXES = ("บริษัท ",)
TH_CORES = (("สยามเทค", "siamtech"), ("ไทยพัฒนา", "thaipattana"), ("กรุงเทพซอฟต์", "bkksoft"),
            ("รุ่งเรืองกิจ", "rungrueang"), ("ศรีสยาม", "srisiam"), ("เจริญดิจิทัล", "charoendigital"),
            ("ชัยมงคล", "chaimongkol"), ("อันดามันเทรด", "andamantrade"))
TH_SUFFIXES = (" จำกัด", " จำกัด", " จำกัด (มหาชน)")
FA_PREFIXES = ("شرکت ", "گروه ")
FA_CORES = (("آریا داده", "aryadadeh"), ("پارس نوین", "parsnovin"), ("سپهر تجارت", "sepehrtejarat"),
            ("نوآوران کاوش", "kavosh"), ("رایان پرداز", "rayanpardaz"), ("تهران سیستم", "tehransystem"),
            ("البرز ارتباط", "alborz"), ("کیان افزار", "kianafzar"))
FA_SUFFIXES = ("", "", " ایرانیان")
EN_CORES = (("Northwind", "northwind"), ("Blue Harbor", "blueharbor"), ("Brightline", "brightline"),
            ("Summit", "summit"), ("Redwood", "redwood"), ("Ironbridge", "ironbridge"),
            ("Silverleaf", "silverleaf"), ("Kestrel", "kestrel"), ("Lumen", "lumen"),
            ("Crescent", "crescent"), ("Oakridge", "oakridge"), ("Meridian", "meridian"))
EN_SECOND_WORDS = ("Analytics", "Logistics", "Retail", "Health", "Foods", "Systems", "Labs", "Partners",
                   "Travel", "Media")
EMAIL_ROLES = np.array(["info", "admin", "billing", "ops", "it", "support", "contact"], dtype=object)

# product id, name, line, list price per seat and month in USD
PRODUCTS = (
    ("PRD-HD-STARTER", "Helpdesk Starter", "helpdesk", 15),
    ("PRD-HD-PRO", "Helpdesk Pro", "helpdesk", 39),
    ("PRD-HD-ENTERPRISE", "Helpdesk Enterprise", "helpdesk", 89),
    ("PRD-AN-INSIGHTS", "Insights", "analytics", 9),
    ("PRD-AN-INSIGHTS-PLUS", "Insights Plus", "analytics", 19),
    ("PRD-VOICE", "Voice", "voice", 25),
)
PRODUCT_IDS = np.array([p[0] for p in PRODUCTS], dtype=object)
PRIMARY_PRODUCT_SHARES = np.array([  # helpdesk tiers by segment
    [0.70, 0.30, 0.00, 0, 0, 0],
    [0.10, 0.60, 0.30, 0, 0, 0],
    [0.00, 0.20, 0.80, 0, 0, 0],
])
ADDON_PRODUCT_SHARES = np.array([0, 0, 0, 0.45, 0.25, 0.30])
RENAMED_PRODUCT = ("PRD-VOICE", "Voice & Calls")  # renamed on the first change day


def _unit_price_cents() -> np.ndarray:
    """List price per seat and month, by product and currency, in cents of that currency."""
    usd = np.array([p[3] for p in PRODUCTS], dtype=float)[:, None]
    units = np.round(usd / USD_PER_UNIT / PRICE_ROUNDING_UNITS) * PRICE_ROUNDING_UNITS
    return (units * 100).astype(np.int64)


UNIT_PRICE_CENTS = _unit_price_cents()

BILLING_INTERVALS = np.array(["month", "quarter", "year"], dtype=object)
INTERVAL_MONTHS = np.array([1, 3, 12])
INTERVAL_SHARES = np.array([[0.85, 0.08, 0.07], [0.70, 0.15, 0.15], [0.35, 0.20, 0.45]])

TRIAL_SHARE = np.array([0.40, 0.30, 0.10])
TRIAL_DAYS = 14
TRIAL_CONVERSION = 0.60
PRE_HISTORY_SHARE = 0.18  # accounts that signed up before the history starts

# Monthly hazards. Churn is the base rate by segment times the experience multipliers below.
BASE_MONTHLY_CHURN = np.array([0.026, 0.015, 0.008])
SLOW_FIRST_REPLY_HOURS, MIDDLING_FIRST_REPLY_HOURS = 8, 4
SLOW_FIRST_REPLY_CHURN, MIDDLING_FIRST_REPLY_CHURN = 4.0, 1.7
NOT_FIRST_CONTACT_CHURN = 2.0
NPS_CHURN = np.array([1.0, 1.8, 1.0, 0.7])  # no answer yet, detractor, passive, promoter
INVOLUNTARY_CHURN_SHARE = 0.12  # of cancelling accounts: the card fails, not the customer
DUNNING_DAYS = 30
ADDON_MONTHLY_START, ADDON_MONTHLY_CANCEL = 0.03, 0.012
REACTIVATION_MONTHLY, LATE_CONVERSION_MONTHLY = 0.03, 0.008
SEAT_UPGRADE_MONTHLY, SEAT_DOWNGRADE_MONTHLY = 0.025, 0.012

# Invoices
PAST_DUE_AFTER_DAYS = 14
VOID_SHARE, REFUND_SHARE, CREDIT_NOTE_SHARE = 0.003, 0.002, 0.012
SETUP_FEE_SHARE = np.array([0.06, 0.35, 0.70])
SETUP_FEE_USD = np.array([[150, 600], [1_000, 6_000], [5_000, 60_000]])
BILLING_CHUNK = 100_000  # subscriptions per invoice chunk: bounds memory at any account count

# Tickets
TICKETS_PER_MONTH = np.array([0.8, 1.8, 4.0])  # per account, by segment
UNMATCHED_TICKET_SHARE = 0.015
CHANNELS = np.array(["email", "chat", "web", "phone", "social", "api"], dtype=object)
CHANNEL_SHARES = np.array([0.42, 0.22, 0.14, 0.08, 0.05, 0.09])
CHANNEL_FIRST_REPLY_MINUTES = np.array([200, 4, 220, 3, 120, 300])
CHANNEL_BOT_SHARE = np.array([0.10, 0.45, 0.35, 0.0, 0.2, 0.0])
PRIORITIES = np.array(["low", "normal", "high", "urgent"], dtype=object)
PRIORITY_SHARES = np.array([0.20, 0.55, 0.20, 0.05])
PRIORITY_FIRST_REPLY_FACTOR = np.array([1.6, 1.0, 0.5, 0.2])
# The support team works EMEA hours, so APAC customers wait longer.
REGION_FIRST_REPLY_FACTOR = np.array([1.5, 1.0, 0.85])
FIRST_REPLY_SIGMA = 1.0
CATEGORIES = np.array(
    ["question", "incident", "problem", "complaint", "billing", "feature_request", "other"], dtype=object)
COMPLAINT = 3
CATEGORY_SHARES = np.array([0.33, 0.17, 0.10, 0.06, 0.13, 0.14, 0.07])
CATEGORY_EXTRA_REPLY = np.array([0.07, 0.22, 0.32, 0.30, 0.09, 0.06, 0.06])
CATEGORY_REOPEN = np.array([0.06, 0.10, 0.12, 0.15, 0.07, 0.04, 0.06])
MAX_REPLIES = 4
SOLVED_WITHOUT_REPLY_SHARE = 0.02
AGENT_OPENED_SHARE = 0.05
MERGED_SHARE, DELETED_SHARE = 0.02, 0.005
AUTO_CLOSE_DAYS = 4
ACCOUNTS_PER_AGENT = 60

ACTORS = np.array(["customer", "agent", "bot", "system"], dtype=object)
CUSTOMER, AGENT, BOT, SYSTEM = range(4)
EVENT_TYPES = np.array(["message", "note", "status_change"], dtype=object)
MESSAGE, NOTE, STATUS_CHANGE = range(3)
TICKET_STATUS_NAMES = np.array(TICKET_STATUSES, dtype=object)
NEW, OPEN, PENDING, SOLVED, CLOSED = (TICKET_STATUSES.index(s) for s in ("new", "open", "pending", "solved", "closed"))

EN_SUBJECTS = (  # by category; some need RFC 4180 quoting (commas, quotes, a line break)
    ("How do I export reports?", "Question about user roles", "Can we change the account owner?"),
    ("Dashboard not loading", "Emails not arriving, since this morning", "Login fails with error 500"),
    ("Recurring sync failures", "Automations run twice", "Search results are \"stale\" after updates"),
    ("Very unhappy with response times", "Third time reporting the same issue", "Escalation: no answer for days"),
    ("Invoice question", "Charged twice this month", "Please update our VAT number,\nsee attached"),
    ("Feature request: dark mode", "API rate limits too low", "Add Thai language to the widget"),
    ("Other", "Partnership enquiry", "Change of billing contact"),
)
LOCAL_SUBJECTS = {
    VI: ("Không đăng nhập được", "Hỏi về hóa đơn tháng này", "Lỗi khi xuất báo cáo", "Hệ thống chạy rất chậm"),
    TH: ("เข้าสู่ระบบไม่ได้", "สอบถามเรื่องใบแจ้งหนี้", "ระบบช้ามาก", "ส่งออกรายงานไม่ได้"),
    FA: ("مشکل در ورود به حساب", "سوال درباره فاکتور", "گزارش‌ها باز نمی‌شوند", "سیستم خیلی کند است"),
}

# Surveys
NPS_RESPONSE_RATE = 0.55
CSAT_SHARE, CES_SHARE = 0.22, 0.08  # of solved tickets with an account
COMMENT_SHARE = 0.35
POSITIVE, NEUTRAL, NEGATIVE = range(3)
COMMENTS = {  # (language, sentiment) -> texts
    (EN, POSITIVE): ("Fast and friendly support, thank you!", "Issue fixed on the first reply.",
                     "Great product, the team is very helpful."),
    (EN, NEUTRAL): ("OK overall, took a bit long.", "Answer was fine, but I had to ask twice."),
    (EN, NEGATIVE): ("Slow first response, considering alternatives",
                     "Had to reopen the ticket, still not solved.", "Billing issue took weeks to fix."),
    (VI, POSITIVE): ("Hỗ trợ rất nhanh, cảm ơn!", "Nhân viên nhiệt tình, giải quyết vấn đề ngay.",
                     "Sản phẩm tốt, dễ sử dụng."),
    (VI, NEUTRAL): ("Tạm được, phản hồi hơi chậm.",),
    (VI, NEGATIVE): ("Phản hồi quá chậm, rất thất vọng.", "Vấn đề vẫn chưa được giải quyết."),
    (TH, POSITIVE): ("บริการดีมาก", "ตอบเร็ว แก้ปัญหาได้ทันที ขอบคุณครับ", "ทีมงานช่วยเหลือดีมากค่ะ"),
    (TH, NEUTRAL): ("โดยรวมโอเค แต่ตอบช้าไปหน่อย",),
    (TH, NEGATIVE): ("ตอบช้ามาก ไม่ประทับใจ", "ปัญหายังไม่ได้รับการแก้ไข"),
    (FA, POSITIVE): ("پشتیبانی عالی بود، ممنون!", "مشکل خیلی سریع حل شد.", "محصول بسیار خوبی است."),
    (FA, NEUTRAL): ("بد نبود، ولی کمی طول کشید.",),
    (FA, NEGATIVE): ("پشتیبانی کند بود", "مشکل هنوز حل نشده است."),
}

# Costs: type, category, segment (None: shared), driver, USD per driver unit, fixed USD at 2,000
# accounts, currency. Drivers are counted per month (and segment, when the cost has one).
COST_LINES = (
    ("acquisition", "ads", "smb", "new_customers", 420, 0, "USD"),
    ("acquisition", "ads", "mid_market", "new_customers", 1_500, 0, "USD"),
    ("acquisition", "payroll", "enterprise", "new_customers", 9_000, 0, "USD"),
    ("acquisition", "events", None, "fixed", 0, 5_000, "EUR"),
    ("acquisition", "software", None, "fixed", 0, 1_200, "USD"),
    ("retention", "payroll", "mid_market", "paying_customers", 35, 0, "USD"),
    ("retention", "payroll", "enterprise", "paying_customers", 220, 0, "USD"),
    ("retention", "software", None, "paying_customers", 3, 0, "USD"),
    ("success", "payroll", None, "paying_customers", 18, 0, "USD"),
    ("success", "training", None, "fixed", 0, 1_500, "EUR"),
    ("support", "payroll", None, "tickets", 20, 0, "USD"),
    ("support", "software", None, "tickets", 2.5, 800, "USD"),
    ("other", "rent", None, "fixed", 0, 6_000, "USD"),
)
COST_CORRECTED_LINE = 10  # support payroll is trued up after the books close
COST_CORRECTION_DAYS, COST_CORRECTION_FACTOR = 9, 1.03

FULL_LOAD_SUFFIXES = {"helpdesk/ticket_events": "csv.gz", "billing/invoices": "csv.gz",
                      "crm/survey_responses": "jsonl"}
CHANGE_SUFFIXES = {"crm/survey_responses": "jsonl"}
# Timestamps are written as UTC with `Z`, except: accounts naive (UTC), survey responses in local
# time with a +07:00 offset. The pipeline must normalise all three.
TIMESTAMP_STYLES = {"crm/accounts": (0, ""), "crm/survey_responses": (7 * HOUR, "+07:00")}
DEFAULT_TIMESTAMP_STYLE = (0, "Z")

_STREAMS = ("accounts", "simulation", "tickets", "nps", "billing", "crm", "fx", "costs")


# ------------------------------------------------------------------------------------------------
# Public entry point
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleProfile:
    """Arguments of `generate` for one size of sample data; `generate(dir, **asdict(profile))`."""

    accounts: int
    months: int
    change_days: int
    ticket_rate: float
    parquet_full_load: bool


SCALES = {
    # The default of `generate`: a demo that runs in seconds.
    "small": ScaleProfile(accounts=2000, months=24, change_days=7, ticket_rate=1.0, parquet_full_load=False),
    # A realistic mid-size customer base, in the text formats of the contract's usual deliveries.
    "medium": ScaleProfile(accounts=100_000, months=24, change_days=7, ticket_rate=1.0, parquet_full_load=False),
    # A load test of at least 10 million tickets, 40 million ticket events and 20 million invoices.
    # Invoices per account grow with the paying months in the history, so it is five years long.
    # Tickets grow with the same account-months (about 1.25 tickets per invoice whatever the history
    # length), so these accounts open tickets half as often as the demo's (0.4 to 2 a month by
    # segment, still usual for a help desk): else the ticket events would be four times the target.
    "large": ScaleProfile(accounts=1_000_000, months=60, change_days=7, ticket_rate=0.5, parquet_full_load=True),
}


def generate(
    extracts_dir: Path,
    *,
    seed: int = 42,
    accounts: int = 2000,
    months: int = 24,
    change_days: int = 7,
    ticket_rate: float = 1.0,
    parquet_full_load: bool = False,
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Writes the extracts; returns rows written per entity path ('crm/accounts' -> n).

    One full load dated `as_of - change_days` with all history up to the end of that date (the
    history starts `months` months before the as-of month), then one change extract per day up to
    `as_of`. `ticket_rate` scales how often accounts open tickets. The full loads are CSV, gzipped
    CSV or JSONL by entity, or all Parquet with `parquet_full_load` (text columns, as the CSV holds
    them); change extracts are always text. The same arguments give byte-identical files. Files of
    these dates are overwritten; other files in `extracts_dir` are left alone.
    """
    if accounts < 1 or months < 1 or change_days < 0 or ticket_rate <= 0:
        raise ValueError("accounts and months must be >= 1, change_days >= 0, ticket_rate > 0")
    if as_of is None:
        as_of = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    timeline = _Timeline.build(as_of, months, change_days)
    population = _draw_population(seed, accounts, timeline, ticket_rate)
    with _Extracts(Path(extracts_dir), timeline, progress, parquet_full_load) as extracts:
        helpdesk = _HelpdeskWriter(extracts, population, timeline, seed)
        simulation = _simulate(population, timeline, seed, helpdesk, extracts.progress)
        extracts.finish("helpdesk/tickets", "helpdesk/ticket_events", "crm/survey_responses")
        _write_billing(extracts, simulation, population, timeline, seed)
        extracts.finish("billing/invoices", "billing/subscriptions")
        _write_accounts(extracts["crm/accounts"], simulation.customers, population, timeline, seed)
        _write_products(extracts["billing/products"], timeline)
        _write_fx_rates(extracts["billing/fx_rates"], timeline, seed)
        _write_costs(extracts["finance/costs"], simulation, timeline, seed, accounts)
        extracts.finish("crm/accounts", "billing/products", "billing/fx_rates", "finance/costs")
        return extracts.rows


# ------------------------------------------------------------------------------------------------
# Time
# ------------------------------------------------------------------------------------------------


def _rng(seed: int, stream: str, *parts: int) -> np.random.Generator:
    """An independent random stream, so that e.g. names do not change when the simulation does."""
    return np.random.default_rng([seed, _STREAMS.index(stream), *parts])


def _seconds(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * DAY


@dataclass(frozen=True)
class _Timeline:
    extract_dates: tuple[dt.date, ...]  # the full load first, then one per change day
    month_starts: np.ndarray  # seconds; month m is [month_starts[m], month_starts[m + 1])

    @classmethod
    def build(cls, as_of: dt.date, months: int, change_days: int) -> _Timeline:
        as_of_month = np.datetime64(as_of, "M")
        month_list = np.arange(as_of_month - months, as_of_month + 2)
        full_load = as_of - dt.timedelta(days=change_days)
        dates = tuple(full_load + dt.timedelta(days=i) for i in range(change_days + 1))
        return cls(dates, month_list.astype("M8[s]").astype(np.int64))

    @property
    def window_ends(self) -> np.ndarray:
        """Exclusive end of what each extract holds: the end of its date."""
        return np.array([_seconds(d) + DAY for d in self.extract_dates], dtype=np.int64)

    @property
    def history_start(self) -> int:
        return int(self.month_starts[0])

    @property
    def cutoff(self) -> int:
        """End of the full-load date."""
        return int(self.window_ends[0])

    @property
    def end(self) -> int:
        """End of the as-of date: nothing after it has happened yet."""
        return int(self.window_ends[-1])

    @property
    def n_months(self) -> int:
        """Months from the history start through the as-of month."""
        return len(self.month_starts) - 1

    def window_of(self, times: np.ndarray) -> np.ndarray:
        """Index of the extract each time falls in; len(extract_dates) for the future."""
        return np.searchsorted(self.window_ends, times, side="right")


@dataclass(frozen=True)
class _Month:
    index: int
    start: int
    end: int  # clipped to the end of the as-of date
    length: int  # full calendar length, so that a partial month gets a partial share of events

    def random_times(self, rng: np.random.Generator, k: int) -> np.ndarray:
        return self.start + (rng.random(k) * (self.end - self.start)).astype(np.int64)


def _period_start_day(anchor_day: np.ndarray, months_after: np.ndarray) -> np.ndarray:
    """Day (since the epoch) on which the period `months_after` months after the anchor starts.

    The anchor's day of month is kept and clamped to the month's length, so a subscription that
    started on the 31st renews on the 28th/29th in February and on the 31st again in March.
    """
    anchor = np.asarray(anchor_day, dtype=np.int64).astype("M8[D]")
    anchor_month = anchor.astype("M8[M]")
    day_of_month = (anchor - anchor_month.astype("M8[D]")).astype(np.int64)
    month = anchor_month + np.asarray(months_after, dtype=np.int64)
    first = month.astype("M8[D]").astype(np.int64)
    length = (month + 1).astype("M8[D]").astype(np.int64) - first
    return first + np.minimum(day_of_month, length - 1)


def _period_index_at(anchor_day: np.ndarray, interval: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Index of the billing period that contains `day` (negative before the anchor)."""
    months = (np.asarray(day).astype("M8[D]").astype("M8[M]").astype(np.int64)
              - np.asarray(anchor_day).astype("M8[D]").astype("M8[M]").astype(np.int64))
    index = np.floor_divide(months, interval)
    return np.where(_period_start_day(anchor_day, index * interval) > day, index - 1, index)


def _next_period_start(anchor_day: np.ndarray, interval: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Seconds at which the period after the one containing `at` starts."""
    index = _period_index_at(anchor_day, interval, at // DAY)
    return _period_start_day(anchor_day, (index + 1) * interval) * DAY


# ------------------------------------------------------------------------------------------------
# Output: rendering and dated files
# ------------------------------------------------------------------------------------------------


def _timestamp_text(seconds: np.ndarray, offset: int, suffix: str) -> np.ndarray:
    seconds = np.asarray(seconds, dtype=np.int64)
    missing = seconds == NAT
    local = np.where(missing, NAT, seconds + offset)
    text = np.datetime_as_string(local.view("M8[s]"), unit="s") + suffix
    return np.where(missing, None, text) if missing.any() else text


def _date_text(days: np.ndarray) -> np.ndarray:
    days = np.asarray(days, dtype=np.int64)
    missing = days == NAT
    text = np.datetime_as_string(days.view("M8[D]"), unit="D")
    return np.where(missing, None, text) if missing.any() else text


def _money_text(cents: np.ndarray) -> np.ndarray:
    """Integer cents as exact decimal text with 2 decimals ('-12.05'); NAT is null."""
    cents = np.asarray(cents, dtype=np.int64)
    missing = cents == NAT
    magnitude = np.abs(np.where(missing, 0, cents))
    text = (np.where(cents < 0, "-", "") + (magnitude // 100).astype(str) + "."
            + np.strings.slice((magnitude % 100 + 100).astype(str), 1, None))
    return np.where(missing, None, text) if missing.any() else text


def _render(entity: Entity, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Contract columns in contract order, typed values turned into their extract text.

    Input: timestamps as int64 seconds, dates as int64 days, booleans as bool, money as int64
    cents (FX rates, which need more decimals, as text), nulls as NAT or None.
    """
    offset, suffix = TIMESTAMP_STYLES.get(entity.path, DEFAULT_TIMESTAMP_STYLE)
    out = {}
    for column in entity.columns:
        values = columns[column.name]
        if column.type == "timestamp":
            values = _timestamp_text(values, offset, suffix)
        elif column.type == "date":
            values = _date_text(values)
        elif column.type == "boolean":
            values = np.where(np.asarray(values, dtype=bool), "true", "false")
        elif column.type == "decimal" and np.asarray(values).dtype.kind == "i":
            values = _money_text(values)
        out[column.name] = values
    return pd.DataFrame(out)


class _EntityFiles:
    """The dated extract files of one entity, appended to chunk by chunk."""

    def __init__(self, root: Path, entity: Entity, dates: tuple[dt.date, ...], parquet_full_load: bool):
        self.entity = entity
        self.folder = root / entity.source / entity.name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dates = dates
        self.rows = 0
        self._parquet_full_load = parquet_full_load
        self._schema = pa.schema([(name, pa.string()) for name in entity.column_names])
        self._handles: dict[int, io.TextIOWrapper | pq.ParquetWriter] = {}

    def _suffix(self, index: int) -> str:
        if index == 0 and self._parquet_full_load:
            return "parquet"
        table = FULL_LOAD_SUFFIXES if index == 0 else CHANGE_SUFFIXES
        return table.get(self.entity.path, "csv")

    def _handle(self, index: int) -> io.TextIOWrapper | pq.ParquetWriter:
        if index not in self._handles:
            path = self.folder / f"{self.dates[index].isoformat()}.{self._suffix(index)}"
            if path.suffix == ".parquet":
                # Each append is written as a row group at once: memory holds one chunk, not the file.
                self._handles[index] = pq.ParquetWriter(path, self._schema, compression="zstd")
            else:
                self._handles[index] = self._open_text(path)
        return self._handles[index]

    def _open_text(self, path: Path) -> io.TextIOWrapper:
        if path.suffix == ".gz":
            # mtime=0 keeps the gzip header, and so the bytes, identical from run to run.
            binary = gzip.GzipFile(path, "wb", compresslevel=6, mtime=0)
        else:
            binary = path.open("wb")
        handle = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        if not path.name.endswith(".jsonl"):
            handle.write(",".join(self.entity.column_names) + "\n")
        return handle

    def append(self, index: int, frame: pd.DataFrame) -> None:
        handle = self._handle(index)
        if len(frame) == 0:
            return
        if isinstance(handle, pq.ParquetWriter):
            handle.write_table(self._text_table(frame))
        elif self._suffix(index) == "jsonl":
            handle.write(frame.to_json(orient="records", lines=True, force_ascii=False))
        else:
            frame.to_csv(handle, index=False, header=False, lineterminator="\n")
        self.rows += len(frame)

    def _text_table(self, frame: pd.DataFrame) -> pa.Table:
        """The rendered frame as the CSV holds it: every column text (integers too), null where empty."""
        columns = [pc.cast(pa.array(frame[name]), pa.string()) for name in self.entity.column_names]
        return pa.Table.from_arrays(columns, schema=self._schema)

    def close(self) -> int:
        """Closes the files, creating the ones that got no rows: every date has a file."""
        for index in range(len(self.dates)):
            self._handle(index)
        for handle in self._handles.values():
            handle.close()
        return len(self._handles)


class _Extracts:
    """The files of all entities; `finish` closes an entity's files and reports them."""

    def __init__(self, root: Path, timeline: _Timeline, progress: Callable[[str], None] | None,
                 parquet_full_load: bool):
        self._files = {e.path: _EntityFiles(root, e, timeline.extract_dates, parquet_full_load) for e in ENTITIES}
        self._open = set(self._files)
        self.progress = progress or (lambda line: None)

    def __getitem__(self, path: str) -> _EntityFiles:
        return self._files[path]

    @property
    def rows(self) -> dict[str, int]:
        return {path: files.rows for path, files in self._files.items()}

    def finish(self, *paths: str) -> None:
        for path in paths:
            count = self._files[path].close()
            self._open.discard(path)
            self.progress(f"{path}: {self._files[path].rows:,} rows in {count} files")

    def __enter__(self) -> _Extracts:
        return self

    def __exit__(self, *exc_info) -> None:
        for path in sorted(self._open):
            self._files[path].close()


RENDER_ROWS = 250_000  # rows turned into text at a time: bounds memory however large a chunk is


def _write_rows(files: _EntityFiles, rows: np.ndarray, windows: np.ndarray,
                render: Callable[[np.ndarray], pd.DataFrame]) -> None:
    """Renders the given rows and appends each to the file of its extract window, in order."""
    for first in range(0, len(rows), RENDER_ROWS):
        part = slice(first, first + RENDER_ROWS)
        frame = render(rows[part])
        for window in np.unique(windows[part]):
            files.append(int(window), frame[windows[part] == window])


def _write_versions(files: _EntityFiles, timeline: _Timeline, keys: np.ndarray, times: np.ndarray,
                    render: Callable[[np.ndarray], pd.DataFrame]) -> None:
    """Writes, per extract, the last version of each record that changed in its window.

    `keys` and `times` describe version rows sorted by key, then time. The full load gets every
    record's state at its cutoff; a change extract the records with a version on its date.
    """
    windows = timeline.window_of(times)
    last = np.ones(len(keys), dtype=bool)
    last[:-1] = (keys[1:] != keys[:-1]) | (windows[1:] != windows[:-1])
    rows = np.flatnonzero(last & (windows < len(timeline.extract_dates)))
    _write_rows(files, rows, windows[rows], render)


def _write_once(files: _EntityFiles, timeline: _Timeline, times: np.ndarray,
                render: Callable[[np.ndarray], pd.DataFrame]) -> None:
    """Writes immutable records to the extract of the day they happened."""
    windows = timeline.window_of(times)
    rows = np.flatnonzero(windows < len(timeline.extract_dates))
    _write_rows(files, rows, windows[rows], render)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """prefix + zero-padded numbers (below 10**width)."""
    padded = (np.asarray(numbers, dtype=np.int64) + 10**width).astype(str)
    return prefix + np.strings.slice(padded, 1, None)


def _pick(rng: np.random.Generator, groups: list[tuple[str, ...]], group: np.ndarray) -> np.ndarray:
    """A random text from groups[g] for each g in `group`."""
    sizes = np.array([len(g) for g in groups])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.array([text for g in groups for text in g], dtype=object)
    return flat[offsets[group] + (rng.random(len(group)) * sizes[group]).astype(np.int64)]


def _choice_by_row(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    """One index per row of `shares` (rows of probabilities)."""
    return (rng.random(len(shares))[:, None] > np.cumsum(shares, axis=1)[:, :-1]).sum(axis=1)


def _lognormal_seconds(rng: np.random.Generator, median: float | np.ndarray, sigma: float, k: int) -> np.ndarray:
    return np.maximum(1, np.asarray(median) * rng.lognormal(0.0, sigma, k)).astype(np.int64)


def _uniform_seconds(rng: np.random.Generator, low: float, high: float, k: int) -> np.ndarray:
    return rng.uniform(low, high, k).astype(np.int64)


# ------------------------------------------------------------------------------------------------
# Accounts (the population the simulation runs on)
# ------------------------------------------------------------------------------------------------


@dataclass
class _Population:
    signup: np.ndarray  # seconds, ascending: account numbers follow sign-up order
    segment: np.ndarray
    country: np.ndarray
    currency: np.ndarray
    satisfaction: np.ndarray  # latent mood, independent of support: moves NPS
    ticket_propensity: np.ndarray  # how much help the account needs; its mean is the ticket rate (1 by default)

    @property
    def n(self) -> int:
        return len(self.signup)

    @property
    def region(self) -> np.ndarray:
        return COUNTRY_REGION[self.country]

    @property
    def language(self) -> np.ndarray:
        return COUNTRY_LANGUAGE[self.country]

    @cached_property
    def ids(self) -> np.ndarray:
        return _ids("ACC-", np.arange(1, self.n + 1), 7)


def _draw_population(seed: int, n: int, timeline: _Timeline, ticket_rate: float) -> _Population:
    rng = _rng(seed, "accounts")
    start, end = timeline.history_start, timeline.end
    before_history = rng.random(n) < PRE_HISTORY_SHARE
    # Sign-ups grow linearly over the history (density 1 at its start, 2 at its end): inverse CDF.
    growth = np.sqrt(1 + 3 * rng.random(n)) - 1
    signup = np.where(before_history, start - rng.random(n) * 730 * DAY, start + growth * (end - start))
    country = rng.choice(len(COUNTRIES), n, p=COUNTRY_SHARES)
    billed_locally = rng.random(n) < COUNTRY_LOCAL_BILLING[country]
    return _Population(
        signup=np.sort(signup.astype(np.int64)),
        segment=rng.choice(3, n, p=SEGMENT_SHARES),
        country=country,
        currency=np.where(billed_locally, COUNTRY_CURRENCY[country], USD),
        satisfaction=rng.normal(0, 1, n).astype(np.float32),
        ticket_propensity=(rng.gamma(2.0, 0.5, n) * ticket_rate).astype(np.float32),
    )


# ------------------------------------------------------------------------------------------------
# Simulation
# ------------------------------------------------------------------------------------------------


class _SubscriptionBook:
    """Every subscription the simulation creates, in columns that grow with spare capacity."""

    _DTYPES = {
        "account": np.int32, "product": np.int8, "interval": np.int8, "started_at": np.int64,
        "trial_end": np.int64, "activated_at": np.int64, "anchor_day": np.int64, "seats": np.int32,
        "initial_seats": np.int32, "discount_bp": np.int32, "canceled_at": np.int64,
        "ended_at": np.int64, "billing_stop": np.int64, "involuntary": bool, "first_of_account": bool,
        "addon": bool, "live": bool,
    }

    def __init__(self, capacity: int):
        self.size = 0
        self._columns = {name: np.empty(capacity, dtype) for name, dtype in self._DTYPES.items()}

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name][: self.size]

    def add(self, **values) -> np.ndarray:
        k = len(values["account"])
        needed = self.size + k
        if needed > len(self._columns["account"]):
            capacity = max(needed, 2 * len(self._columns["account"]))
            for name, column in self._columns.items():
                grown = np.empty(capacity, column.dtype)
                grown[: self.size] = column[: self.size]
                self._columns[name] = grown
        for name, column in self._columns.items():
            column[self.size:needed] = values[name]
        added = np.arange(self.size, needed)
        self.size = needed
        return added


@dataclass
class _Customers:
    """Per-account simulation state; a 'life' is a stretch of continuous subscription."""

    active_from: np.ndarray  # start of the current life, trial included; NAT if none yet
    paying_from: np.ndarray  # when the current life pays (future during a converting trial); NAT if not
    live_until: np.ndarray  # end of the current life (cancellation, expired trial); NEVER while it lasts
    paid_until: np.ndarray  # end of service of the last cancelled life
    first_paid_month: np.ndarray  # -1 before the first payment
    primary_sub: np.ndarray
    next_nps_month: np.ndarray
    nps_category: np.ndarray  # -1 no answer yet, 0 detractor, 1 passive, 2 promoter
    last_ticket: np.ndarray  # number of the newest ticket (merge target), 0 if none
    # The last three months of support experience, in slots by month modulo 3.
    first_reply_sum: np.ndarray
    first_reply_count: np.ndarray
    not_first_contact: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Customers:
        return cls(
            active_from=np.full(n, NAT), paying_from=np.full(n, NAT), live_until=np.full(n, NAT),
            paid_until=np.full(n, NAT), first_paid_month=np.full(n, -1, np.int16),
            primary_sub=np.full(n, -1, np.int64), next_nps_month=np.zeros(n, np.int16),
            nps_category=np.full(n, -1, np.int8), last_ticket=np.zeros(n, np.int64),
            first_reply_sum=np.zeros((3, n), np.float64), first_reply_count=np.zeros((3, n), np.int32),
            not_first_contact=np.zeros((3, n), bool),
        )

    def is_paying(self, at: int) -> np.ndarray:
        return (self.paying_from != NAT) & (self.paying_from < at) & (self.live_until == NEVER)

    def mean_first_reply(self) -> np.ndarray:
        """Mean first-reply seconds over the last three months; NaN without an answered ticket."""
        count = self.first_reply_count.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, self.first_reply_sum.sum(axis=0) / count, np.nan)


@dataclass
class _Simulation:
    book: _SubscriptionBook
    seat_changes: tuple[np.ndarray, np.ndarray, np.ndarray]  # subscription, at, seats
    customers: _Customers
    new_customers: np.ndarray  # (month, segment)
    paying_customers: np.ndarray  # (month, segment) at month end
    tickets: np.ndarray  # per month


@dataclass
class _TicketBatch:
    """The tickets created in one month, in creation order, with the outcome of each."""

    number: np.ndarray
    account: np.ndarray  # -1: the requester matched no account
    created: np.ndarray
    channel: np.ndarray
    priority: np.ndarray
    category: np.ndarray
    first_reply: np.ndarray  # seconds from creation to the first agent reply
    replies: np.ndarray  # agent replies before the first solve; 0: solved without one
    reopened: np.ndarray
    agent_opened: np.ndarray
    deleted: np.ndarray
    merged_into: np.ndarray  # ticket number, 0 if not merged

    def __len__(self) -> int:
        return len(self.number)

    @property
    def handled(self) -> np.ndarray:
        """Real tickets: neither merged away nor deleted."""
        return (self.merged_into == 0) & ~self.deleted


def _simulate(population: _Population, timeline: _Timeline, seed: int, helpdesk: _HelpdeskWriter,
              progress: Callable[[str], None]) -> _Simulation:
    rng = _rng(seed, "simulation")
    customers = _Customers.empty(population.n)
    book = _SubscriptionBook(capacity=2 * population.n + 1024)
    seat_changes = []
    new_customers = np.zeros((timeline.n_months, 3), np.int64)
    paying_customers = np.zeros((timeline.n_months, 3), np.int64)
    tickets = np.zeros(timeline.n_months, np.int64)
    # Support staffing drifts from month to month: some months the queue is long for everyone.
    staffing = np.exp(np.cumsum(rng.normal(0, 0.12, timeline.n_months)) * 0.6)
    next_ticket = 1
    for m in range(timeline.n_months):
        start, month_end = int(timeline.month_starts[m]), int(timeline.month_starts[m + 1])
        month = _Month(m, start, min(month_end, timeline.end), month_end - start)
        _start_signups(rng, month, population, customers, book, timeline)
        _cancel_churning_accounts(rng, month, population, customers, book)
        _cancel_addons(rng, month, book)
        _start_addons(rng, month, population, customers, book)
        _restart_lapsed_accounts(rng, month, population, customers, book)
        seat_changes.append(_change_seats(rng, month, book))
        batch = _draw_tickets(rng, month, population, customers, staffing[m], next_ticket)
        next_ticket += len(batch)
        _record_experience(month, customers, batch)
        helpdesk.write_tickets(batch, m)
        helpdesk.write_nps(*_survey_nps(rng, month, population, customers), m)
        new_customers[m], paying_customers[m] = _count_customers(month, population, customers)
        tickets[m] = len(batch)
        label = np.datetime64(start, "s").astype("M8[M]")
        progress(f"history month {label} ({m + 1}/{timeline.n_months}): {len(batch):,} tickets opened")
    changes = tuple(np.concatenate(parts) for parts in zip(*seat_changes))
    return _Simulation(book, changes, customers, new_customers, paying_customers, tickets)


def _count_customers(month: _Month, population: _Population, customers: _Customers) -> tuple[np.ndarray, np.ndarray]:
    """New and paying customers by segment at the month's end (they drive the month's costs)."""
    paying = (customers.paying_from != NAT) & (customers.paying_from < month.end)
    first_time = paying & (customers.first_paid_month < 0)
    customers.first_paid_month[first_time] = month.index
    paying_at_end = paying & (customers.live_until >= month.end)
    return (np.bincount(population.segment[first_time], minlength=3),
            np.bincount(population.segment[paying_at_end], minlength=3))


def _subscription_terms(rng: np.random.Generator, segment: np.ndarray, product_shares: np.ndarray):
    """Product, billing interval (index), seats and discount (basis points) of new subscriptions."""
    k = len(segment)
    product = _choice_by_row(rng, product_shares)
    interval = _choice_by_row(rng, INTERVAL_SHARES[segment])
    seats = np.select(
        [segment == SMB, segment == MID_MARKET],
        [np.minimum(rng.geometric(0.3, k), 20), rng.integers(8, 60, k)],
        np.clip(np.round(rng.lognormal(np.log(80), 0.6, k)), 40, 1200),
    ).astype(np.int32)
    u = rng.random(k)
    # Most deals are within the 5% policy; a few sales reps give far more.
    discount = np.select(
        [u < 0.65, u < 0.90, u < 0.96],
        [0, rng.integers(2, 11, k) * 50, rng.integers(10, 21, k) * 50],
        rng.integers(40, 61, k) * 50,
    )
    return product, interval, seats, discount


def _add_subscriptions(book: _SubscriptionBook, account: np.ndarray, started: np.ndarray, terms,
                       *, trial_end=NAT, activated=None, anchor_day=None, converts=True,
                       first_of_account=False, addon=False) -> np.ndarray:
    product, interval, seats, discount = terms
    activated = started if activated is None else activated
    return book.add(
        account=account, product=product, interval=INTERVAL_MONTHS[interval], started_at=started,
        trial_end=trial_end, activated_at=activated,
        anchor_day=activated // DAY if anchor_day is None else anchor_day,
        seats=seats, initial_seats=seats, discount_bp=discount, canceled_at=NAT,
        ended_at=np.where(converts, NAT, trial_end), billing_stop=np.where(converts, NEVER, 0),
        involuntary=False, first_of_account=first_of_account, addon=addon, live=converts,
    )


def _start_signups(rng, month: _Month, population: _Population, customers: _Customers,
                   book: _SubscriptionBook, timeline: _Timeline) -> None:
    """Accounts signing up this month start a trial or a paid subscription of a helpdesk tier."""
    signing = (population.signup < month.end) & ((population.signup >= month.start) | (month.index == 0))
    new = np.flatnonzero(signing)
    k = len(new)
    segment = population.segment[new]
    before_history = population.signup[new] < timeline.history_start
    started = population.signup[new] + rng.integers(MINUTE, HOUR, k)
    trial = ~before_history & (rng.random(k) < TRIAL_SHARE[segment])
    converts = ~trial | (rng.random(k) < TRIAL_CONVERSION)
    trial_end = np.where(trial, started + TRIAL_DAYS * DAY, NAT)
    activated = np.where(trial, np.where(converts, trial_end, NAT), started)
    # Billing history starts with the history: older customers were migrated on its first day.
    anchor = np.where(before_history, timeline.history_start // DAY, np.where(trial, trial_end, started) // DAY)
    terms = _subscription_terms(rng, segment, PRIMARY_PRODUCT_SHARES[segment])
    subs = _add_subscriptions(book, new, started, terms, trial_end=trial_end, activated=activated,
                              anchor_day=anchor, converts=converts, first_of_account=~before_history)
    customers.active_from[new] = started
    customers.paying_from[new] = activated
    customers.live_until[new] = np.where(converts, NEVER, trial_end)
    customers.primary_sub[new] = subs
    customers.next_nps_month[new] = month.index + np.where(before_history, rng.integers(0, 6, k), rng.integers(2, 6, k))


def _experience_churn_multiplier(customers: _Customers) -> np.ndarray:
    """How much more likely than its segment's base rate an account is to cancel this month."""
    first_reply = np.nan_to_num(customers.mean_first_reply(), nan=0.0)
    multiplier = np.select(
        [first_reply > SLOW_FIRST_REPLY_HOURS * HOUR, first_reply > MIDDLING_FIRST_REPLY_HOURS * HOUR],
        [SLOW_FIRST_REPLY_CHURN, MIDDLING_FIRST_REPLY_CHURN], 1.0)
    multiplier *= np.where(customers.not_first_contact.any(axis=0), NOT_FIRST_CONTACT_CHURN, 1.0)
    return multiplier * NPS_CHURN[customers.nps_category + 1]


def _cancel_churning_accounts(rng, month: _Month, population: _Population, customers: _Customers,
                              book: _SubscriptionBook) -> None:
    hazard = BASE_MONTHLY_CHURN[population.segment] * _experience_churn_multiplier(customers)
    leaving = np.flatnonzero(customers.is_paying(month.start) & (rng.random(population.n) < hazard))
    cancel_at = np.full(population.n, NAT)
    cancel_at[leaving] = month.random_times(rng, len(leaving))
    involuntary = np.zeros(population.n, bool)
    involuntary[leaving] = rng.random(len(leaving)) < INVOLUNTARY_CHURN_SHARE
    subs = np.flatnonzero(book["live"] & (cancel_at[book["account"]] != NAT))
    accounts = book["account"][subs]
    _end_subscriptions(book, subs, cancel_at[accounts], involuntary[accounts])
    customers.live_until[leaving] = cancel_at[leaving]
    customers.paying_from[leaving] = NAT
    np.maximum.at(customers.paid_until, accounts, book["ended_at"][subs])


def _end_subscriptions(book: _SubscriptionBook, subs: np.ndarray, cancel_at: np.ndarray,
                       involuntary: np.ndarray) -> None:
    """Cancels subscriptions; service runs to the end of the paid period.

    An involuntary cancellation (monthly plans only) is a failed renewal: the next invoice is
    issued but never paid, and the subscription is cancelled after the dunning period.
    """
    interval = book["interval"][subs]
    next_start = _next_period_start(book["anchor_day"][subs], interval, cancel_at)
    unpaid = involuntary & (interval == 1)
    given_up = next_start + DUNNING_DAYS * DAY + 3 * HOUR
    book["canceled_at"][subs] = np.where(unpaid, given_up, cancel_at)
    book["ended_at"][subs] = np.where(unpaid, given_up, next_start)
    book["billing_stop"][subs] = np.where(unpaid, next_start + DAY, next_start)
    book["involuntary"][subs] = unpaid
    book["live"][subs] = False


def _cancel_addons(rng, month: _Month, book: _SubscriptionBook) -> None:
    addons = np.flatnonzero(book["live"] & book["addon"] & (book["activated_at"] < month.start))
    leaving = addons[rng.random(len(addons)) < ADDON_MONTHLY_CANCEL]
    _end_subscriptions(book, leaving, month.random_times(rng, len(leaving)), np.zeros(len(leaving), bool))


def _start_addons(rng, month: _Month, population: _Population, customers: _Customers,
                  book: _SubscriptionBook) -> None:
    has_addon = np.zeros(population.n, bool)
    has_addon[book["account"][book["live"] & book["addon"]]] = True
    eligible = customers.is_paying(month.start) & ~has_addon
    starting = np.flatnonzero(eligible & (rng.random(population.n) < ADDON_MONTHLY_START))
    k = len(starting)
    product, interval, _, discount = _subscription_terms(
        rng, population.segment[starting], np.tile(ADDON_PRODUCT_SHARES, (k, 1)))
    interval = np.where(rng.random(k) < 0.85, 0, interval)
    primary_seats = book["seats"][customers.primary_sub[starting]]
    seats = np.maximum(1, np.round(primary_seats * rng.uniform(0.3, 1.0, k))).astype(np.int32)
    _add_subscriptions(book, starting, month.random_times(rng, k), (product, interval, seats, discount), addon=True)


def _restart_lapsed_accounts(rng, month: _Month, population: _Population, customers: _Customers,
                             book: _SubscriptionBook) -> None:
    """Churned customers come back (reactivation); expired trials sometimes buy late (new)."""
    lapsed = (customers.active_from != NAT) & (customers.live_until <= month.start)
    ever_paid = customers.first_paid_month >= 0
    u = rng.random(population.n)
    returning = lapsed & ever_paid & (customers.paid_until + DAY * 30 <= month.start) & (u < REACTIVATION_MONTHLY)
    converting = lapsed & ~ever_paid & (u < LATE_CONVERSION_MONTHLY)
    starting = np.flatnonzero(returning | converting)
    segment = population.segment[starting]
    started = month.random_times(rng, len(starting))
    terms = _subscription_terms(rng, segment, PRIMARY_PRODUCT_SHARES[segment])
    subs = _add_subscriptions(book, starting, started, terms, first_of_account=~ever_paid[starting])
    customers.active_from[starting] = started
    customers.paying_from[starting] = started
    customers.live_until[starting] = NEVER
    customers.primary_sub[starting] = subs
    customers.next_nps_month[starting] = month.index + rng.integers(2, 6, len(starting))


def _change_seats(rng, month: _Month, book: _SubscriptionBook) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upgrades and downgrades: new seat counts that bill from the next period on."""
    live = np.flatnonzero(book["live"] & (book["activated_at"] < month.start))
    u = rng.random(len(live))
    changing_mask = u < SEAT_UPGRADE_MONTHLY + SEAT_DOWNGRADE_MONTHLY
    changing, up = live[changing_mask], u[changing_mask] < SEAT_UPGRADE_MONTHLY
    old = book["seats"][changing]
    factor = np.where(up, rng.uniform(1.15, 1.8, len(changing)), rng.uniform(0.5, 0.9, len(changing)))
    seats = np.where(up, np.maximum(old + 1, np.round(old * factor)), np.maximum(1, np.minimum(old - 1, np.round(old * factor))))
    changed = seats != old
    changing, seats = changing[changed], seats[changed].astype(np.int32)
    book["seats"][changing] = seats
    return changing, month.random_times(rng, len(changing)), seats


def _draw_tickets(rng, month: _Month, population: _Population, customers: _Customers,
                  staffing: float, first_number: int) -> _TicketBatch:
    """Tickets of the month: accounts open them while subscribed; some requesters match no account."""
    low = np.maximum(month.start, customers.active_from)
    high = np.minimum(month.end, customers.live_until)
    exposure = np.where(customers.active_from == NAT, 0, np.clip(high - low, 0, None)) / month.length
    per_account = rng.poisson(TICKETS_PER_MONTH[population.segment] * population.ticket_propensity * exposure)
    account = np.repeat(np.arange(population.n, dtype=np.int32), per_account)
    created = low[account] + (rng.random(len(account)) * (high - low)[account]).astype(np.int64)
    unmatched = rng.poisson(UNMATCHED_TICKET_SHARE * len(account))
    account = np.concatenate([account, np.full(unmatched, -1, np.int32)])
    created = np.concatenate([created, month.random_times(rng, unmatched)])
    order = np.lexsort((account, created))
    account, created = account[order], created[order]
    k = len(account)
    number = first_number + np.arange(k, dtype=np.int64)
    matched = account >= 0

    channel = rng.choice(len(CHANNELS), k, p=CHANNEL_SHARES)
    priority = rng.choice(len(PRIORITIES), k, p=PRIORITY_SHARES)
    category = rng.choice(len(CATEGORIES), k, p=CATEGORY_SHARES)
    region_factor = np.where(matched, REGION_FIRST_REPLY_FACTOR[population.region[account]], 1.0)
    median = CHANNEL_FIRST_REPLY_MINUTES[channel] * MINUTE * PRIORITY_FIRST_REPLY_FACTOR[priority] * region_factor * staffing
    first_reply = np.maximum(30, _lognormal_seconds(rng, median, FIRST_REPLY_SIGMA, k))
    replies = (1 + (rng.random(k) < CATEGORY_EXTRA_REPLY[category])).astype(np.int8)
    for extra in range(2, MAX_REPLIES):
        replies += (replies == extra) & (rng.random(k) < 0.3)
    replies[rng.random(k) < SOLVED_WITHOUT_REPLY_SHARE] = 0
    reopened = (replies > 0) & (rng.random(k) < CATEGORY_REOPEN[category])

    merged_into = _merge_targets(rng, account, number, customers)
    deleted = (merged_into == 0) & (rng.random(k) < DELETED_SHARE)
    agent_opened = (merged_into == 0) & ~deleted & (replies > 0) & (rng.random(k) < AGENT_OPENED_SHARE)
    return _TicketBatch(number, account, created, channel, priority, category, first_reply, replies,
                        reopened, agent_opened, deleted, merged_into)


def _merge_targets(rng, account: np.ndarray, number: np.ndarray, customers: _Customers) -> np.ndarray:
    """A few tickets are duplicates, merged into the account's previous ticket."""
    order = np.lexsort((number, account))
    sorted_account, sorted_number = account[order], number[order]
    same_as_previous = np.zeros(len(order), bool)
    same_as_previous[1:] = sorted_account[1:] == sorted_account[:-1]
    previous = np.where(same_as_previous, np.roll(sorted_number, 1), customers.last_ticket[sorted_account])
    matched = sorted_account >= 0
    is_last = np.ones(len(order), bool)
    is_last[:-1] = ~same_as_previous[1:]
    customers.last_ticket[sorted_account[is_last & matched]] = sorted_number[is_last & matched]
    merge = matched & (previous > 0) & (rng.random(len(order)) < MERGED_SHARE)
    merged_into = np.zeros(len(order), np.int64)
    merged_into[order] = np.where(merge, previous, 0)
    return merged_into


def _record_experience(month: _Month, customers: _Customers, batch: _TicketBatch) -> None:
    slot = month.index % 3
    n = len(customers.live_until)
    counted = batch.handled & (batch.account >= 0)
    answered = counted & (batch.replies > 0)
    customers.first_reply_sum[slot] = np.bincount(batch.account[answered], batch.first_reply[answered], minlength=n)
    customers.first_reply_count[slot] = np.bincount(batch.account[answered], minlength=n)
    not_first_contact = counted & ((batch.replies != 1) | batch.reopened)
    customers.not_first_contact[slot] = np.bincount(batch.account[not_first_contact], minlength=n) > 0


def _survey_nps(rng, month: _Month, population: _Population, customers: _Customers):
    """Relationship NPS every 3-6 months per paying account; experience moves the score."""
    due = ((customers.paying_from != NAT) & (customers.paying_from < month.end)
           & (customers.live_until > month.start) & (customers.next_nps_month <= month.index))
    sent = np.flatnonzero(due)
    customers.next_nps_month[sent] = month.index + rng.integers(3, 7, len(sent))
    answered = sent[rng.random(len(sent)) < NPS_RESPONSE_RATE]
    low = np.maximum(month.start, customers.paying_from[answered])
    high = np.minimum(month.end, customers.live_until[answered])
    submitted = low + (rng.random(len(answered)) * (high - low)).astype(np.int64)
    first_reply = np.nan_to_num(customers.mean_first_reply()[answered], nan=0.0)
    mood = (population.satisfaction[answered] - 1.3 * (first_reply > SLOW_FIRST_REPLY_HOURS * HOUR)
            - 0.5 * customers.not_first_contact[:, answered].any(axis=0) + rng.normal(0, 0.8, len(answered)))
    score = np.clip(np.round(8.6 + 1.5 * mood), 0, 10).astype(np.int64)
    customers.nps_category[answered] = np.select([score <= 6, score <= 8], [0, 1], 2)
    return answered, submitted, score


# ------------------------------------------------------------------------------------------------
# Help desk: ticket events, ticket versions, surveys
# ------------------------------------------------------------------------------------------------


class _EventBlocks:
    """Events collected kind by kind (vectorized), then sorted per ticket."""

    def __init__(self):
        self._parts = []

    def add(self, tickets: np.ndarray, at: np.ndarray, actor: int | np.ndarray, kind: int, public: bool,
            status: int = -1, order: int = 0) -> None:
        """`order` breaks ties between events of a ticket in the same second, in their logical order."""
        k = len(tickets)
        self._parts.append((tickets, at, np.broadcast_to(actor, k), np.full(k, kind), np.full(k, public),
                            np.full(k, status), np.full(k, order)))

    def sorted(self) -> dict[str, np.ndarray]:
        names = ("ticket", "at", "actor", "kind", "public", "status", "order")
        columns = {name: np.concatenate([p[i] for p in self._parts]) for i, name in enumerate(names)}
        order = np.lexsort((columns["order"], columns["at"], columns["ticket"]))
        return {name: values[order] for name, values in columns.items()}


@dataclass
class _TicketTimeline:
    events: dict[str, np.ndarray]  # sorted by ticket position, time
    deleted_at: np.ndarray
    final_solve: np.ndarray  # NAT for tickets never solved (merged, deleted)


def _ticket_timeline(rng, batch: _TicketBatch) -> _TicketTimeline:
    """Every event of every ticket, until the ticket closes (later truncated at the as-of date).

    Customer message (an agent's for agent-opened tickets), maybe a bot reply, agent replies with
    customer follow-ups in between (pending while waiting on the customer), internal notes,
    pending for confirmation or solved right away, reopened by a customer message for some, and
    closed by the system four days after the last solve. Merged tickets are closed by an agent;
    deleted ones just stop.
    """
    k = len(batch)
    position = np.arange(k)
    t0 = batch.created
    handled = batch.handled
    events = _EventBlocks()
    events.add(position, t0, np.where(batch.agent_opened, AGENT, CUSTOMER), MESSAGE, True, order=0)
    opened = position[batch.agent_opened]
    events.add(opened, t0[opened] + (batch.first_reply[opened] * rng.uniform(0.1, 0.7, len(opened))).astype(np.int64),
               CUSTOMER, MESSAGE, True, order=1)
    bot = position[~batch.agent_opened & (rng.random(k) < CHANNEL_BOT_SHARE[batch.channel])]
    events.add(bot, t0[bot] + rng.integers(20, 90, len(bot)), BOT, MESSAGE, True, order=2)

    merged = position[batch.merged_into > 0]
    events.add(merged, t0[merged] + _lognormal_seconds(rng, HOUR, 0.8, len(merged)), AGENT, STATUS_CHANGE, False,
               CLOSED, order=3)
    deleted_at = np.where(batch.deleted, t0 + _lognormal_seconds(rng, 2 * HOUR, 0.8, k), NAT)

    answered = handled & (batch.replies > 0)
    reply_at = t0 + batch.first_reply
    first = position[answered]
    events.add(first, reply_at[first], AGENT, MESSAGE, True, order=10)
    events.add(first, reply_at[first] + 1, AGENT, STATUS_CHANGE, False, OPEN, order=11)
    waiting = answered & (batch.replies > 1) & (rng.random(k) < 0.6)
    events.add(position[waiting], reply_at[waiting] + 2, AGENT, STATUS_CHANGE, False, PENDING, order=12)
    last_reply = reply_at.copy()
    for round_ in range(1, MAX_REPLIES):  # reply rounds, each vectorized over tickets
        more = position[answered & (batch.replies > round_)]
        asked = last_reply[more] + _lognormal_seconds(rng, 8 * HOUR, 1.0, len(more))
        events.add(more, asked, CUSTOMER, MESSAGE, True, order=10 + 4 * round_)
        if round_ == 1:
            back = more[waiting[more]]
            events.add(back, asked[waiting[more]] + 1, SYSTEM, STATUS_CHANGE, False, OPEN, order=11 + 4 * round_)
        last_reply[more] = asked + _lognormal_seconds(rng, 2 * HOUR, 1.0, len(more))
        events.add(more, last_reply[more], AGENT, MESSAGE, True, order=12 + 4 * round_)

    notes = rng.choice(3, k, p=[0.6, 0.28, 0.12])
    for nth in (1, 2):
        noted = position[handled & (notes >= nth)]
        span = np.maximum(last_reply[noted] - t0[noted], MINUTE)
        events.add(noted, t0[noted] + (span * rng.uniform(0.05, 1.0, len(noted))).astype(np.int64),
                   AGENT, NOTE, False, order=30 + nth)

    # Half the answered tickets wait (pending) for the customer to confirm the fix before solving.
    confirming = answered & (rng.random(k) < 0.5)
    events.add(position[confirming], last_reply[confirming] + 2, AGENT, STATUS_CHANGE, False, PENDING, order=45)
    solve_delay = np.where(confirming, _lognormal_seconds(rng, 20 * HOUR, 0.8, k), _lognormal_seconds(rng, 30 * MINUTE, 1.0, k))
    solved = position[handled]
    solved_at = np.full(k, NAT)
    solved_at[solved] = np.where(answered[solved], last_reply[solved] + solve_delay[solved],
                                 t0[solved] + _lognormal_seconds(rng, 6 * HOUR, 0.8, len(solved)))
    # Without an agent reply, the bot solved it where a bot took part; else an agent did.
    had_bot = np.zeros(k, bool)
    had_bot[bot] = True
    solver = np.where(~answered[solved] & had_bot[solved], BOT, AGENT)
    events.add(solved, solved_at[solved], solver, STATUS_CHANGE, False, SOLVED, order=50)

    again = position[answered & batch.reopened]
    back = solved_at[again] + _lognormal_seconds(rng, 20 * HOUR, 0.8, len(again))
    events.add(again, back, CUSTOMER, MESSAGE, True, order=60)
    events.add(again, back + 1, SYSTEM, STATUS_CHANGE, False, OPEN, order=61)
    answer = back + _lognormal_seconds(rng, 2 * HOUR, 1.0, len(again))
    events.add(again, answer, AGENT, MESSAGE, True, order=62)
    final_solve = solved_at.copy()
    final_solve[again] = answer + _lognormal_seconds(rng, 30 * MINUTE, 1.0, len(again))
    events.add(again, final_solve[again], AGENT, STATUS_CHANGE, False, SOLVED, order=63)
    events.add(solved, final_solve[solved] + AUTO_CLOSE_DAYS * DAY + rng.integers(0, 2 * HOUR, len(solved)),
               SYSTEM, STATUS_CHANGE, False, CLOSED, order=70)
    return _TicketTimeline(events.sorted(), deleted_at, final_solve)


def _running_flag(group_first: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """Per row of rows grouped by ticket: has `flag` been true at this row or earlier in the group?"""
    seen = np.maximum.accumulate(np.where(flag, np.arange(len(flag)), -1))
    return seen >= group_first


def _group_first(keys: np.ndarray) -> np.ndarray:
    """Per row of rows sorted by key: the index of the first row of its key."""
    starts = np.ones(len(keys), bool)
    starts[1:] = keys[1:] != keys[:-1]
    return np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))


class _HelpdeskWriter:
    """Writes each month's tickets as ticket versions, immutable events and follow-up surveys."""

    def __init__(self, extracts: _Extracts, population: _Population, timeline: _Timeline, seed: int):
        self._extracts = extracts
        self._population = population
        self._account_ids = population.ids
        self._timeline = timeline
        self._seed = seed
        self._agents = max(8, population.n // ACCOUNTS_PER_AGENT)

    def write_tickets(self, batch: _TicketBatch, month_index: int) -> None:
        if len(batch) == 0:
            return
        rng = _rng(self._seed, "tickets", month_index)
        timeline = _ticket_timeline(rng, batch)
        ticket_ids = _ids("TCK-", batch.number, 9)
        self._write_events(timeline.events, ticket_ids)
        self._write_ticket_versions(rng, batch, timeline, ticket_ids)
        self._write_ticket_surveys(rng, batch, timeline, ticket_ids)

    def _write_events(self, events: dict[str, np.ndarray], ticket_ids: np.ndarray) -> None:
        sequence = np.arange(len(events["ticket"])) - _group_first(events["ticket"])
        entity = self._extracts["helpdesk/ticket_events"].entity

        def render(rows: np.ndarray) -> pd.DataFrame:
            tickets = ticket_ids[events["ticket"][rows]]
            status = events["status"][rows]
            return _render(entity, {
                "event_id": tickets + _ids("-", sequence[rows], 2),
                "ticket_id": tickets,
                "created_at": events["at"][rows],
                "actor_type": ACTORS[events["actor"][rows]],
                "event_type": EVENT_TYPES[events["kind"][rows]],
                "is_public": events["public"][rows],
                "new_status": np.where(status >= 0, TICKET_STATUS_NAMES[status], None),
            })

        _write_once(self._extracts["helpdesk/ticket_events"], self._timeline, events["at"], render)

    def _write_ticket_versions(self, rng, batch: _TicketBatch, timeline: _TicketTimeline, ticket_ids: np.ndarray) -> None:
        """A ticket's version changes with each of its events and with its deletion."""
        events = timeline.events
        deleted = np.flatnonzero(batch.deleted)
        ticket = np.concatenate([events["ticket"], deleted])
        at = np.concatenate([events["at"], timeline.deleted_at[deleted]])
        status = np.concatenate([events["status"], np.full(len(deleted), -1)])
        by_agent = np.concatenate([events["actor"] == AGENT, np.zeros(len(deleted), bool)])
        # Only a merge closes a ticket by an agent; the regular close is by the system.
        merge_event = (events["status"] == CLOSED) & (events["actor"] == AGENT)
        merge = np.concatenate([merge_event, np.zeros(len(deleted), bool)])
        deletion = np.concatenate([np.zeros(len(events["at"]), bool), np.ones(len(deleted), bool)])
        order = np.lexsort((deletion, at, ticket))
        ticket, at, status, by_agent, merge, deletion = (a[order] for a in (ticket, at, status, by_agent, merge, deletion))

        group_first = _group_first(ticket)
        last_status_row = np.maximum.accumulate(np.where(status >= 0, np.arange(len(status)), -1))
        current_status = np.where(last_status_row >= group_first, status[last_status_row], NEW)
        assigned = _running_flag(group_first, by_agent)
        merged = _running_flag(group_first, merge)
        is_deleted = _running_flag(group_first, deletion)
        assignee = _ids("agent-", rng.integers(1, self._agents + 1, len(batch)), 4)
        subjects = self._subjects(rng, batch)
        account_ids = np.where(batch.account >= 0, self._account_ids[batch.account], None)
        merged_into_ids = _ids("TCK-", batch.merged_into, 9)
        entity = self._extracts["helpdesk/tickets"].entity

        def render(rows: np.ndarray) -> pd.DataFrame:
            position = ticket[rows]
            return _render(entity, {
                "ticket_id": ticket_ids[position],
                "account_id": account_ids[position],
                "channel": CHANNELS[batch.channel[position]],
                "priority": PRIORITIES[batch.priority[position]],
                "category": CATEGORIES[batch.category[position]],
                "subject": subjects[position],
                "status": TICKET_STATUS_NAMES[current_status[rows]],
                "merged_into_ticket_id": np.where(merged[rows], merged_into_ids[position], None),
                "assignee_id": np.where(assigned[rows], assignee[position], None),
                "created_at": batch.created[position],
                "updated_at": at[rows],
                "is_deleted": is_deleted[rows],
            })

        _write_versions(self._extracts["helpdesk/tickets"], self._timeline, ticket, at, render)

    def _subjects(self, rng, batch: _TicketBatch) -> np.ndarray:
        """English by category; half the tickets of Vietnamese, Thai and Persian accounts in their script."""
        subjects = _pick(rng, list(EN_SUBJECTS), batch.category)
        language = np.where(batch.account >= 0, self._population.language[batch.account], EN)
        local = (language != EN) & (rng.random(len(batch)) < 0.5)
        groups = [LOCAL_SUBJECTS.get(code, ("",)) for code in range(len(LANGUAGES))]  # English: never picked
        subjects[local] = _pick(rng, groups, language[local])
        return subjects

    def _write_ticket_surveys(self, rng, batch: _TicketBatch, timeline: _TicketTimeline, ticket_ids: np.ndarray) -> None:
        """CSAT or CES after some solved tickets; worse experience, lower scores."""
        k = len(batch)
        u = rng.random(k)
        asked = batch.handled & (batch.account >= 0)
        csat = asked & (u < CSAT_SHARE)
        ces = asked & (u >= CSAT_SHARE) & (u < CSAT_SHARE + CES_SHARE)
        surveyed = np.flatnonzero(csat | ces)
        is_csat = csat[surveyed]
        first_contact = (batch.replies[surveyed] == 1) & ~batch.reopened[surveyed]
        first_reply = batch.first_reply[surveyed]
        quality = (0.74 + 0.14 * first_contact - 0.22 * (first_reply > SLOW_FIRST_REPLY_HOURS * HOUR)
                   + 0.08 * (first_reply < HOUR) - 0.15 * batch.reopened[surveyed]
                   - 0.10 * (batch.category[surveyed] == COMPLAINT) + rng.normal(0, 0.17, len(surveyed)))
        quality = np.clip(quality, 0, 1)
        scale_max = np.where(is_csat, np.where(rng.random(len(surveyed)) < 0.8, 5, 10),
                             np.where(rng.random(len(surveyed)) < 0.75, 7, 5))
        self._write_surveys(
            rng,
            response_ids=_ids("SR-T", batch.number[surveyed], 9),
            account=batch.account[surveyed],
            survey_type=np.where(is_csat, "csat", "ces").astype(object),
            quality=quality, scale_min=np.ones(len(surveyed), np.int64), scale_max=scale_max,
            ticket_ids=ticket_ids[surveyed],
            channel=np.array(["email", "in_app", "sms"], dtype=object)[rng.choice(3, len(surveyed), p=[0.6, 0.3, 0.1])],
            submitted=timeline.final_solve[surveyed] + _lognormal_seconds(rng, 3 * HOUR, 1.0, len(surveyed)),
        )

    def write_nps(self, account: np.ndarray, submitted: np.ndarray, score: np.ndarray, month_index: int) -> None:
        rng = _rng(self._seed, "nps", month_index)
        k = len(account)
        self._write_surveys(
            rng,
            response_ids=_ids("SR-N", account + 1, 7) + _ids("-", np.full(k, month_index), 3),
            account=account, survey_type=np.full(k, "nps", dtype=object), quality=score / 10,
            scale_min=np.zeros(k, np.int64), scale_max=np.full(k, 10), ticket_ids=np.full(k, None, dtype=object),
            channel=np.array(["email", "in_app", "phone"], dtype=object)[rng.choice(3, k, p=[0.7, 0.25, 0.05])],
            submitted=submitted,
        )

    def _write_surveys(self, rng, *, response_ids, account, survey_type, quality, scale_min, scale_max,
                       ticket_ids, channel, submitted) -> None:
        """Responses with scores from `quality` (0-1) on their scale, and comments on a share."""
        k = len(account)
        if k == 0:
            return
        score = scale_min + np.round(quality * (scale_max - scale_min)).astype(np.int64)
        normalized = (score - scale_min) / (scale_max - scale_min)
        sentiment = np.select([normalized >= 0.75, normalized <= 0.4], [POSITIVE, NEGATIVE], NEUTRAL)
        language = np.where(rng.random(k) < 0.7, self._population.language[account], EN)
        groups = [COMMENTS[(lang, mood)] for lang in range(len(LANGUAGES)) for mood in range(3)]
        comment = np.where(rng.random(k) < COMMENT_SHARE, _pick(rng, groups, language * 3 + sentiment), None)
        entity = self._extracts["crm/survey_responses"].entity

        def render(rows: np.ndarray) -> pd.DataFrame:
            return _render(entity, {
                "response_id": response_ids[rows], "account_id": self._account_ids[account[rows]],
                "survey_type": survey_type[rows], "score": score[rows], "scale_min": scale_min[rows],
                "scale_max": scale_max[rows], "ticket_id": ticket_ids[rows], "channel": channel[rows],
                "submitted_at": submitted[rows], "comment": comment[rows], "updated_at": submitted[rows],
            })

        _write_once(self._extracts["crm/survey_responses"], self._timeline, submitted, render)


# ------------------------------------------------------------------------------------------------
# Billing: invoices and subscription versions
# ------------------------------------------------------------------------------------------------

INVOICE_STATUSES = np.array(["draft", "open", "paid", "void", "uncollectible", "refunded"], dtype=object)
I_OPEN, I_PAID, I_VOID, I_UNCOLLECTIBLE, I_REFUNDED = 1, 2, 3, 4, 5
INVOICE_TYPES = np.array(["subscription", "one_time", "credit_note"], dtype=object)
SUBSCRIPTION_INVOICE, ONE_TIME, CREDIT_NOTE = range(3)
SUBSCRIPTION_STATUSES = np.array(["trialing", "active", "past_due", "canceled", "ended"], dtype=object)
S_TRIALING, S_ACTIVE, S_PAST_DUE, S_CANCELED, S_ENDED = range(5)


def _payment_delays(rng, k: int) -> np.ndarray:
    """Most pay by card within hours, many by transfer within days, a few late (past due)."""
    u = rng.random(k)
    return np.select(
        [u < 0.62, u < 0.92, u < 0.96],
        [_uniform_seconds(rng, 2 * MINUTE, 6 * HOUR, k), _uniform_seconds(rng, DAY, 10 * DAY, k),
         _uniform_seconds(rng, 10 * DAY, 13 * DAY, k)],
        _uniform_seconds(rng, (PAST_DUE_AFTER_DAYS + 1) * DAY, 28 * DAY, k),
    )


def _discount_and_tax(subtotal: np.ndarray, discount_bp: np.ndarray, vat_bp: np.ndarray):
    """Cents, rounded half up; total = subtotal - discount + tax holds exactly."""
    discount = (subtotal * discount_bp + 5_000) // 10_000
    tax = ((subtotal - discount) * vat_bp + 5_000) // 10_000
    return discount, tax


def _seats_at(seat_changes, base_time: int, subs: np.ndarray, at: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """Seats of each subscription at each time: its latest change at or before, else its initial seats."""
    change_sub, change_at, change_seats = seat_changes
    if len(change_sub) == 0:
        return initial
    # One sorted key (subscription, time) makes the as-of lookup a single binary search.
    change_key = (change_sub.astype(np.int64) << 34) | (change_at - base_time)
    order = np.argsort(change_key, kind="stable")
    change_key, change_seats = change_key[order], change_seats[order]
    found = np.searchsorted(change_key, (subs.astype(np.int64) << 34) | (at - base_time), side="right") - 1
    found_clipped = np.maximum(found, 0)
    valid = (found >= 0) & ((change_key[found_clipped] >> 34) == subs)
    return np.where(valid, change_seats[found_clipped], initial)


def _subscription_invoices(rng, subs: np.ndarray, book: _SubscriptionBook, population: _Population,
                           timeline: _Timeline, seat_changes) -> dict[str, np.ndarray]:
    """One invoice per service period, issued on its first day, priced at the seats of that day."""
    anchor, interval = book["anchor_day"][subs], book["interval"][subs].astype(np.int64)
    last_day = (np.minimum(book["billing_stop"][subs], timeline.end) - 1) // DAY
    periods = np.maximum(_period_index_at(anchor, interval, last_day) + 1, 0)
    sub = np.repeat(subs, periods)
    number = np.arange(len(sub)) - np.repeat(np.cumsum(periods) - periods, periods)
    anchor, interval = np.repeat(anchor, periods), np.repeat(interval, periods)
    start = _period_start_day(anchor, number * interval)
    end = _period_start_day(anchor, (number + 1) * interval)
    billing_run = 2 * HOUR + rng.integers(0, HOUR, len(sub))
    issued = np.maximum(book["activated_at"][sub], start * DAY + billing_run)

    account = book["account"][sub]
    currency = population.currency[account]
    seats = _seats_at(seat_changes, timeline.history_start - DAY, sub, start * DAY, book["initial_seats"][sub])
    subtotal = seats.astype(np.int64) * UNIT_PRICE_CENTS[book["product"][sub], currency] * interval
    discount, tax = _discount_and_tax(subtotal, book["discount_bp"][sub], COUNTRY_VAT_BP[population.country[account]])

    settle_at = issued + _payment_delays(rng, len(sub))
    status = np.full(len(sub), I_PAID)
    # The failed renewal of an involuntary cancellation: the period starting where billing stops.
    unpaid = book["involuntary"][sub] & (start == (book["billing_stop"][sub] - DAY) // DAY)
    settle_at[unpaid] = book["canceled_at"][sub[unpaid]]
    status[unpaid] = I_UNCOLLECTIBLE
    void = ~unpaid & (rng.random(len(sub)) < VOID_SHARE)
    settle_at[void] = issued[void] + _uniform_seconds(rng, 2 * HOUR, 3 * DAY, int(void.sum()))
    status[void] = I_VOID
    refund_at = np.where((status == I_PAID) & (rng.random(len(sub)) < REFUND_SHARE),
                         settle_at + _uniform_seconds(rng, 2 * DAY, 20 * DAY, len(sub)), NAT)
    invoices = {
        "id": _ids("INV-", sub + 1, 7) + _ids("-", number, 3), "kind": np.full(len(sub), SUBSCRIPTION_INVOICE),
        "sub": sub, "account": account, "currency": currency, "subtotal": subtotal, "discount": discount,
        "tax": tax, "issued": issued, "settle_at": settle_at, "status": status, "refund_at": refund_at,
        "period_start": start, "period_end": end,
    }
    return _concat_invoices(invoices, _reissue_voided(rng, invoices, void))


def _reissue_voided(rng, invoices: dict[str, np.ndarray], void: np.ndarray) -> dict[str, np.ndarray]:
    """A voided subscription invoice is replaced by a corrected one for the same period."""
    replacement = {name: values[void] for name, values in invoices.items()}
    k = int(void.sum())
    replacement["id"] = replacement["id"] + "R"
    replacement["issued"] = replacement["settle_at"]
    replacement["settle_at"] = replacement["issued"] + _payment_delays(rng, k)
    replacement["status"] = np.full(k, I_PAID)
    replacement["refund_at"] = np.full(k, NAT)
    return replacement


def _setup_invoices(rng, subs: np.ndarray, book: _SubscriptionBook, population: _Population) -> dict[str, np.ndarray]:
    """One-time setup and onboarding fees when an account first pays (mostly larger accounts)."""
    first = subs[book["first_of_account"][subs] & (book["activated_at"][subs] != NAT)]
    account = book["account"][first]
    segment = population.segment[account]
    takes = rng.random(len(first)) < SETUP_FEE_SHARE[segment]
    first, account, segment = first[takes], account[takes], segment[takes]
    k = len(first)
    currency = population.currency[account]
    usd = rng.uniform(SETUP_FEE_USD[segment, 0], SETUP_FEE_USD[segment, 1])
    units = np.maximum(1, np.round(usd / USD_PER_UNIT[currency] / PRICE_ROUNDING_UNITS[currency])) * PRICE_ROUNDING_UNITS[currency]
    subtotal = (units * 100).astype(np.int64)
    u = rng.random(k)
    discount_bp = np.select([u < 0.75, u < 0.9], [0, 500], rng.integers(30, 61, k) * 50)
    discount, tax = _discount_and_tax(subtotal, discount_bp, COUNTRY_VAT_BP[population.country[account]])
    issued = book["activated_at"][first] + _uniform_seconds(rng, HOUR, 3 * DAY, k)
    void = rng.random(k) < 0.05
    settle_at = np.where(void, issued + _uniform_seconds(rng, DAY, 5 * DAY, k), issued + _payment_delays(rng, k))
    return {
        "id": _ids("INV-", first + 1, 7) + "-SETUP", "kind": np.full(k, ONE_TIME), "sub": np.full(k, -1),
        "account": account, "currency": currency, "subtotal": subtotal, "discount": discount, "tax": tax,
        "issued": issued, "settle_at": settle_at, "status": np.where(void, I_VOID, I_PAID),
        "refund_at": np.full(k, NAT), "period_start": np.full(k, NAT), "period_end": np.full(k, NAT),
    }


def _credit_notes(rng, invoices: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Service credits on a few paid subscription invoices: negative, no period, on the account."""
    credited = np.flatnonzero((invoices["kind"] == SUBSCRIPTION_INVOICE) & (invoices["status"] == I_PAID)
                              & (invoices["refund_at"] == NAT) & (rng.random(len(invoices["kind"])) < CREDIT_NOTE_SHARE))
    k = len(credited)
    net = invoices["subtotal"][credited] - invoices["discount"][credited]
    subtotal = -np.maximum(100, np.round(net * rng.uniform(0.1, 0.5, k) / 100).astype(np.int64) * 100)
    issued = invoices["settle_at"][credited] + _uniform_seconds(rng, DAY, 20 * DAY, k)
    void = rng.random(k) < 0.04
    return {
        "id": "CN-" + np.strings.slice(invoices["id"][credited], len("INV-"), None),
        "kind": np.full(k, CREDIT_NOTE), "sub": np.full(k, -1), "account": invoices["account"][credited],
        "currency": invoices["currency"][credited], "subtotal": subtotal,
        # Discount and tax are left empty on credit notes: the contract defaults them to 0.
        "discount": np.full(k, NAT), "tax": np.full(k, NAT), "issued": issued,
        "settle_at": np.where(void, issued + _uniform_seconds(rng, DAY, 3 * DAY, k), issued + MINUTE),
        "status": np.where(void, I_VOID, I_PAID), "refund_at": np.full(k, NAT),
        "period_start": np.full(k, NAT), "period_end": np.full(k, NAT),
    }


def _concat_invoices(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _write_billing(extracts: _Extracts, simulation: _Simulation, population: _Population,
                   timeline: _Timeline, seed: int) -> None:
    book = simulation.book
    for chunk, first in enumerate(range(0, book.size, BILLING_CHUNK)):
        rng = _rng(seed, "billing", chunk)
        subs = np.arange(first, min(first + BILLING_CHUNK, book.size))
        invoices = _subscription_invoices(rng, subs, book, population, timeline, simulation.seat_changes)
        invoices = _concat_invoices(invoices, _setup_invoices(rng, subs, book, population))
        invoices = _concat_invoices(invoices, _credit_notes(rng, invoices))
        order = np.lexsort((invoices["id"], invoices["issued"]))
        invoices = {name: values[order] for name, values in invoices.items()}
        _write_invoices(extracts["billing/invoices"], invoices, population, timeline)
        _write_subscriptions(extracts["billing/subscriptions"], subs, book, invoices, population, timeline)
        extracts.progress(f"billing: subscriptions {first + 1:,}-{subs[-1] + 1:,} of {book.size:,}: "
                          f"{len(invoices['id']):,} invoices")


def _write_invoices(files: _EntityFiles, invoices: dict[str, np.ndarray], population: _Population,
                    timeline: _Timeline) -> None:
    """Versions: issued (open), settled (paid, void, uncollectible), refunded."""
    k = len(invoices["id"])
    position = np.arange(k)
    settled = invoices["settle_at"] != NAT
    refunded = invoices["refund_at"] != NAT
    invoice = np.concatenate([position, position[settled], position[refunded]])
    at = np.concatenate([invoices["issued"], invoices["settle_at"][settled], invoices["refund_at"][refunded]])
    status = np.concatenate([np.full(k, I_OPEN), invoices["status"][settled], np.full(int(refunded.sum()), I_REFUNDED)])
    order = np.lexsort((at, invoice))
    invoice, at, status = invoice[order], at[order], status[order]
    account_ids = population.ids
    subscription_ids = np.where(invoices["sub"] >= 0, _ids("SUB-", invoices["sub"] + 1, 7), None)

    def render(rows: np.ndarray) -> pd.DataFrame:
        i = invoice[rows]
        paid = np.isin(status[rows], (I_PAID, I_REFUNDED)) & (invoices["status"][i] == I_PAID)
        discount, tax = invoices["discount"][i], invoices["tax"][i]
        total = invoices["subtotal"][i] - np.where(discount == NAT, 0, discount) + np.where(tax == NAT, 0, tax)
        return _render(files.entity, {
            "invoice_id": invoices["id"][i], "account_id": account_ids[invoices["account"][i]],
            "subscription_id": subscription_ids[i], "invoice_type": INVOICE_TYPES[invoices["kind"][i]],
            "status": INVOICE_STATUSES[status[rows]], "currency": np.array(CURRENCIES, dtype=object)[invoices["currency"][i]],
            "subtotal": invoices["subtotal"][i], "discount_amount": discount,
            "tax_amount": tax, "total": total, "issued_at": invoices["issued"][i],
            "paid_at": np.where(paid, invoices["settle_at"][i], NAT),
            "service_period_start": invoices["period_start"][i], "service_period_end": invoices["period_end"][i],
            "updated_at": at[rows],
        })

    _write_versions(files, timeline, invoice, at, render)


def _write_subscriptions(files: _EntityFiles, subs: np.ndarray, book: _SubscriptionBook,
                         invoices: dict[str, np.ndarray], population: _Population, timeline: _Timeline) -> None:
    """Versions: started (trialing/active), trial over, past due while an invoice is overdue, cancelled."""
    trial = subs[book["trial_end"][subs] != NAT]
    converted = book["activated_at"][trial] != NAT
    overdue = np.flatnonzero((invoices["kind"] == SUBSCRIPTION_INVOICE)
                             & (invoices["settle_at"] - invoices["issued"] > PAST_DUE_AFTER_DAYS * DAY)
                             & np.isin(invoices["status"], (I_PAID, I_UNCOLLECTIBLE)))
    recovered = overdue[invoices["status"][overdue] == I_PAID]
    canceled = subs[book["canceled_at"][subs] != NAT]
    sub = np.concatenate([subs, trial, invoices["sub"][overdue], invoices["sub"][recovered], canceled])
    at = np.concatenate([book["started_at"][subs], book["trial_end"][trial],
                         invoices["issued"][overdue] + PAST_DUE_AFTER_DAYS * DAY,
                         invoices["settle_at"][recovered], book["canceled_at"][canceled]])
    status = np.concatenate([
        np.where(book["trial_end"][subs] != NAT, S_TRIALING, S_ACTIVE), np.where(converted, S_ACTIVE, S_ENDED),
        np.full(len(overdue), S_PAST_DUE), np.full(len(recovered), S_ACTIVE), np.full(len(canceled), S_CANCELED),
    ])
    # A cancellation overrides whatever the payments would do afterwards.
    keep = (status == S_CANCELED) | (book["canceled_at"][sub] == NAT) | (at < book["canceled_at"][sub])
    sub, at, status = sub[keep], at[keep], status[keep]
    order = np.lexsort((status == S_CANCELED, at, sub))
    sub, at, status = sub[order], at[order], status[order]
    changed = np.ones(len(sub), bool)
    changed[1:] = (sub[1:] != sub[:-1]) | (status[1:] != status[:-1])
    sub, at, status = sub[changed], at[changed], status[changed]

    ids = _ids("SUB-", sub + 1, 7)
    account_ids = population.ids

    def render(rows: np.ndarray) -> pd.DataFrame:
        s, state = sub[rows], status[rows]
        ended_at = np.select([state == S_CANCELED, state == S_ENDED], [book["ended_at"][s], book["trial_end"][s]], NAT)
        return _render(files.entity, {
            "subscription_id": ids[rows], "account_id": account_ids[book["account"][s]],
            "product_id": PRODUCT_IDS[book["product"][s]],
            "billing_interval": BILLING_INTERVALS[np.searchsorted(INTERVAL_MONTHS, book["interval"][s])],
            "status": SUBSCRIPTION_STATUSES[state], "started_at": book["started_at"][s],
            "canceled_at": np.where(state == S_CANCELED, book["canceled_at"][s], NAT), "ended_at": ended_at,
            "updated_at": at[rows],
        })

    _write_versions(files, timeline, sub, at, render)


# ------------------------------------------------------------------------------------------------
# CRM accounts, products, FX rates, costs
# ------------------------------------------------------------------------------------------------


def _company_names(rng, population: _Population) -> tuple[np.ndarray, np.ndarray]:
    """Company names in the script of the country, and ASCII slugs for their e-mail domains."""
    n = population.n
    language = population.language
    names = np.empty(n, dtype=object)
    slugs = np.empty(n, dtype=object)
    local = {VI: (VI_PREFIXES, VI_CORES, VI_SUFFIXES), TH: (TH_PREFIXES, TH_CORES, TH_SUFFIXES),
             FA: (FA_PREFIXES, FA_CORES, FA_SUFFIXES)}
    for code, (prefixes, cores, suffixes) in local.items():  # a loop over languages, not rows
        members = np.flatnonzero(language == code)
        core = rng.integers(0, len(cores), len(members))
        names[members] = (np.array(prefixes, dtype=object)[rng.integers(0, len(prefixes), len(members))]
                          + np.array([c[0] for c in cores], dtype=object)[core]
                          + np.array(suffixes, dtype=object)[rng.integers(0, len(suffixes), len(members))])
        slugs[members] = np.array([c[1] for c in cores], dtype=object)[core]
    members = np.flatnonzero(language == EN)
    core = rng.integers(0, len(EN_CORES), len(members))
    names[members] = (np.array([c[0] for c in EN_CORES], dtype=object)[core] + " "
                      + np.array(EN_SECOND_WORDS, dtype=object)[rng.integers(0, len(EN_SECOND_WORDS), len(members))]
                      + " " + COUNTRY_LEGAL_SUFFIX[population.country[members]])
    slugs[members] = np.array([c[1] for c in EN_CORES], dtype=object)[core]
    return names, slugs


def _phones(rng, country: np.ndarray) -> np.ndarray:
    area = rng.integers(20, 99, len(country)).astype(str).astype(object)
    line = rng.integers(1_000_000, 9_999_999, len(country)).astype(str).astype(object)
    return COUNTRY_PHONE[country] + " " + area + " " + line


def _emails(rng, slugs: np.ndarray) -> np.ndarray:
    number = np.arange(1, len(slugs) + 1).astype(str).astype(object)
    return EMAIL_ROLES[rng.integers(0, len(EMAIL_ROLES), len(slugs))] + "@" + slugs + number + ".example"


def _write_accounts(files: _EntityFiles, customers: _Customers, population: _Population,
                    timeline: _Timeline, seed: int) -> None:
    """Accounts as signed up, some updated before the full load, some updated or deleted after it."""
    rng = _rng(seed, "crm")
    n = population.n
    names, slugs = _company_names(rng, population)
    history = _AccountHistory(rng, population, slugs)
    established = np.flatnonzero(population.signup < timeline.cutoff - 7 * DAY)
    updated = _sample(rng, established, round(0.04 * n))
    since = np.maximum(population.signup[updated], timeline.history_start) + HOUR
    history.update(updated, since + (rng.random(len(updated)) * (timeline.cutoff - since)).astype(np.int64))
    if len(timeline.extract_dates) > 1:
        existing = np.flatnonzero(population.signup < timeline.cutoff)
        changed = _sample(rng, existing, max(2, round(0.004 * n)))
        history.update(changed, _times_after_full_load(rng, timeline, len(changed)))
        # Deleted accounts are ones that no longer pay: a CRM clean-up, not a lost customer.
        unchanged = np.setdiff1d(existing, changed)
        lapsed = unchanged[customers.live_until[unchanged] < timeline.cutoff]
        deleted = _sample(rng, lapsed if len(lapsed) else unchanged, 1 if n < 200 else 2)
        history.delete(deleted, _times_after_full_load(rng, timeline, len(deleted)))

    account, at, fields = history.versions()
    industry = INDUSTRIES[rng.integers(0, len(INDUSTRIES), n)]
    channel = ACQUISITION_CHANNELS[_choice_by_row(rng, ACQUISITION_SHARES[population.segment])]
    ids = population.ids

    def render(rows: np.ndarray) -> pd.DataFrame:
        a = account[rows]
        country = fields["country"][rows]
        return _render(files.entity, {
            "account_id": ids[a], "account_name": names[a], "email": fields["email"][rows],
            "phone": fields["phone"][rows], "country_code": COUNTRY_CODE[country],
            "region": np.array(REGIONS, dtype=object)[COUNTRY_REGION[country]],
            "segment": np.array(SEGMENTS, dtype=object)[fields["segment"][rows]], "industry": industry[a],
            "acquisition_channel": channel[a], "created_at": population.signup[a], "updated_at": at[rows],
            "is_deleted": fields["deleted"][rows],
        })

    _write_versions(files, timeline, account, at, render)


class _AccountHistory:
    """The versions of the accounts' changeable fields: as signed up, then each update."""

    def __init__(self, rng: np.random.Generator, population: _Population, slugs: np.ndarray):
        self._rng = rng
        self._slugs = slugs
        n = population.n
        self._current = {
            "segment": population.segment.copy(), "country": population.country.copy(),
            "email": _emails(rng, slugs), "phone": _phones(rng, population.country), "deleted": np.zeros(n, bool),
        }
        self._versions = []
        self._snapshot(np.arange(n), population.signup)

    def _snapshot(self, accounts: np.ndarray, at: np.ndarray) -> None:
        self._versions.append((accounts, at, {name: values[accounts].copy() for name, values in self._current.items()}))

    def update(self, accounts: np.ndarray, at: np.ndarray) -> None:
        """A segment change, a move to another country (region, phone) or a new billing contact."""
        rng, current = self._rng, self._current
        kind = rng.integers(0, 3, len(accounts))
        resized = accounts[kind == 0]
        segment = current["segment"][resized]
        current["segment"][resized] = np.where(segment == ENTERPRISE, MID_MARKET, segment + 1)
        # Moves are headquarters relocations to an English-speaking hub, often in another region.
        moved = accounts[kind == 1]
        hubs = np.flatnonzero(COUNTRY_LANGUAGE == EN)
        destination = hubs[rng.integers(0, len(hubs), len(moved))]
        destination = np.where(destination == current["country"][moved], hubs[(np.searchsorted(hubs, destination) + 1) % len(hubs)], destination)
        current["country"][moved] = destination
        current["phone"][moved] = _phones(rng, current["country"][moved])
        recontacted = accounts[kind == 2]
        current["email"][recontacted] = ("finance@" + self._slugs[recontacted]
                                         + (recontacted + 1).astype(str).astype(object) + ".example")
        current["phone"][recontacted] = _phones(rng, current["country"][recontacted])
        self._snapshot(accounts, at)

    def delete(self, accounts: np.ndarray, at: np.ndarray) -> None:
        self._current["deleted"][accounts] = True
        self._snapshot(accounts, at)

    def versions(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """All versions sorted by account, then time."""
        account = np.concatenate([v[0] for v in self._versions])
        at = np.concatenate([v[1] for v in self._versions])
        order = np.lexsort((at, account))
        fields = {name: np.concatenate([v[2][name] for v in self._versions])[order] for name in self._current}
        return account[order], at[order], fields


def _sample(rng: np.random.Generator, candidates: np.ndarray, count: int) -> np.ndarray:
    return np.sort(rng.choice(candidates, min(count, len(candidates)), replace=False))


def _times_after_full_load(rng: np.random.Generator, timeline: _Timeline, k: int) -> np.ndarray:
    return timeline.cutoff + (rng.random(k) * (timeline.end - timeline.cutoff)).astype(np.int64)


def _write_products(files: _EntityFiles, timeline: _Timeline) -> None:
    catalogue_at = timeline.history_start - 90 * DAY
    product = list(range(len(PRODUCTS)))
    at = [catalogue_at] * len(PRODUCTS)
    names = [p[1] for p in PRODUCTS]
    if len(timeline.extract_dates) > 1:
        renamed = [p[0] for p in PRODUCTS].index(RENAMED_PRODUCT[0])
        product.append(renamed)
        at.append(timeline.cutoff + 10 * HOUR)
        names.append(RENAMED_PRODUCT[1])
    order = np.lexsort((np.array(at), np.array(product)))
    product, at, names = np.array(product)[order], np.array(at, dtype=np.int64)[order], np.array(names, dtype=object)[order]
    lines = np.array([p[2] for p in PRODUCTS], dtype=object)

    def render(rows: np.ndarray) -> pd.DataFrame:
        return _render(files.entity, {"product_id": PRODUCT_IDS[product[rows]], "product_name": names[rows],
                                      "product_line": lines[product[rows]], "updated_at": at[rows]})

    _write_versions(files, timeline, product, at, render)


def _write_fx_rates(files: _EntityFiles, timeline: _Timeline, seed: int) -> None:
    """A daily rate for every day of the history and every non-USD currency (random walks)."""
    rng = _rng(seed, "fx")
    days = np.arange(timeline.history_start // DAY, timeline.end // DAY)
    foreign = np.arange(1, len(CURRENCIES))
    walk = np.cumsum(rng.normal(0, 1, (len(foreign), len(days))) * FX_DAILY_VOLATILITY[foreign, None], axis=1)
    rates = USD_PER_UNIT[foreign, None] * np.exp(walk)
    text = np.stack([np.char.mod(f"%.{FX_DECIMALS[c]}f", rates[i]) for i, c in enumerate(foreign)])
    day = np.repeat(days, len(foreign))
    currency = np.tile(foreign, len(days))
    rate_text = text.T.reshape(-1).astype(object)

    def render(rows: np.ndarray) -> pd.DataFrame:
        return _render(files.entity, {"rate_date": day[rows], "currency": np.array(CURRENCIES, dtype=object)[currency[rows]],
                                      "rate": rate_text[rows]})

    _write_once(files, timeline, day * DAY, render)


def _write_costs(files: _EntityFiles, simulation: _Simulation, timeline: _Timeline, seed: int, accounts: int) -> None:
    """Monthly costs, booked on the 2nd of the next month; support payroll is trued up later."""
    rng = _rng(seed, "costs")
    booked = timeline.month_starts[1:] + DAY + 6 * HOUR
    months = np.flatnonzero(booked < timeline.end)
    by_segment = {"new_customers": simulation.new_customers[months],
                  "paying_customers": simulation.paying_customers[months]}

    def volume(driver: str, segment: str | None) -> np.ndarray:
        if driver == "fixed":
            return np.zeros(len(months))
        if driver == "tickets":
            return simulation.tickets[months].astype(float)
        counts = by_segment[driver]
        return counts.sum(axis=1) if segment is None else counts[:, SEGMENTS.index(segment)]

    scale = accounts / 2000
    amounts, lines = [], []
    for line, (_, _, segment, driver, per_unit, fixed, currency) in enumerate(COST_LINES):  # ~13 cost lines
        usd = (volume(driver, segment) * per_unit + fixed * scale) * rng.lognormal(0, 0.08, len(months))
        amounts.append(np.round(usd / USD_PER_UNIT[CURRENCIES.index(currency)] * 100).astype(np.int64))
        lines.append(np.full(len(months), line))
    amount = np.stack(amounts, axis=1).reshape(-1)
    line = np.stack(lines, axis=1).reshape(-1)
    month = np.repeat(months, len(COST_LINES))
    key = np.arange(len(amount))
    corrected = key[line == COST_CORRECTED_LINE]
    version_key = np.concatenate([key, corrected])
    at = np.concatenate([booked[month], booked[month[corrected]] + COST_CORRECTION_DAYS * DAY])
    version_amount = np.concatenate([amount, np.round(amount[corrected] * COST_CORRECTION_FACTOR).astype(np.int64)])
    order = np.lexsort((at, version_key))
    version_key, at, version_amount = version_key[order], at[order], version_amount[order]
    month_day = timeline.month_starts[:-1] // DAY
    month_label = np.datetime_as_string(month_day.astype("M8[D]"), unit="M").astype(object)
    column = {name: np.array([c[i] for c in COST_LINES], dtype=object)
              for i, name in enumerate(("cost_type", "category", "segment"))}
    currencies = np.array([c[6] for c in COST_LINES], dtype=object)

    def render(rows: np.ndarray) -> pd.DataFrame:
        k = version_key[rows]
        m, c = month[k], line[k]
        return _render(files.entity, {
            "cost_id": "COST-" + month_label[m] + _ids("-", c + 1, 2), "cost_month": month_day[m],
            "cost_type": column["cost_type"][c], "category": column["category"][c], "segment": column["segment"][c],
            "amount": version_amount[rows], "currency": currencies[c], "updated_at": at[rows],
        })

    _write_versions(files, timeline, version_key, at, render)
