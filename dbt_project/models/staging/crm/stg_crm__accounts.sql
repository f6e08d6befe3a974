{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('account_id', changed_keys(source('crm', 'accounts'), 'account_id')) }}"
    )
}}

with

source as (
    {{ latest_version(source('crm', 'accounts'), 'account_id', has_is_deleted=true) }}
),

renamed as (
    select
        account_id,
        account_name,
        country_code,
        region,
        segment,
        industry,
        acquisition_channel,
        created_at,
        updated_at
    from source
)

select
    *,
    {{ build_marker() }}
from renamed
