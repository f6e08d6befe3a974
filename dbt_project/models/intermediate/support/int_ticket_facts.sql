{#-
  One row per ticket counted (metrics.md, Support): not merged into another ticket and not deleted
  (staging already drops deleted tickets). Events are ordered by time, ties by event_id.
  A ticket's facts depend on its own row and events only, so an incremental build recomputes the
  changed tickets whole and deletes those no longer counted.
  The events are read from raw through the latest-version rule, with no staged copy: this model is
  their only reader, and writing and testing a copy of every event cost more than the rule does
  here (docs/performance.md). The contract checked every event row's columns on landing.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_restated_rows(is_changed_ticket('ticket_id')) }}"
    )
}}
-- depends_on: {{ source('helpdesk', 'tickets') }}
{#-
  An incremental build reads every version of each event that has one on a changed ticket, so an
  event that moved to another ticket is seen whole and counts in its latest ticket only.
-#}
{%- set events_of_changed_tickets %}
    select event_id
    from {{ source('helpdesk', 'ticket_events') }}
    where {{ within_range_of_keys('ticket_id', changed_ticket_ids(), 'ticket_id') }}
        and ticket_id in ({{ changed_ticket_ids() }})
{%- endset %}

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
        and {{ is_changed_ticket('ticket_id') }}
    {%- endif %}
),

ticket_events as (
    {{ latest_version(
        source('helpdesk', 'ticket_events'), 'event_id', version_column=none,
        incremental_keys=events_of_changed_tickets
    ) }}
),

events as (
    select
        ticket_id,
        event_id,
        created_at as event_at,
        actor_type,
        event_type = 'message' and is_public as is_public_message,
        case when event_type = 'status_change' then new_status end as status_set
    from ticket_events
    where (event_type = 'message' and is_public) or event_type = 'status_change'
),

-- Aggregated per ticket before the join with tickets: one hash aggregation instead of sorting
-- every event of every ticket for window functions (docs/performance.md).
events_per_ticket as (
    select
        ticket_id,
        -- The earliest public message (by time, then event_id), whoever wrote it and whenever.
        arg_min(actor_type = 'agent', {'at': event_at, 'id': event_id}) filter (where is_public_message)
            as is_agent_opened,
        min(event_at) filter (where is_public_message) as opened_at,
        list(event_at) filter (where is_public_message and actor_type = 'agent') as agent_message_times,
        min(event_at) filter (where status_set = 'solved') as first_solved_at,
        min(event_at) filter (where status_set = 'closed') as first_closed_at,
        min({'at': event_at, 'id': event_id}) filter (where status_set in ('solved', 'closed'))
            as first_resolving_change,
        max({'at': event_at, 'id': event_id}) filter (where status_set in ('new', 'open', 'pending', 'on_hold'))
            as last_reopening_change
    from events
    group by ticket_id
),

tickets_with_events as (
    select
        tickets.*,
        events_per_ticket.* exclude (ticket_id),
        -- Agent messages count from created_at on; an agent's opening message is not a reply.
        list_sort(list_filter(
            events_per_ticket.agent_message_times, lambda message_at: message_at >= tickets.created_at
        )) as agent_messages_since_created,
        coalesce(events_per_ticket.is_agent_opened and events_per_ticket.opened_at >= tickets.created_at, false)
            as is_opener_among_them
    from tickets
    left join events_per_ticket
        on tickets.ticket_id = events_per_ticket.ticket_id
),

joined as (
    select
        ticket_id,
        account_id,
        date_trunc('month', created_at)::date as month,
        category,
        created_at,
        coalesce(is_agent_opened, false) as is_agent_opened,
        coalesce(len(agent_messages_since_created), 0) - is_opener_among_them::integer as agent_replies,
        agent_messages_since_created[1 + is_opener_among_them::integer] as first_agent_reply_at,
        -- Reopened: a change to an open status came after an earlier change to solved or closed.
        coalesce(last_reopening_change > first_resolving_change, false) as is_reopened,
        status in ('solved', 'closed') as is_resolved,
        coalesce(first_solved_at, first_closed_at) as first_resolution_at
    from tickets_with_events
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
