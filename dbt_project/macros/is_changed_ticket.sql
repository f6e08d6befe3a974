{#-
  Tickets whose facts may have changed since the last build (int_ticket_facts): a version of the
  ticket landed, or a version of one of its events did. Every version of a changed event counts,
  so a ticket that an event moved away from is recomputed too.
  Two forms, because DuckDB plans them differently (docs/performance.md, at a million accounts):
  - changed_ticket_ids(), one list: a semi join; the raw ticket events (89 million, in landing
    order) are read this way;
  - is_changed_ticket(column), one condition per source: on the tickets and ticket facts (12
    million) it halved the cost of the single list.
  Both are read within the range of the changed ids (macro within_range_of_keys), which skips the
  row groups of older tickets.
-#}
{% macro changed_ticket_ids() -%}
    {{ changed_keys(source('helpdesk', 'tickets'), 'ticket_id') }}
    union
    {{ tickets_of_changed_events() }}
{%- endmacro %}

{% macro is_changed_ticket(ticket_id) -%}
    (
        {{ within_range_of_keys(ticket_id, changed_ticket_ids(), 'ticket_id') }}
        and (
            {{ ticket_id }} in ({{ changed_keys(source('helpdesk', 'tickets'), 'ticket_id') }})
            or {{ ticket_id }} in ({{ tickets_of_changed_events() }})
        )
    )
{%- endmacro %}

{% macro tickets_of_changed_events() -%}
    select ticket_id
    from {{ source('helpdesk', 'ticket_events') }}
    where event_id in ({{ changed_keys(source('helpdesk', 'ticket_events'), 'event_id') }})
{%- endmacro %}

{#-
  Every version of a changed ticket or survey response (a version of it, or for a ticket of one of
  its events, landed): the months and accounts it was ever in, which a change reaches
  (int_changed_accounts, int_restated_fact_months).
-#}
{% macro versions_of_changed_tickets() -%}
    select account_id, created_at
    from {{ source('helpdesk', 'tickets') }}
    where {{ is_changed_ticket('ticket_id') }}
{%- endmacro %}

{% macro versions_of_changed_responses() -%}
    select account_id, submitted_at
    from {{ source('crm', 'survey_responses') }}
    where response_id in ({{ changed_keys(source('crm', 'survey_responses'), 'response_id') }})
{%- endmacro %}
