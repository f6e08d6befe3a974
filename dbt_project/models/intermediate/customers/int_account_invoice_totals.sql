{#-
  One row per account with an invoice in int_invoices_converted: its revenue to date as
  cx_customer_360 reports it (metrics.md, realized_revenue and avg_transaction_size), summed over
  every converted invoice, all reporting months.
  Incremental as kept sums (docs/decisions.md, Incremental builds): a build adds, per account, the
  invoices int_invoices_converted wrote and subtracts those it replaced, which its pre-hook kept
  (keep_replaced_invoices), so that a night reads the few invoices that changed instead of summing
  the 22 million converted invoices at a million accounts (docs/performance.md). The sums are
  DECIMAL, each invoice's revenue cast once, so that what a build subtracts is exactly what an
  earlier one added and the totals equal a full refresh's to the last digit. An account left with no
  invoice is deleted, as a full refresh would not list it.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='account_id',
        post_hook="{% if is_incremental() %}delete from {{ this }} where invoices = 0{% endif %}"
    )
}}

with

signed_invoices as (
    select
        account_id,
        invoice_type,
        status,
        revenue,
        1 as sign
    from {{ changed_keys_model('int_invoices_converted') }}
    {%- if is_incremental() %}
    -- The rows this build wrote, less those it replaced, as its pre-hook kept them.
    where _built_at = {{ this_build_started_at() }}

    union all

    select
        account_id,
        invoice_type,
        status,
        revenue,
        -1 as sign
    from {{ replaced_invoices(ref('int_invoices_converted')) }}
    {%- endif %}
),

sums as (
    select
        account_id,
        sum(sign) as invoices,
        coalesce(sum(sign * revenue::decimal(38, 10)) filter (where {{ is_paid_revenue() }}), 0) as revenue_paid,
        coalesce(sum(sign) filter (where {{ is_paid_revenue() }}), 0) as invoices_paid,
        coalesce(sum(sign * revenue::decimal(38, 10)) filter (where {{ is_counted_credit_note() }}), 0) as credit_note_revenue
    from signed_invoices
    group by account_id
),

{%- if is_incremental() %}

totals as (
    select
        sums.account_id,
        coalesce(kept.invoices, 0) + sums.invoices as invoices,
        coalesce(kept.revenue_paid, 0) + sums.revenue_paid as revenue_paid,
        coalesce(kept.invoices_paid, 0) + sums.invoices_paid as invoices_paid,
        coalesce(kept.credit_note_revenue, 0) + sums.credit_note_revenue as credit_note_revenue
    from sums
    left join {{ this }} as kept
        on sums.account_id = kept.account_id
),
{%- else %}

totals as (
    select * from sums
),
{%- endif %}

final as (
    select
        account_id,
        invoices::bigint as invoices,
        revenue_paid::decimal(38, 10) as revenue_paid,
        invoices_paid::bigint as invoices_paid,
        credit_note_revenue::decimal(38, 10) as credit_note_revenue,
        {{ build_marker() }}
    from totals
)

select * from final
