{#-
  Paying customers, their movements and MRR per month and segment (the account's latest segment),
  plus the same figures for `all` segments: the churn inputs of lifetime value. Accounts billed
  but missing from the CRM count under segment `unknown`.
-#}
with

months as (
    select month
    from {{ ref('int_reporting_months') }}
),

accounts as (
    select segment
    from {{ ref('stg_crm__accounts') }}
),

-- Summed from the sums by account attributes (int_attribute_sums_monthly), whose rows of a group
-- add up, rather than from the 21 million movements at a million accounts.
by_segment as (
    select
        month,
        segment,
        sum(movement_rows) as movement_rows,
        sum(customers_start) as customers_start,
        sum(customers_new) as customers_new,
        sum(customers_reactivated) as customers_reactivated,
        sum(customers_churned) as customers_churned,
        sum(customers_end) as customers_end,
        sum(mrr_end) as mrr_end
    from {{ ref('int_attribute_sums_monthly') }}
    group by month, segment
),

-- Every CRM segment, and `unknown` when movements fell under it in some month.
segments as (
    select distinct segment from accounts
    union
    select segment from by_segment where movement_rows > 0
),

with_all as (
    select
        month,
        segment,
        customers_start,
        customers_new,
        customers_reactivated,
        customers_churned,
        customers_end,
        mrr_end
    from by_segment

    union all

    select
        month,
        'all' as segment,
        sum(customers_start),
        sum(customers_new),
        sum(customers_reactivated),
        sum(customers_churned),
        sum(customers_end),
        sum(mrr_end)
    from by_segment
    group by month
),

grid as (
    select
        months.month,
        segments.segment
    from months
    cross join (select segment from segments union select 'all') as segments
)

select
    grid.month,
    grid.segment,
    coalesce(with_all.customers_start, 0)::bigint as customers_start,
    coalesce(with_all.customers_new, 0)::bigint as customers_new,
    coalesce(with_all.customers_reactivated, 0)::bigint as customers_reactivated,
    coalesce(with_all.customers_churned, 0)::bigint as customers_churned,
    coalesce(with_all.customers_end, 0)::bigint as customers_end,
    coalesce(with_all.mrr_end, 0) as mrr_end
from grid
left join with_all
    on grid.month = with_all.month
    and grid.segment = with_all.segment
