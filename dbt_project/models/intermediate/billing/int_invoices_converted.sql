{#-
  One row per invoice issued in a reporting month, with its amounts converted to the reporting
  currency at the rate of its issue month (metrics.md: "by issued_at month"). A missing rate keeps
  the row with NULL amounts instead of dropping money: int_fx_rates_monthly then fails its gate.
  The same row says whether the invoice is an order (metrics.md, cx_revenue_monthly "Orders"): type
  subscription or one_time, status not void/draft, converted subtotal > 0; and whether that order is
  out of policy: discount_amount / subtotal * 100 exceeds max_discount_pct of the discount_policy
  tier that applies to its converted subtotal (the tier with the largest min_subtotal <= subtotal).
  The one definition of the discount rule: cx_revenue_monthly and int_account_economics_12m
  count these rows. Kept on the invoice's row rather than in a table of orders, which cost a second
  write of most invoices (docs/performance.md).
  An incremental build keeps the invoices it converts again as they were (for
  int_account_invoice_totals) and deletes them (keep_replaced_invoices), then converts the staged
  invoices this build wrote (a version landed) and those of the restated months and currencies; an
  invoice whose version moved it out of the reporting months (or out of staging) stays deleted.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ keep_replaced_invoices() }}", "{{ delete_replaced_invoices() }}"]
    )
}}
-- depends_on: {{ source('billing', 'invoices') }}

with

months as (
    select month
    from {{ ref('int_reporting_months') }}
),

{%- if is_incremental() %}

restated_rate_months as materialized (
    {{ restated_rate_months() }}
),
{%- endif %}

-- The staged invoices this build wrote (a version landed since the last build), then the others of
-- the restated months and currencies. Two selections rather than one with an OR, so that each
-- skips by zone maps: the OR read every column of the 22 million staged invoices at a million
-- accounts (0.76 against 0.04 s).
staged_invoices as (
    select *
    from {{ changed_keys_model('stg_billing__invoices') }}
    {%- if is_incremental() %}
    where _built_at = {{ this_build_started_at() }}

    union all

    select *
    from {{ ref('stg_billing__invoices') }}
    where issued_at >= (select min(month) from restated_rate_months)
        and (date_trunc('month', issued_at)::date, currency) in (select (month, currency) from restated_rate_months)
        and _built_at <> {{ this_build_started_at() }}
    {%- endif %}
),

invoices as (
    select
        invoice_id,
        account_id,
        subscription_id,
        invoice_type,
        status,
        currency,
        subtotal,
        discount_amount,
        revenue,
        issued_at,
        date_trunc('month', issued_at)::date as month
    from staged_invoices
),

fx as (
    select
        month,
        currency,
        rate
    from {{ ref('int_fx_rates_monthly') }}
),

-- Each tier as the range of subtotals it applies to, up to the next tier's min_subtotal: a range
-- join with a few tiers is a nested loop over them, where an ASOF join sorted every invoice
-- (docs/performance.md).
discount_tiers as (
    select
        min_subtotal,
        lead(min_subtotal) over (order by min_subtotal) as next_min_subtotal,
        max_discount_pct
    from {{ ref('discount_policy') }}
),

converted as (
    select
        invoices.invoice_id,
        invoices.account_id,
        invoices.subscription_id,
        invoices.invoice_type,
        invoices.status,
        invoices.currency,
        invoices.issued_at,
        invoices.month,
        fx.rate,
        invoices.revenue * fx.rate as revenue,
        invoices.subtotal * fx.rate as subtotal,
        invoices.discount_amount * fx.rate as discount_amount
    from invoices
    -- Invoices issued before the first reporting month are not reported (no rate either).
    inner join months
        on invoices.month = months.month
    left join fx
        on invoices.month = fx.month
        and invoices.currency = fx.currency
),

orders as (
    select
        *,
        coalesce(
            invoice_type in ('subscription', 'one_time') and status not in ('void', 'draft') and subtotal > 0, false
        ) as is_order,
        -- Percent compared at 10 decimals, so 7 / 100 * 100 = 7.000000000000001 never exceeds 7.
        case when is_order then {{ round_rate('discount_amount / subtotal * 100') }} end as discount_pct,
        -- The tier is looked up on the converted subtotal at 6 decimals (float noise of the
        -- conversion never drops an order just below a tier's bound); no tier for other invoices.
        case when is_order then {{ round_money('subtotal') }} end as converted_subtotal
    from converted
),

final as (
    select
        orders.* exclude (converted_subtotal),
        discount_tiers.min_subtotal as policy_min_subtotal,
        discount_tiers.max_discount_pct,
        -- "Exceeds": a discount exactly at the limit is within policy. Below every tier: no limit.
        coalesce(orders.discount_pct > discount_tiers.max_discount_pct, false) as is_out_of_policy
    from orders
    -- The tier with the largest min_subtotal <= the converted subtotal.
    left join discount_tiers
        on orders.converted_subtotal >= discount_tiers.min_subtotal
        and (orders.converted_subtotal < discount_tiers.next_min_subtotal or discount_tiers.next_min_subtotal is null)
)

select
    *,
    {{ build_marker() }}
from final
