{#-
  Every dimension of cx_segment_monthly partitions the paying customers and the MRR: for every month
  and dimension, customers_end and mrr_end summed over the dimension's values equal
  cx_churn_monthly.customers_end and cx_mrr_monthly.mrr_end (to the cent); a month or dimension
  without rows fails too.
-#}
{{ config(meta={'dagster': {'ref': {'name': 'cx_segment_monthly'}}}) }}
with

totals as (
    select
        churn.month,
        dimensions.dimension,
        churn.customers_end,
        mrr.mrr_end
    from {{ ref('cx_churn_monthly') }} as churn
    inner join {{ ref('cx_mrr_monthly') }} as mrr
        on churn.month = mrr.month
    cross join (
        values ('segment'), ('region'), ('acquisition_channel'), ('lifecycle_stage')
    ) as dimensions (dimension)
),

breakdown as (
    select
        month,
        dimension,
        sum(customers_end) as customers_end,
        sum(mrr_end) as mrr_end
    from {{ ref('cx_segment_monthly') }}
    group by month, dimension
)

select
    coalesce(totals.month, breakdown.month) as month,
    coalesce(totals.dimension, breakdown.dimension) as dimension,
    totals.customers_end as total_customers_end,
    breakdown.customers_end as breakdown_customers_end,
    totals.mrr_end as total_mrr_end,
    breakdown.mrr_end as breakdown_mrr_end
from totals
full outer join breakdown
    on totals.month = breakdown.month
    and totals.dimension = breakdown.dimension
where totals.customers_end is distinct from breakdown.customers_end
    or totals.mrr_end is null
    or breakdown.mrr_end is null
    or abs(totals.mrr_end - breakdown.mrr_end) >= 0.01
