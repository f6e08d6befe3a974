{#-
  One row per order (metrics.md, cx_revenue_monthly "Orders"): an invoice of type subscription or
  one_time, status not void/draft, converted subtotal > 0, in the month of its issued_at. It is out
  of policy when discount_amount / subtotal * 100 exceeds max_discount_pct of the discount_policy
  tier that applies to its converted subtotal (the tier with the largest min_subtotal <= subtotal).
  The one definition of the discount rule, per order: cx_revenue_monthly counts these rows by month.
  An incremental build redoes the invoices int_invoices_converted wrote in this build and deletes
  the orders of changed invoices that are no longer orders.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_keys('invoice_id', orders_to_redo()) }}"
    )
}}
-- depends_on: {{ source('billing', 'invoices') }}

with

invoices as (
    select
        invoice_id,
        account_id,
        subscription_id,
        invoice_type,
        status,
        issued_at,
        month,
        subtotal,
        discount_amount
    from {{ ref('int_invoices_converted') }}
    where invoice_type in ('subscription', 'one_time')
        and status not in ('void', 'draft')
        and subtotal > 0
    {%- if is_incremental() %}
        and invoice_id in ({{ orders_to_redo() }})
    {%- endif %}
),

discount_policy as (
    select
        min_subtotal,
        max_discount_pct
    from {{ ref('discount_policy') }}
),

orders as (
    select
        *,
        -- Percent compared at 10 decimals, so 7 / 100 * 100 = 7.000000000000001 never exceeds 7.
        {{ round_rate('discount_amount / subtotal * 100') }} as discount_pct,
        -- The tier is looked up on the converted subtotal at 6 decimals (float noise of the
        -- conversion never drops an order just below a tier's bound).
        {{ round_money('subtotal') }} as converted_subtotal
    from invoices
),

final as (
    select
        orders.invoice_id,
        orders.account_id,
        orders.subscription_id,
        orders.invoice_type,
        orders.status,
        orders.issued_at,
        orders.month,
        orders.subtotal,
        orders.discount_amount,
        orders.discount_pct,
        discount_policy.min_subtotal as policy_min_subtotal,
        discount_policy.max_discount_pct,
        -- "Exceeds": a discount exactly at the limit is within policy. Below every tier: no limit.
        coalesce(orders.discount_pct > discount_policy.max_discount_pct, false) as is_out_of_policy
    from orders
    -- The tier with the largest min_subtotal <= the converted subtotal.
    asof left join discount_policy
        on orders.converted_subtotal >= discount_policy.min_subtotal
)

select
    *,
    {{ build_marker() }}
from final
