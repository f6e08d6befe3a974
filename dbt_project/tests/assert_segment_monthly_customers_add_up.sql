{#-
  Every dimension of cx_segment_monthly partitions the paying customers: for every month and
  dimension, customers_end summed over the dimension's values = cx_churn_monthly.customers_end
  (a month or dimension without rows fails too).
-#}
{{ config(meta={'dagster': {'ref': {'name': 'cx_segment_monthly'}}}) }}
with

totals as (
    select
        churn.month,
        dimensions.dimension,
        churn.customers_end
    from {{ ref('cx_churn_monthly') }} as churn
    cross join (
        values ('segment'), ('region'), ('acquisition_channel'), ('lifecycle_stage')
    ) as dimensions (dimension)
),

breakdown as (
    select
        month,
        dimension,
        sum(customers_end) as customers_end
    from {{ ref('cx_segment_monthly') }}
    group by month, dimension
)

select
    coalesce(totals.month, breakdown.month) as month,
    coalesce(totals.dimension, breakdown.dimension) as dimension,
    totals.customers_end as total_customers_end,
    breakdown.customers_end as breakdown_customers_end
from totals
full outer join breakdown
    on totals.month = breakdown.month
    and totals.dimension = breakdown.dimension
where totals.customers_end is distinct from breakdown.customers_end
