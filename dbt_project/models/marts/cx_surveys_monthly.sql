{#-
  Incremental by month, as cx_tickets_monthly: a build deletes and recomputes the months
  int_restated_fact_months lists, which hold the month of every version of a changed survey
  response and every month from the last as-of month, rather than re-reading every scored response.
  The restated months are appended at the end: the table is in no order.
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

responses as (
    select * from {{ ref('int_survey_responses_scored') }}
    {%- if is_incremental() %}
    where month in (select month from months)
    {%- endif %}
),

monthly as (
    select
        month,
        -- NPS counts only responses on the 0-10 scale (nps_category is NULL otherwise).
        count(*) filter (where nps_category is not null) as nps_responses,
        count(*) filter (where nps_category = 'promoter') as nps_promoters,
        count(*) filter (where nps_category = 'passive') as nps_passives,
        count(*) filter (where nps_category = 'detractor') as nps_detractors,
        count(*) filter (where survey_type = 'csat') as csat_responses,
        count(*) filter (where survey_type = 'csat' and is_csat_positive) as csat_positive,
        avg(score_normalized) filter (where survey_type = 'csat') as csat_mean_normalized,
        count(*) filter (where survey_type = 'ces') as ces_responses,
        avg(ces_score) filter (where survey_type = 'ces') as ces_mean
    from responses
    group by month
),

filled as (
    -- Months without responses report 0 counts and NULL scores; responses submitted in months
    -- outside the reporting months are not reported.
    select
        months.month,
        months.is_complete_month,
        coalesce(monthly.nps_responses, 0) as nps_responses,
        coalesce(monthly.nps_promoters, 0) as nps_promoters,
        coalesce(monthly.nps_passives, 0) as nps_passives,
        coalesce(monthly.nps_detractors, 0) as nps_detractors,
        coalesce(monthly.csat_responses, 0) as csat_responses,
        coalesce(monthly.csat_positive, 0) as csat_positive,
        monthly.csat_mean_normalized,
        coalesce(monthly.ces_responses, 0) as ces_responses,
        monthly.ces_mean
    from months
    left join monthly
        on months.month = monthly.month
),

final as (
    -- Scores are points, not rates: rounded like amounts (6 decimals).
    select
        month,
        is_complete_month,
        nps_responses,
        nps_promoters,
        nps_passives,
        nps_detractors,
        {{ round_money(safe_divide('100.0 * (nps_promoters - nps_detractors)', 'nps_responses')) }} as nps,
        csat_responses,
        csat_positive,
        {{ round_money(safe_divide('100.0 * csat_positive', 'csat_responses')) }} as csat_score,
        {{ round_money('csat_mean_normalized') }} as csat_mean_normalized,
        ces_responses,
        {{ round_money('ces_mean') }} as ces_mean
    from filled
)

select
    *,
    {{ build_marker() }}
from final
