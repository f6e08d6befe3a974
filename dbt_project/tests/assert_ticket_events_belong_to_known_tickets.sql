{#-
  Warns of landed ticket events whose ticket is not a current ticket (never delivered, or deleted):
  the ticket facts cannot count them. Each row names the event's file and row. An incremental build
  checks the rows landed since the last one; a full refresh, every row. It is a check of the ticket
  facts, their only reader, which it therefore needs as a parent.
-#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_ticket_facts'}}}) }}
-- depends_on: {{ ref('int_ticket_facts') }}
{%- set landed_events %}
    select ticket_id from {{ source('helpdesk', 'ticket_events') }} where _loaded_at > {{ changed_since() }}
{%- endset %}
select
    events.event_id,
    events.ticket_id,
    events._source_file,
    events._row_number
from {{ source('helpdesk', 'ticket_events') }} as events
anti join (
    select ticket_id
    from {{ ref('stg_helpdesk__tickets') }}
    {%- if build_value('loaded_since') is not none %}
    -- Only the tickets within the range of the landed events' ticket ids, which holds every ticket
    -- they can match: the join's table is then a night's tickets, not all 12.8 million at a
    -- million accounts (0.55 against 0.04 s, in the build and again for the warning's rows).
    where {{ within_range_of_keys('ticket_id', landed_events, 'ticket_id') }}
    {%- endif %}
) as tickets
    on events.ticket_id = tickets.ticket_id
{%- if build_value('loaded_since') is not none %}
where events._loaded_at > {{ changed_since() }}
{%- endif %}
