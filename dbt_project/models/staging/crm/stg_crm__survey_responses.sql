{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('response_id', changed_keys(source('crm', 'survey_responses'), 'response_id')) }}"
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
