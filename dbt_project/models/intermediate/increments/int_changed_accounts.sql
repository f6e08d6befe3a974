{#-
  The accounts whose monthly rows an incremental build restates, each with the first month a change
  can reach (docs/decisions.md, Incremental builds):
  - an account a changed subscription ever belonged to (int_changed_subscriptions) has MRR changes
    from the subscription's first changed month on; its customer experience from the month
    before, whose churn flag reads that month's movement;
  - a rate landed since for a month moves the converted MRR of its currency from that month on
    (carried forward to later months): an account with a subscription month in that currency from
    the month before (which the month's bridge restates at the month's rate) has MRR changes from
    the rate's month. Its experience does not move: paying and churn do not depend on rates;
  - a version of a changed ticket (a version of the ticket or of one of its events landed) or of a
    changed survey response reaches the experience's 90-day windows of its own month and later
    ones, so its account is restated from the month of each version: the month and the account
    it moved away from too.
  - the running month's window, [instant - 90 days, instant), moved with its instant from the day
    after the last build's as-of date to the day after this one's: an account with a ticket or
    survey response (any version) leaving or entering it has experience changes from the last
    as-of month. (A night whose as-of date or instant moves into a later month restates every
    account; macro first_experience_restated_month.)
  Worked out once per build for the models that read it (macros changed_mrr_account_months and
  changed_experience_account_months). Empty in a full refresh, which restates everything.
-#}
with

mrr_changes as (
    select
        subscriptions.account_id,
        changed_subscriptions.from_month as mrr_from_month,
        (changed_subscriptions.from_month - interval 1 month)::date as experience_from_month
    from {{ source('billing', 'subscriptions') }} as subscriptions
    inner join ({{ changed_subscription_months() }}) as changed_subscriptions
        on subscriptions.subscription_id = changed_subscriptions.subscription_id
),

rate_changes as (
    select
        subscription_months.account_id,
        min(changed_rates.from_month) as mrr_from_month,
        null::date as experience_from_month
    from {{ ref('int_subscription_mrr_monthly') }} as subscription_months
    inner join (
        select
            currency,
            min(date_trunc('month', rate_date))::date as from_month
        from {{ source('billing', 'fx_rates') }}
        where _loaded_at > {{ changed_since() }}
        group by currency
    ) as changed_rates
        on subscription_months.currency = changed_rates.currency
        and subscription_months.month >= (changed_rates.from_month - interval 1 month)::date
    group by subscription_months.account_id
),

ticket_changes as (
    select
        account_id,
        null::date as mrr_from_month,
        date_trunc('month', created_at)::date as experience_from_month
    from ({{ versions_of_changed_tickets() }}) as ticket_versions
),

survey_response_changes as (
    select
        account_id,
        null::date as mrr_from_month,
        date_trunc('month', submitted_at)::date as experience_from_month
    from ({{ versions_of_changed_responses() }}) as response_versions
),

window_changes as (
    select
        account_id,
        null::date as mrr_from_month,
        date_trunc('month', {{ previous_as_of_date() }})::date as experience_from_month
    from {{ source('helpdesk', 'tickets') }}
    where {{ between_the_two_window_bounds('created_at') }}

    union all

    select
        account_id,
        null::date as mrr_from_month,
        date_trunc('month', {{ previous_as_of_date() }})::date as experience_from_month
    from {{ source('crm', 'survey_responses') }}
    where {{ between_the_two_window_bounds('submitted_at') }}
),

changes as (
    select * from mrr_changes
    union all
    select * from rate_changes
    union all
    select * from ticket_changes
    union all
    select * from survey_response_changes
    union all
    select * from window_changes
),

final as (
    select
        account_id,
        min(mrr_from_month) as mrr_from_month,
        min(experience_from_month) as experience_from_month
    from changes
    where account_id is not null
    group by account_id
)

select * from final
