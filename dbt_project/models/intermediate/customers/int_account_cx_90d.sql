{#-
  The customer experience of each account over the 90 days before the as-of date (metrics.md,
  cx_customer_360): the window is [as_of_date + 1 day - 90 days, as_of_date + 1 day), i.e. the
  as-of date and the 89 days before it, the 90 days ending at the as-of month's measurement
  instant (the same window as int_account_cx_experience uses for its month ends). Tickets count
  by created_at, survey responses by submitted_at. One row per account with a ticket or a survey
  response in the window.
-#}
with

window_bounds as (
    select
        ({{ as_of_date() }} + 1 - interval 90 day)::date as window_from,
        ({{ as_of_date() }} + 1)::date as window_before
),

tickets as (
    select
        tickets.account_id,
        tickets.is_first_contact_resolved,
        tickets.first_response_minutes
    from {{ ref('int_ticket_facts') }} as tickets
    cross join window_bounds
    where tickets.account_id is not null
        and tickets.created_at >= window_bounds.window_from
        and tickets.created_at < window_bounds.window_before
),

responses as (
    select
        responses.account_id,
        responses.survey_type,
        responses.score_normalized,
        responses.is_csat_positive
    from {{ ref('int_survey_responses_scored') }} as responses
    cross join window_bounds
    where responses.submitted_at >= window_bounds.window_from
        and responses.submitted_at < window_bounds.window_before
),

ticket_totals as (
    select
        account_id,
        count(*) as tickets_90d,
        count(*) filter (where is_first_contact_resolved) as tickets_first_contact_resolved_90d,
        count(first_response_minutes) as tickets_replied_90d,
        avg(first_response_minutes) as first_response_minutes_avg_90d
    from tickets
    group by account_id
),

survey_totals as (
    select
        account_id,
        count(*) as survey_responses_90d,
        -- Sentiment: every survey type (NPS, CSAT, CES) on its 0-100 normalized scale.
        avg(score_normalized) as sentiment_score_90d,
        count(*) filter (where survey_type = 'csat') as csat_responses_90d,
        count(*) filter (where is_csat_positive) as csat_positive_90d
    from responses
    group by account_id
),

final as (
    select
        coalesce(ticket_totals.account_id, survey_totals.account_id) as account_id,
        window_bounds.window_from,
        window_bounds.window_before,
        coalesce(ticket_totals.tickets_90d, 0) as tickets_90d,
        coalesce(ticket_totals.tickets_first_contact_resolved_90d, 0) as tickets_first_contact_resolved_90d,
        {{ safe_divide('coalesce(ticket_totals.tickets_first_contact_resolved_90d, 0)', 'coalesce(ticket_totals.tickets_90d, 0)') }} as fcr_rate_90d,
        coalesce(ticket_totals.tickets_replied_90d, 0) as tickets_replied_90d,
        ticket_totals.first_response_minutes_avg_90d,
        coalesce(survey_totals.survey_responses_90d, 0) as survey_responses_90d,
        survey_totals.sentiment_score_90d,
        coalesce(survey_totals.csat_responses_90d, 0) as csat_responses_90d,
        coalesce(survey_totals.csat_positive_90d, 0) as csat_positive_90d,
        {{ safe_divide('100.0 * coalesce(survey_totals.csat_positive_90d, 0)', 'coalesce(survey_totals.csat_responses_90d, 0)') }} as csat_score_90d
    from ticket_totals
    full outer join survey_totals
        on ticket_totals.account_id = survey_totals.account_id
    cross join window_bounds
)

select * from final
