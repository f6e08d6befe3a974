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
    select
        account_id,
        segment
    from {{ ref('stg_crm__accounts') }}
),

movements as (
    select
        movements.month,
        coalesce(accounts.segment, 'unknown') as segment,
        movements.mrr_start,
        movements.mrr_end,
        movements.movement
    from {{ ref('int_account_mrr_movements') }} as movements
    left join accounts
        on movements.account_id = accounts.account_id
),

by_segment as (
    select
        month,
        segment,
        count(*) filter (where mrr_start > 0) as customers_start,
        count(*) filter (where movement = 'new') as customers_new,
        count(*) filter (where movement = 'reactivation') as customers_reactivated,
        count(*) filter (where movement = 'churned') as customers_churned,
        count(*) filter (where mrr_end > 0) as customers_end,
        sum(mrr_end) as mrr_end
    from movements
    group by month, segment
),

-- Every CRM segment, and `unknown` when movements fell under it. Read from the sums rather than
-- the movements: a second reader of the 21 million movements made DuckDB materialize them.
segments as (
    select distinct segment from accounts
    union
    select distinct segment from by_segment
),

with_all as (
    select * from by_segment
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
