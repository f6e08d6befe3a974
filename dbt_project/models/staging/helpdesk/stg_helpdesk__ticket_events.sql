{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='merge'
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
