{#-
  Churn, MRR, NPS, CSAT and FCR per month broken down by four account dimensions (metrics.md,
  Breakdowns): one row per month x dimension x dimension_value, for dimension segment, region,
  acquisition_channel (the account's latest CRM attributes) and lifecycle_stage (the account's
  stage at the month end, macros months_since_signup and lifecycle_stage). Accounts missing from
  the CRM, tickets matched to no account and NULL attributes fall under dimension_value 'unknown'.
  Every dimension partitions the same accounts, so for each month and dimension the rows add up to
  cx_churn_monthly and cx_mrr_monthly. The grid is dense: every month x every value seen for the
  dimension.
-#}
{% set money_columns = attribute_money_columns() %}
{% set sum_columns = attribute_sum_columns() %}
with

months as (
    select
        month,
        is_complete_month
    from {{ ref('int_reporting_months') }}
),

accounts as (
    select
        coalesce(segment, 'unknown') as segment,
        coalesce(region, 'unknown') as region,
        coalesce(acquisition_channel, 'unknown') as acquisition_channel
    from {{ ref('stg_crm__accounts') }}
),

-- The sums per month, CRM attributes and stage. Several rows of a group add up: an incremental
-- build appends the moves of accounts whose attributes changed.
attribute_sums as (
    select
        month,
        segment,
        region,
        acquisition_channel,
        lifecycle_stage,
        {{ sum_columns | join(',\n        ') }}
    from {{ ref('int_attribute_sums_monthly') }}
),

dimensions as (
    select dimension
    from (values ('segment'), ('region'), ('acquisition_channel'), ('lifecycle_stage')) as dimensions (dimension)
),

totals as (
    select
        attribute_sums.month,
        dimensions.dimension,
        case dimensions.dimension
            when 'segment' then attribute_sums.segment
            when 'region' then attribute_sums.region
            when 'acquisition_channel' then attribute_sums.acquisition_channel
            when 'lifecycle_stage' then attribute_sums.lifecycle_stage
        end as dimension_value,
        {%- for column in sum_columns %}
        sum(attribute_sums.{{ column }}){{ '::bigint' if column not in money_columns }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from attribute_sums
    cross join dimensions
    group by all
),

-- Every value that holds facts in some month, and every value of the CRM's accounts.
dimension_values as (
    select dimension, dimension_value
    from totals
    where movement_rows > 0 or response_rows > 0 or tickets_created > 0
    union
    select dimensions.dimension, case dimensions.dimension
            when 'segment' then accounts.segment
            when 'region' then accounts.region
            when 'acquisition_channel' then accounts.acquisition_channel
        end
    from accounts
    cross join dimensions
    where dimensions.dimension <> 'lifecycle_stage'
    union
    select 'lifecycle_stage', stage
    from (values ('onboarding'), ('adopting'), ('established'), ('loyal')) as stages (stage)
),

grid as (
    select
        months.month,
        months.is_complete_month,
        dimension_values.dimension,
        dimension_values.dimension_value
    from months
    cross join dimension_values
),

filled as (
    select
        grid.month,
        grid.is_complete_month,
        grid.dimension,
        grid.dimension_value,
        {%- for column in sum_columns if column not in ('movement_rows', 'response_rows') %}
        coalesce(totals.{{ column }}, 0) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from grid
    left join totals
        on grid.month = totals.month
        and grid.dimension = totals.dimension
        and grid.dimension_value = totals.dimension_value
),

final as (
    select
        month,
        is_complete_month,
        dimension,
        dimension_value,
        customers_start,
        customers_new,
        customers_reactivated,
        customers_churned,
        customers_end,
        {{ round_rate(safe_divide('customers_churned', 'customers_start')) }} as logo_churn_rate,
        {{ round_money('mrr_start') }} as mrr_start,
        {{ round_money('fx_adjustment') }} as fx_adjustment,
        {{ round_money('mrr_new') }} as mrr_new,
        {{ round_money('mrr_expansion') }} as mrr_expansion,
        {{ round_money('mrr_reactivation') }} as mrr_reactivation,
        {{ round_money('mrr_contraction') }} as mrr_contraction,
        {{ round_money('mrr_churned') }} as mrr_churned,
        {{ round_money('mrr_end') }} as mrr_end,
        {{ round_money(safe_divide('mrr_end', 'customers_end')) }} as arpa,
        nps_responses,
        nps_promoters,
        nps_detractors,
        {{ round_money(safe_divide('100.0 * (nps_promoters - nps_detractors)', 'nps_responses')) }} as nps,
        csat_responses,
        csat_positive,
        {{ round_money(safe_divide('100.0 * csat_positive', 'csat_responses')) }} as csat_score,
        tickets_created,
        tickets_first_contact_resolved,
        {{ round_rate(safe_divide('tickets_first_contact_resolved', 'tickets_created')) }} as fcr_rate
    from filled
)

select * from final
order by month, dimension, dimension_value
