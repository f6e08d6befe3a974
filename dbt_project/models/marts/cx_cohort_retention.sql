{#-
  Cohort retention: accounts grouped by their first paid month, followed month by month through
  the as-of month. A customer who churns and later reactivates stays in its first cohort and
  counts as active again in the months it pays.
-#}
with

months as (
    select
        month,
        is_complete_month
    from {{ ref('int_reporting_months') }}
),

account_months as (
    select * from {{ ref('int_account_mrr_monthly') }}
),

cohort_months as (
    -- Dense per account, so every cohort has a row for every month from its start on.
    select
        first_paid_month as cohort_month,
        months_since_start,
        month,
        count(*) as customers_in_cohort,
        count(*) filter (where is_paying) as customers_active,
        -- Summed exactly: a double sum of 10^5 accounts depends on the order threads add them in, and
        -- the month-0 row must equal the cohort's start MRR to the last digit (tested).
        sum(mrr_end::decimal(38, 9))::double as mrr_active
    from account_months
    group by first_paid_month, months_since_start, month
),

with_start as (
    select
        *,
        -- The cohort's MRR at the end of its first paid month (every member paid then).
        max(case when months_since_start = 0 then mrr_active end) over (partition by cohort_month) as mrr_start_of_cohort
    from cohort_months
),

final as (
    select
        with_start.cohort_month,
        with_start.months_since_start,
        with_start.month,
        months.is_complete_month,
        with_start.customers_in_cohort,
        with_start.customers_active,
        {{ round_rate(safe_divide('with_start.customers_active', 'with_start.customers_in_cohort')) }} as logo_retention_rate,
        {{ round_money('with_start.mrr_start_of_cohort') }} as mrr_start_of_cohort,
        {{ round_money('with_start.mrr_active') }} as mrr_active,
        {{ round_rate(safe_divide('with_start.mrr_active', 'with_start.mrr_start_of_cohort')) }} as mrr_retention_rate
    from with_start
    inner join months
        on with_start.month = months.month
)

select * from final
order by cohort_month, months_since_start
