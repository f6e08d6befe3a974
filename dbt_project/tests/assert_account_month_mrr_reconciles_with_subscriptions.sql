{#-
  Each account month's MRR equals its subscriptions' month-end MRR converted at the month's rates
  (0 for a month without a row on either side). An incremental build checks the account months
  either model wrote in this build: the others, and the subscriptions they sum, were checked when
  they were written, and restating an account month whose subscriptions moved is the increment's
  job that this catches. A full build checks every account month.
-#}
{{ config(meta={'dagster': {'ref': {'name': 'int_account_mrr_monthly'}}}) }}
{%- set restated_only = build_value('loaded_since') is not none %}
with
{%- if restated_only %}

restated as (
    select account_id, month
    from {{ ref('int_account_mrr_monthly') }}
    where _built_at = {{ this_build_started_at() }}
    union
    select account_id, month
    from {{ ref('int_subscription_mrr_monthly') }}
    where _built_at = {{ this_build_started_at() }}
),
{%- endif %}

expected as (
    select
        subscriptions.account_id,
        subscriptions.month,
        sum(subscriptions.mrr_native * fx.rate) as mrr_end
    from {{ ref('int_subscription_mrr_monthly') }} as subscriptions
    {%- if restated_only %}
    semi join restated
        on subscriptions.account_id = restated.account_id
        and subscriptions.month = restated.month
    {%- endif %}
    inner join {{ ref('int_fx_rates_monthly') }} as fx
        on subscriptions.month = fx.month
        and subscriptions.currency = fx.currency
    group by subscriptions.account_id, subscriptions.month
),

built as (
    select
        account_months.account_id,
        account_months.month,
        account_months.mrr_end
    from {{ ref('int_account_mrr_monthly') }} as account_months
    {%- if restated_only %}
    semi join restated
        on account_months.account_id = restated.account_id
        and account_months.month = restated.month
    {%- endif %}
)

select
    coalesce(built.account_id, expected.account_id) as account_id,
    coalesce(built.month, expected.month) as month,
    built.mrr_end,
    expected.mrr_end as expected_mrr_end
from built
full join expected
    on built.account_id = expected.account_id
    and built.month = expected.month
where abs(coalesce(built.mrr_end, 0) - coalesce(expected.mrr_end, 0)) >= 0.01
