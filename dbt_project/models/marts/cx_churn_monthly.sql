{#-
  Logo churn by reporting month, counted from the same movements as cx_mrr_monthly and restated
  the same way: the months int_restated_fact_months lists, appended at the end (no order).
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

movements as (
    select * from {{ ref('int_account_mrr_movements') }}
    {%- if is_incremental() %}
    where month in (select month from months)
    {%- endif %}
),

monthly as (
    select
        month,
        count(*) filter (where mrr_start > 0) as customers_start,
        count(*) filter (where movement = 'new') as customers_new,
        count(*) filter (where movement = 'reactivation') as customers_reactivated,
        count(*) filter (where movement = 'churned') as customers_churned,
        count(*) filter (where mrr_end > 0) as customers_end
    from movements
    group by month
),

final as (
    select
        months.month,
        months.is_complete_month,
        coalesce(monthly.customers_start, 0) as customers_start,
        coalesce(monthly.customers_new, 0) as customers_new,
        coalesce(monthly.customers_reactivated, 0) as customers_reactivated,
        coalesce(monthly.customers_churned, 0) as customers_churned,
        coalesce(monthly.customers_end, 0) as customers_end,
        {{ round_rate(safe_divide('coalesce(monthly.customers_churned, 0)', 'coalesce(monthly.customers_start, 0)')) }} as logo_churn_rate
    from months
    left join monthly
        on months.month = monthly.month
)

select
    *,
    {{ build_marker() }}
from final
