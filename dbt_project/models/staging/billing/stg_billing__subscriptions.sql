{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('subscription_id', changed_keys(source('billing', 'subscriptions'), 'subscription_id')) }}"
    )
}}

with

source as (
    {{ latest_version(source('billing', 'subscriptions'), 'subscription_id') }}
),

renamed as (
    select
        subscription_id,
        account_id,
        product_id,
        billing_interval,
        status,
        started_at,
        canceled_at,
        ended_at,
        updated_at
    from source
)

select
    *,
    {{ build_marker() }}
from renamed
