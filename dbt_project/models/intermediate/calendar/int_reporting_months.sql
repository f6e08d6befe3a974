{#- One row per reporting month: from the first month with a subscription invoice through the as-of month. -#}
with

subscription_invoices as (
    select
        issued_at,
        service_period_start
    from {{ ref('stg_billing__invoices') }}
    where invoice_type = 'subscription'
),

bounds as (
    select
        -- The month of the earliest date: one date_trunc, where truncating every invoice's dates
        -- first took ten times as long at a million accounts.
        least(
            date_trunc('month', min(issued_at)),
            date_trunc('month', min(service_period_start))
        )::date as first_month,
        date_trunc('month', {{ as_of_date() }})::date as last_month
    from subscription_invoices
),

months as (
    select cast(unnest(generate_series(first_month, last_month, interval 1 month)) as date) as month
    from bounds
)

select
    month,
    (month + interval 1 month - interval 1 day)::date as month_last_day,
    -- Month-end figures are measured just before this date: the next month's first day, or the
    -- day after the as-of date for the running month.
    least((month + interval 1 month)::date, {{ as_of_date() }} + 1) as measured_before,
    (month + interval 1 month)::date <= {{ as_of_date() }} + 1 as is_complete_month
from months
