"""The input contract of `shared/spec/extracts.md`, as data.

One declaration drives everything that depends on the contract: the Great Expectations suites that
check incoming files, the DDL of the raw layer and the casts applied when rows land.
"""

from __future__ import annotations

from dataclasses import dataclass

# Contract type -> DuckDB type of the landed column.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",  # UTC; offsets are converted on landing
    "date": "DATE",
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
    # Doubles keep every sum of a realistic book exact to far below a cent, and FX rates of
    # currencies like VND need more than a fixed 4-6 decimals.
    "decimal": "DOUBLE",
}

SEGMENTS = ("smb", "mid_market", "enterprise")
TICKET_STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    pii: bool = False


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # Column that orders versions of a record; None for immutable entities.
    version_column: str | None = "updated_at"
    description: str = ""

    @property
    def path(self) -> str:
        return f"{self.source}/{self.name}"

    @property
    def raw_schema(self) -> str:
        return f"raw_{self.source}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: str, required: bool = False, enum=None, pii: bool = False) -> Column:
    return Column(name, type_, required, tuple(enum) if enum else None, pii)


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "crm",
        "accounts",
        (
            _c("account_id", "string", True),
            _c("account_name", "string", True),
            _c("email", "string", pii=True),
            _c("phone", "string", pii=True),
            _c("country_code", "string"),
            _c("region", "string"),
            _c("segment", "string", True, SEGMENTS),
            _c("industry", "string"),
            _c("acquisition_channel", "string", enum=("organic", "paid", "partner", "outbound", "referral", "event", "other")),
            _c("created_at", "timestamp", True),
            _c("updated_at", "timestamp", True),
            _c("is_deleted", "boolean"),
        ),
        key=("account_id",),
        description="Customer accounts from the CRM.",
    ),
    Entity(
        "crm",
        "survey_responses",
        (
            _c("response_id", "string", True),
            _c("account_id", "string", True),
            _c("survey_type", "string", True, ("nps", "csat", "ces")),
            _c("score", "integer", True),
            _c("scale_min", "integer", True),
            _c("scale_max", "integer", True),
            _c("ticket_id", "string"),
            _c("channel", "string"),
            _c("submitted_at", "timestamp", True),
            _c("comment", "string"),
            _c("updated_at", "timestamp", True),
        ),
        key=("response_id",),
        description="NPS, CSAT and CES survey responses.",
    ),
    Entity(
        "helpdesk",
        "tickets",
        (
            _c("ticket_id", "string", True),
            _c("account_id", "string"),
            _c("channel", "string", True, ("email", "chat", "phone", "web", "social", "api")),
            _c("priority", "string", True, ("low", "normal", "high", "urgent")),
            _c("category", "string", True, ("question", "incident", "problem", "complaint", "billing", "feature_request", "other")),
            _c("subject", "string"),
            _c("status", "string", True, TICKET_STATUSES),
            _c("merged_into_ticket_id", "string"),
            _c("assignee_id", "string"),
            _c("created_at", "timestamp", True),
            _c("updated_at", "timestamp", True),
            _c("is_deleted", "boolean"),
        ),
        key=("ticket_id",),
        description="Help-desk tickets.",
    ),
    Entity(
        "helpdesk",
        "ticket_events",
        (
            _c("event_id", "string", True),
            _c("ticket_id", "string", True),
            _c("created_at", "timestamp", True),
            _c("actor_type", "string", True, ("customer", "agent", "bot", "system")),
            _c("event_type", "string", True, ("message", "note", "status_change")),
            _c("is_public", "boolean", True),
            _c("new_status", "string", enum=TICKET_STATUSES),
        ),
        key=("event_id",),
        version_column=None,
        description="Immutable ticket events: messages, notes and status changes.",
    ),
    Entity(
        "billing",
        "products",
        (
            _c("product_id", "string", True),
            _c("product_name", "string", True),
            _c("product_line", "string"),
            _c("updated_at", "timestamp", True),
        ),
        key=("product_id",),
        description="Product catalogue.",
    ),
    Entity(
        "billing",
        "subscriptions",
        (
            _c("subscription_id", "string", True),
            _c("account_id", "string", True),
            _c("product_id", "string", True),
            _c("billing_interval", "string", True, ("month", "quarter", "year")),
            _c("status", "string", True, ("trialing", "active", "past_due", "canceled", "ended")),
            _c("started_at", "timestamp", True),
            _c("canceled_at", "timestamp"),
            _c("ended_at", "timestamp"),
            _c("updated_at", "timestamp", True),
        ),
        key=("subscription_id",),
        description="Subscriptions of accounts to products.",
    ),
    Entity(
        "billing",
        "invoices",
        (
            _c("invoice_id", "string", True),
            _c("account_id", "string", True),
            _c("subscription_id", "string"),
            _c("invoice_type", "string", True, ("subscription", "one_time", "credit_note")),
            _c("status", "string", True, ("draft", "open", "paid", "void", "uncollectible", "refunded")),
            _c("currency", "string", True),
            _c("subtotal", "decimal", True),
            _c("discount_amount", "decimal"),
            _c("tax_amount", "decimal"),
            _c("total", "decimal", True),
            _c("issued_at", "timestamp", True),
            _c("paid_at", "timestamp"),
            _c("service_period_start", "date"),
            _c("service_period_end", "date"),
            _c("updated_at", "timestamp", True),
        ),
        key=("invoice_id",),
        description="Invoices and credit notes.",
    ),
    Entity(
        "billing",
        "fx_rates",
        (
            _c("rate_date", "date", True),
            _c("currency", "string", True),
            _c("rate", "decimal", True),
        ),
        key=("rate_date", "currency"),
        version_column=None,
        description="Daily FX rates: value of one unit of `currency` in the reporting currency.",
    ),
    Entity(
        "finance",
        "costs",
        (
            _c("cost_id", "string", True),
            _c("cost_month", "date", True),
            _c("cost_type", "string", True, ("acquisition", "retention", "success", "support", "other")),
            _c("category", "string"),
            _c("segment", "string", enum=SEGMENTS),
            _c("amount", "decimal", True),
            _c("currency", "string", True),
            _c("updated_at", "timestamp", True),
        ),
        key=("cost_id",),
        description="Monthly costs by type, optionally per segment.",
    ),
)

ENTITIES_BY_PATH = {e.path: e for e in ENTITIES}
