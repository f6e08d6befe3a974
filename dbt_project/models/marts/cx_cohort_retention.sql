{#-
  Cohort retention: accounts grouped by their first paid month, followed month by month through
  the as-of month. A customer who churns and later reactivates stays in its first cohort and
  counts as active again in the months it pays.
  Incremental by month, as cx_tickets_monthly: a build deletes and recomputes the rows of the
  months int_restated_fact_months lists (every month an account's MRR, and so its first paid month,
  can have changed in, and every month from the last as-of month), reading the account months of
  those months and every cohort's first month, rather than the 31 million account months at a
  million accounts. A cohort whose first month is restated has all its months restated: they come
  after it. The restated months are appended at the end: the table is in no order.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_restated_fact_months() }}"
    )
}}
with

months as (
    select
        month,
        is_complete_month
    from {{ ref('int_reporting_months') }}
    {%- if is_incremental() %}
    where month in ({{ restated_fact_months() }})
    {%- endif %}
),

account_months as (
    select
        first_paid_month,
        months_since_start,
        month,
        is_paying,
        mrr_end
    from {{ ref('int_account_mrr_monthly') }}
    {%- if is_incremental() %}
    where month in (select month from months)
    {%- endif %}
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

-- The cohort's MRR at the end of its first paid month (every member paid then), summed as its
-- month-0 row is; read for every cohort, as a restated month holds a row of each earlier cohort.
cohort_starts as (
    select
        first_paid_month as cohort_month,
        sum(mrr_end::decimal(38, 9))::double as mrr_start_of_cohort
    from {{ ref('int_account_mrr_monthly') }}
    where months_since_start = 0
    group by first_paid_month
),

final as (
    select
        cohort_months.cohort_month,
        cohort_months.months_since_start,
        cohort_months.month,
        months.is_complete_month,
        cohort_months.customers_in_cohort,
        cohort_months.customers_active,
        {{ round_rate(safe_divide('cohort_months.customers_active', 'cohort_months.customers_in_cohort')) }} as logo_retention_rate,
        {{ round_money('cohort_starts.mrr_start_of_cohort') }} as mrr_start_of_cohort,
        {{ round_money('cohort_months.mrr_active') }} as mrr_active,
        {{ round_rate(safe_divide('cohort_months.mrr_active', 'cohort_starts.mrr_start_of_cohort')) }} as mrr_retention_rate
    from cohort_months
    inner join months
        on cohort_months.month = months.month
    left join cohort_starts
        on cohort_months.cohort_month = cohort_starts.cohort_month
)

select
    *,
    {{ build_marker() }}
from final
