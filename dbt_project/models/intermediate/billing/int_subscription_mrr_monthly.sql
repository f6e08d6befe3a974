{#-
  MRR of each subscription at each month end, in the invoice currency: the revenue of the covering
  paid/open subscription invoice with the latest service_period_start (ties: latest issued_at, then
  largest invoice_id), divided by the billing interval in months. Trialing subscriptions and
  zero-revenue invoices add nothing. An incremental build recomputes each changed subscription from
  its first changed month (int_changed_subscriptions: a version of it that changes what this model
  reads, or of one of its invoices, landed; or a period starting or ending between the two builds'
  month-end instants), and every subscription from the last build's
  as-of month once the as-of date has moved into a later month
  (macro first_month_restated_for_every_key).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=[
            "{{ delete_rows_from_month(first_month_restated_for_every_key()) }}",
            "{{ delete_rows_of_changed_keys(changed_subscription_months(), 'subscription_id') }}",
        ]
    )
}}
-- depends_on: {{ ref('int_changed_subscriptions') }}

with

months as (
    select
        month,
        measured_before
    from {{ ref('int_reporting_months') }}
),

subscriptions as (
    select
        subscription_id,
        account_id,
        billing_interval
    from {{ ref('stg_billing__subscriptions') }}
    where status <> 'trialing'
),

subscription_invoices as (
    select
        invoices.invoice_id,
        invoices.subscription_id,
        invoices.currency,
        invoices.revenue,
        invoices.issued_at,
        invoices.service_period_start,
        invoices.service_period_end,
        -- The months whose measurement instant the period can cover: a month's measured_before lies
        -- in (month, month + 1 month], so start < measured_before <= end needs
        -- trunc(start) <= month <= trunc(end - 1 day). Joined on the month, an equality, where the
        -- range join alone sorted every invoice (docs/performance.md); capped at the as-of month, so
        -- a far-off period end lists no years of months.
        unnest(generate_series(
            date_trunc('month', invoices.service_period_start),
            least(date_trunc('month', invoices.service_period_end - 1), date_trunc('month', {{ as_of_date() }})),
            interval 1 month
        ))::date as candidate_month
    from {{ ref('stg_billing__invoices') }} as invoices
    {%- if is_incremental() %}
    {{ join_changed_months(changed_subscription_months(), 'subscription_id', 'invoices', 'changed_subscription') }}
    {%- endif %}
    where invoices.invoice_type = 'subscription'
        and invoices.status in ('paid', 'open')
    {%- if is_incremental() %}
        -- Every invoice that can cover a restated month end: it does not end before the month.
        and invoices.service_period_end >= {{ first_restated_month_of('changed_subscription', first_month=first_month_restated_for_every_key()) }}
    {%- endif %}
),

covering as (
    select
        subscription_invoices.* exclude (candidate_month),
        months.month
    from subscription_invoices
    inner join months
        on subscription_invoices.candidate_month = months.month
        -- Covers the instant just before `measured_before`: start <= t < end.
        and subscription_invoices.service_period_start < months.measured_before
        and subscription_invoices.service_period_end >= months.measured_before
    qualify row_number() over (
        partition by subscription_invoices.subscription_id, months.month
        order by
            subscription_invoices.service_period_start desc,
            subscription_invoices.issued_at desc,
            subscription_invoices.invoice_id desc
    ) = 1
),

subscription_mrr as (
    select
        covering.subscription_id,
        subscriptions.account_id,
        covering.month,
        covering.invoice_id,
        covering.currency,
        covering.revenue / case subscriptions.billing_interval
            when 'month' then 1
            when 'quarter' then 3
            when 'year' then 12
        end as mrr_native
    from covering
    inner join subscriptions
        on covering.subscription_id = subscriptions.subscription_id
)

select
    subscription_mrr.*,
    {{ build_marker() }}
from subscription_mrr
{%- if is_incremental() %}
{{ join_changed_months(changed_subscription_months(), 'subscription_id', 'subscription_mrr', 'changed_subscription') }}
{%- endif %}
where subscription_mrr.mrr_native > 0
{%- if is_incremental() %}
    and subscription_mrr.month >= {{ first_restated_month_of('changed_subscription', first_month=first_month_restated_for_every_key()) }}
{%- endif %}
