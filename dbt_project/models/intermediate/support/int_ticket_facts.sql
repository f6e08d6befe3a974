{#-
  One row per ticket counted (metrics.md, Support): not merged into another ticket and not deleted
  (staging already drops deleted tickets). Events are ordered by time, ties by event_id.
  A ticket's facts depend on its own row and events only, so an incremental build recomputes the
  changed tickets whole and deletes those no longer counted.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('ticket_id', changed_ticket_ids()) }}"
    )
}}
-- depends_on: {{ source('helpdesk', 'tickets') }}
-- depends_on: {{ source('helpdesk', 'ticket_events') }}

with

tickets as (
    select
        ticket_id,
        account_id,
        category,
        status,
        created_at
    from {{ ref('stg_helpdesk__tickets') }}
    where merged_into_ticket_id is null
    {%- if is_incremental() %}
        and ticket_id in ({{ changed_ticket_ids() }})
    {%- endif %}
),

events as (
    select
        event_id,
        ticket_id,
        created_at as event_at,
        actor_type,
        event_type,
        is_public,
        new_status
    from {{ ref('stg_helpdesk__ticket_events') }}
    {%- if is_incremental() %}
    where ticket_id in ({{ changed_ticket_ids() }})
    {%- endif %}
),

ticket_events as (
    select
        events.*,
        tickets.created_at as ticket_created_at
    from events
    inner join tickets
        on events.ticket_id = tickets.ticket_id
),

public_messages as (
    select
        ticket_id,
        event_id,
        event_at,
        actor_type,
        ticket_created_at,
        -- 1 = the ticket's earliest public message, whoever wrote it and whenever.
        row_number() over (partition by ticket_id order by event_at, event_id) as message_number
    from ticket_events
    where event_type = 'message'
        and is_public
),

openers as (
    select
        ticket_id,
        actor_type = 'agent' as is_agent_opened
    from public_messages
    where message_number = 1
),

agent_replies as (
    -- Public agent messages at or after created_at; an agent's opening message is not a reply
    -- (a customer's opening message is not an agent message anyway).
    select
        ticket_id,
        count(*) as agent_replies,
        min(event_at) as first_agent_reply_at
    from public_messages
    where actor_type = 'agent'
        and event_at >= ticket_created_at
        and message_number > 1
    group by ticket_id
),

status_changes as (
    select
        ticket_id,
        event_at,
        new_status,
        -- Was the ticket set to solved or closed by a strictly earlier status change?
        coalesce(bool_or(new_status in ('solved', 'closed')) over (
            partition by ticket_id
            order by event_at, event_id
            rows between unbounded preceding and 1 preceding
        ), false) as was_resolved_before
    from ticket_events
    where event_type = 'status_change'
),

status_history as (
    select
        ticket_id,
        bool_or(new_status in ('new', 'open', 'pending', 'on_hold') and was_resolved_before) as is_reopened,
        min(event_at) filter (where new_status = 'solved') as first_solved_at,
        min(event_at) filter (where new_status = 'closed') as first_closed_at
    from status_changes
    group by ticket_id
),

joined as (
    select
        tickets.ticket_id,
        tickets.account_id,
        date_trunc('month', tickets.created_at)::date as month,
        tickets.category,
        tickets.created_at,
        coalesce(openers.is_agent_opened, false) as is_agent_opened,
        coalesce(agent_replies.agent_replies, 0) as agent_replies,
        agent_replies.first_agent_reply_at,
        coalesce(status_history.is_reopened, false) as is_reopened,
        tickets.status in ('solved', 'closed') as is_resolved,
        coalesce(status_history.first_solved_at, status_history.first_closed_at) as first_resolution_at
    from tickets
    left join openers
        on tickets.ticket_id = openers.ticket_id
    left join agent_replies
        on tickets.ticket_id = agent_replies.ticket_id
    left join status_history
        on tickets.ticket_id = status_history.ticket_id
),

final as (
    select
        ticket_id,
        account_id,
        month,
        category,
        created_at,
        is_agent_opened,
        agent_replies,
        first_agent_reply_at,
        first_resolution_at,
        is_reopened,
        is_resolved,
        is_resolved and agent_replies = 1 and not is_reopened as is_first_contact_resolved,
        (epoch(first_agent_reply_at) - epoch(created_at)) / 60 as first_response_minutes,
        (epoch(first_resolution_at) - epoch(created_at)) / 60 as resolution_minutes
    from joined
)

select
    *,
    {{ build_marker() }}
from final
