{#-
  One row per account and month in which it had MRR at the start or at the end: MRR at the end of
  the previous month (at that month's rates, `mrr_start`, and restated at this month's rates),
  MRR at the end of this month, and the movement that explains the difference (metrics.md).
  An incremental build recomputes each account whose MRR may have changed from its first changed
  month (int_changed_accounts: a changed subscription, or a rate landed for a currency it is billed
  in), and every account from the last build's as-of month once the as-of date has moved into a
  later month (macro first_month_restated_for_every_key).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=[
            "{{ delete_rows_from_month(first_month_restated_for_every_key()) }}",
            "{{ delete_rows_of_changed_keys(changed_mrr_account_months(), 'account_id') }}",
        ]
    )
}}
-- depends_on: {{ ref('int_changed_accounts') }}

with

months as (
    select month
    from {{ ref('int_reporting_months') }}
),

subscription_mrr as (
    select
        subscription_months.account_id,
        subscription_months.month,
        subscription_months.currency,
        subscription_months.mrr_native
    from {{ ref('int_subscription_mrr_monthly') }} as subscription_months
    {%- if is_incremental() %}
    -- The month before each restated one is where the restated month starts from.
    {{ join_changed_months(changed_mrr_account_months(), 'account_id', 'subscription_months', 'changed_account', months_before=1) }}
    where subscription_months.month >= {{ first_restated_month_of('changed_account', months_before=1, first_month=first_month_restated_for_every_key()) }}
    {%- endif %}
),

fx as (
    select
        month,
        currency,
        rate
    from {{ ref('int_fx_rates_monthly') }}
),

account_month_end as (
    select
        subscription_mrr.account_id,
        subscription_mrr.month,
        sum(subscription_mrr.mrr_native * own_month.rate) as mrr,
        -- The same MRR valued at the next month's rates, for the next month's bridge.
        sum(subscription_mrr.mrr_native * next_month.rate) as mrr_at_next_month_rates
    from subscription_mrr
    left join fx as own_month
        on subscription_mrr.month = own_month.month
        and subscription_mrr.currency = own_month.currency
    left join fx as next_month
        on (subscription_mrr.month + interval 1 month)::date = next_month.month
        and subscription_mrr.currency = next_month.currency
    group by subscription_mrr.account_id, subscription_mrr.month
),

-- The first month each account ended paying, over its whole history. An increment's month ends
-- hold the restated months only; the months before them are the rows the pre-hook kept.
first_paying as (
    select
        account_id,
        min(month) as first_paying_month
    from (
        select
            account_id,
            month
        from account_month_end
        where mrr > 0
        {%- if is_incremental() %}

        union all

        -- Only the restated accounts' kept rows: grouping every account's 21 million rows cost the
        -- night 0.6 s at a million accounts.
        select
            kept.account_id,
            kept.month
        from {{ this }} as kept
        {{ join_changed_months(changed_mrr_account_months(), 'account_id', 'kept', 'changed_account') }}
        where kept.mrr_end > 0
            and {{ first_restated_month_of('changed_account', first_month=first_month_restated_for_every_key()) }} is not null
        {%- endif %}
    ) as paying_months
    group by account_id
),

paired as (
    select
        coalesce(month_end.account_id, previous.account_id) as account_id,
        coalesce(month_end.month, (previous.month + interval 1 month)::date) as month,
        coalesce(previous.mrr, 0) as mrr_start,
        coalesce(previous.mrr_at_next_month_rates, 0) as mrr_start_restated,
        coalesce(month_end.mrr, 0) as mrr_end
    from account_month_end as month_end
    full outer join account_month_end as previous
        on month_end.account_id = previous.account_id
        and month_end.month = (previous.month + interval 1 month)::date
),

with_history as (
    select
        paired.*,
        coalesce(first_paying.first_paying_month < paired.month, false) as was_paying_customer_before
    from paired
    inner join months
        on paired.month = months.month
    left join first_paying
        on paired.account_id = first_paying.account_id
    {%- if is_incremental() %}
    {{ join_changed_months(changed_mrr_account_months(), 'account_id', 'paired', 'changed_account') }}
    where paired.month >= {{ first_restated_month_of('changed_account', first_month=first_month_restated_for_every_key()) }}
    {%- endif %}
),

classified as (
    select
        account_id,
        month,
        mrr_start,
        mrr_start_restated - mrr_start as fx_adjustment,
        mrr_start_restated,
        mrr_end,
        case
            when mrr_start_restated = 0 and mrr_end > 0 and was_paying_customer_before then 'reactivation'
            when mrr_start_restated = 0 and mrr_end > 0 then 'new'
            when mrr_start_restated > 0 and mrr_end = 0 then 'churned'
            -- Compared to far below a cent: sums of converted amounts carry float noise.
            when {{ round_money('mrr_end') }} > {{ round_money('mrr_start_restated') }} then 'expansion'
            when {{ round_money('mrr_end') }} < {{ round_money('mrr_start_restated') }} then 'contraction'
            else 'unchanged'
        end as movement
    from with_history
)

select
    *,
    case movement
        when 'new' then mrr_end
        when 'reactivation' then mrr_end
        when 'churned' then mrr_start_restated
        when 'expansion' then mrr_end - mrr_start_restated
        when 'contraction' then mrr_start_restated - mrr_end
        else 0
    end as movement_amount,
    {{ build_marker() }}
from classified
