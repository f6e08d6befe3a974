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
with

months as (
    select
        month,
        is_complete_month,
        (measured_before - 1)::date as reference_date
    from {{ ref('int_reporting_months') }}
),

accounts as (
    select
        account_id,
        coalesce(segment, 'unknown') as segment,
        coalesce(region, 'unknown') as region,
        coalesce(acquisition_channel, 'unknown') as acquisition_channel,
        created_at::date as signup_date
    from {{ ref('stg_crm__accounts') }}
),

-- The facts are summed by a number per combination of the three CRM attributes, and the names are
-- joined to the few sums: grouping tens of millions of rows by three texts took twice as long.
attribute_combinations as (
    select
        segment,
        region,
        acquisition_channel,
        row_number() over (order by segment, region, acquisition_channel) as attributes_key
    from accounts
    group by segment, region, acquisition_channel
),

account_attributes as (
    select
        accounts.account_id,
        accounts.signup_date,
        attribute_combinations.attributes_key
    from accounts
    inner join attribute_combinations
        on accounts.segment = attribute_combinations.segment
        and accounts.region = attribute_combinations.region
        and accounts.acquisition_channel = attribute_combinations.acquisition_channel
),

movements as (
    select
        account_id,
        month,
        mrr_start,
        fx_adjustment,
        mrr_end,
        movement,
        movement_amount
    from {{ ref('int_account_mrr_movements') }}
),

responses as (
    select
        account_id,
        month,
        nps_category,
        is_csat_positive
    from {{ ref('int_survey_responses_scored') }}
),

tickets as (
    select
        account_id,
        month,
        is_first_contact_resolved
    from {{ ref('int_ticket_facts') }}
),

dimensions as (
    select dimension
    from (values ('segment'), ('region'), ('acquisition_channel'), ('lifecycle_stage')) as dimensions (dimension)
),

-- Every fact with the account's four attributes ('unknown' when missing), summed per month and
-- combination of attributes before fanning out to the four dimensions: there are few combinations,
-- and fanning out the facts themselves quadrupled tens of millions of rows.
{% set fact_sources = ['movements', 'responses', 'tickets'] %}
{% for fact in fact_sources %}
{{ fact }}_attributed as (
    select
        {{ fact }}.*,
        account_attributes.attributes_key,
        coalesce(
            {{ lifecycle_stage(months_since_signup('account_attributes.signup_date', 'months.reference_date')) }},
            'unknown'
        ) as lifecycle_stage
    from {{ fact }}
    left join account_attributes
        on {{ fact }}.account_id = account_attributes.account_id
    left join months
        on {{ fact }}.month = months.month
),

{% endfor %}
movements_by_attributes as (
    select
        month,
        attributes_key,
        lifecycle_stage,
        count(*) filter (where mrr_start > 0) as customers_start,
        count(*) filter (where movement = 'new') as customers_new,
        count(*) filter (where movement = 'reactivation') as customers_reactivated,
        count(*) filter (where movement = 'churned') as customers_churned,
        count(*) filter (where mrr_end > 0) as customers_end,
        sum(mrr_start) as mrr_start,
        sum(fx_adjustment) as fx_adjustment,
        sum(movement_amount) filter (where movement = 'new') as mrr_new,
        sum(movement_amount) filter (where movement = 'expansion') as mrr_expansion,
        sum(movement_amount) filter (where movement = 'reactivation') as mrr_reactivation,
        sum(movement_amount) filter (where movement = 'contraction') as mrr_contraction,
        sum(movement_amount) filter (where movement = 'churned') as mrr_churned,
        sum(mrr_end) as mrr_end
    from movements_attributed
    group by month, attributes_key, lifecycle_stage
),

responses_by_attributes as (
    select
        month,
        attributes_key,
        lifecycle_stage,
        count(*) filter (where nps_category is not null) as nps_responses,
        count(*) filter (where nps_category = 'promoter') as nps_promoters,
        count(*) filter (where nps_category = 'detractor') as nps_detractors,
        count(is_csat_positive) as csat_responses,
        count(*) filter (where is_csat_positive) as csat_positive
    from responses_attributed
    group by month, attributes_key, lifecycle_stage
),

tickets_by_attributes as (
    select
        month,
        attributes_key,
        lifecycle_stage,
        count(*) as tickets_created,
        count(*) filter (where is_first_contact_resolved) as tickets_first_contact_resolved
    from tickets_attributed
    group by month, attributes_key, lifecycle_stage
),

{% for fact in fact_sources %}
{{ fact }}_by_dimension as (
    select
        {{ fact }}_by_attributes.*,
        dimensions.dimension,
        case dimensions.dimension
            when 'segment' then coalesce(attribute_combinations.segment, 'unknown')
            when 'region' then coalesce(attribute_combinations.region, 'unknown')
            when 'acquisition_channel' then coalesce(attribute_combinations.acquisition_channel, 'unknown')
            when 'lifecycle_stage' then {{ fact }}_by_attributes.lifecycle_stage
        end as dimension_value
    from {{ fact }}_by_attributes
    left join attribute_combinations
        on {{ fact }}_by_attributes.attributes_key = attribute_combinations.attributes_key
    cross join dimensions
),

{% endfor %}
movement_totals as (
    select
        month,
        dimension,
        dimension_value,
        sum(customers_start)::bigint as customers_start,
        sum(customers_new)::bigint as customers_new,
        sum(customers_reactivated)::bigint as customers_reactivated,
        sum(customers_churned)::bigint as customers_churned,
        sum(customers_end)::bigint as customers_end,
        sum(mrr_start) as mrr_start,
        sum(fx_adjustment) as fx_adjustment,
        sum(mrr_new) as mrr_new,
        sum(mrr_expansion) as mrr_expansion,
        sum(mrr_reactivation) as mrr_reactivation,
        sum(mrr_contraction) as mrr_contraction,
        sum(mrr_churned) as mrr_churned,
        sum(mrr_end) as mrr_end
    from movements_by_dimension
    group by month, dimension, dimension_value
),

response_totals as (
    select
        month,
        dimension,
        dimension_value,
        sum(nps_responses)::bigint as nps_responses,
        sum(nps_promoters)::bigint as nps_promoters,
        sum(nps_detractors)::bigint as nps_detractors,
        sum(csat_responses)::bigint as csat_responses,
        sum(csat_positive)::bigint as csat_positive
    from responses_by_dimension
    group by month, dimension, dimension_value
),

ticket_totals as (
    select
        month,
        dimension,
        dimension_value,
        sum(tickets_created)::bigint as tickets_created,
        sum(tickets_first_contact_resolved)::bigint as tickets_first_contact_resolved
    from tickets_by_dimension
    group by month, dimension, dimension_value
),

dimension_values as (
    select dimension, dimension_value from movement_totals
    union
    select dimension, dimension_value from response_totals
    union
    select dimension, dimension_value from ticket_totals
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
        coalesce(movement_totals.customers_start, 0) as customers_start,
        coalesce(movement_totals.customers_new, 0) as customers_new,
        coalesce(movement_totals.customers_reactivated, 0) as customers_reactivated,
        coalesce(movement_totals.customers_churned, 0) as customers_churned,
        coalesce(movement_totals.customers_end, 0) as customers_end,
        coalesce(movement_totals.mrr_start, 0) as mrr_start,
        coalesce(movement_totals.fx_adjustment, 0) as fx_adjustment,
        coalesce(movement_totals.mrr_new, 0) as mrr_new,
        coalesce(movement_totals.mrr_expansion, 0) as mrr_expansion,
        coalesce(movement_totals.mrr_reactivation, 0) as mrr_reactivation,
        coalesce(movement_totals.mrr_contraction, 0) as mrr_contraction,
        coalesce(movement_totals.mrr_churned, 0) as mrr_churned,
        coalesce(movement_totals.mrr_end, 0) as mrr_end,
        coalesce(response_totals.nps_responses, 0) as nps_responses,
        coalesce(response_totals.nps_promoters, 0) as nps_promoters,
        coalesce(response_totals.nps_detractors, 0) as nps_detractors,
        coalesce(response_totals.csat_responses, 0) as csat_responses,
        coalesce(response_totals.csat_positive, 0) as csat_positive,
        coalesce(ticket_totals.tickets_created, 0) as tickets_created,
        coalesce(ticket_totals.tickets_first_contact_resolved, 0) as tickets_first_contact_resolved
    from grid
    left join movement_totals
        on grid.month = movement_totals.month
        and grid.dimension = movement_totals.dimension
        and grid.dimension_value = movement_totals.dimension_value
    left join response_totals
        on grid.month = response_totals.month
        and grid.dimension = response_totals.dimension
        and grid.dimension_value = response_totals.dimension_value
    left join ticket_totals
        on grid.month = ticket_totals.month
        and grid.dimension = ticket_totals.dimension
        and grid.dimension_value = ticket_totals.dimension_value
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
