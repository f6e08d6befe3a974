{#-
  Warns of landed ticket events whose ticket is not a current ticket (never delivered, or deleted):
  the ticket facts cannot count them. Each row names the event's file and row. An incremental build
  checks the rows landed since the last one; a full refresh, every row. It is a check of the ticket
  facts, their only reader, which it therefore needs as a parent.
-#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_ticket_facts'}}}) }}
-- depends_on: {{ ref('int_ticket_facts') }}
select
    events.event_id,
    events.ticket_id,
    events._source_file,
    events._row_number
from {{ source('helpdesk', 'ticket_events') }} as events
anti join {{ ref('stg_helpdesk__tickets') }} as tickets
    on events.ticket_id = tickets.ticket_id
{%- if build_value('loaded_since') is not none %}
where events._loaded_at > {{ changed_since() }}
{%- endif %}
