{#-
  One row per current survey response (metrics.md, Surveys), scored on its own scale. A response
  counts in the month of submitted_at (UTC). Responses whose score or scale break the contract were
  quarantined at ingest, so scale_max > scale_min and scale_min <= score <= scale_max here.
  Sentiment (metrics.md only says "score category"): NPS promoter / passive / detractor ->
  positive / neutral / negative; CSAT top two boxes positive, bottom two boxes negative, else
  neutral; CES (1-7 scale) >= 6 positive, <= 2 negative, else neutral.
  Incremental by response: a build scores again the responses with a version landed since the last
  build. A rebuild of all 6 million responses cost a nightly build at a million accounts 5.6 s.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('response_id', changed_keys(source('crm', 'survey_responses'), 'response_id')) }}"
    )
}}

with

responses as (
    select
        response_id,
        account_id,
        ticket_id,
        survey_type,
        channel,
        score,
        scale_min,
        scale_max,
        submitted_at,
        comment
    from {{ ref('stg_crm__survey_responses') }}
    {%- if is_incremental() %}
    where response_id in ({{ changed_keys(source('crm', 'survey_responses'), 'response_id') }})
    {%- endif %}
),

scored as (
    select
        *,
        date_trunc('month', submitted_at)::date as month,
        -- Multiply before dividing so that exact results stay exact (e.g. 6 * 3 / 6 = 3).
        {{ safe_divide('100.0 * (score - scale_min)', 'scale_max - scale_min') }} as score_normalized,
        case
            when survey_type = 'nps' and scale_min = 0 and scale_max = 10 then
                case
                    when score >= 9 then 'promoter'
                    when score >= 7 then 'passive'
                    else 'detractor'
                end
        end as nps_category,
        case when survey_type = 'csat' then score >= scale_max - 1 end as is_csat_positive,
        case
            when survey_type = 'ces' then 1 + {{ safe_divide('6.0 * (score - scale_min)', 'scale_max - scale_min') }}
        end as ces_score
    from responses
),

final as (
    select
        response_id,
        account_id,
        ticket_id,
        survey_type,
        channel,
        score,
        scale_min,
        scale_max,
        submitted_at,
        month,
        comment,
        score_normalized,
        nps_category,
        is_csat_positive,
        ces_score,
        case
            when nps_category = 'promoter' then 'positive'
            when nps_category = 'passive' then 'neutral'
            when nps_category = 'detractor' then 'negative'
            when survey_type = 'csat' and is_csat_positive then 'positive'
            when survey_type = 'csat' and score <= scale_min + 1 then 'negative'
            when survey_type = 'csat' then 'neutral'
            when ces_score >= 6 then 'positive'
            when ces_score <= 2 then 'negative'
            when survey_type = 'ces' then 'neutral'
        end as sentiment,
        {{ build_marker() }}
    from scored
)

select * from final
