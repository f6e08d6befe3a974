{#-
  The subscriptions an incremental build restates, each with the first month a change of its
  month-end MRR can reach: a version of the subscription landed since the last build, or a version
  of one of its invoices.
  A subscription's own version counts when the subscription is new or its versions differ in what
  its MRR reads (account, billing interval, and status trialing, other or NULL): from the first
  month the service period of any of its staged invoices starts in, or without a month when it
  has none. Any other version (most: a cancellation, an end date) leaves its MRR as it was; the
  subscription is listed without a month, for its renewals. Restating every month of each
  subscription with a version landed rewrote some 10,000 whole account histories a night at a
  million accounts (docs/performance.md).
  An invoice's version counts from the month the invoice's service period starts, the first month
  end it can cover. Every version of a changed invoice counts, so a subscription an invoice moved
  away from, and the months a period moved away from, are restated too. Restating every month of a subscription whose
  new invoice covers this month only rewrote 3.2 to 4.5 times as many old rows in the MRR models
  each night at a million accounts (docs/performance.md). And, from the last build's as-of month,
  a subscription with an invoice period that starts or ends between the two builds' month-end
  instants (the days after the two as-of dates): the one month end whose instant moved can be
  covered by another invoice, or by none, for these only. Restating every subscription's as-of
  month instead rewrote 839,000 rows a night at a million accounts, against 147,000 this way
  (docs/performance.md). And, without a month (its MRR did not change), a subscription with a
  renewal the moving as-of date changed (macro renewal_moved_by_the_as_of_date): int_renewals
  restates every subscription listed.
  Worked out once per build for the models that read it (macro changed_subscription_months,
  int_renewals): each of their pre-hooks and queries scanned the 22 million raw invoices for it at
  a million accounts. Empty in a full refresh, which restates everything.
-#}
with

subscription_versions as (
    select
        subscription_id,
        count(distinct {'account_id': account_id, 'billing_interval': billing_interval, 'is_trialing': status = 'trialing'}) > 1
            or min(_loaded_at) > {{ changed_since() }} as mrr_may_have_changed
    from {{ source('billing', 'subscriptions') }}
    where subscription_id in ({{ changed_keys(source('billing', 'subscriptions'), 'subscription_id') }})
    group by subscription_id
),

first_covered_months as (
    select
        subscription_id,
        min(date_trunc('month', service_period_start))::date as first_month
    from {{ ref('stg_billing__invoices') }}
    where subscription_id in (select subscription_id from subscription_versions where mrr_may_have_changed)
    group by subscription_id
),

changed_subscriptions as (
    select
        subscription_versions.subscription_id,
        first_covered_months.first_month as from_month
    from subscription_versions
    left join first_covered_months
        on subscription_versions.subscription_id = first_covered_months.subscription_id
),

subscriptions_of_changed_invoices as (
    select
        subscription_id,
        -- A version without a service period (not a subscription invoice) is rare: every month.
        coalesce(date_trunc('month', service_period_start)::date, '-infinity'::date) as from_month
    from {{ source('billing', 'invoices') }}
    where invoice_id in ({{ changed_keys(source('billing', 'invoices'), 'invoice_id') }})
        and subscription_id is not null
),

-- An invoice covers the instant t when service_period_start < t <= service_period_end: moving t
-- from t0 to t1 changes that for a period starting or ending in [t0, t1) only. The renewals the
-- moving as-of date changes leave MRR alone (no month). One scan of the staged invoices for both.
{%- set period_bound_passed -%}
    ((service_period_start >= {{ previous_as_of_date() }} + 1 and service_period_start < {{ as_of_date() }} + 1)
        or (service_period_end >= {{ previous_as_of_date() }} + 1 and service_period_end < {{ as_of_date() }} + 1))
{%- endset %}
subscriptions_the_as_of_date_moved_past as (
    select
        subscription_id,
        case when {{ period_bound_passed }} then date_trunc('month', {{ previous_as_of_date() }})::date end as from_month
    from {{ ref('stg_billing__invoices') }}
    where subscription_id is not null
        and ({{ period_bound_passed }} or {{ renewal_moved_by_the_as_of_date('service_period_end') }})
),

changes as (
    select * from changed_subscriptions
    union all
    select * from subscriptions_of_changed_invoices
    union all
    select * from subscriptions_the_as_of_date_moved_past
),

final as (
    select
        subscription_id,
        min(from_month) as from_month
    from changes
    group by subscription_id
)

select * from final
