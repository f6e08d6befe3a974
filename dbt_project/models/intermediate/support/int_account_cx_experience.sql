{#-
  One row per account and reporting month m at whose end the account was a paying customer: the
  customer experience of the 90 days before m's measurement instant (first replies, first-contact
  resolution, last NPS answer) and whether the account churned in m+1 (NULL while m+1 is not a
  complete month). The input of cx_roi_drivers.
  An incremental build recomputes the accounts whose MRR, tickets or NPS answers may have changed,
  or whose running month's window a ticket or answer entered or left, from the first month a change
  can reach (int_changed_accounts), and every account from the first restated month once the as-of
  date or its month end moved into a later month (macro first_experience_restated_month).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=[
            "{{ delete_rows_from_month(first_experience_restated_month()) }}",
            "{{ delete_rows_of_changed_keys(changed_experience_account_months(), 'account_id') }}",
        ]
    )
}}
-- depends_on: {{ ref('int_changed_accounts') }}
with

months as (
    select
        month,
        measured_before,
        -- The window: the 90 days ending just before the measurement instant, [from, before).
        measured_before - interval 90 day as window_from,
        lead(is_complete_month) over (order by month) as is_next_month_complete
    from {{ ref('int_reporting_months') }}
),

movements as (
    select
        account_months.account_id,
        account_months.month,
        account_months.mrr_end,
        account_months.movement
    from {{ ref('int_account_mrr_movements') }} as account_months
    {%- if is_incremental() %}
    {{ join_changed_months(changed_experience_account_months(), 'account_id', 'account_months', 'changed_account') }}
    -- The restated account-months; the month after each, which its churn flag reads, is restated too.
    where account_months.month >= least({{ first_experience_restated_month() }}, changed_account.from_month)
    {%- endif %}
),

tickets as (
    select
        ticket_facts.ticket_id,
        ticket_facts.account_id,
        ticket_facts.created_at,
        ticket_facts.is_first_contact_resolved,
        ticket_facts.first_response_minutes,
        {{ months_whose_window_holds('ticket_facts.created_at') }} as window_month
    from {{ ref('int_ticket_facts') }} as ticket_facts
    {%- if is_incremental() %}
    {{ join_changed_months(changed_experience_account_months(), 'account_id', 'ticket_facts', 'changed_account') }}
    {%- endif %}
    where ticket_facts.account_id is not null
    {%- if is_incremental() %}
        and {{ in_restated_windows('ticket_facts', 'created_at') }}
    {%- endif %}
),

nps_responses as (
    select
        responses.response_id,
        responses.account_id,
        responses.score,
        responses.submitted_at,
        {{ months_whose_window_holds('responses.submitted_at') }} as window_month
    from {{ ref('stg_crm__survey_responses') }} as responses
    {%- if is_incremental() %}
    {{ join_changed_months(changed_experience_account_months(), 'account_id', 'responses', 'changed_account') }}
    {%- endif %}
    where responses.survey_type = 'nps'
        and responses.scale_min = 0
        and responses.scale_max = 10
    {%- if is_incremental() %}
        and {{ in_restated_windows('responses', 'submitted_at') }}
    {%- endif %}
),

paying_account_months as (
    select
        movements.account_id,
        movements.month,
        coalesce(months.is_next_month_complete, false) as is_next_month_complete
    from movements
    inner join months
        on movements.month = months.month
    where movements.mrr_end > 0
),

-- The windows are joined month by month, then matched to the paying account-months: joining each
-- account-month to the account's tickets paired every month with every ticket of the account, and ran
-- out of memory at a million accounts. Each ticket or answer is joined on the few months whose
-- window can hold it (macro months_whose_window_holds), an equality, where the range join alone
-- sorted them all (docs/performance.md).
ticket_experience as (
    select
        tickets.account_id,
        months.month,
        count(*) as tickets_90d,
        count(tickets.first_response_minutes) as tickets_replied_90d,
        count(*) filter (where not tickets.is_first_contact_resolved) as tickets_not_first_contact_resolved_90d,
        -- Rounded as the marts round (macros/rounding.sql): a mean that lies exactly on a band's
        -- bound, such as 60 minutes, must not fall below it by summation noise whose sign depends
        -- on the order in which the rows were summed.
        round(avg(tickets.first_response_minutes), 9) as first_response_minutes_avg_90d
    from tickets
    inner join months
        on tickets.window_month = months.month
        and tickets.created_at >= months.window_from
        and tickets.created_at < months.measured_before
    group by tickets.account_id, months.month
),

last_nps as (
    select
        nps_responses.account_id,
        months.month,
        -- The latest answer in the window, ties by the larger response_id (neither is ever NULL).
        arg_max(nps_responses.score, {'at': nps_responses.submitted_at, 'id': nps_responses.response_id})
            as last_nps_score,
        count(*) as nps_responses_90d
    from nps_responses
    inner join months
        on nps_responses.window_month = months.month
        and nps_responses.submitted_at >= months.window_from
        and nps_responses.submitted_at < months.measured_before
    group by nps_responses.account_id, months.month
),

joined as (
    select
        paying_account_months.account_id,
        paying_account_months.month,
        coalesce(ticket_experience.tickets_90d, 0) as tickets_90d,
        coalesce(ticket_experience.tickets_replied_90d, 0) as tickets_replied_90d,
        coalesce(ticket_experience.tickets_not_first_contact_resolved_90d, 0) as tickets_not_first_contact_resolved_90d,
        ticket_experience.first_response_minutes_avg_90d,
        coalesce(last_nps.nps_responses_90d, 0) as nps_responses_90d,
        last_nps.last_nps_score,
        paying_account_months.is_next_month_complete,
        next_month.movement = 'churned' as is_churned
    from paying_account_months
    left join ticket_experience
        on paying_account_months.account_id = ticket_experience.account_id
        and paying_account_months.month = ticket_experience.month
    left join last_nps
        on paying_account_months.account_id = last_nps.account_id
        and paying_account_months.month = last_nps.month
    -- Paying at the end of m, so the account has a movement row in m+1 whenever m+1 is reported.
    left join movements as next_month
        on paying_account_months.account_id = next_month.account_id
        and (paying_account_months.month + interval 1 month)::date = next_month.month
),

final as (
    select
        account_id,
        month,
        tickets_90d,
        tickets_replied_90d,
        tickets_not_first_contact_resolved_90d,
        first_response_minutes_avg_90d,
        case
            when first_response_minutes_avg_90d is null then 'no_reply_data'
            when first_response_minutes_avg_90d < 60 then 'under_1h'
            when first_response_minutes_avg_90d < 240 then '1h_to_4h'
            when first_response_minutes_avg_90d < 480 then '4h_to_8h'
            when first_response_minutes_avg_90d < 1440 then '8h_to_24h'
            else 'over_24h'
        end as first_response_band,
        case
            when tickets_90d = 0 then 'no_tickets'
            when tickets_not_first_contact_resolved_90d > 0 then 'yes'
            else 'no'
        end as had_unresolved_first_contact,
        nps_responses_90d,
        last_nps_score,
        case
            when last_nps_score is null then 'no_response'
            when last_nps_score >= 9 then 'promoter'
            when last_nps_score >= 7 then 'passive'
            else 'detractor'
        end as last_nps_category,
        case when is_next_month_complete then coalesce(is_churned, false) end as churned_next_month,
        {{ build_marker() }}
    from joined
)

select * from final
