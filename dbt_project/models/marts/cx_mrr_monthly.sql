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
        sum(mrr_start) as mrr_start,
        sum(fx_adjustment) as fx_adjustment,
        sum(movement_amount) filter (where movement = 'new') as mrr_new,
        sum(movement_amount) filter (where movement = 'expansion') as mrr_expansion,
        sum(movement_amount) filter (where movement = 'reactivation') as mrr_reactivation,
        sum(movement_amount) filter (where movement = 'contraction') as mrr_contraction,
        sum(movement_amount) filter (where movement = 'churned') as mrr_churned,
        sum(mrr_end) as mrr_end,
        count(*) filter (where mrr_end > 0) as customers_end
    from movements
    group by month
),

filled as (
    select
        months.month,
        months.is_complete_month,
        coalesce(monthly.mrr_start, 0) as mrr_start,
        coalesce(monthly.fx_adjustment, 0) as fx_adjustment,
        coalesce(monthly.mrr_new, 0) as mrr_new,
        coalesce(monthly.mrr_expansion, 0) as mrr_expansion,
        coalesce(monthly.mrr_reactivation, 0) as mrr_reactivation,
        coalesce(monthly.mrr_contraction, 0) as mrr_contraction,
        coalesce(monthly.mrr_churned, 0) as mrr_churned,
        coalesce(monthly.mrr_end, 0) as mrr_end,
        coalesce(monthly.customers_end, 0) as customers_end,
        -- S in metrics.md: the start MRR valued at this month's rates.
        coalesce(monthly.mrr_start, 0) + coalesce(monthly.fx_adjustment, 0) as start_at_month_rates
    from months
    left join monthly
        on months.month = monthly.month
),

final as (
    select
        month,
        is_complete_month,
        {{ round_money('mrr_start') }} as mrr_start,
        {{ round_money('fx_adjustment') }} as fx_adjustment,
        {{ round_money('mrr_new') }} as mrr_new,
        {{ round_money('mrr_expansion') }} as mrr_expansion,
        {{ round_money('mrr_reactivation') }} as mrr_reactivation,
        {{ round_money('mrr_contraction') }} as mrr_contraction,
        {{ round_money('mrr_churned') }} as mrr_churned,
        {{ round_money('mrr_end') }} as mrr_end,
        {{ round_rate(safe_divide('mrr_churned + mrr_contraction', 'start_at_month_rates')) }} as gross_mrr_churn_rate,
        {{ round_rate(safe_divide('mrr_churned + mrr_contraction - mrr_expansion', 'start_at_month_rates')) }} as net_mrr_churn_rate,
        {{ round_rate('1 - ' ~ safe_divide('mrr_churned + mrr_contraction - mrr_expansion', 'start_at_month_rates')) }} as net_revenue_retention,
        {{ round_rate('1 - ' ~ safe_divide('mrr_churned + mrr_contraction', 'start_at_month_rates')) }} as gross_revenue_retention,
        {{ round_money(safe_divide('mrr_end', 'customers_end')) }} as arpa
    from filled
)

select
    *,
    {{ build_marker() }}
from final
