{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('ticket_id', changed_keys(source('helpdesk', 'tickets'), 'ticket_id'), key_range=true) }}"
    )
}}

with

source as (
    {{ latest_version(source('helpdesk', 'tickets'), 'ticket_id', has_is_deleted=true, key_range=true) }}
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
