{#-
  Costs per reporting month, cost type and segment (NULL: shared by all segments), converted to
  the reporting currency at the rate of the cost's month. Costs of months outside the reporting
  months are not reported.
-#}
with

costs as (
    select
        cost_month,
        cost_type,
        segment,
        amount,
        currency
    from {{ ref('stg_finance__costs') }}
),

fx as (
    select
        month,
        currency,
        rate
    from {{ ref('int_fx_rates_monthly') }}
)

select
    costs.cost_month as month,
    costs.cost_type,
    costs.segment,
    sum(costs.amount * fx.rate) as amount
from costs
inner join fx
    on costs.cost_month = fx.month
    and costs.currency = fx.currency
group by costs.cost_month, costs.cost_type, costs.segment
