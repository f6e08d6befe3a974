{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('invoice_id', changed_keys(source('billing', 'invoices'), 'invoice_id')) }}"
    )
}}

with

source as (
    {{ latest_version(source('billing', 'invoices'), 'invoice_id') }}
),

renamed as (
    select
        invoice_id,
        account_id,
        subscription_id,
        invoice_type,
        status,
        currency,
        subtotal,
        coalesce(discount_amount, 0) as discount_amount,
        coalesce(tax_amount, 0) as tax_amount,
        total,
        -- Revenue excludes tax (metrics.md), in the invoice currency.
        subtotal - coalesce(discount_amount, 0) as revenue,
        issued_at,
        paid_at,
        service_period_start,
        service_period_end,
        updated_at
    from source
)

select
    *,
    {{ build_marker() }}
from renamed
