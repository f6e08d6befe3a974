{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('event_id', changed_keys(source('helpdesk', 'ticket_events'), 'event_id')) }}"
    )
}}

with

source as (
    {{ latest_version(source('helpdesk', 'ticket_events'), 'event_id', version_column=none) }}
),

renamed as (
    select
        event_id,
        ticket_id,
        created_at,
        actor_type,
        event_type,
        is_public,
        new_status
    from source
)

select
    *,
    {{ build_marker() }}
from renamed
