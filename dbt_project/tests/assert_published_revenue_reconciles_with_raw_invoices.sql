{#-
  Reconciliation across layers, straight from raw billing and independent of staging and the
  intermediate models (its own latest-version selection, conversion and month spine): each
  reporting month's published revenue_paid equals the revenue (subtotal - discount) of the paid
  subscription and one-time invoices with revenue > 0 issued in the month, converted at the latest
  rate on or before the month's last day. An invoice without a rate fails the month too, rather
  than silently dropping its money from the expected sum.
-#}
{{ config(tags=['history_wide'], meta={'dagster': {'ref': {'name': 'cx_revenue_monthly'}}}) }}
with

latest_invoices as (
    {{ raw_latest_invoices([
        'invoice_type', 'status', 'currency', 'subtotal', 'discount_amount', 'issued_at', 'service_period_start'
    ]) }}
),

-- From the same latest invoices: picking them is most of the test's time.
reporting_months as (
    {{ raw_reporting_months('latest_invoices') }}
),

invoices as (
    select
        invoice_type,
        status,
        currency,
        subtotal - coalesce(discount_amount, 0) as revenue,
        date_trunc('month', issued_at)::date as month
    from latest_invoices
),

paid_invoices as (
    select
        invoices.*,
        (invoices.month + interval 1 month - interval 1 day)::date as month_last_day
    from invoices
    inner join reporting_months
        on invoices.month = reporting_months.month
    where invoices.invoice_type in ('subscription', 'one_time')
        and invoices.status = 'paid'
        and invoices.revenue > 0
),

-- A rate re-delivered for the same date and currency: the later extract, then the later row, wins.
latest_rates as (
    select
        rate_date,
        currency,
        rate
    from {{ source('billing', 'fx_rates') }}
    qualify row_number() over (
        partition by rate_date, currency
        order by _extract_date desc, _row_number desc
    ) = 1
),

-- Summed per month and currency before conversion, since one rate converts the whole group. Joined
-- invoice by invoice, DuckDB planned the ASOF join as a nested loop (billions of pairs at a million
-- accounts, docs/performance.md).
revenue_by_currency as (
    select
        month,
        month_last_day,
        currency,
        sum(revenue) as revenue,
        count(*) as invoices
    from paid_invoices
    group by all
),

converted as (
    select
        revenue_by_currency.month,
        revenue_by_currency.invoices,
        revenue_by_currency.revenue
            * case
                when revenue_by_currency.currency = '{{ var("reporting_currency") }}' then 1
                else latest_rates.rate
            end as revenue
    from revenue_by_currency
    asof left join latest_rates
        on revenue_by_currency.currency = latest_rates.currency
        and revenue_by_currency.month_last_day >= latest_rates.rate_date
),

expected as (
    select
        month,
        sum(revenue) as revenue_paid,
        coalesce(sum(invoices) filter (where revenue is null), 0) as invoices_without_rate
    from converted
    group by month
),

published as (
    select
        month,
        revenue_paid
    from {{ ref('cx_revenue_monthly') }}
)

select
    coalesce(reporting_months.month, published.month) as month,
    published.revenue_paid,
    coalesce(expected.revenue_paid, 0) as expected_revenue_paid,
    coalesce(expected.invoices_without_rate, 0) as invoices_without_rate
from reporting_months
full outer join published
    on reporting_months.month = published.month
left join expected
    on reporting_months.month = expected.month
where reporting_months.month is null
    or published.month is null
    or expected.invoices_without_rate > 0
    or abs(published.revenue_paid - coalesce(expected.revenue_paid, 0)) >= 0.01
