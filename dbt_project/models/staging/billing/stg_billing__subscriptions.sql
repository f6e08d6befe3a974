{{
    config(
        materialized='incremental',
        unique_key='subscription_id',
        incremental_strategy='merge'
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
