{#-
  Reconciliation across layers, independent of the movement logic: each month's published mrr_end
  equals its subscriptions' month-end MRR converted at the month's rates, and its customers_end the
  account months paying at its end. That each account month's MRR is its subscriptions' is
  assert_account_month_mrr_reconciles_with_subscriptions; summing per month here, not per account
  and month, keeps this whole-history check cheap enough for every build (docs/decisions.md).
-#}
{{ config(meta={'dagster': {'ref': {'name': 'cx_mrr_monthly'}}}) }}
with

expected_mrr as (
    select
        subscriptions.month,
        sum(subscriptions.mrr_native * fx.rate) as mrr_end
    from {{ ref('int_subscription_mrr_monthly') }} as subscriptions
    inner join {{ ref('int_fx_rates_monthly') }} as fx
        on subscriptions.month = fx.month
        and subscriptions.currency = fx.currency
    group by subscriptions.month
),

expected_customers as (
    select
        month,
        count(*) filter (where is_paying) as customers_end
    from {{ ref('int_account_mrr_monthly') }}
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
    expected_mrr.mrr_end as expected_mrr_end,
    published.customers_end,
    expected_customers.customers_end as expected_customers_end
from published
left join expected_mrr
    on published.month = expected_mrr.month
left join expected_customers
    on published.month = expected_customers.month
where abs(published.mrr_end - coalesce(expected_mrr.mrr_end, 0)) >= 0.01
    or published.customers_end <> coalesce(expected_customers.customers_end, 0)
