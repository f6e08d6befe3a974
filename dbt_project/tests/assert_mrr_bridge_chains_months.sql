{#- Each month starts where the previous one ended: mrr_start(m) = mrr_end(m-1), customers too. -#}
{{ config(meta={'dagster': {'ref': {'name': 'cx_churn_monthly'}}}) }}
with

mrr as (
    select
        month,
        mrr_start,
        lag(mrr_end) over (order by month) as previous_mrr_end
    from {{ ref('cx_mrr_monthly') }}
),

customers as (
    select
        month,
        customers_start,
        lag(customers_end) over (order by month) as previous_customers_end
    from {{ ref('cx_churn_monthly') }}
)

select
    mrr.month,
    mrr.mrr_start,
    mrr.previous_mrr_end,
    customers.customers_start,
    customers.previous_customers_end
from mrr
inner join customers
    on mrr.month = customers.month
where abs(mrr.mrr_start - coalesce(mrr.previous_mrr_end, 0)) >= 0.01
    or customers.customers_start <> coalesce(customers.previous_customers_end, 0)
