{#-
  Tickets whose facts may have changed since the last build (int_ticket_facts): a version of the
  ticket landed, or a version of one of its events did. Every version of a changed event counts,
  so a ticket that an event moved away from is recomputed too.
  Two forms, because DuckDB plans them differently (docs/performance.md, at a million accounts):
  - changed_ticket_ids(), one list: a semi join, whose range of ids skips most of a scan stored in
    id order; the raw ticket events (89 million, in landing order) are read this way;
  - is_changed_ticket(column), one condition per source: on the tickets and ticket facts (12
    million, in no id order) it halved the cost of the single list.
-#}
{% macro changed_ticket_ids() -%}
    {{ changed_keys(source('helpdesk', 'tickets'), 'ticket_id') }}
    union
    {{ tickets_of_changed_events() }}
{%- endmacro %}

{% macro is_changed_ticket(ticket_id) -%}
    (
        {{ ticket_id }} in ({{ changed_keys(source('helpdesk', 'tickets'), 'ticket_id') }})
        or {{ ticket_id }} in ({{ tickets_of_changed_events() }})
    )
{%- endmacro %}

{% macro tickets_of_changed_events() -%}
    select ticket_id
    from {{ source('helpdesk', 'ticket_events') }}
    where event_id in ({{ changed_keys(source('helpdesk', 'ticket_events'), 'event_id') }})
{%- endmacro %}
