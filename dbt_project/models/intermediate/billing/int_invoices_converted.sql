{#-
  One row per invoice issued in a reporting month, with its amounts converted to the reporting
  currency at the rate of its issue month (metrics.md: "by issued_at month"). A missing rate keeps
  the row with NULL amounts instead of dropping money: int_fx_rates_monthly then fails its gate.
  An incremental build converts again the invoices of invoices_to_convert() and deletes those no
  longer reported.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('invoice_id', invoices_to_convert()) }}"
    )
}}
-- depends_on: {{ source('billing', 'invoices') }}

with

months as (
    select month
    from {{ ref('int_reporting_months') }}
),

invoices as (
    select
        invoice_id,
        account_id,
        subscription_id,
        invoice_type,
        status,
        currency,
        subtotal,
        discount_amount,
        revenue,
        issued_at,
        date_trunc('month', issued_at)::date as month
    from {{ ref('stg_billing__invoices') }}
    {%- if is_incremental() %}
    where invoice_id in ({{ invoices_to_convert() }})
    {%- endif %}
),

fx as (
    select
        month,
        currency,
        rate
    from {{ ref('int_fx_rates_monthly') }}
),

converted as (
    select
        invoices.invoice_id,
        invoices.account_id,
        invoices.subscription_id,
        invoices.invoice_type,
        invoices.status,
        invoices.currency,
        invoices.issued_at,
        invoices.month,
        fx.rate,
        invoices.revenue * fx.rate as revenue,
        invoices.subtotal * fx.rate as subtotal,
        invoices.discount_amount * fx.rate as discount_amount
    from invoices
    -- Invoices issued before the first reporting month are not reported (no rate either).
    inner join months
        on invoices.month = months.month
    left join fx
        on invoices.month = fx.month
        and invoices.currency = fx.currency
)

select
    *,
    {{ build_marker() }}
from converted
