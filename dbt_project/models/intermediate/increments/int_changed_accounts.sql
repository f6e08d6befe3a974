{#-
  The accounts whose monthly rows an incremental build restates, each with the first month a change
  can reach (docs/decisions.md, Incremental builds):
  - an account a changed subscription ever belonged to (int_changed_subscriptions) has MRR changes:
    the MRR models restate every month of it, and so does the customer experience (from
    -infinity), since a version of a subscription can move all its months and each month's churn
    flag reads the next month's movement;
  - a version of a changed ticket (a version of the ticket or of one of its events landed) or of a
    changed survey response reaches the experience's 90-day windows of its own month and later
    ones, so its account is restated from the month of each version: the month and the account
    it moved away from too.
  Worked out once per build for the models that read it (macros changed_mrr_account_ids and
  changed_experience_account_months). Empty in a full refresh, which restates everything.
-#}
with

mrr_changes as (
    select
        account_id,
        '-infinity'::date as from_month,
        true as has_mrr_change
    from {{ source('billing', 'subscriptions') }}
    where subscription_id in ({{ changed_subscription_ids() }})
),

ticket_changes as (
    select
        account_id,
        date_trunc('month', created_at)::date as from_month,
        false as has_mrr_change
    from {{ source('helpdesk', 'tickets') }}
    where ticket_id in ({{ changed_ticket_ids() }})
),

survey_response_changes as (
    select
        account_id,
        date_trunc('month', submitted_at)::date as from_month,
        false as has_mrr_change
    from {{ source('crm', 'survey_responses') }}
    where response_id in ({{ changed_keys(source('crm', 'survey_responses'), 'response_id') }})
),

changes as (
    select * from mrr_changes
    union all
    select * from ticket_changes
    union all
    select * from survey_response_changes
),

final as (
    select
        account_id,
        bool_or(has_mrr_change) as has_mrr_change,
        min(from_month) as experience_from_month
    from changes
    where account_id is not null
    group by account_id
)

select * from final
