{#-
  One row per account and reporting month, dense from the account's first paid month (its first
  month end with MRR > 0) through the as-of month: its MRR at that month end, 0 in the months it
  was not paying (int_account_mrr_movements only has the months with MRR at the start or the end).
  An incremental build recomputes each account whose MRR may have changed from its first changed
  month (int_changed_accounts; its first paid month can only move within them), and every account
  from the last build's as-of month once the as-of date has moved into a later month (macro
  first_month_restated_for_every_key).
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

-- The first paid month of each restated account, over its whole history: only theirs, as grouping
-- every account's 21 million movements cost the night 0.5 s at a million accounts.
first_paid as (
    select
        movements.account_id,
        min(movements.month) as first_paid_month
    from {{ ref('int_account_mrr_movements') }} as movements
    {%- if is_incremental() %}
    {{ join_changed_months(changed_mrr_account_months(), 'account_id', 'movements', 'changed_account') }}
    {%- endif %}
    where movements.mrr_end > 0
    {%- if is_incremental() %}
        and {{ first_restated_month_of('changed_account', first_month=first_month_restated_for_every_key()) }} is not null
    {%- endif %}
    group by movements.account_id
),

-- The month ends of the restated months only: joining every month end built a hash table of all
-- of them (21 million at a million accounts) for an increment's few hundred thousand months.
movements as (
    select
        movements.account_id,
        movements.month,
        movements.mrr_end
    from {{ ref('int_account_mrr_movements') }} as movements
    {%- if is_incremental() %}
    {{ join_changed_months(changed_mrr_account_months(), 'account_id', 'movements', 'changed_account') }}
    where movements.month >= {{ first_restated_month_of('changed_account', first_month=first_month_restated_for_every_key()) }}
    {%- endif %}
),

account_months as (
    select
        first_paid.account_id,
        months.month,
        first_paid.first_paid_month
    from first_paid
    {%- if is_incremental() %}
    {{ join_changed_months(changed_mrr_account_months(), 'account_id', 'first_paid', 'changed_account') }}
    -- Only the restated months are generated: generating every account's months and filtering
    -- them took a second longer at a million accounts.
    -- greatest() skips a NULL: an account restated from no month must generate none.
    inner join months
        on months.month >= greatest(first_paid.first_paid_month, {{ first_restated_month_of('changed_account', first_month=first_month_restated_for_every_key()) }})
        and {{ first_restated_month_of('changed_account', first_month=first_month_restated_for_every_key()) }} is not null
    {%- else %}
    inner join months
        on months.month >= first_paid.first_paid_month
    {%- endif %}
),

final as (
    select
        account_months.account_id,
        account_months.month,
        account_months.first_paid_month,
        datediff('month', account_months.first_paid_month, account_months.month) as months_since_start,
        coalesce(movements.mrr_end, 0) as mrr_end,
        coalesce(movements.mrr_end, 0) > 0 as is_paying
    from account_months
    left join movements
        on account_months.account_id = movements.account_id
        and account_months.month = movements.month
)

select
    *,
    {{ build_marker() }}
from final
