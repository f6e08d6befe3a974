{#-
  Incremental by month, as cx_tickets_monthly: a build deletes and recomputes the months
  int_restated_fact_months lists, which hold every month a changed account's movements can reach
  and every month from the last as-of month, rather than re-reading the 21 million account months
  of movements at a million accounts. The restated months are appended at the end: the table is in
  no order.
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
