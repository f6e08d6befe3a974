{#-
  Tickets whose facts may have changed since the last build (int_ticket_facts): a version of the
  ticket landed, or a version of one of its events did. Every version of a changed event counts,
  so a ticket that an event moved away from is recomputed too.
-#}
{% macro changed_ticket_ids() -%}
    {{ changed_keys(source('helpdesk', 'tickets'), 'ticket_id') }}
    union
    select ticket_id
    from {{ source('helpdesk', 'ticket_events') }}
    where event_id in ({{ changed_keys(source('helpdesk', 'ticket_events'), 'event_id') }})
{%- endmacro %}
