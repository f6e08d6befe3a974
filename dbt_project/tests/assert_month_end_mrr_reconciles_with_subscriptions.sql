{#-
  Reconciliation across layers, independent of the movement logic: each month's published mrr_end
  and customers_end equal the subscriptions' month-end MRR converted at the month's rates, summed
  per account (customers: accounts with MRR > 0).
-#}
{{ config(meta={'dagster': {'ref': {'name': 'cx_mrr_monthly'}}}) }}
with

accounts as (
    select
        subscriptions.month,
        subscriptions.account_id,
        sum(subscriptions.mrr_native * fx.rate) as mrr
    from {{ ref('int_subscription_mrr_monthly') }} as subscriptions
    inner join {{ ref('int_fx_rates_monthly') }} as fx
        on subscriptions.month = fx.month
        and subscriptions.currency = fx.currency
    group by subscriptions.month, subscriptions.account_id
),

expected as (
    select
        month,
        sum(mrr) as mrr_end,
        count(*) filter (where mrr > 0) as customers_end
    from accounts
    group by month
),

published as (
    select
        mrr.month,
        mrr.mrr_end,
        churn.customers_end
    from {{ ref('cx_mrr_monthly') }} as mrr
    inner join {{ ref('cx_churn_monthly') }} as churn
        on mrr.month = churn.month
)

select
    published.month,
    published.mrr_end,
    expected.mrr_end as expected_mrr_end,
    published.customers_end,
    expected.customers_end as expected_customers_end
from published
left join expected
    on published.month = expected.month
where abs(published.mrr_end - coalesce(expected.mrr_end, 0)) >= 0.01
    or published.customers_end <> coalesce(expected.customers_end, 0)
