{{
    config(
        materialized='incremental',
        unique_key='ticket_id',
        incremental_strategy='merge',
        pre_hook="{{ collect_changed_keys(changed_keys(source('helpdesk', 'tickets'), 'ticket_id')) }}",
        merge_clauses=delete_vanished_keys('ticket_id')
    )
}}

with

source as (
    {{ latest_version(source('helpdesk', 'tickets'), 'ticket_id', has_is_deleted=true) }}
),

renamed as (
    select
        ticket_id,
        account_id,
        channel,
        priority,
        category,
        subject,
        status,
        merged_into_ticket_id,
        assignee_id,
        created_at,
        updated_at
    from source
)

select
    *,
    {{ build_marker() }}
from renamed
