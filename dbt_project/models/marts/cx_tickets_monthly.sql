{#-
  Incremental by month: a build deletes and recomputes the months a changed ticket can reach
  (int_restated_fact_months: the months of every version of a changed ticket, and every month from
  the last as-of month, whose completeness moves with the as-of date), rather than re-reading the
  12 million ticket facts at a million accounts. The restated months are appended at the end: the
  table is in no order.
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

tickets as (
    select
        month,
        category,
        is_resolved,
        is_first_contact_resolved,
        is_reopened,
        first_response_minutes,
        resolution_minutes
    from {{ ref('int_ticket_facts') }}
    {%- if is_incremental() %}
    where month in (select month from months)
    {%- endif %}
),

monthly as (
    select
        month,
        count(*) as tickets_created,
        count(*) filter (where is_resolved) as tickets_resolved,
        count(*) filter (where is_first_contact_resolved) as tickets_first_contact_resolved,
        count(*) filter (where is_reopened) as tickets_reopened,
        avg(first_response_minutes) as first_response_minutes_avg,
        -- Both quantiles from one sort of the month's first responses.
        quantile_cont(first_response_minutes, [0.5, 0.9]) as first_response_minutes_quantiles,
        quantile_cont(resolution_minutes, 0.5) as resolution_minutes_p50,
        count(*) filter (where category = 'complaint') as complaints
    from tickets
    group by month
),

filled as (
    -- Months without tickets report 0 counts and NULL rates and times; tickets created in months
    -- outside the reporting months are not reported.
    select
        months.month,
        months.is_complete_month,
        coalesce(monthly.tickets_created, 0) as tickets_created,
        coalesce(monthly.tickets_resolved, 0) as tickets_resolved,
        coalesce(monthly.tickets_first_contact_resolved, 0) as tickets_first_contact_resolved,
        coalesce(monthly.tickets_reopened, 0) as tickets_reopened,
        monthly.first_response_minutes_avg,
        monthly.first_response_minutes_quantiles[1] as first_response_minutes_p50,
        monthly.first_response_minutes_quantiles[2] as first_response_minutes_p90,
        monthly.resolution_minutes_p50,
        coalesce(monthly.complaints, 0) as complaints
    from months
    left join monthly
        on months.month = monthly.month
),

final as (
    select
        month,
        is_complete_month,
        tickets_created,
        tickets_resolved,
        tickets_first_contact_resolved,
        {{ round_rate(safe_divide('tickets_first_contact_resolved', 'tickets_created')) }} as fcr_rate,
        tickets_reopened,
        {{ round_rate(safe_divide('tickets_reopened', 'tickets_resolved')) }} as reopen_rate,
        {{ round_money('first_response_minutes_avg') }} as first_response_minutes_avg,
        {{ round_money('first_response_minutes_p50') }} as first_response_minutes_p50,
        {{ round_money('first_response_minutes_p90') }} as first_response_minutes_p90,
        {{ round_money('resolution_minutes_p50') }} as resolution_minutes_p50,
        complaints
    from filled
)

select
    *,
    {{ build_marker() }}
from final
