{{
    config(
        materialized='incremental',
        unique_key='response_id',
        incremental_strategy='merge'
    )
}}

with

source as (
    {{ latest_version(source('crm', 'survey_responses'), 'response_id') }}
),

renamed as (
    select
        response_id,
        account_id,
        survey_type,
        score,
        scale_min,
        scale_max,
        ticket_id,
        channel,
        submitted_at,
        {{ redact_contact_details('comment') }} as comment,
        updated_at
    from source
)

select
    *,
    {{ build_marker() }}
from renamed
