{#-
  Revenue, transactions, contract value, renewals and discount policy per reporting month
  (metrics.md, cx_revenue_monthly). Invoices count in their issued_at month, converted at that
  month's rate; subscriptions and their MRR at the month end; renewals in their due month.
  Orders and their discount policy check come per invoice from int_invoices_converted, counted
  here by month.
  Incremental by month, as cx_tickets_monthly: a build deletes and recomputes the months
  restated_revenue_months() lists rather than re-reading the 22 million converted invoices at a
  million accounts. The restated months are appended at the end: the table is in no order.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_restated_rows('restated.month in (' ~ restated_revenue_months() ~ ')') }}"
    )
}}
with

months as (
    select
        month,
        is_complete_month
    from {{ ref('int_reporting_months') }}
    {%- if is_incremental() %}
    where month in ({{ restated_revenue_months() }})
    {%- endif %}
),

invoices as (
    select * from {{ ref('int_invoices_converted') }}
    {%- if is_incremental() %}
    where month in (select month from months)
    {%- endif %}
),

subscription_mrr as (
    select
        subscription_id,
        month,
        currency,
        mrr_native
    from {{ ref('int_subscription_mrr_monthly') }}
    {%- if is_incremental() %}
    where month in (select month from months)
    {%- endif %}
),

fx as (
    select
        month,
        currency,
        rate
    from {{ ref('int_fx_rates_monthly') }}
),

-- Orders are counted in the same pass: DuckDB materializes a CTE that two others read, which
-- copied 22 million invoices at a million accounts (docs/performance.md).
invoice_totals as (
    select
        month,
        count(*) filter (where {{ is_paid_revenue() }}) as invoices_paid,
        sum(revenue) filter (where {{ is_paid_revenue() }}) as revenue_paid,
        sum(revenue) filter (where {{ is_counted_credit_note() }}) as credit_notes_amount,
        count(*) filter (where is_order) as orders,
        count(*) filter (where is_order and is_out_of_policy) as out_of_policy_orders
    from invoices
    group by month
),

subscription_totals as (
    select
        subscription_mrr.month,
        count(*) as active_subscriptions,
        avg(subscription_mrr.mrr_native * fx.rate * 12) as avg_contract_value
    from subscription_mrr
    left join fx
        on subscription_mrr.month = fx.month
        and subscription_mrr.currency = fx.currency
    group by subscription_mrr.month
),

renewal_totals as (
    {{ renewal_counts() }}
),

joined as (
    select
        months.month,
        months.is_complete_month,
        coalesce(invoice_totals.invoices_paid, 0) as invoices_paid,
        {{ round_money('coalesce(invoice_totals.revenue_paid, 0)') }} as revenue_paid,
        {{ round_money('coalesce(invoice_totals.credit_notes_amount, 0)') }} as credit_notes_amount,
        coalesce(subscription_totals.active_subscriptions, 0) as active_subscriptions,
        subscription_totals.avg_contract_value,
        coalesce(renewal_totals.renewals_due, 0) as renewals_due,
        coalesce(renewal_totals.renewals_renewed, 0) as renewals_renewed,
        coalesce(invoice_totals.orders, 0) as orders,
        coalesce(invoice_totals.out_of_policy_orders, 0) as out_of_policy_orders
    from months
    left join invoice_totals on months.month = invoice_totals.month
    left join subscription_totals on months.month = subscription_totals.month
    left join renewal_totals on months.month = renewal_totals.month
),

final as (
    select
        month,
        is_complete_month,
        invoices_paid,
        revenue_paid,
        credit_notes_amount,
        -- Summed from the rounded parts, so the identity holds exactly as published.
        {{ round_money('revenue_paid + credit_notes_amount') }} as net_revenue,
        {{ round_money(safe_divide('revenue_paid', 'invoices_paid')) }} as avg_transaction_size,
        active_subscriptions,
        {{ round_money('avg_contract_value') }} as avg_contract_value,
        renewals_due,
        renewals_renewed,
        {{ round_rate(safe_divide('renewals_renewed', 'renewals_due')) }} as renewal_rate,
        orders,
        out_of_policy_orders,
        {{ round_rate(safe_divide('out_of_policy_orders', 'orders')) }} as out_of_policy_rate
    from joined
)

select
    *,
    {{ build_marker() }}
from final
