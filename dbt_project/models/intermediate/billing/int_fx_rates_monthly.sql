{#-
  The rate that converts each currency in each reporting month: the latest rate on or before the
  month's last day. Every currency gets a row from the first month it is used in, so a missing rate
  shows up as a NULL `rate` (and fails the quality gate) instead of silently dropping money.
-#}
with

months as (
    select
        month,
        month_last_day
    from {{ ref('int_reporting_months') }}
),

rates as (
    select
        rate_date,
        currency,
        rate
    from {{ ref('stg_billing__fx_rates') }}
),

-- Money is converted from the month an invoice is issued or in service (void and draft invoices
-- never are) and from a cost's month. Each currency's earliest invoice dates are truncated to their
-- months once: truncating every invoice's dates first took seven times as long at a million accounts.
invoice_first_dates as (
    select
        currency,
        min(issued_at) as first_issued_at,
        min(service_period_start) as first_service_period_start
    from {{ ref('stg_billing__invoices') }}
    where status not in ('void', 'draft')
    group by currency
),

currency_uses as (
    select currency, date_trunc('month', first_issued_at)::date as used_in_month
    from invoice_first_dates
    union all
    select currency, date_trunc('month', first_service_period_start)::date
    from invoice_first_dates
    where first_service_period_start is not null
    union all
    select currency, cost_month
    from {{ ref('stg_finance__costs') }}
),

currencies as (
    select
        currency,
        min(used_in_month) as first_used_month
    from currency_uses
    where currency <> '{{ var("reporting_currency") }}'
    group by currency
),

month_currencies as (
    select
        months.month,
        months.month_last_day,
        currencies.currency
    from months
    inner join currencies
        on months.month >= date_trunc('month', currencies.first_used_month)
),

converted as (
    select
        month_currencies.month,
        month_currencies.currency,
        rates.rate,
        rates.rate_date
    from month_currencies
    asof left join rates
        on month_currencies.currency = rates.currency
        and month_currencies.month_last_day >= rates.rate_date
),

reporting_currency as (
    select
        month,
        '{{ var("reporting_currency") }}' as currency,
        1.0::double as rate,
        null::date as rate_date
    from months
)

select * from converted
union all
select * from reporting_currency
