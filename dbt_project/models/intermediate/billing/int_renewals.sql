{#-
  One row per due renewal (metrics.md, Renewals): each paid/open subscription invoice of a quarterly
  or annual subscription is due in the month its service period ends. It is renewed when the same
  subscription has a later paid/open subscription invoice starting in [due_end, due_end + grace);
  it is pending (left out of both counts) when not renewed and its grace window is still open at
  the as-of date. Only due months that are reporting months are kept.
  An incremental build restates every due of the subscriptions int_changed_subscriptions lists:
  those with a version of themselves or of an invoice landed, and those with a renewal the moving
  as-of date changed (macro renewal_moved_by_the_as_of_date).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_restated_rows('restated.subscription_id in (select subscription_id from ' ~ changed_keys_model('int_changed_subscriptions') ~ ')') }}"
    )
}}
-- depends_on: {{ ref('int_changed_subscriptions') }}

with

months as (
    select month
    from {{ ref('int_reporting_months') }}
),

subscriptions as (
    select
        subscription_id,
        account_id,
        billing_interval
    from {{ ref('stg_billing__subscriptions') }}
),

subscription_invoices as (
    select
        invoice_id,
        subscription_id,
        service_period_start,
        service_period_end
    from {{ ref('stg_billing__invoices') }}
    where invoice_type = 'subscription'
        and status in ('paid', 'open')
    {%- if is_incremental() %}
        and subscription_id in (select subscription_id from {{ changed_keys_model('int_changed_subscriptions') }})
    {%- endif %}
),

due as (
    select
        subscription_invoices.invoice_id,
        subscription_invoices.subscription_id,
        subscriptions.account_id,
        subscriptions.billing_interval,
        date_trunc('month', subscription_invoices.service_period_end)::date as month,
        subscription_invoices.service_period_end as due_end,
        -- The grace window is [due_end, grace_ends): a renewal must start before this date.
        {{ renewal_grace_ends('subscription_invoices.service_period_end') }} as grace_ends
    from subscription_invoices
    inner join subscriptions
        on subscription_invoices.subscription_id = subscriptions.subscription_id
    where subscriptions.billing_interval in ('quarter', 'year')
),

renewed as (
    select distinct due.invoice_id
    from due
    inner join subscription_invoices as renewal
        on due.subscription_id = renewal.subscription_id
        and renewal.service_period_start >= due.due_end
        and renewal.service_period_start < due.grace_ends
),

classified as (
    select
        due.invoice_id,
        due.subscription_id,
        due.account_id,
        due.billing_interval,
        due.month,
        due.due_end,
        due.grace_ends,
        renewed.invoice_id is not null as is_renewed,
        renewed.invoice_id is null and {{ as_of_date() }} < due.grace_ends as is_pending
    from due
    left join renewed
        on due.invoice_id = renewed.invoice_id
)

select
    classified.*,
    {{ build_marker() }}
from classified
-- Service periods ending after the as-of month are due in months not reported yet.
inner join months
    on classified.month = months.month
